"""The report: build/<study>/report/ with index.html (one self-contained page: inline
CSS and SVG, no script, no network), report.md (+ figures/*.svg beside it) and
report.json (schema: `sselang schema --report`).

    document.py  the Report model (what report.json holds)
    build.py     study + analyses -> Report and its figures, verdicts first
    plots.py     matplotlib figures as deterministic SVG
    render.py    the jinja2 templates under templates/report/
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..util.atomic import write_dir_atomic

REPORT_DIR = "report"


def calculation_states(plan, out: Path):
    """Each planned calculation's state, from its run state file and the outputs in its folder."""
    from ..plan import holds_results
    from ..run.state import read_state
    from .document import CalculationState

    states = []
    for c in plan.calculations:
        d = Path(out) / "calcs" / c.id
        st = read_state(d) if d.is_dir() else None
        has_output = holds_results(d)
        if st is not None and st.get("status") == "done":
            state = "preview done" if st.get("fidelity") == "preview" else "DFT done"
        elif st is not None and st.get("status") == "failed":
            state = "failed"
        elif st is not None and st.get("status") == "running":
            state = "interrupted (rerun `sselang run` to resume)"
        elif has_output:
            state = "results present"
        else:
            state = "not run"
        states.append(CalculationState(id=c.id, kind=c.kind, engine=c.engine, material=c.material, state=state))
    return states


def reproducibility(study, sources: dict, data_sources: list[dict], analyses, study_file: Path, command: str) -> dict:
    from ..compile import lock_path, tool_versions

    versions = dict(tool_versions())
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("matplotlib", "jinja2"):
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            pass
    text = sources[str(study_file)].text if str(study_file) in sources else Path(study_file).read_text("utf-8")
    lock = lock_path(Path(study_file))
    lock_text = (f"{lock.name}, sha256 {hashlib.sha256(lock.read_bytes()).hexdigest()}" if lock.is_file() else
                 "none: structures and energies were resolved afresh (`sselang lock` pins them)")
    models = sorted({s["model"] for s in data_sources if s.get("model")}
                    | {f for r in analyses.results if r.kind == "diffusion" for f in r.fidelity})
    return {"versions": versions, "command": command, "study_file": Path(study_file).name,
            "study_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(), "lock": lock_text,
            "data_sources": list(data_sources), "models": models}


def render_report(study, sources, data_sources: list[dict], plan, analyses, out: Path, study_file: Path, command: str,
                  states_from: Path | None = None) -> dict[str, str]:
    """The report folder's files (name -> text); data_sources: the lock's thermo sources."""
    from .build import build_report
    from .render import render_html, render_markdown

    repro = reproducibility(study, sources, data_sources, analyses, study_file, command)
    report, figures = build_report(study, analyses, calculation_states(plan, states_from or out), repro)
    files = {"index.html": render_html(report, figures), "report.md": render_markdown(report),
             "report.json": json.dumps(report.model_dump(mode="json"), indent=2, sort_keys=True,
                                       ensure_ascii=False) + "\n"}
    for fid, svg in figures.items():
        files[f"figures/{fid}.svg"] = '<?xml version="1.0" encoding="utf-8" standalone="no"?>\n' + svg
    return files


def write_report(study, sources, data_sources: list[dict], plan, analyses, out: Path, study_file: Path,
                 command: str, states_from: Path | None = None) -> Path:
    """Write out/report/ into compile's fresh staging folder (the build transaction makes the
    whole build appear at once); states_from: the build folder whose calcs/ hold the run states."""
    files = render_report(study, sources, data_sources, plan, analyses, out, study_file, command, states_from)
    target = Path(out) / REPORT_DIR
    write_dir_atomic(target, files)
    return target
