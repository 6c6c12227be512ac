"""The dedicated fuzzing run: thousands of generated studies through `check` and `compile`.

    python bench/fuzz.py                          # 10,000 inputs, 2 workers
    python bench/fuzz.py --inputs 500 --seed 7    # a shorter run
    python bench/fuzz.py --cli 200                # and 200 of them through the command line

The inputs come from the hypothesis strategies in tests/fuzzing.py: seed studies mutated
token by token (grammar-aware) and byte by byte.  Each goes through `check`; the ones that
check clean go through the whole compile (data stage, plan, decks, analyses, report) into
a fresh build folder, which must hold exactly the files its manifest lists.  Workers are
separate processes: an input that takes more than 5 s of CPU (the process's own time: wall
time on a shared machine also measures the other jobs on it) counts as a hang, and a worker
still busy after --kill-after seconds that has used more than that is killed as hung.  A
sample also goes through `sselang check` and `sselang compile` as subprocesses, whose output
must hold no traceback.

Prints the counts: inputs, through check, through compile, crashes, hangs, the longest
times; crashing inputs are saved under --crashes with their tracebacks.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def generate(n: int, strategy, seed: int) -> list:
    """n examples of a hypothesis strategy, reproducible from the seed (generation only:
    nothing fails here, so there is nothing to shrink)."""
    from hypothesis import HealthCheck, Phase, given, seed as hseed, settings

    out: list = []

    @hseed(seed)
    @settings(max_examples=n, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(x):
        out.append(x)

    collect()
    return out


def _worker(conn, base: str) -> None:
    import fuzzing

    n = 0
    while True:
        msg = conn.recv()
        if msg is None:
            return
        n += 1
        work = Path(base) / f"w{os.getpid()}-{n}"
        try:
            res = fuzzing.run_one(msg, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        conn.send(res)


class Worker:
    def __init__(self, ctx, base: str) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child, base), daemon=True)
        self.proc.start()
        self.job = None
        self.started = 0.0

    def cpu(self) -> float:
        """CPU seconds the worker has used (Linux /proc; 0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return 0.0

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join()


def run_inputs(inputs: list, workers: int, kill_after: float, crashes: Path) -> dict:
    import fuzzing  # noqa: F401 - imported before the fork: the workers start warm

    # warm: every seed compiled once before the fork, so no worker pays for first imports
    with tempfile.TemporaryDirectory() as d:
        for k, seed in enumerate(fuzzing.SEEDS):
            fuzzing.run_one(seed, Path(d) / str(k))
    ctx = mp.get_context("fork")
    base = tempfile.mkdtemp(prefix="sselang-fuzz-")
    pool = [Worker(ctx, base) for _ in range(workers)]
    todo = list(enumerate(inputs))[::-1]
    stats = {"inputs": len(inputs), "through_check": 0, "check_errors": 0, "through_compile": 0, "compiled": 0,
             "data_errors": 0, "build_errors": 0, "crashes": 0, "hangs": 0, "max_check_s": 0.0,
             "max_compile_s": 0.0, "max_cpu_s": 0.0, "slowest": None}
    done = 0
    t_start = time.monotonic()

    def record(i, res):
        nonlocal done
        done += 1
        if done % 500 == 0:
            rate = done / (time.monotonic() - t_start)
            print(f"  {done}/{len(inputs)} ({rate:.1f}/s): {stats['crashes']} crashes, {stats['hangs']} hangs",
                  flush=True)
        # a hang: more than 5 s of CPU for one input (wall time on a shared machine measures
        # the other jobs too), or no answer at all within --kill-after seconds
        stats["max_check_s"] = max(stats["max_check_s"], res["check_s"])
        stats["max_compile_s"] = max(stats["max_compile_s"], res["compile_s"])
        if res["cpu_s"] > stats["max_cpu_s"]:
            stats["max_cpu_s"], stats["slowest"] = res["cpu_s"], i
        if res["stage"] == "hang" or res["cpu_s"] > fuzzing.HANG_SECONDS:
            stats["hangs"] += 1
            _save(crashes, f"hang-{i}", inputs[i], f"{res['cpu_s']:.1f} s CPU, {res['check_s'] + res['compile_s']:.1f} s "
                  f"wall ({res['stage']})\n")
        if res["stage"] == "crash":
            stats["crashes"] += 1
            _save(crashes, f"crash-{i}", inputs[i], res["problem"] or "")
            if res["check_s"]:
                stats["through_check"] += 1
            return
        if res["stage"] == "hang":
            return
        stats["through_check"] += 1
        if res["stage"] == "check-errors":
            stats["check_errors"] += 1
            return
        stats["through_compile"] += 1
        stats[{"compiled": "compiled", "data-errors": "data_errors", "build-errors": "build_errors"}[res["stage"]]] += 1

    import fuzzing

    try:
        while todo or any(w.job is not None for w in pool):
            for k, w in enumerate(pool):
                if w.job is None and todo:
                    w.job = todo.pop()
                    w.started = w.first = time.monotonic()
                    w.cpu0 = w.cpu()
                    w.conn.send(w.job[1])
            for k, w in enumerate(pool):
                if w.job is None:
                    continue
                if w.conn.poll(0.01):
                    record(w.job[0], w.conn.recv())
                    w.job = None
                elif time.monotonic() - w.started > kill_after:
                    # no answer yet: a hang if it has used more than 5 s of CPU (or, waiting on
                    # something, stays silent for ten times --kill-after); else the machine is busy
                    used = w.cpu() - w.cpu0
                    if used > fuzzing.HANG_SECONDS or time.monotonic() - w.first > 10 * kill_after:
                        record(w.job[0], {"stage": "hang", "check_s": time.monotonic() - w.first, "compile_s": 0.0,
                                         "cpu_s": used, "problem": None})
                        w.kill()
                        pool[k] = Worker(ctx, base)
                    else:
                        w.started = time.monotonic()
    finally:
        for w in pool:
            if w.job is None:
                w.conn.send(None)
            w.proc.join(timeout=5)
            if w.proc.is_alive():
                w.kill()
        shutil.rmtree(base, ignore_errors=True)
    return stats


def _save(crashes: Path, name: str, data, note: str) -> None:
    crashes.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    (crashes / f"{name}.cell").write_bytes(raw)
    (crashes / f"{name}.txt").write_text(note, encoding="utf-8")


def run_cli(inputs: list, n: int, seed: int, crashes: Path) -> dict:
    """n inputs through `sselang check` and `sselang compile` as subprocesses."""
    rng = random.Random(seed)
    picked = rng.sample(range(len(inputs)), min(n, len(inputs)))
    stats = {"cli_inputs": len(picked), "cli_runs": 0, "cli_tracebacks": 0, "cli_bad_exit": 0, "cli_max_s": 0.0}
    for i in picked:
        with tempfile.TemporaryDirectory() as d:
            p = Path(d) / "study.cell"
            data = inputs[i]
            p.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
            for args in (["check", str(p)], ["compile", str(p), "--build-dir", str(Path(d) / "build")]):
                t0 = time.monotonic()
                r = subprocess.run([sys.executable, "-m", "sselang.cli", *args], capture_output=True, cwd=d,
                                   timeout=600)
                stats["cli_max_s"] = max(stats["cli_max_s"], time.monotonic() - t0)
                stats["cli_runs"] += 1
                out = (r.stdout + r.stderr).decode("utf-8", "replace")
                if "Traceback" in out or "internal error" in out:
                    stats["cli_tracebacks"] += 1
                    _save(crashes, f"cli-{args[0]}-{i}", data, out)
                if r.returncode not in (0, 1):
                    stats["cli_bad_exit"] += 1
                    _save(crashes, f"cli-exit-{args[0]}-{i}", data, f"exit {r.returncode}\n{out}")
                if r.returncode != 0:
                    break  # compile only what checks clean
    return stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--inputs", type=int, default=10_000, help="inputs in all (7 in 10 grammar-aware, 3 byte-level)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--cli", type=int, default=100, help="inputs also run through the command line")
    ap.add_argument("--kill-after", type=float, default=60.0,
                    help="seconds without an answer before a worker's CPU time is looked at")
    ap.add_argument("--crashes", type=Path, default=Path(tempfile.gettempdir()) / "sselang-fuzz-crashes")
    ap.add_argument("--json", type=Path, help="write the counts here too")
    ap.add_argument("--with-ml", action="store_true",
                    help="let compile relax derived materials with CHGNet (minutes of model time, not compiler time)")
    args = ap.parse_args()

    import fuzzing

    if not args.with_ml:  # as on a machine without torch: derived materials get SSE106 instead of a relaxation
        import sselang.data.ml as ml

        ml.available = lambda: False

    t0 = time.monotonic()
    n_grammar = round(args.inputs * 0.7)
    inputs = (generate(n_grammar, fuzzing.grammar_input(), args.seed)
              + generate(args.inputs - n_grammar, fuzzing.byte_input(), args.seed + 1))
    gen_s = time.monotonic() - t0
    print(f"generated {len(inputs)} inputs ({n_grammar} grammar-aware, {len(inputs) - n_grammar} byte-level) "
          f"in {gen_s:.0f} s", flush=True)
    stats = run_inputs(inputs, args.workers, args.kill_after, args.crashes)
    stats.update(run_cli(inputs, args.cli, args.seed, args.crashes))
    stats["seconds"] = round(time.monotonic() - t0)
    stats["seed"] = args.seed
    print(f"inputs:            {stats['inputs']}")
    print(f"through check:     {stats['through_check']} ({stats['check_errors']} with errors)")
    print(f"through compile:   {stats['through_compile']} ({stats['compiled']} built, {stats['data_errors']} data-stage "
          f"errors, {stats['build_errors']} build errors)")
    print(f"crashes:           {stats['crashes']}")
    print(f"hangs (> 5 s):     {stats['hangs']}")
    print(f"max time:          {stats['max_cpu_s']:.2f} s CPU for one input (input {stats['slowest']}); wall: "
          f"check {stats['max_check_s']:.2f} s, compile {stats['max_compile_s']:.2f} s")
    print(f"command line:      {stats['cli_inputs']} inputs, {stats['cli_runs']} runs, {stats['cli_tracebacks']} "
          f"tracebacks, {stats['cli_bad_exit']} other exit codes, longest {stats['cli_max_s']:.1f} s")
    print(f"wall time:         {stats['seconds']} s")
    if stats["crashes"] or stats["hangs"] or stats["cli_tracebacks"]:
        print(f"failing inputs in {args.crashes}")
    if args.json:
        args.json.write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    sys.exit(1 if stats["crashes"] or stats["hangs"] or stats["cli_tracebacks"] or stats["cli_bad_exit"] else 0)


if __name__ == "__main__":
    main()
