"""`sselang compile` and `sselang lock`: the build folder of a study.

    build/<study>/study.json         the resolved study
    build/<study>/data.json          what the data stage resolved (the lock's content)
    build/<study>/analyses.json      windows, staircases, reaction energies (sselang.analyses)
    build/<study>/report/            index.html, report.md (+ figures/), report.json (sselang.report)
    build/<study>/structures/*.cif   one ordered structure per material
    build/<study>/thermo/*.json      the entries of each chemical system the analyses need

Every file names the tool versions and data sources it came from; the same
study (and lock) gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .util.atomic import write_text_atomic


@lru_cache(maxsize=1)
def tool_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__

    out = {"sselang": __version__}
    for dist in ("lark", "pydantic", "pint", "pymatgen", "pymatgen-core"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def dumps(doc) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def study_document(study, sources) -> dict:
    return {
        "generator": tool_versions(),
        "inputs": {
            path: {"sha256": hashlib.sha256(src.text.encode("utf-8")).hexdigest()} for path, src in sorted(sources.items())
        },
        "study": json.loads(study.model_dump_json()),
    }


def lock_path(study_file: Path) -> Path:
    return study_file.with_name(study_file.name + ".lock")


class LockError(ValueError):
    pass


def read_lock(study_file: Path) -> dict | None:
    p = lock_path(study_file)
    if not p.exists():
        return None
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LockError(f"{p} is not a readable lock file ({e}); delete it or run `sselang lock` again") from e
    except RecursionError:  # "[[[[..." thousands deep
        raise LockError(f"{p} is not a readable lock file (nested too deeply); delete it or run `sselang lock` again") \
            from None
    from .data.stage import LOCK_VERSION, lock_problem

    if not isinstance(doc, dict) or doc.get("lock_version") != LOCK_VERSION:
        raise LockError(f"{p} is not a lock of this sselang (lock_version {LOCK_VERSION}); run `sselang lock` again")
    # a damaged lock is said here, with what is wrong, not met as a crash further on
    problem = lock_problem(doc)
    if problem is not None:
        raise LockError(f"{p} is damaged: {problem}; run `sselang lock` again (or restore it from version control)")
    return doc


def resolve_data(fe, study_file: Path, use_lock: bool = True):
    """The data stage on a checked study; diagnostics are added to fe.diagnostics."""
    from .checks.diagnostics import Reporter
    from .data.stage import run

    rep = Reporter(str(study_file))
    lock = None
    if use_lock:
        try:
            lock = read_lock(study_file)
        except LockError as e:
            rep.error("SSE108", str(e), None)
            fe.diagnostics = sorted(fe.diagnostics + rep.sorted(), key=lambda d: d.sort_key())
            return None
    result = run(fe.study, fe.spans, rep, study_file.parent, lock)
    fe.diagnostics = sorted(fe.diagnostics + rep.sorted(), key=lambda d: d.sort_key())
    return None if rep.has_errors else result


class BuildError(Exception):
    """The build cannot be written (compile-stage diagnostics: an unsafe build folder, a
    calculation too large, a deck that cannot be written); nothing was written."""

    def __init__(self, diagnostics) -> None:
        self.diagnostics = diagnostics
        super().__init__("; ".join(d.message for d in diagnostics))


@dataclass
class Prepared:
    """The plan and every calculation's files, made before anything is written."""

    plan: object
    rendered: list  # (Calculation, {file name: text})


def prepare_build(fe, data, build_dir: Path):
    """Plan the calculations and render their decks, so that what can go wrong does so
    before the build is touched; diagnostics are added to fe.diagnostics (None on errors)."""
    prepared, diags = _prepare(fe.study, data, Path(build_dir), fe.spans)
    fe.diagnostics = sorted(fe.diagnostics + diags, key=lambda d: d.sort_key())
    return prepared


def _prepare(study, data, build_dir: Path, spans):
    from .checks.diagnostics import Reporter
    from .checks.physics import _At
    from .model.resolve import Spans
    from .plan import MAX_ATOMS, files_for, make_plan
    from .util.transaction import unsafe_links

    rep = Reporter(study.source)
    at = _At(spans if spans is not None else Spans(), rep)
    for path, target in unsafe_links(build_dir / study.id):
        # following it would write outside the build folder (or into someone else's)
        at.error("SSE110", f"{path} is a symbolic link (to {target}); compile writes only inside the build folder",
                 ("study", "id"), "remove the link; to build somewhere else, name that folder with --build-dir")
    plan = make_plan(study, data)
    rendered = []
    for c in plan.calculations:
        if c.natoms > MAX_ATOMS:
            # said once per material and kind (each temperature and engine has the same cell)
            what = "supercell" if c.kind == "md" else f"{c.kind} model"
            key, fallback = _where(study, c)
            at.error("SSE045", f"the {what} of {c.material} would hold {c.natoms} atoms; a calculation holds at most "
                     f"{MAX_ATOMS}", key, "ask for a smaller supercell (min 10-15 Å) or a smaller structure", fallback)
            continue
        try:
            rendered.append((c, files_for(c, study.run.executor)))
        except (ValueError, KeyError) as e:  # a setting or an element the engine's data cannot serve
            key, fallback = _engine_key(study, c)
            at.error("SSE111", f"the {c.engine} deck of {c.id} cannot be written: {e}", key,
                     "change the engine setting named in the message, or leave this engine out (for = [...])", fallback)
    return (None if rep.has_errors else Prepared(plan, rendered)), rep.sorted()


def _where(study, calc) -> tuple:
    """Span key (and fallback) of what sized a calculation: its diffusion supercell, else its material."""
    for ai, a in enumerate(study.analyses):
        for ri, r in enumerate(a.requests):
            if r.kind == "diffusion" and calc.kind == "md" and r.material == calc.material:
                return ("request", ai, ri, "supercell"), ("request", ai, ri)
    return ("material", calc.material), ("study", "id")


def _engine_key(study, calc) -> tuple:
    """Span key (and fallback) of the engine block a calculation's deck comes from."""
    for i, e in enumerate(study.engines):
        if e.name == calc.engine:
            return ("engine", i), ("study", "id")
    return ("material", calc.material), ("study", "id")


def write_build(study, sources, build_dir: Path, data=None, force: bool = False, command: str | None = None,
                prepared: Prepared | None = None) -> Path:
    """Write build/<study>/ in one step (sselang.util.transaction): a kill or a full disk
    at any point leaves the old build or the new one.  `prepared` comes from
    prepare_build (made here when not given; BuildError if it has errors)."""
    from .util.transaction import BuildTransaction, UnsafeBuildFolder

    final = Path(build_dir) / study.id
    if data is not None and prepared is None:
        prepared, diags = _prepare(study, data, Path(build_dir), None)
        if prepared is None:
            raise BuildError([d for d in diags if d.is_error])
    try:
        with BuildTransaction(final) as tx:
            _write_build(study, sources, tx.stage, data, force, command, prepared, tx)
    except UnsafeBuildFolder as e:  # a link made after prepare_build looked
        from .checks.diagnostics import Diagnostic, Severity

        raise BuildError([Diagnostic("SSE110", Severity.ERROR, str(e), study.source)]) from None
    return final


def _write_build(study, sources, out: Path, data, force: bool, command: str | None, prepared, tx) -> None:
    # `out` is the transaction's staging folder: its calcs/ is the build's own
    write_text_atomic(out / "study.json", dumps(study_document(study, sources)))
    if data is None:
        return
    from .data.thermo import _structure

    lock = data.lock_document(study)
    write_text_atomic(out / "data.json", dumps(lock))
    for name, doc in sorted(data.materials.items()):
        from pymatgen.io.cif import CifWriter

        cif = str(CifWriter(_structure(doc["structure"])))
        header = f"# {name}: {doc['source']}; sha256 {doc['sha256']}; written by sselang {tool_versions()['sselang']}\n"
        write_text_atomic(out / "structures" / f"{_safe(name)}.cif", header + cif)
    for system, doc in sorted(data.systems.items()):
        write_text_atomic(out / "thermo" / f"{system}.json",
                          dumps({"system": system, "generator": tool_versions(), "thermo": lock["thermo"], **doc}))
    from .plan import write_calculations

    plan = prepared.plan
    report = write_calculations(plan, out, study.run.executor, force, tx=tx, rendered=prepared.rendered)
    from .analyses.evaluate import evaluate

    # after the calculations: finished runs in the build folder feed the analyses
    analyses = evaluate(study, data, plan, tx.out)  # the real folder: messages name files where they stay
    write_text_atomic(out / "analyses.json", dumps(analyses.model_dump(mode="json")))
    from .report import write_report

    # written into the staging folder; the calculations' states are read where they stay
    write_report(study, sources, lock["thermo"]["sources"], plan, analyses, out, Path(study.source),
                 command or f"sselang compile {study.source}", states_from=tx.out)
    write_text_atomic(out / "plan.json", dumps({
        "generator": tool_versions(),
        "calculations": [{"id": c.id, "kind": c.kind, "material": c.material, "engine": c.engine, "natoms": c.natoms,
                          "why": c.why, "status": st} for c, (_, st) in zip(plan.calculations, report)],
        "not_planned": plan.skipped,
    }))
    write_manifest(out, tx.view())


def write_manifest(out: Path, view: dict[str, Path] | None = None) -> None:
    """sha256 of every file sselang wrote (results written by engines are not listed).
    `view`: the files the build will hold (relative name -> where they are now), when
    `out` is a transaction's staging folder."""
    from .plan import OUTPUT_FILES

    if view is None:
        view = {p.relative_to(out).as_posix(): p for p in sorted(out.rglob("*"))}
    files = {}
    for rel, p in sorted(view.items()):
        hidden = any(part.startswith(".") for part in Path(rel).parts)  # temporaries, left-overs
        if p.is_file() and p.name != "manifest.json" and Path(rel).name not in OUTPUT_FILES and not hidden:
            files[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    write_text_atomic(out / "manifest.json", dumps({"generator": tool_versions(), "files": files}))


def _safe(name: str) -> str:
    """A file name for a material name (formulas may hold parentheses)."""
    return "".join(c if c.isalnum() or c in "._-()" else "_" for c in name)


def write_lock(study, data, study_file: Path) -> Path:
    p = lock_path(study_file)
    write_text_atomic(p, dumps(data.lock_document(study)))
    return p
