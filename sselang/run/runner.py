"""What `sselang run` carries out, and the summary it prints afterwards."""

from __future__ import annotations

from .tasks import KINDS, RunError


def pick_engine(study, plan, fidelity: str, engine: str | None) -> str:
    """The engine whose calculation folders are run: --engine, else the first engine
    of the study (in the order written) with runnable calculations in the plan."""
    kinds = KINDS[fidelity]
    have = {c.engine for c in plan.calculations if c.kind in kinds}
    if engine is not None:
        if engine not in have:
            raise RunError(f"the plan has no {'/'.join(kinds)} calculations for engine {engine}"
                           + (f" (it has some for {', '.join(sorted(have))})" if have else ""))
        return engine
    order = [e.name for e in study.engines] + sorted(have)
    for name in order:
        if name in have:
            return name
    raise RunError(f"the plan has no {'/'.join(kinds)} calculations to run: the study asks for no "
                   + ("diffusion, relaxation or barrier" if "neb" in kinds else "diffusion or relaxation")
                   + " (see `sselang plan`)")


def select(plan, fidelity: str, engine: str) -> tuple[list, list]:
    """(calculations to consider, calculations of that engine `run` leaves to the job scripts)."""
    kinds = KINDS[fidelity]
    mine = [c for c in plan.calculations if c.engine == engine]

    def runs(c) -> bool:
        # the preview integrates NVT only: an NpT run is never previewed as NVT
        npt = c.kind == "md" and c.settings.get("ensemble") == "npt"
        return c.kind in kinds and not (fidelity == "preview" and npt)

    return [c for c in mine if runs(c)], [c for c in mine if not runs(c)]


def summary_lines(analyses: dict, engine: str) -> list[str]:
    """D per temperature, Ea and sigma at the target temperature of each diffusion series of the
    engine, and the barrier of each of its NEBs that has one."""
    lines = []
    for r in analyses.get("results", []):
        res = r.get("result") or {}
        if r.get("kind") == "barrier" and r.get("engine") == engine and res.get("barrier_eV") is not None:
            lines.append(f"barrier in {r['material']}: {res['barrier_eV']:.3f} eV over {len(res['images'])} images "
                         f"({r.get('fidelity') or engine})")
            lines += [f"  note: {n}" for n in res.get("notes", [])]
            continue
        if r.get("kind") != "diffusion" or r.get("engine") != engine:
            continue
        sp = r.get("species", "Li")
        lines.append(f"diffusion of {sp} in {r['material']} ({engine}):")
        for run in sorted(r.get("runs", []), key=lambda x: x.get("temperature_K") or 0):
            sigma, d_err, s_err = run.get("sigma_mS_cm"), run.get("D_err_cm2_s"), run.get("sigma_err_mS_cm")
            lines.append(f"  {run.get('temperature_K', 0):g} K: D = {run['D_cm2_s']:.3g}"
                         + (f" +- {d_err:.2g}" if d_err is not None else "") + " cm^2/s"
                         + (f", sigma = {sigma:.3g}" + (f" +- {s_err:.2g}" if s_err is not None else "") + " mS/cm"
                            if sigma is not None else "")
                         + f" ({run.get('n_frames', '?')} frames"
                         + (f", {len(run['warnings'])} warning(s)" if run.get("warnings") else "") + ")")
        fit = r.get("arrhenius")
        if fit:
            line = f"  Ea = {fit['Ea_eV']:.3f} +- {fit['Ea_err_eV']:.3f} eV"
            if fit.get("sigma_target_mS_cm") is not None:
                err = fit.get("sigma_target_err_mS_cm")
                line += (f"; sigma({fit['T_target_K']:g} K) = {fit['sigma_target_mS_cm']:.3g}"
                         + (f" +- {err:.2g}" if err is not None else "") + " mS/cm")
            lines.append(line)
        elif len({run.get("temperature_K") for run in r.get("runs", [])}) == 1:
            lines.append("  no Arrhenius fit yet: it needs finished runs at two or more temperatures")
        if r.get("waiting"):
            lines.append(f"  waiting: {len(r['waiting'])} run(s) without a trajectory")
        for e in r.get("errors", []):
            lines.append(f"  error: {e}")
    return lines
