"""Carrying out calculations: Parsl when installed (pip install 'sselang[parsl]'),
else one after another in this process.

Locally, Parsl's ThreadPoolExecutor is enough: every calculation is an engine
subprocess (or a CHGNet run that releases the GIL in torch), so threads only wait.
slurm_config() builds the Parsl configuration a cluster run would use, from the
study's `run { executor = slurm { ... } }` block, and checks it; sselang never
submits it.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import as_completed
from dataclasses import replace
from pathlib import Path

from .tasks import RunError, RunOptions, run_task


def have_parsl() -> bool:
    try:
        import parsl  # noqa: F401
    except ImportError:
        return False
    return True


def local_config(workers: int, run_dir: Path):
    from parsl.config import Config
    from parsl.executors.threads import ThreadPoolExecutor

    # run_dir under the build folder, hidden: Parsl's logs stay out of the manifest and the user's cwd
    return Config(executors=[ThreadPoolExecutor(label="local", max_threads=max(1, int(workers)))],
                  run_dir=str(run_dir), usage_tracking=0, strategy="none")


def _engine_prefix(engine: str) -> str:
    """The launch part of the job scripts' command (srun cp2k.psmp), without its arguments."""
    from ..decks.jobs import COMMANDS

    words = []
    for w in COMMANDS[engine].split():
        if w.startswith(("-", ">")):
            break
        words.append(w)
    return " ".join(words)


def slurm_config(study, engine: str, worker_init: str | None = None):
    """A Parsl Config with a SlurmProvider from the study's slurm executor block:
    partition, account, nodes per block, walltime (the job scripts' defaults where
    the study gives none).  worker_init: shell lines run before the workers start
    (module loads); default $SSELANG_WORKER_INIT.  Built and checked, never submitted."""
    from parsl.config import Config
    from parsl.executors import HighThroughputExecutor
    from parsl.addresses import address_by_hostname
    from parsl.launchers import SrunLauncher
    from parsl.providers import SlurmProvider

    from ..decks.jobs import DEFAULT_WALLTIME_H, _walltime

    ex = study.run.executor
    if ex.kind != "slurm":
        raise RunError("the study's run block has no `executor = slurm { ... }`")
    if engine not in ("cp2k", "qe", "vasp"):
        raise RunError(f"no engine '{engine}' (cp2k, qe or vasp)")
    init = worker_init if worker_init is not None else os.environ.get("SSELANG_WORKER_INIT", "")
    lines = [ln for ln in init.splitlines() if ln.strip()]
    # the workers run the engine as the job scripts do (srun inside the allocation), one thread per rank
    lines += ["export OMP_NUM_THREADS=1", f"export SSELANG_{engine.upper()}_COMMAND='{_engine_prefix(engine)}'"]
    want = {"partition": ex.partition, "account": ex.account, "nodes_per_block": ex.nodes or 1,
            "walltime": _walltime(ex.walltime_h or DEFAULT_WALLTIME_H), "worker_init": "\n".join(lines)}
    provider = SlurmProvider(partition=want["partition"], account=want["account"],
                             nodes_per_block=want["nodes_per_block"], walltime=want["walltime"],
                             worker_init=want["worker_init"], init_blocks=0, min_blocks=0, max_blocks=1,
                             launcher=SrunLauncher())
    # one worker per node: each calculation is an MPI job over the block (srun inside)
    # the address the workers call back to: the submit host's name (found without asking a
    # web service, which Parsl's default does)
    htex = HighThroughputExecutor(label=f"slurm-{engine}", provider=provider, max_workers_per_node=1,
                                  address=address_by_hostname())
    config = Config(executors=[htex], run_dir=".runinfo", usage_tracking=0)
    got = {k: getattr(provider, k, None) for k in want}
    # Parsl ends worker_init with a newline of its own: compare text without edge whitespace
    same = lambda a, b: a.strip() == b.strip() if isinstance(a, str) and isinstance(b, str) else a == b  # noqa: E731
    wrong = {k: (want[k], got[k]) for k in want if not same(got[k], want[k])}
    if wrong:
        raise RunError("the Parsl SLURM provider did not take the study's values: "
                       + ", ".join(f"{k} {w!r} became {g!r}" for k, (w, g) in wrong.items()))
    return config


class Progress:
    """A rich progress display (overall and one line per calculation) on a terminal,
    plain lines otherwise or with --quiet (CI logs)."""

    def __init__(self, total: int, quiet: bool, echo) -> None:
        self.echo, self.total, self.n = echo, total, 0
        self.lock = threading.Lock()
        self.rich = None
        if not quiet and sys.stderr.isatty():
            try:
                from rich.console import Console
                from rich.progress import BarColumn, Progress as RichProgress, SpinnerColumn, TextColumn, TimeElapsedColumn
            except ImportError:
                pass
            else:
                self.rich = RichProgress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                                         TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                                         console=Console(stderr=True))
                self.overall = self.rich.add_task("all calculations", total=total)
                self.rows: dict[str, int] = {}

    def __enter__(self):
        if self.rich is not None:
            self.rich.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.rich is not None:
            self.rich.stop()

    def started(self, cid: str) -> None:
        if self.rich is not None:
            self.rows[cid] = self.rich.add_task(cid, total=1)
        else:
            with self.lock:
                self.echo(f"start  {cid}")

    def advance(self, cid: str, done: int, total: int) -> None:
        """Steps of one calculation, where its fidelity reports them (the preview does)."""
        if self.rich is not None and cid in self.rows:
            self.rich.update(self.rows[cid], completed=done, total=max(total, 1))

    def finished(self, res: dict) -> None:
        with self.lock:
            self.n += 1
            n = self.n
        secs = (res.get("summary") or {}).get("seconds")
        tail = f" ({secs:g} s)" if isinstance(secs, (int, float)) else ""
        line = f"[{n}/{self.total}] {res['status']:6s} {res['id']}{tail}" + (f": {res['message']}" if res["message"] else "")
        if self.rich is not None:
            row = self.rows.get(res["id"])
            if row is not None:
                total = self.rich.tasks[row].total or 1
                self.rich.update(row, completed=total, description=f"{res['id']} {res['status']}")
            self.rich.update(self.overall, advance=1)
            if res["status"] != "done":
                self.rich.console.print(line)
        else:
            with self.lock:
                self.echo(line)


def run_tasks(tasks: list, options: RunOptions, workers: int, run_dir: Path, echo=print,
              use_parsl: bool | None = None) -> list[dict]:
    """Run (calc, calc_dir) pairs; returns one result dict per task, in the given order."""
    use_parsl = have_parsl() if use_parsl is None else use_parsl
    results: dict[str, dict] = {}
    with Progress(len(tasks), options.quiet, echo) as progress:
        def one(calc, calc_dir):
            progress.started(calc.id)
            return run_task(calc, calc_dir, replace(options, progress=lambda done, total: progress.advance(
                calc.id, done, total)))

        if not tasks:
            return []
        if not use_parsl:
            for calc, d in tasks:
                res = one(calc, d)
                results[calc.id] = res
                progress.finished(res)
        else:
            import parsl
            from parsl import python_app

            dfk = parsl.load(local_config(workers, run_dir))
            try:
                app = python_app(one, executors=["local"])
                futures = {app(calc, d): calc.id for calc, d in tasks}
                for fut in as_completed(futures):
                    res = fut.result()
                    results[futures[fut]] = res
                    progress.finished(res)
            finally:
                dfk.cleanup()
                parsl.clear()
    return [results[c.id] for c, _ in tasks]
