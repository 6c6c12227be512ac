"""Study + plan + analyses -> Report (report.document) and its figures (SVG text by id).

The order is the order a reader asks in: the cell at a glance, the verdicts, then
each analysis with its table and plot, then how to reproduce it.
"""

from __future__ import annotations

import math

from . import plots
from .document import (CalculationState, CellGlance, Figure, Layer, Number, Observation, Report, Reproducibility,
                       Section, Table, Verdict)

# Potentials of common counter electrodes vs Li/Li+ (V), to put a cell's cycling cutoffs
# (written vs its anode) on the Li/Li+ scale of the windows.
#   LiIn: the Li-In two-phase plateau, 0.62 V (Santhosha et al., Batteries & Supercaps 2, 524 (2019)).
#   Li4Ti5O12: the Li4/Li7Ti5O12 plateau, 1.55 V (Ohzuku et al., J. Electrochem. Soc. 142, 1431 (1995)).
ANODE_POTENTIAL_V = {"Li": 0.0, "LiIn": 0.62, "Li4Ti5O12": 1.55}
REACTS_BELOW_MEV = -10.0  # a reaction energy below this counts as a reaction (DFT scatter is ~10-25 meV/atom)


def _fmt(x: float | None, digits: int = 2) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.{digits}f}"


def _sci(x: float | None, err: float | None = None) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    if err is None or not math.isfinite(err):
        return f"{x:.3g}"
    return f"{x:.3g} ± {err:.2g}"


def _join(xs) -> str:
    return "; ".join(dict.fromkeys(str(x) for x in xs if x)) or "unknown"


class _Figures:
    def __init__(self):
        self.svg: dict[str, str] = {}

    def add(self, fid: str, caption: str, svg: str) -> Figure:
        self.svg[fid] = svg
        return Figure(id=fid, caption=caption)


def _formula(study, name: str) -> str:
    try:
        return study.material(name).formula
    except KeyError:
        return name


# ------------------------------------------------------------------ the cell


def operating_range(cell) -> tuple[tuple[float, float] | None, str]:
    cond = cell.conditions
    if cond.cutoff_V is None:
        return None, ""
    anode = cell.anode.material
    pot = ANODE_POTENTIAL_V.get(anode)
    lo, hi = cond.cutoff_V
    if pot is None:
        return None, (f"cutoffs {lo:g}–{hi:g} V are vs {anode}, whose potential vs Li/Li+ sselang does not know: "
                      "not placed on the Li/Li+ scale")
    note = f"cutoffs {lo:g}–{hi:g} V vs {anode}" + (f" + {pot:g} V ({anode} vs Li/Li+)" if pot else "")
    return (round(lo + pot, 4), round(hi + pot, 4)), note


def _glance(study, cell, diffusion: dict) -> CellGlance:
    layers = []
    for comp in [cell.cathode, *cell.coatings, cell.electrolyte, cell.anode]:
        bits = []
        if comp.loading is not None:
            bits.append(f"loading {comp.loading * 100:g} wt%")
        if comp.charged_to_V is not None:
            bits.append(f"charged to {comp.charged_to_V:g} V vs Li/Li+")
        if comp.thickness_nm is not None:
            bits.append(f"{comp.thickness_nm:g} nm")
        layers.append(Layer(role=comp.role, material=comp.material, formula=_formula(study, comp.material),
                            details=", ".join(bits)))
    c = cell.conditions
    cond = []
    if c.temperature_K is not None:
        cond.append(("temperature", f"{c.temperature_K:g} K ({c.temperature_K - 273.15:g} °C)"))
    if c.pressure_MPa is not None:
        cond.append(("stack pressure", f"{c.pressure_MPa:g} MPa"))
    if c.c_rate is not None:
        cond.append(("rate", f"{c.c_rate:g} C"))
    if c.current_density_mA_cm2 is not None:
        cond.append(("current density", f"{c.current_density_mA_cm2:g} mA/cm²"))
    if c.cutoff_V is not None:
        cond.append(("cutoff", f"{c.cutoff_V[0]:g}–{c.cutoff_V[1]:g} V vs {cell.anode.material}"))
    rng, note = operating_range(cell)
    obs = []
    o = cell.observed
    if o is not None:
        ref = o.reference
        if o.initial_capacity_mAh_g is not None:
            obs.append(Observation(quantity="initial capacity", observed=f"{o.initial_capacity_mAh_g:g} mAh/g",
                                   reference=ref, note="not computed by the study"))
        if o.retention is not None:
            after = f" after {o.retention_after_cycles} cycles" if o.retention_after_cycles else ""
            obs.append(Observation(quantity="capacity retention", observed=f"{o.retention * 100:g} %{after}",
                                   reference=ref, note="not computed by the study"))
        if o.conductivity_mS_cm is not None:
            computed = diffusion.get(cell.electrolyte.material)
            obs.append(Observation(quantity=f"ionic conductivity ({_formula(study, cell.electrolyte.material)})",
                                   observed=f"{o.conductivity_mS_cm:g} mS/cm", computed=computed, reference=ref,
                                   note="" if computed else "no diffusion result for the electrolyte yet"))
    return CellGlance(name=cell.name, layers=layers, conditions=cond, operating_range_V_vs_Li=rng,
                      anode_potential_note=note, observed=obs)


# ------------------------------------------------------------------ sections


def _prov(p) -> tuple[str, str]:
    return _join(p.fidelity), f"{_join(p.sources)} ({p.system})"


def _window_section(study, results, cells, figs: _Figures, n: int) -> tuple[Section, list[Verdict]]:
    rows, numbers, verdicts, warnings, fids, srcs = [], [], [], [], [], []
    bars = []
    rng, charged = None, None
    for cell in cells:
        rng = rng or operating_range(cell)[0]
        charged = charged or cell.cathode.charged_to_V
    for w in results:
        fid, src = _prov(w.provenance)
        fids += w.provenance.fidelity
        srcs += w.provenance.sources
        red = w.reduction.voltage_V if w.reduction else None
        ox = w.oxidation.voltage_V if w.oxidation else None
        warn = [w.message] if w.message else []
        warnings += warn
        lab = f"{w.formula} ({w.material})" if w.material != w.formula else w.formula
        numbers.append(Number(label=f"reduction edge of {w.formula}", value=red, unit="V vs Li/Li+",
                              text=f"{_fmt(red)} V", fidelity=fid, source=src, warnings=warn))
        if ox is not None:
            numbers.append(Number(label=f"oxidation edge of {w.formula}", value=ox, unit="V vs Li/Li+",
                                  text=f"{_fmt(ox)} V", fidelity=fid, source=src, warnings=warn))
        numbers.append(Number(label=f"energy above hull of {w.formula}", value=w.e_above_hull_meV_atom,
                              unit="meV/atom", text=f"{w.e_above_hull_meV_atom:.1f} meV/atom", fidelity=fid,
                              source=src))
        red_p = " + ".join(p.formula for p in w.reduction.products) if w.reduction else ""
        ox_p = " + ".join(p.formula for p in w.oxidation.products) if w.oxidation else "—"
        rows.append([lab, w.status, f"{w.e_above_hull_meV_atom:.1f}", _fmt(red), _fmt(ox), red_p, ox_p, fid])
        bars.append({"label": w.formula, "reduction_V": red, "oxidation_V": ox, "status": w.status})
        v = _window_verdict(w, rng, fid, numbers[-3:] if ox is not None else numbers[-2:])
        if v is not None:
            verdicts.append(v)
    fig = figs.add(f"window-{n}", "Stability windows (bars, V vs Li/Li+) with the cell's operating range shaded"
                   + (" and the charge cutoff dashed" if charged else ""),
                   plots.window_bars(bars, rng, f"w{n}", charged))
    table = Table(columns=["phase", "status", "E above hull (meV/atom)", "reduction edge (V)", "oxidation edge (V)",
                           "reduced to", "oxidised to", "fidelity"], rows=rows)
    summary = "; ".join(f"{b['label']} {_fmt(b['reduction_V'])}–{_fmt(b['oxidation_V'])} V" for b in bars)
    return Section(kind="window", title="Electrochemical stability windows", summary=summary, numbers=numbers,
                   tables=[table], figures=[fig], warnings=warnings, fidelity=sorted(set(fids)),
                   sources=sorted(set(srcs)), convention=results[0].convention), verdicts


def _window_verdict(w, rng, fid: str, numbers) -> Verdict | None:
    red = w.reduction.voltage_V if w.reduction else None
    ox = w.oxidation.voltage_V if w.oxidation else None
    if red is None or ox is None:
        return None
    text = f"{w.formula}: stable window {red:.2f}–{ox:.2f} V vs Li/Li+"
    if w.status == "metastable":
        text += f" ({w.e_above_hull_meV_atom:.0f} meV/atom above the hull)"
    if rng is None:
        return Verdict(level="info", text=text + f" [{fid}]", numbers=numbers)
    lo, hi = rng
    if red <= lo and ox >= hi:
        return Verdict(level="ok", text=text + f", covering the cell's {lo:.2f}–{hi:.2f} V [{fid}]", numbers=numbers)
    out = []
    if ox < hi:
        out.append(f"oxidised above {ox:.2f} V")
    if red > lo:
        out.append(f"reduced below {red:.2f} V")
    return Verdict(level="bad", text=text + f": the cell cycles over {lo:.2f}–{hi:.2f} V, so it is "
                   + " and ".join(out) + f" [{fid}]", numbers=numbers)


def _g(x: float) -> str:
    return f"{x + 0.0:g}"  # + 0.0: no "-0"


def _profile_section(p, figs: _Figures, n: int) -> Section:
    fid, src = _prov(p.provenance)
    rows = [[f"{_g(q.x_from)} → {_g(q.x_to)}", f"{q.voltage_V:.3f}", " + ".join(f"{ph.amount:g} {ph.formula}"
                                                                           for ph in q.phases)] for q in p.plateaus]
    numbers = [Number(label=f"plateau x = {_g(q.x_from)} → {_g(q.x_to)} of {p.formula}", value=q.voltage_V, unit="V vs Li/Li+",
                      text=f"{q.voltage_V:.3f} V", fidelity=fid, source=src) for q in p.plateaus]
    fig = figs.add(f"profile-{n}", f"Li-uptake staircase of {p.formula}", plots.staircase(
        [q.model_dump() for q in p.plateaus], p.formula, f"p{n}"))
    return Section(kind="profile", title=f"Li uptake and removal staircase: {p.formula}",
                   summary=f"{len(p.plateaus)} plateaus from {p.plateaus[0].voltage_V:.2f} V down to "
                           f"{p.plateaus[-1].voltage_V:.2f} V" if p.plateaus else "no plateaus",
                   numbers=numbers, tables=[Table(columns=["x (Li per f.u.)", "V vs Li/Li+", "phases"], rows=rows)],
                   figures=[fig], fidelity=p.provenance.fidelity, sources=p.provenance.sources,
                   convention=p.convention)


def _reactivity_section(study, r, figs: _Figures, n: int) -> tuple[Section, Verdict]:
    fid, src = _prov(r.provenance)
    a, b = _formula(study, r.a), _formula(study, r.b)
    opened = f", open to {r.open_element} at {r.potential_V:g} V" if r.open_element else ""
    num = Number(label=f"reaction energy minimum {a} | {b}{opened}", value=r.minimum_meV_atom, unit="meV/atom",
                 text=f"{r.minimum_meV_atom:.0f} meV/atom", fidelity=fid, source=src)
    xnum = Number(label=f"mixing ratio at the minimum ({a} | {b})", value=r.x_at_minimum, unit="",
                  text=f"x = {r.x_at_minimum:.2f}", fidelity=fid, source=src)
    rows = [[f"{p.x:.3f}", f"{p.energy_meV_atom:.1f}", p.reaction] for p in r.curve]
    fig = figs.add(f"reactivity-{n}", f"Reaction energy of x {a} + (1 − x) {b}{opened}; the star marks the minimum",
                   plots.reaction_curve([p.model_dump() for p in r.curve], r.x_at_minimum, r.minimum_meV_atom, a, b,
                                        f"r{n}"))
    products = " + ".join(r.products)
    if r.minimum_meV_atom < REACTS_BELOW_MEV:
        against = f"{a} held at {r.potential_V:g} V vs Li/Li+ (open to {r.open_element})" if r.open_element else a
        verdict = Verdict(level="bad", text=f"{b} is unstable against {against}: {r.minimum_meV_atom / 1000:.2f} "
                                            f"eV/atom at x = {r.x_at_minimum:.2f}, products {products} [{fid}]",
                          numbers=[num, xnum])
    else:
        verdict = Verdict(level="ok", text=f"{a} | {b}{opened}: no reaction ({r.minimum_meV_atom:.0f} meV/atom) "
                                           f"[{fid}]", numbers=[num])
    sec = Section(kind="reactivity", title=f"Interface reactivity: {r.label}{opened} ({a} | {b})",
                  summary=f"minimum {r.minimum_meV_atom:.0f} meV/atom at x = {r.x_at_minimum:.2f}: "
                          f"{r.reaction_at_minimum}",
                  numbers=[num, xnum], tables=[Table(columns=["x", "meV/atom", "reaction"], rows=rows)],
                  figures=[fig], fidelity=r.provenance.fidelity, sources=r.provenance.sources,
                  convention=r.convention)
    return sec, verdict


def _diffusion_section(study, d, figs: _Figures, n: int) -> tuple[Section, Verdict | None, Number | None]:
    formula = _formula(study, d.material)
    fid = _join(d.fidelity) if d.fidelity else "no runs yet"
    numbers, rows, warnings = [], [], list(d.warnings)
    for r in sorted(d.runs, key=lambda r: r["temperature_K"] or 0):
        src = r.get("source") or f"calcs/{r.get('calculation', '')}"
        w = list(r.get("warnings", []))
        T = r["temperature_K"]
        numbers.append(Number(label=f"D({d.species}) of {formula} at {T:g} K", value=r["D_cm2_s"],
                              err=r["D_err_cm2_s"], unit="cm^2/s", text=_sci(r["D_cm2_s"], r["D_err_cm2_s"]) + " cm²/s",
                              fidelity=r.get("fidelity", fid), source=src, warnings=w))
        if r.get("sigma_mS_cm") is not None:
            numbers.append(Number(label=f"sigma of {formula} at {T:g} K", value=r["sigma_mS_cm"],
                                  err=r["sigma_err_mS_cm"], unit="mS/cm",
                                  text=_sci(r["sigma_mS_cm"], r["sigma_err_mS_cm"]) + " mS/cm",
                                  fidelity=r.get("fidelity", fid), source=src,
                                  warnings=["from D above: its warnings hold"] if w else []))
        rows.append([f"{T:g}", _sci(r["D_cm2_s"], r["D_err_cm2_s"]), _sci(r["sigma_mS_cm"], r["sigma_err_mS_cm"]),
                     f"{r['run_fs'] / 1000:g}", f"{r['effective_hops']:.0f}", r.get("fidelity", fid),
                     "; ".join(w) or "—"])
    figures, verdict, sigma = [], None, None
    if d.runs:
        figures.append(figs.add(f"msd-{n}", f"Li tracer MSD of {formula} per temperature: thick where fitted, "
                                            "dashed the fitted line", plots.msd_plot(d.runs, f"m{n}")))
    a = d.arrhenius
    if a is not None:
        Tt = a["T_target_K"]
        src = d.source
        aw = list(a.get("warnings", []))
        warnings += aw
        ea = Number(label=f"activation energy of {d.species} diffusion in {formula}", value=a["Ea_eV"],
                    err=a["Ea_err_eV"], unit="eV", text=f"{a['Ea_eV']:.3f} ± {a['Ea_err_eV']:.3f} eV", fidelity=fid,
                    source=src, warnings=aw)
        dt = Number(label=f"D({d.species}) of {formula} at {Tt:g} K (extrapolated)", value=a["D_target_cm2_s"],
                    err=a["D_target_err_cm2_s"], unit="cm^2/s",
                    text=_sci(a["D_target_cm2_s"], a["D_target_err_cm2_s"]) + " cm²/s", fidelity=fid, source=src,
                    warnings=aw)
        numbers += [ea, dt]
        if a.get("sigma_target_mS_cm") is not None:
            band = a["sigma_target_band_mS_cm"]
            sigma = Number(label=f"sigma of {formula} at {Tt:g} K (extrapolated)", value=a["sigma_target_mS_cm"],
                           err=a["sigma_target_err_mS_cm"], unit="mS/cm",
                           text=f"{_sci(a['sigma_target_mS_cm'], a['sigma_target_err_mS_cm'])} mS/cm "
                                f"(1σ band {band[0]:.3g}–{band[1]:.3g})", fidelity=fid, source=src, warnings=aw)
            numbers.append(sigma)
        figures.append(figs.add(f"arrhenius-{n}", f"Arrhenius plot of {formula}: fit with its 1σ band and the "
                                                  f"extrapolation to {Tt:g} K", plots.arrhenius_plot(a, f"a{n}")))
        level = "warn" if (aw or any(r.get("warnings") for r in d.runs)) else "info"
        verdict = Verdict(level=level, text=f"{formula}: Ea = {ea.text}, σ({Tt:g} K) = "
                                            f"{sigma.text if sigma else 'n/a'} [{fid}"
                                            + (", see the warnings" if level == "warn" else "") + "]",
                          numbers=[x for x in (ea, sigma) if x])
    if d.waiting:
        warnings.append(f"{len(d.waiting)} planned MD run(s) not done yet: " + ", ".join(d.waiting))
    warnings += d.errors
    if d.runs:
        summary = (f"{len(d.runs)} run(s) fitted" + (f"; Ea {a['Ea_eV']:.3f} ± {a['Ea_err_eV']:.3f} eV" if a else "")
                   + f" [{fid}]")
    else:
        summary = ("no MD run has finished yet: `sselang run` gives a CHGNet preview on this machine, the job "
                   "scripts under jobs/ the DFT runs")
    sec = Section(kind="diffusion", title=f"Li diffusion and conductivity: {formula} ({d.engine})", summary=summary,
                  numbers=numbers,
                  tables=[Table(columns=["T (K)", "D (cm²/s)", "σ (mS/cm)", "run (ps)", "effective hops", "fidelity",
                                         "warnings"], rows=rows)] if rows else [],
                  figures=figures, warnings=warnings, fidelity=d.fidelity, sources=[d.source] if d.source else [],
                  convention="tracer D from the GLS fit of the MSD (covariance as kinisi); Nernst–Einstein σ from the "
                             "tracer D (Haven ratio 1); Arrhenius fit weighted by 1/var(ln D)")
    return sec, verdict, sigma


def _screen_section(study, s, figs: _Figures, n: int) -> tuple[Section, Verdict]:
    fid, src = _prov(s.provenance)
    keys = sorted({k for c in s.candidates for k in c.metrics})
    rows = []
    for c in s.candidates:  # as the screen lists them: survivors in rank order, then the others by name
        rows.append([c.formula, c.status, c.removed_by or "—", *(_fmt(c.metrics.get(k), 2) for k in keys),
                     "; ".join(c.notes) or "—"])
    fig = figs.add(f"funnel-{n}", "Screening funnel: candidates left after each filter",
                   plots.funnel([f.model_dump() for f in s.funnel], f"s{n}"))
    best = [c for c in s.ranking][:3]
    verdict = Verdict(level="ok" if s.ranking else "bad",
                      text=f"Coating screen ({s.cathode} | {s.electrolyte}): {len(s.ranking)} of "
                           f"{len(s.candidates)} candidates survive" + (f"; best {', '.join(best)}" if best else "")
                           + f" [{fid}]")
    sec = Section(kind="screen", title=f"Coating screen for {s.cathode} | {s.electrolyte}",
                  summary=" → ".join(f"{f.stage} {f.remaining}" for f in s.funnel),
                  tables=[Table(caption="energies in meV/atom, window edges in V vs Li/Li+",
                                columns=["candidate", "status", "removed by", *keys, "notes"], rows=rows)],
                  figures=[fig], fidelity=s.provenance.fidelity, sources=s.provenance.sources,
                  convention=s.convention)
    return sec, verdict


def _barrier_section(study, b, figs: _Figures, n: int) -> Section:
    formula = _formula(study, b.material)
    if b.result is None:
        return Section(kind="barrier", title=f"Migration barrier: {formula}",
                       summary=f"not run yet ({b.calculation})", warnings=list(b.errors), fidelity=[])
    r = b.result
    num = Number(label=f"migration barrier of {formula}", value=r.get("barrier_eV"), unit="eV",
                 text=f"{_fmt(r.get('barrier_eV'), 3)} eV", fidelity=b.fidelity, source=f"calcs/{b.calculation}",
                 warnings=list(r.get("notes", [])))
    energies = [im["energy_eV"] for im in r["images"]]
    figs_ = []
    if all(e is not None for e in energies):
        figs_.append(figs.add(f"barrier-{n}", f"Energy along the NEB path of {formula}",
                              plots.barrier_profile([im["reaction_coordinate_A"] for im in r["images"]],
                                                    energies, f"b{n}")))
    return Section(kind="barrier", title=f"Migration barrier: {formula}", summary=num.text, numbers=[num],
                   figures=figs_, warnings=list(r.get("notes", [])), fidelity=[b.fidelity],
                   sources=[f"calcs/{b.calculation}"])


# ------------------------------------------------------------------ the whole report


def build_report(study, analyses, states: list[CalculationState], repro: dict) -> tuple[Report, dict[str, str]]:
    """(report, figures by id).  repro: versions, command, study_file, study_sha256, lock, data_sources, models."""
    figs = _Figures()
    sections, verdicts = [], []
    results = analyses.results
    cells = list(study.cells)

    sigma_by_material: dict[str, Number] = {}
    windows = [r for r in results if r.kind == "window"]
    if windows:
        sec, vs = _window_section(study, windows, cells, figs, 1)
        sections.append(sec)
        verdicts += vs
    for i, r in enumerate([r for r in results if r.kind == "profile"], 1):
        sections.append(_profile_section(r, figs, i))
    for i, r in enumerate([r for r in results if r.kind == "reactivity"], 1):
        sec, v = _reactivity_section(study, r, figs, i)
        sections.append(sec)
        verdicts.append(v)
    series = [r for r in results if r.kind == "diffusion"]
    with_runs = {r.material for r in series if r.runs}
    # a series with no run yet says only that: one section per material, not one per engine
    shown, empty_seen = [], set()
    for r in series:
        if r.runs:
            shown.append(r)
        elif r.material not in with_runs and r.material not in empty_seen:
            empty_seen.add(r.material)
            waiting = sorted(w for x in series if x.material == r.material for w in x.waiting)
            shown.append(r.model_copy(update={"engine": ", ".join(sorted({x.engine for x in series
                                                                            if x.material == r.material})),
                                              "waiting": waiting}))
    for i, r in enumerate(shown, 1):
        sec, v, sigma = _diffusion_section(study, r, figs, i)
        sections.append(sec)
        if v is not None:
            verdicts.append(v)
        if sigma is not None and r.material not in sigma_by_material:
            sigma_by_material[r.material] = sigma
    for i, r in enumerate([r for r in results if r.kind == "screen"], 1):
        sec, v = _screen_section(study, r, figs, i)
        sections.append(sec)
        verdicts.append(v)
    for i, r in enumerate([r for r in results if r.kind == "barrier"], 1):
        sections.append(_barrier_section(study, r, figs, i))
    for r in results:
        if r.kind == "skipped":
            verdicts.append(Verdict(level="warn", text=f"{r.request}: not evaluated: {r.reason}"))
            sections.append(Section(kind="skipped", title=f"Not evaluated: {r.request}", summary=r.reason))
    # the worst first: a reader scanning the top sees the problems
    order = {"bad": 0, "warn": 1, "ok": 2, "info": 3}
    verdicts = sorted(verdicts, key=lambda v: order[v.level])
    glance = [_glance(study, c, sigma_by_material) for c in cells]
    report = Report(study=study.id, title=study.title or study.id, authors=list(study.authors), cells=glance,
                    verdicts=verdicts, sections=sections,
                    reproducibility=Reproducibility(calculations=states, **repro))
    return report, figs.svg
