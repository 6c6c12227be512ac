"""The `sselang` command line.

Exit codes: 0 clean (warnings allowed), 1 diagnostics with errors (or files
that `fmt --check` would change), 2 usage errors, 3 an internal error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__


def _color(stream) -> bool:
    return stream.isatty() and os.environ.get("NO_COLOR") is None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sselang")
def cli() -> None:
    """sselang: compile sulfide solid-state battery studies (.cell files)
    into checked models, DFT/AIMD input decks and reports."""


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people, json for machines")
@click.option("--no-warnings", is_flag=True, help="print errors only")
def check(files: tuple[Path, ...], fmt: str, no_warnings: bool) -> None:
    """Parse and check study files; print diagnostics."""
    from .checks.printer import render_all, to_json
    from .pipeline import front_end

    all_diags, failed = [], False
    texts = []
    for f in files:
        fe = front_end(f)
        diags = [d for d in fe.diagnostics if d.is_error or not no_warnings]
        failed |= any(d.is_error for d in fe.diagnostics)
        all_diags.extend(diags)
        if fmt == "text" and diags:
            texts.append(render_all(diags, fe.sources, _color(sys.stderr)))
    if fmt == "json":
        click.echo(to_json(all_diags))
    else:
        if texts:
            click.echo("\n\n".join(texts), err=True)
        if not failed:
            click.echo(f"ok: {len(files)} file{'s' if len(files) != 1 else ''} checked", err=True)
    sys.exit(1 if failed else 0)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--check", "check_only", is_flag=True, help="write nothing; exit 1 and print a diff if a file is not formatted")
def fmt(files: tuple[Path, ...], check_only: bool) -> None:
    """Rewrite study files in the canonical layout (comments kept)."""
    import difflib

    from .checks.printer import render_all
    from .pipeline import read_source
    from .checks.diagnostics import Reporter
    from .syntax.formatter import FormatError, format_source
    from .util.atomic import write_text_atomic

    status = 0
    for f in files:
        rep = Reporter(str(f))
        src = read_source(f, str(f), rep)
        if src is None:
            click.echo(render_all(rep.sorted(), {}), err=True)
            status = 1
            continue
        try:
            new = format_source(src.text, str(f))
        except FormatError as e:
            click.echo(render_all(e.diagnostics, {str(f): src}, _color(sys.stderr)), err=True)
            status = 1
            continue
        if new == src.text:
            continue
        if check_only:
            diff = difflib.unified_diff(src.text.splitlines(keepends=True), new.splitlines(keepends=True),
                                        fromfile=f"{f} (current)", tofile=f"{f} (formatted)")
            click.echo("".join(diff), nl=False)
            click.echo(f"would reformat {f}", err=True)
            status = 1
        else:
            try:
                write_text_atomic(f, new)
            except OSError as e:
                click.echo(f"{f}: error: cannot write: {e.strerror or e}", err=True)
                status = 1
                continue
            click.echo(f"reformatted {f}", err=True)
    sys.exit(status)


@cli.command(name="compile")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--build-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("build"), show_default=True,
              help="where build/<study>/ is written")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--force", is_flag=True, help="move hand-edited calculation folders aside (to <id>.old-N) and rewrite them")
def compile_(file: Path, build_dir: Path, fmt: str, force: bool) -> None:
    """Check a study, resolve its structures and energies, write build/<study>/.

    Uses <file>.lock when present (see `sselang lock`)."""
    fe, data, out = _compile(file, build_dir, fmt, force, command=f"sselang compile {file}" + (" --force" if force else ""))
    if fmt == "text":
        click.echo(f"compiled {fe.study.id} -> {out} ({len(data.materials)} structures, "
                   f"{len(data.systems)} chemical systems)", err=True)
        _print_summary(out)


def _print_summary(out: Path) -> None:
    import json

    from .analyses.summary import lines

    try:
        doc = json.loads((out / "analyses.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    for line in lines(doc):
        click.echo(f"  {line}")
    if (out / "report" / "index.html").is_file():
        click.echo(f"  report: {out / 'report' / 'index.html'} (and report.md, report.json)")


def _compile(file: Path, build_dir: Path, fmt: str = "text", force: bool = False, command: str | None = None):
    """`sselang compile` up to the written build folder: (front end, data, build path);
    exits with the diagnostics printed when the study does not compile."""
    from .checks.printer import render_all, to_json
    from .compile import BuildError, prepare_build, resolve_data, write_build
    from .pipeline import front_end

    fe = front_end(file)
    data = resolve_data(fe, file) if fe.ok else None
    # the plan and the decks are made before anything is written; their errors are diagnostics
    prepared = prepare_build(fe, data, build_dir) if data is not None and fe.ok else None
    if fmt == "json":
        click.echo(to_json(fe.diagnostics))
    elif fe.diagnostics:
        click.echo(render_all(fe.diagnostics, fe.sources, _color(sys.stderr)), err=True)
    if not fe.ok or data is None:
        sys.exit(1)
    from .plan import EditedCalculations

    try:
        out = write_build(fe.study, fe.sources, build_dir, data, force, command, prepared=prepared)
    except BuildError as e:
        click.echo(render_all(e.diagnostics, fe.sources, _color(sys.stderr)), err=True)
        sys.exit(1)
    except EditedCalculations as e:
        click.echo(f"error: {len(e.ids)} calculation folder(s) were edited by hand and would be rewritten:\n  "
                   + "\n  ".join(e.ids) + "\nnothing was written; rerun with --force to move them aside "
                   "(to <id>.old-N) and write fresh decks", err=True)
        sys.exit(1)
    except OSError as e:
        click.echo(f"error: {_write_error(e, build_dir)}", err=True)
        sys.exit(1)
    return fe, data, out


def _write_error(e: OSError, build_dir: Path) -> str:
    """A failed write of the build folder, said with the file and whether anything changed."""
    from .util.transaction import BuildWriteError

    where = f" ({e.filename})" if getattr(e, "filename", None) else ""
    after = ("the new build is committed and the next compile finishes moving it into place"
             if isinstance(e, BuildWriteError) and e.committed else "nothing in it was changed")
    return f"cannot write the build folder {build_dir}: {e.strerror or e}{where}; {after}"


class _TimeParam(click.ParamType):
    """A time as written in a study (`1ps`, `500 fs`, `0.002 ns`), or a bare number of ps."""

    name = "time"

    def convert(self, value, param, ctx):
        if isinstance(value, float):
            return value
        import re

        from .model.units import UnitError, convert

        m = re.fullmatch(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(\S.*)?", str(value))
        if not m:
            self.fail(f"{value!r} is not a time: write e.g. 1ps, 500 fs or 0.5 (ps)", param, ctx)
        try:
            ps = convert(float(m.group(1)), m.group(2).strip(), "time") if m.group(2) else float(m.group(1))
        except UnitError as e:
            self.fail(f"{value!r}: {e}", param, ctx)
        if not ps > 0:
            self.fail(f"{value!r} is not a positive time", param, ctx)
        return ps


_TIME = _TimeParam()


@cli.command(name="run")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--fidelity", type=click.Choice(["preview", "dft"]), default="preview", show_default=True,
              help="preview: the ML potential (CHGNet) in seconds to minutes; dft: the engine on the compiled decks")
@click.option("--engine", type=click.Choice(["cp2k", "vasp", "qe"]),
              help="whose calculation folders to run (default: the study's first engine with any)")
@click.option("--build-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("build"), show_default=True)
@click.option("--duration", type=_TIME, metavar="TIME", help="MD length instead of the study's: 1ps, 500 fs, 0.5 (ps)")
@click.option("--steps", type=click.IntRange(min=1), help="MD steps / relaxation iterations instead of the plan's")
@click.option("--workers", type=click.IntRange(min=1), help="calculations at a time (default: the run block's workers)")
@click.option("--quiet", is_flag=True, help="plain progress lines (for logs), no progress bars")
def run_(file: Path, fidelity: str, engine: str | None, build_dir: Path, duration: float | None, steps: int | None,
         workers: int | None, quiet: bool) -> None:
    """Compile, run the study's relaxations and AIMD runs, and evaluate the analyses on the results.

    Each calculation folder keeps its state in .sselang-run.json: a rerun skips what
    is done and restarts what was interrupted or failed."""
    import json

    from .compile import write_build
    from .plan import make_plan
    from .run import executor, runner, tasks

    def say(msg: str) -> None:
        click.echo(msg, err=True)

    # the report names the command that made it (build folder and progress options leave the numbers alone)
    command = (f"sselang run {file} --fidelity {fidelity}" + (f" --engine {engine}" if engine else "")
               + (f" --duration {duration:g}ps" if duration else "") + (f" --steps {steps}" if steps else ""))
    fe, data, out = _compile(file, build_dir, command=command)
    study = fe.study
    if fidelity == "preview" and study.run.preview == "none":
        say("error: the study's run block says preview = none; use --fidelity dft")
        sys.exit(1)
    options = tasks.RunOptions(fidelity=fidelity, duration_ps=duration, steps=steps, quiet=quiet)
    plan_ = make_plan(study, data)
    try:
        eng = runner.pick_engine(study, plan_, fidelity, engine)
        todo, left = runner.select(plan_, fidelity, eng)
        if fidelity == "dft":
            from .run.dft import engine_command

            engine_command(eng, options)  # a missing binary is said once, before anything starts
            if eng == "vasp" and (steps is not None or duration is not None):
                raise tasks.RunError("VASP reads its INCAR by name, which sselang never edits: --steps and "
                                     "--duration apply to CP2K and Quantum ESPRESSO runs only")
        else:
            from .run.preview import INSTALL, available

            if not available():
                raise tasks.RunError(f"the preview runs the CHGNet potential, which is not installed ({INSTALL}); "
                                     "or use --fidelity dft")
    except tasks.RunError as e:
        say(f"error: {e}")
        sys.exit(1)
    say(f"{fidelity} run of {study.id} with {eng}: {len(todo)} calculation(s) in {out / 'calcs'}")
    runnable = []
    for c in todo:
        what, why = tasks.action(out / "calcs" / c.id, fidelity)
        if what == "run":
            runnable.append((c, out / "calcs" / c.id))
            if why != "new":
                say(f"  {c.id}: {why}")
        else:
            say(f"  skip {c.id}: {why}")
    for c in left:
        npt = " NpT" if c.settings.get("ensemble") == "npt" else ""
        say(f"  not run here: {c.id} ({c.kind}{npt} at {fidelity} fidelity; use its job.sh)")
    n_workers = workers or study.run.executor.workers
    if study.run.executor.kind == "slurm":
        try:
            executor.slurm_config(study, eng)
            say("  the study's slurm executor: its Parsl configuration is built and checked but not submitted; "
                f"running here with {n_workers} worker(s)")
        except ImportError:
            pass
        except tasks.RunError as e:
            say(f"  warning: {e}")
    if runnable and not executor.have_parsl():
        say("  parsl is not installed: running one calculation at a time in this process "
            "(pip install 'sselang[parsl]' for parallel workers)")
    results = executor.run_tasks(runnable, options, n_workers, out / ".runinfo", echo=say)
    failed = [r for r in results if r["status"] != "done"]
    # the new results feed the analyses: compile again (folders with results are left as they are)
    try:
        write_build(study, fe.sources, build_dir, data, command=command)
    except OSError as e:
        say(f"error: {_write_error(e, build_dir)}")
        sys.exit(1)
    analyses = json.loads((out / "analyses.json").read_text(encoding="utf-8"))
    for line in runner.summary_lines(analyses, eng):
        click.echo(line)
    click.echo(f"{len(results) - len(failed)} done, {len(failed)} failed, {len(todo) - len(results)} skipped; "
               f"analyses in {out / 'analyses.json'}")
    for r in failed:
        click.echo(f"failed: {r['id']}: {r['message']}")
    sys.exit(1 if failed else 0)


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--build-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("build"), show_default=True)
def plan(file: Path, build_dir: Path) -> None:
    """Show the calculations a study needs and what compile would add, change or keep."""
    from .checks.printer import render_all
    from .compile import resolve_data
    from .pipeline import front_end
    from .plan import files_for, make_plan, status

    fe = front_end(file)
    data = resolve_data(fe, file) if fe.ok else None
    if fe.diagnostics:
        click.echo(render_all(fe.diagnostics, fe.sources, _color(sys.stderr)), err=True)
    if not fe.ok or data is None:
        sys.exit(1)
    p = make_plan(fe.study, data)
    marks = {"add": "+", "change": "~", "keep": "=", "results": "="}
    counts: dict[str, int] = {}
    for c in p.calculations:
        st = status(build_dir / fe.study.id / "calcs" / c.id, files_for(c, fe.study.run.executor))
        counts[st] = counts.get(st, 0) + 1
        note = "  (holds results: never touched)" if st == "results" else ""
        click.echo(f"{marks[st]} {c.id:48s} {c.natoms:4d} atoms  {c.why}{note}")
    for s in p.skipped:
        click.echo(f"! {s}")
    click.echo(f"\nplan: {counts.get('add', 0)} to add, {counts.get('change', 0)} to change, "
               f"{counts.get('keep', 0) + counts.get('results', 0)} to keep")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def lock(file: Path) -> None:
    """Resolve a study's structures and energies afresh and record them in <file>.lock."""
    from .checks.printer import render_all
    from .compile import resolve_data, write_lock
    from .pipeline import front_end

    fe = front_end(file)
    data = resolve_data(fe, file, use_lock=False) if fe.ok else None
    if fe.diagnostics:
        click.echo(render_all(fe.diagnostics, fe.sources, _color(sys.stderr)), err=True)
    if not fe.ok or data is None:
        sys.exit(1)
    try:
        p = write_lock(fe.study, data, file)
    except OSError as e:
        click.echo(f"error: cannot write the lock: {e.strerror or e}", err=True)
        sys.exit(1)
    click.echo(f"locked {fe.study.id} -> {p}", err=True)


@cli.command()
@click.option("--stdio", is_flag=True, help="talk LSP over stdin/stdout (the default; accepted for editor clients that pass it)")
def lsp(stdio: bool) -> None:
    """Language server for editors: diagnostics as you type, hover, completion, formatting.

    Needs the lsp extra: pip install 'sselang[lsp]'."""
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError:
        click.echo("error: `sselang lsp` needs pygls, which is not installed; install it with:\n"
                   "  pip install 'sselang[lsp]'", err=True)
        sys.exit(1)
    from .lsp.server import serve

    sys.exit(serve())


@cli.command(name="library")
@click.argument("names", nargs=-1)
def library_(names: tuple[str, ...]) -> None:
    """List the structure library (or show some phases)."""
    from .data.library import phases

    table = phases()
    for n in names or sorted(table):
        p = table.get(n)
        if p is None:
            click.echo(f"{n}: not in the library", err=True)
            sys.exit(1)
        occ = "ordered" if p.is_ordered else "partial occupancy"
        click.echo(f"{p.name:28s} {p.formula:28s} sg {p.spacegroup:3d}  {occ:18s} {p.reference}")


@cli.command()
@click.argument("code", required=False)
def explain(code: str | None) -> None:
    """Explain a diagnostic code (e.g. SSE031); without a code, list them all."""
    from .checks.catalog import CATALOG

    if code is None:
        for c, e in sorted(CATALOG.items()):
            click.echo(f"{c}  {e.severity:<7}  {e.title}")
        return
    key = code.upper()
    if key.isdigit():
        key = f"SSE{int(key):03d}"
    entry = CATALOG.get(key)
    if entry is None:
        from .checks.suggest import did_you_mean

        hint = did_you_mean(key, CATALOG)
        click.echo(f"error: no diagnostic code '{code}'" + (f"; {hint}" if hint else "") + "\n(`sselang explain` lists them)",
                   err=True)
        sys.exit(2)
    click.echo(entry.render(key))


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="write to a file instead of stdout")
@click.option("--report", "of_report", is_flag=True, help="the schema of report.json instead")
def schema(output: Path | None, of_report: bool) -> None:
    """Print the JSON Schema of the resolved study model (or of report.json with --report)."""
    import json

    if of_report:
        from .report.document import report_schema

        doc = report_schema()
    else:
        from .model.study import Study

        doc = Study.model_json_schema()
    text = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        from .util.atomic import write_text_atomic

        write_text_atomic(output, text)


@cli.group()
def analyze() -> None:
    """Analyse finished simulations: diffusion from MD trajectories, barriers from NEB runs."""


def _per_file(values: tuple[float, ...], n: int, name: str) -> list[float | None]:
    """One value for every file, or one per file in order."""
    if not values:
        return [None] * n
    if len(values) == 1:
        return [values[0]] * n
    if len(values) != n:
        raise click.UsageError(f"give {name} once (for every file) or once per file ({n}), not {len(values)} times")
    return list(values)


@analyze.command(name="diffusion")
@click.argument("trajectories", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--species", default="Li", show_default=True, help="the mobile species")
@click.option("--temperature", type=float, multiple=True,
              help="K; overrides the file's; once for all files or once per file")
@click.option("--timestep", type=float, multiple=True,
              help="fs between stored frames, for files that do not say (an XDATCAR without INCAR/OUTCAR "
                   "beside it, extxyz); once for all files or once per file")
@click.option("--stride", type=click.IntRange(min=1), help="keep every n-th frame")
@click.option("--equilibration", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="fs dropped from the start of each run")
@click.option("--format", "fmt", type=click.Choice(["xdatcar", "vasprun", "cp2k", "qe", "ase",
                                                      "diffusion-analyzer"]),
              help="trajectory format, when the file name does not tell")
@click.option("--charge", "z", type=int, help="charge number z of the mobile ion (known for Li, Na, Mg, ...)")
@click.option("--target-temperature", type=float, default=300.0, show_default=True,
              help="K; where the Arrhenius fit is evaluated")
@click.option("--json", "as_json", is_flag=True, help="print JSON for machines")
def analyze_diffusion(trajectories: tuple[Path, ...], species: str, temperature: tuple[float, ...],
                      timestep: tuple[float, ...], stride: int | None, equilibration: float, fmt: str | None,
                      z: int | None, target_temperature: float, as_json: bool) -> None:
    """Diffusivity and conductivity of MD trajectories; Arrhenius over several temperatures.

    Reads XDATCAR, vasprun.xml, CP2K *-pos-1.xyz, pw.x md output, extxyz, ASE .traj
    and pymatgen DiffusionAnalyzer JSON."""
    import json

    from .transport.readers import TrajectoryError, read_trajectory

    from .transport.fit import analyse_diffusion, arrhenius

    temps = _per_file(temperature, len(trajectories), "--temperature")
    steps = _per_file(timestep, len(trajectories), "--timestep")
    failed = False
    rows, results = [], []
    for path, t_k, dt in zip(trajectories, temps, steps):
        try:
            traj = read_trajectory(path, format=fmt, dt_fs=dt, stride=stride)
        except TrajectoryError as e:
            click.echo(f"error: {e}", err=True)
            failed = True
            continue
        if t_k is not None:
            traj.temperature_K = t_k
        row = {"source": str(path), "n_frames": traj.n_frames, "n_atoms": traj.n_atoms, "dt_fs": traj.dt_fs,
               "run_fs": (traj.n_frames - 1) * traj.dt_fs, "temperature_K": traj.temperature_K,
               "variable_cell": traj.lattice.ndim == 3, "notes": list(traj.notes)}
        if analyse_diffusion is not None:
            try:
                res = analyse_diffusion(traj, species, equilibration_fs=equilibration,
                                        **({"z": z} if z is not None else {}))
            except ValueError as e:
                click.echo(f"error: {path}: {e}", err=True)
                failed = True
                continue
            row["diffusion"] = res.model_dump(mode="json")
            results.append(res)
        rows.append(row)
        if not as_json:
            _print_run(row, species)

    fit = None
    if arrhenius is not None and len({r.temperature_K for r in results if r.temperature_K}) >= 2:
        usable = [r for r in results if r.temperature_K]
        try:
            fit = arrhenius(usable, T_target_K=target_temperature)
        except ValueError as e:
            click.echo(f"error: Arrhenius fit: {e}", err=True)
            failed = True
    if as_json:
        click.echo(json.dumps({"runs": rows, "arrhenius": fit.model_dump(mode="json") if fit else None,
                               "fitted": analyse_diffusion is not None}, indent=2))
    else:
        if analyse_diffusion is None and rows:
            click.echo("(trajectories read; the MSD fit is not available in this installation)", err=True)
        if fit is not None:
            _print_arrhenius(fit)
        elif len(results) > 1:
            click.echo("no Arrhenius fit: it needs runs at two or more temperatures (--temperature)", err=True)
    sys.exit(1 if failed else 0)


def _print_run(row: dict, species: str) -> None:
    t = row["temperature_K"]
    click.echo(f"{row['source']}: {row['n_frames']} frames x {row['n_atoms']} atoms, {row['dt_fs']:g} fs apart "
               f"({row['run_fs'] / 1000:g} ps)" + (f", {t:g} K" if t else ", temperature unknown")
               + (", variable cell" if row["variable_cell"] else ""))
    d = row.get("diffusion")
    if d is not None:
        sigma = (f"   sigma = {d['sigma_mS_cm']:.3g} +- {d['sigma_err_mS_cm']:.2g} mS/cm"
                 if d.get("sigma_mS_cm") is not None else "")
        w = d["window"]
        click.echo(f"  {species}: D = {d['D_cm2_s']:.3g} +- {d['D_err_cm2_s']:.2g} cm^2/s{sigma}")
        click.echo(f"  fit window {w['start_fs'] / 1000:g}-{w['end_fs'] / 1000:g} ps ({w['how']}, "
                   f"{w['n_points']} lags); {d['effective_hops']:.0f} effective hops"
                   + (f"; Haven ratio {d['haven_ratio']:.2f}" if d.get("haven_ratio") is not None else ""))
        for w_ in d.get("warnings", []):
            click.echo(f"  warning: {w_}")
    for n in row["notes"]:
        click.echo(f"  note: {n}")


def _print_arrhenius(fit) -> None:
    line = (f"Arrhenius ({fit.species}, {len(fit.temperatures_K)} temperatures): Ea = {fit.Ea_eV:.3f} +- "
            f"{fit.Ea_err_eV:.3f} eV; D({fit.T_target_K:g} K) = {fit.D_target_cm2_s:.3g} cm^2/s "
            f"[{fit.D_target_band_cm2_s[0]:.2g}, {fit.D_target_band_cm2_s[1]:.2g}]")
    if fit.sigma_target_mS_cm is not None:
        line += f"; sigma({fit.T_target_K:g} K) = {fit.sigma_target_mS_cm:.3g} mS/cm"
    click.echo(line)
    for w in fit.warnings:
        click.echo(f"  warning: {w}")


def _energy_or_path(value: str | None):
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return value


@analyze.command(name="barrier")
@click.argument("neb", type=click.Path(path_type=Path))
@click.option("--energy", type=click.Choice(["without_entropy", "sigma0", "toten"]), default="without_entropy",
              show_default=True, help="which OUTCAR energy of a VASP NEB")
@click.option("--initial", help="initial-state energy (eV) or its OUTCAR / relaxation folder, when 00/ has none")
@click.option("--final", help="final-state energy (eV) or its OUTCAR / relaxation folder, when the last folder has none")
@click.option("--nimages", type=click.IntRange(min=3), help="images per band of an ASE trajectory (guessed if not given)")
@click.option("--json", "as_json", is_flag=True, help="print JSON for machines")
def analyze_barrier(neb: Path, energy: str, initial: str | None, final: str | None, nimages: int | None,
                    as_json: bool) -> None:
    """Barrier and energy profile of a finished NEB: a VASP NEB folder (00, 01, ...) or an ASE .traj."""
    import json

    from .transport.barrier import BarrierError, read_neb

    kw = {"initial": _energy_or_path(initial), "final": _energy_or_path(final)}
    if neb.is_dir():
        kw["energy"] = energy
    else:
        kw["nimages"] = nimages
    try:
        res = read_neb(neb, **kw)
    except BarrierError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(1)
    if as_json:
        click.echo(json.dumps(res.to_dict(), indent=2))
        return
    top = res.highest_image
    click.echo(f"{res.source}: {len(res.images)} images ({res.energy_kind})")
    click.echo("  image    s (Å)   E - E_initial (eV)   energy from")
    for im, rel, s in zip(res.images, res.relative_eV, res.reaction_coordinate_A):
        e = f"{rel:10.4f}" if rel is not None else ("   unknown" if im.energy_eV is None else f"{im.energy_eV:10.4f} (abs)")
        mark = " <- highest" if im.index == top else ""
        click.echo(f"  {im.index:5d} {s:8.3f}   {e:>18s}   {im.energy_from}{mark}")

    def ev(x):
        return f"{x:.3f} eV" if x is not None else "unknown"

    climb = {True: ", climbing image", False: ", no climbing image", None: ""}[res.climbing]
    click.echo(f"forward barrier {ev(res.barrier_eV)} (image {top}{climb}); backward barrier "
               f"{ev(res.backward_barrier_eV)}; reaction energy {ev(res.reaction_energy_eV)}")
    for n in res.notes:
        click.echo(f"  note: {n}")
    if res.barrier_eV is None:
        sys.exit(1)


def main() -> None:
    try:
        cli.main(prog_name="sselang", standalone_mode=True)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as e:  # noqa: BLE001 - the last line of defence: no traceback for users
        if os.environ.get("SSELANG_DEBUG"):
            raise
        click.echo(f"sselang: internal error: {type(e).__name__}: {e}\n"
                   "This is a bug in sselang, not in your study; rerun with SSELANG_DEBUG=1 for details.", err=True)
        sys.exit(3)


if __name__ == "__main__":
    main()
