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
            for engine in engines:  # one series per engine: never one Arrhenius fit over two engines
                results.append(_series(r, engine, plan, out))
    return results


def _series(r, engine: str, plan, out: Path) -> DiffusionStudyResult:
    from ..transport.fit import analyse_diffusion, arrhenius
    from ..transport.readers import TrajectoryError, read_trajectory

    runs, waiting, errors, fitted = [], [], [], []
    for c in plan.calculations:
        if c.kind != "md" or c.material != r.material or c.engine != engine:
            continue
        d = out / "calcs" / c.id
        f = _trajectory_file(d) if d.is_dir() else None
        if f is None:
            waiting.append(c.id)
            continue
        try:
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
            if note:
                res = res.model_copy(update={"warnings": [note, *res.warnings]})
        except (TrajectoryError, ValueError) as e:
            errors.append(f"{c.id}: {e}")
            continue
        fitted.append(res)
        runs.append(res.model_dump(mode="json"))
    fit = None
    if len({x.temperature_K for x in fitted}) >= 2:
        try:
            fit = arrhenius(fitted, T_target_K=r.extrapolate_K or 300.0).model_dump(mode="json")
        except ValueError as e:
            errors.append(f"Arrhenius fit: {e}")
    return DiffusionStudyResult(material=r.material, engine=engine, species=r.species, runs=runs, arrhenius=fit,
                                waiting=sorted(waiting), errors=errors)
