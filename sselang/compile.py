"""`sselang compile` and `sselang lock`: the build folder of a study.

    build/<study>/study.json         the resolved study
    build/<study>/data.json          what the data stage resolved (the lock's content)
    build/<study>/analyses.json      windows, staircases, reaction energies (sselang.analyses)
    build/<study>/structures/*.cif   one ordered structure per material
    build/<study>/thermo/*.json      the entries of each chemical system the analyses need

Every file names the tool versions and data sources it came from; the same
study (and lock) gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
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
    from .data.stage import LOCK_VERSION

    if not isinstance(doc, dict) or doc.get("lock_version") != LOCK_VERSION:
        raise LockError(f"{p} is not a lock of this sselang (lock_version {LOCK_VERSION}); run `sselang lock` again")
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


def write_build(study, sources, build_dir: Path, data=None, force: bool = False) -> Path:
    out = Path(build_dir) / study.id
    write_text_atomic(out / "study.json", dumps(study_document(study, sources)))
    if data is None:
        return out
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
    from .plan import make_plan, write_calculations

    plan = make_plan(study, data)
    report = write_calculations(plan, out, study.run.executor, force)
    from .analyses.evaluate import evaluate

    # after the calculations: finished runs in the build folder feed the analyses
    analyses = evaluate(study, data, plan, out)
    write_text_atomic(out / "analyses.json", dumps(analyses.model_dump(mode="json")))
    write_text_atomic(out / "plan.json", dumps({
        "generator": tool_versions(),
        "calculations": [{"id": c.id, "kind": c.kind, "material": c.material, "engine": c.engine, "natoms": c.natoms,
                          "why": c.why, "status": st} for c, (_, st) in zip(plan.calculations, report)],
        "not_planned": plan.skipped,
    }))
    write_manifest(out)
    return out


def write_manifest(out: Path) -> None:
    """sha256 of every file sselang wrote (results written by engines are not listed)."""
    from .plan import OUTPUT_FILES

    files = {}
    for p in sorted(out.rglob("*")):
        hidden = any(part.startswith(".") for part in p.relative_to(out).parts)  # temporaries, left-overs
        if p.is_file() and p.name != "manifest.json" and p.name not in OUTPUT_FILES and not hidden:
            files[str(p.relative_to(out))] = hashlib.sha256(p.read_bytes()).hexdigest()
    write_text_atomic(out / "manifest.json", dumps({"generator": tool_versions(), "files": files}))


def _safe(name: str) -> str:
    """A file name for a material name (formulas may hold parentheses)."""
    return "".join(c if c.isalnum() or c in "._-()" else "_" for c in name)


def write_lock(study, data, study_file: Path) -> Path:
    p = lock_path(study_file)
    write_text_atomic(p, dumps(data.lock_document(study)))
    return p
