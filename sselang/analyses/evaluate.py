"""Evaluate a study's stability requests on the data stage's result.

Each request gives one typed result (analyses.results); a request the data
cannot answer gives a `Skipped` result that says why, never an exception:
the rest of the study is still evaluated.
"""

from __future__ import annotations

from ..model import study as m
from .hull import AnalysisError, Hulls, entry, material_record, system_key
from .results import (Analyses, MixPoint, ProfileResult, Provenance, ReactivityResult, ScreenResult, Skipped,
                      WindowResult)


def _provenance(system: str, sources: list[str], ids: set[str], about: dict[str, dict]) -> Provenance:
    return Provenance(system=system, sources=sources, fidelity=[about.get(s, {}).get("fidelity", s) for s in sources],
                      schemes=[about.get(s, {}).get("scheme", "unknown") for s in sources], entries_used=sorted(ids))


def _ids(*groups) -> set[str]:
    out: set[str] = set()
    for g in groups:
        for p in g or []:
            out.add(p.id)
    return out


def _material(study: m.Study, data, h: Hulls, name: str, key: str):
    doc = data.materials.get(name)
    if doc is None:
        raise AnalysisError(f"{name} has no resolved structure")
    rec = material_record(h.records(key), name, doc)
    from pymatgen.core import Composition

    comp = Composition(study.material(name).composition)
    per_atom = rec["energy_eV"] / sum(rec["composition"].values())
    return rec, comp, per_atom * comp.num_atoms


def _window(study, data, h: Hulls, r, fidelity) -> WindowResult:
    from .window import window

    mat = study.material(r.material)
    key = system_key(set(mat.composition) | {"Li"})
    rec, comp, energy = _material(study, data, h, r.material, key)
    pd = h.diagram(key)
    w = window(pd, comp, energy)
    from pymatgen.core import Element

    li_ref = pd.el_refs[Element("Li")]  # the voltage anchor: Li metal of the same data
    has_li = mat.composition.get("Li", 0) > 0
    if not has_li:
        status, msg = "undefined", (f"{mat.formula} holds no Li: it cannot give Li off, so it has no oxidation limit "
                                    "against a Li reservoir and no window in the grand-potential sense; its "
                                    "reduction by Li is given")
    elif w.e_above_hull > 1e-6:
        status = "metastable"
        products = " + ".join(p.formula for p in w.neutral)
        if w.kink_at_zero:
            msg = (f"{mat.formula} lies {w.e_above_hull * 1000:.1f} meV/atom above the hull and decomposes into "
                   f"{products} at any potential; that decomposition takes up or gives off no Li between "
                   f"{w.reduction.voltage_V:.2f} V and {w.oxidation.voltage_V:.2f} V")
        else:
            msg = (f"{mat.formula} lies {w.e_above_hull * 1000:.1f} meV/atom above the hull; its neutral "
                   f"decomposition into {products} exchanges no Li only at {w.reduction.voltage_V:.2f} V")
    else:
        status, msg = "stable", ""
    ids = _ids(w.neutral, w.reduction.products if w.reduction else [], w.oxidation.products if w.oxidation else [])
    ids |= {rec["id"], li_ref.entry_id}
    return WindowResult(material=r.material, formula=mat.formula, status=status, message=msg,
                        e_above_hull_meV_atom=round(w.e_above_hull * 1000, 2),
                        reduction=w.reduction, oxidation=w.oxidation if has_li else None,
                        neutral_decomposition=w.neutral if w.e_above_hull > 1e-6 else [],
                        decomposition_energy_meV_atom={k: round(v * 1000, 2) for k, v in w.decomposition_energy.items()},
                        provenance=_provenance(key, h.sources(key), ids, fidelity))


def _profile(study, data, h: Hulls, r, fidelity) -> ProfileResult:
    from .window import plateaus

    mat = study.material(r.material)
    key = system_key(set(mat.composition) | {"Li"})
    rec, comp, energy = _material(study, data, h, r.material, key)
    pd = h.diagram(key)
    steps, _ = plateaus(pd, comp)
    e_hull = (energy - pd.get_hull_energy(comp)) / comp.num_atoms
    ids = {p.id for s in steps for p in s.phases} | {rec["id"]}
    return ProfileResult(material=r.material, formula=mat.formula, e_above_hull_meV_atom=round(e_hull * 1000, 2),
                         plateaus=steps, provenance=_provenance(key, h.sources(key), ids, fidelity))


def _reactivity(study, data, h: Hulls, r, fidelity) -> ReactivityResult:
    from .reactivity import minimum, reaction_curve

    ma, mb = study.material(r.a), study.material(r.b)
    key = system_key(set(ma.composition) | set(mb.composition) | ({r.open_element} if r.open_element else set()))
    ra, _, _ = _material(study, data, h, r.a, key)
    rb, _, _ = _material(study, data, h, r.b, key)
    curve = reaction_curve(h.diagram(key), entry(ra), entry(rb), r.open_element, r.potential_V)
    low = minimum(curve)
    conv = ReactivityResult.model_fields["convention"].default
    if r.open_element:
        conv += f"; open to {r.open_element}, energies are per atom other than {r.open_element}"
    return ReactivityResult(label=r.label, a=r.a, b=r.b, open_element=r.open_element, potential_V=r.potential_V,
                            minimum_meV_atom=round(low.energy * 1000, 2), x_at_minimum=round(low.x, 6),
                            reaction_at_minimum=low.reaction, products=list(low.products),
                            curve=[MixPoint(x=round(k.x, 6), energy_meV_atom=round(k.energy * 1000, 2),
                                            reaction=k.reaction) for k in curve],
                            convention=conv, provenance=_provenance(key, h.sources(key), {ra["id"], rb["id"]}, fidelity))


def _screen(study, data, h: Hulls, r, fidelity, cell=None):
    from ..data.stage import screen_candidates
    from .results import ScreenResult
    from .screen import Side, SubHulls, screen

    if cell is None:
        raise AnalysisError("a screen needs a cell: analyze <cell> { screen coating { ... } }")
    pool = {rec["id"]: rec for sys in data.systems.values() for rec in sys["entries"]}
    if h.sub is None:
        h.sub = SubHulls(list(pool.values()))

    def side(name: str) -> Side:
        doc = data.materials.get(name)
        if doc is None:
            raise AnalysisError(f"{name} has no resolved structure")
        rec = material_record(list(pool.values()), name, doc)
        return Side(name, dict(study.material(name).composition), rec)

    sides = {"cathode": side(cell.cathode.material), "electrolyte": side(cell.electrolyte.material)}
    cands = []
    for name, comp in screen_candidates(study, r, cell):
        rid = f"bundled:{name}" if r.candidates_from else None
        try:
            if rid is not None and rid in pool:
                cands.append(Side(name, comp, pool[rid]))
            elif rid is None and name not in data.unresolved:
                cands.append(side(name))
            else:
                raise AnalysisError("no data")
        except AnalysisError:
            from pymatgen.core import Composition

            cands.append((name, Composition(comp).reduced_formula))
    listed, funnel, ranking = screen(cands, sides, r.requirements, r.rank, h.sub, cell.cathode.charged_to_V)
    keys = sorted(data.systems)
    sources = sorted({s for k in keys for s in data.systems[k].get("sources", [])})
    used = {c.record_id for c in listed if c.record_id} | {sides["cathode"].record["id"], sides["electrolyte"].record["id"]}
    prov = _provenance(", ".join(keys), sources, used, fidelity)
    rank_by = None
    if r.rank is not None:
        rank_by = r.rank.metric + (f" with {r.rank.with_role}" if r.rank.with_role else "") + f" ({r.rank.order})"
    return ScreenResult(role=r.role, cathode=cell.cathode.material, electrolyte=cell.electrolyte.material,
                        funnel=funnel, ranking=ranking, rank_by=rank_by, candidates=listed, provenance=prov)


RUNNERS = {"window": _window, "profile": _profile, "reactivity": _reactivity, "screen": _screen}


def _describe(r) -> str:
    if r.kind == "reactivity":
        return f"reactivity {r.label}" + (f" (open {r.open_element} at {r.potential_V:g} V)" if r.open_element else "")
    return f"{r.kind} {getattr(r, 'material', '')}".strip()


def evaluate(study: m.Study, data, plan=None, out=None) -> Analyses:
    from ..compile import tool_versions

    h = Hulls(data.systems)
    fidelity = {s["name"]: s for s in data.sources}  # name -> {fidelity, scheme, ...}
    results = []
    for a in study.analyses:
        cell = study.cell(a.target) if a.target_kind == "cell" else None
        for r in a.requests:
            run = RUNNERS.get(r.kind)
            if run is None:
                continue  # diffusion, barrier, interface: evaluated by their own stages
            try:
                if r.kind == "screen":
                    results.append(run(study, data, h, r, fidelity, cell))
                else:
                    results.append(run(study, data, h, r, fidelity))
            except AnalysisError as e:
                results.append(Skipped(request=_describe(r), reason=str(e)))
    if plan is not None and out is not None:
        from .diffusion import barrier_results, diffusion_results

        results.extend(diffusion_results(study, plan, out))
        results.extend(barrier_results(study, plan, out))
    return Analyses(generator=tool_versions(), results=results)
