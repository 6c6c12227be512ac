"""Diffusion from the study's own AIMD runs: compile looks in the build folder
for finished MD calculations of each diffusion request (VASP XDATCAR, CP2K
<project>-pos-1.xyz, pw.x output), fits each temperature and, with two or more,
the Arrhenius law with its extrapolation.  Runs not finished yet are listed as
such; nothing is guessed."""

from __future__ import annotations

from pathlib import Path

from .results import DiffusionStudyResult


def _trajectory_file(d: Path) -> Path | None:
    for name in ("XDATCAR", "vasprun.xml"):
        if (d / name).is_file():
            return d / name
    xyz = sorted(d.glob("*-pos-1.xyz"))
    if xyz:
        return xyz[0]
    if (d / "pw.out").is_file():
        return d / "pw.out"
    return None


def diffusion_results(study, plan, out: Path) -> list[DiffusionStudyResult]:
    results = []
    for a in study.analyses:
        for r in a.requests:
            if r.kind != "diffusion":
                continue
            engines = sorted({c.engine for c in plan.calculations if c.kind == "md" and c.material == r.material})
            series = [_series(r, engine, plan, out) for engine in engines]
            # one series per engine: never one Arrhenius fit over two engines
            results.extend(series)
            if engines and not any(s.runs for s in series):
                bundled = _bundled_series(r, engines[0], plan)
                if bundled is not None:
                    results.append(bundled)
    return results


def _preview_meta(traj_file: Path) -> dict | None:
    """The preview-md.json of an XDATCAR written by the ML-potential preview (only when it
    describes this very file), read once per run: it gives the fidelity and whether the run
    finished."""
    import json

    from ..transport.readers import _preview_md_parameters

    if not traj_file.name.startswith("XDATCAR"):
        return None
    found = _preview_md_parameters(traj_file)
    return None if found is None else json.loads(found[1].read_text(encoding="utf-8"))


def _fidelity(meta: dict | None, engine: str) -> str:
    """What produced a trajectory: the ML-potential preview or the engine the folder was compiled for."""
    if meta is not None:
        return f"ML-potential preview ({meta.get('model', 'ML potential')})"
    return f"DFT ({ENGINE_NAMES.get(engine, engine)})"


ENGINE_NAMES = {"vasp": "VASP", "cp2k": "CP2K", "qe": "Quantum ESPRESSO"}


def _fit_run(r, c, f: Path, meta: dict | None):
    """One finished run -> DiffusionResult (raises TrajectoryError / ValueError); meta: its
    preview description, if a preview wrote it."""
    from ..transport.fit import analyse_diffusion
    from ..transport.readers import read_trajectory

    traj = read_trajectory(f)
    if traj.temperature_K is None:
        traj.temperature_K = float(c.settings["temperature_K"])
    eq_fs = r.equilibrate_ps * 1000
    run_fs = (traj.n_frames - 1) * traj.dt_fs
    note = None
    if eq_fs > 0.5 * run_fs:
        # a run cut short (e.g. a preview with --duration) would lose everything to the
        # study's equilibration time: drop the first fifth instead, and say so
        note = (f"the run ({run_fs / 1000:g} ps) is shorter than twice the study's equilibration "
                f"({r.equilibrate_ps:g} ps): its first {0.2 * run_fs / 1000:g} ps were discarded instead")
        eq_fs = 0.2 * run_fs
    res = analyse_diffusion(traj, r.species, equilibration_fs=eq_fs)
    notes = [note] if note else []
    if meta is not None and not meta.get("finished"):
        # a preview still running (or stopped) is fitted as far as it got, and says so
        notes.append(f"the preview run has not finished ({meta.get('steps', '?')} of "
                     f"{meta.get('steps_requested', '?')} steps): fitted as far as it got")
    if notes:
        res = res.model_copy(update={"warnings": [*notes, *res.warnings]})
    return res


def _finish(r, engine: str, fitted: list, runs: list, fidelities: list[str], waiting, errors, source: str,
            warnings: list[str]) -> DiffusionStudyResult:
    from ..transport.fit import arrhenius

    fit = None
    kinds = sorted(set(fidelities))
    if len(kinds) > 1:
        warnings = [*warnings, f"the runs come from different sources ({'; '.join(kinds)}): no Arrhenius fit "
                               "over mixed data; finish the series with one of them"]
    elif len({x.temperature_K for x in fitted}) >= 2:
        try:
            fit = arrhenius(fitted, T_target_K=r.extrapolate_K or 300.0).model_dump(mode="json")
        except ValueError as e:
            errors.append(f"Arrhenius fit: {e}")
    return DiffusionStudyResult(material=r.material, engine=engine, species=r.species, runs=runs, arrhenius=fit,
                                fidelity=kinds, source=source, waiting=sorted(waiting), errors=errors,
                                warnings=warnings)


def _series(r, engine: str, plan, out: Path) -> DiffusionStudyResult:
    from ..transport.readers import TrajectoryError

    runs, waiting, errors, fitted, fidelities = [], [], [], [], []
    for c in plan.calculations:
        if c.kind != "md" or c.material != r.material or c.engine != engine:
            continue
        d = out / "calcs" / c.id
        f = _trajectory_file(d) if d.is_dir() else None
        if f is None:
            waiting.append(c.id)
            continue
        try:
            meta = _preview_meta(f)
            res = _fit_run(r, c, f, meta)
        except (TrajectoryError, ValueError) as e:
            errors.append(f"{c.id}: {e}")
            continue
        fitted.append(res)
        fidelities.append(_fidelity(meta, engine))
        # the path relative to the build: the same results give the same bytes wherever the build is
        runs.append({**res.model_dump(mode="json"), "fidelity": fidelities[-1], "calculation": c.id,
                     "source": f"calcs/{c.id}/{f.name}"})
    return _finish(r, engine, fitted, runs, fidelities, waiting, errors, "the build's calcs/ folders", [])


# ------------------------------------------------------------ bundled previews

BUNDLED_PREVIEWS = Path(__file__).resolve().parent.parent / "data" / "bundled" / "previews"


def md_start_key(c) -> str:
    """What a bundled preview must share with a planned MD run to stand in for it: the very
    starting supercell, temperature and timestep (not the engine, not the run length)."""
    import hashlib
    import json

    blob = json.dumps([c.structure, float(c.settings["temperature_K"]), float(c.settings.get("timestep_fs", 2.0))],
                      sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _bundled_index() -> dict:
    import json

    p = BUNDLED_PREVIEWS / "index.json"
    if not p.is_file():
        return {}
    return {e["key"]: e for e in json.loads(p.read_text(encoding="utf-8"))["previews"]}


def _bundled_series(r, engine: str, plan) -> DiffusionStudyResult | None:
    """Short ML-potential runs shipped with sselang for the bundled examples, used when the
    study's own runs have not been done: a fresh machine shows a diffusion result at once,
    labelled as the preview it is.  Only runs whose starting cell, temperature and timestep
    are exactly the planned ones count."""
    from ..transport.readers import TrajectoryError

    index = _bundled_index()
    calcs = [c for c in plan.calculations if c.kind == "md" and c.material == r.material and c.engine == engine]
    hits = [(c, index[md_start_key(c)]) for c in calcs if md_start_key(c) in index]
    if not hits:
        return None
    runs, errors, fitted, fidelities = [], [], [], []
    for c, e in hits:
        try:
            traj = BUNDLED_PREVIEWS / e["folder"] / "XDATCAR.gz"
            res = _fit_run(r, c, traj, _preview_meta(traj))
        except (TrajectoryError, ValueError) as ex:
            errors.append(f"bundled {e['folder']}: {ex}")
            continue
        fitted.append(res)
        fidelities.append(f"bundled preview ({e['model']}, {e['duration_ps']:g} ps)")
        runs.append({**res.model_dump(mode="json"), "fidelity": fidelities[-1], "calculation": c.id,
                     "source": f"bundled previews/{e['folder']}"})
    missing = [c.id for c in calcs if md_start_key(c) not in index]
    note = ("shipped with sselang: short ML-potential runs of this very plan, made by `sselang run --fidelity "
            "preview`; run the study's own MD (preview or DFT) for numbers to rely on")
    return _finish(r, "bundled preview", fitted, runs, fidelities, missing, errors, "sselang's bundled previews",
                   [note])


# ------------------------------------------------------------ barriers


def barrier_results(study, plan, out: Path) -> list:
    """One result per planned NEB: its energy profile once the image folders hold OUTCARs (DFT)
    or the folder holds a finished ML-potential preview (neb.traj and preview-neb.json; DFT
    wins when both are there), else the calculation id it waits for."""
    from ..transport.barrier import BarrierError, has_dft_images, read_preview_neb, read_vasp_neb
    from .results import BarrierStudyResult

    results = []
    for c in plan.calculations:
        if c.kind != "neb":
            continue
        d = out / "calcs" / c.id
        dft = has_dft_images(d)
        try:
            preview = read_preview_neb(d) if d.is_dir() and not dft else None
            if not dft and preview is None:
                results.append(BarrierStudyResult(material=c.material, engine=c.engine, calculation=c.id))
                continue
            if dft:
                doc = read_vasp_neb(d).to_dict()
                fidelity = f"DFT ({ENGINE_NAMES.get(c.engine, c.engine)})"
            else:
                doc = preview[0].to_dict()
                fidelity = f"ML-potential preview ({preview[1].get('model', 'ML potential')})"
                for im in doc["images"]:  # the file's absolute path would differ from one build folder to another
                    if im["energy_from"] == doc["source"]:
                        im["energy_from"] = f"calcs/{c.id}/{Path(doc['source']).name}"
        except BarrierError as e:
            results.append(BarrierStudyResult(material=c.material, engine=c.engine, calculation=c.id,
                                              errors=[str(e)]))
            continue
        doc["source"] = f"calcs/{c.id}"  # relative: the same results give the same bytes wherever the build is
        results.append(BarrierStudyResult(material=c.material, engine=c.engine, calculation=c.id, result=doc,
                                          fidelity=fidelity))
    return results
