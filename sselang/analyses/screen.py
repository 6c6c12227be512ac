"""Coating screening (Xiao et al., Joule 2019; Nolan, Liu, Mo 2019): many
candidates through hierarchical filters, cheapest first.

Every hull is built once per chemical system and shared by all candidates
(and with the study's other analyses through `Hulls`): a candidate's e_hull
and window use the hull of its own elements with Li, its reaction with the
cathode the hull of both their elements.  The filters are pure functions of
those hulls and the candidates' own records.
"""

from __future__ import annotations

from dataclasses import dataclass

from .hull import AnalysisError, entry
from .results import FunnelStage, ScreenCandidate

# an oxidation edge above this is a gap in the data, not a property (the most oxidising
# electrolyte windows reach 5-6 V vs Li/Li+)
IMPLAUSIBLE_EDGE_V = 10.0
# cost order: a hull lookup, a walk along one line, an interface reaction per pair
COST = {"e_hull": 0, "band_gap": 1, "window": 2, "reactivity": 3, "barrier": 4}
OPS = {"<=": lambda a, b: a <= b + 1e-12, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b - 1e-12,
       ">": lambda a, b: a > b, "==": lambda a, b: abs(a - b) < 1e-9}


@dataclass(frozen=True)
class Side:
    name: str
    composition: dict[str, float]
    record: dict


class SubHulls:
    """Phase diagrams of any chemical subsystem of a pool of records, built once each."""

    def __init__(self, records: list[dict]) -> None:
        self.pool = {r["id"]: r for r in records}
        self._pd: dict[frozenset, object] = {}
        self._entries: dict[str, object] = {}

    def entry(self, record: dict):
        # one pymatgen entry per record, shared by every diagram it enters
        if record["id"] not in self._entries:
            self._entries[record["id"]] = entry(record)
        return self._entries[record["id"]]

    def diagram(self, elements) -> object:
        key = frozenset(elements)
        if key not in self._pd:
            from pymatgen.analysis.phase_diagram import PhaseDiagram

            rs = [r for r in self.pool.values() if set(r["composition"]) <= key]
            try:
                self._pd[key] = PhaseDiagram([self.entry(r) for r in rs])
            except ValueError as e:
                raise AnalysisError(f"no phase diagram for {'-'.join(sorted(key))}: {e}") from e
        return self._pd[key]


def label(req) -> str:
    if req.metric == "window":
        return f"window covers {req.range_V[0]:g} V .. {req.range_V[1]:g} V"
    what = req.metric + (f" with {req.with_role}" if req.with_role else "")
    unit = " meV/atom" if req.metric in ("e_hull", "reactivity") else " eV"
    scale = 1000 if req.metric in ("e_hull", "reactivity") else 1
    return f"{what} {req.op} {req.value * scale:g}{unit}"


def _comp(d):
    from pymatgen.core import Composition

    return Composition(d)


def e_hull_meV(hulls: SubHulls, cand: Side) -> float:
    from .reactivity import hull_planes

    hp = hull_planes(hulls.diagram(set(cand.composition) | {"Li"}))
    c = hp.amounts(_comp(cand.composition))
    e = cand.record["energy_eV"] / sum(cand.record["composition"].values())
    return 1000 * (e - hp.energy_per_atom(c / c.sum()))


def window_edges(hulls: SubHulls, cand: Side) -> tuple[float, float]:
    from .window import window_edges as edges

    return edges(hulls.diagram(set(cand.composition) | {"Li"}), _comp(cand.composition))


def reaction_meV(hulls: SubHulls, cand: Side, other: Side) -> float:
    from .reactivity import minimum_on_tie_line

    pd = hulls.diagram(set(cand.composition) | set(other.composition))
    return 1000 * minimum_on_tie_line(pd, hulls.entry(cand.record), hulls.entry(other.record)).energy


def open_reaction_meV(hulls: SubHulls, cand: Side, other: Side, potential_V: float) -> float:
    from .reactivity import minimum, reaction_curve

    pd = hulls.diagram(set(cand.composition) | set(other.composition) | {"Li"})
    # mixing only: the charged cathode's own loss of Li at this potential is the same for
    # every coating and would hide the differences a screen is after
    return 1000 * minimum(reaction_curve(pd, hulls.entry(cand.record), hulls.entry(other.record), "Li",
                                         potential_V, mixing_only=True)).energy


def screen(cands: list[Side | tuple[str, str]], sides: dict[str, Side], requirements, rank, hulls: SubHulls,
           cathode_potential_V: float | None = None):
    """Run the filters.  `cands` holds a Side per candidate with data, or
    (name, formula) for one without; `sides` maps 'cathode'/'electrolyte' to its
    Side.  With the charged cathode's potential, each survivor also gets its
    reaction with the cathode open to Li at that potential, measured from each
    side's own equilibrium with the reservoir (what the coating adds at the top of
    charge; reported, not filtered on).
    Returns (candidates, funnel, ranking)."""
    order = sorted(requirements, key=lambda q: COST[q.metric])
    out: dict[str, ScreenCandidate] = {}
    with_data: list[Side] = []
    for c in cands:
        if isinstance(c, Side):
            with_data.append(c)
        else:
            out[c[0]] = ScreenCandidate(name=c[0], formula=c[1], status="no data",
                                        notes=["no structure or energy in the data: not screened"])
    metrics, notes, removed = _filters_in_parallel(with_data, sides, order, hulls)
    funnel = [FunnelStage(stage="candidates with data", remaining=len(with_data))]
    for k, q in enumerate(order):
        funnel.append(FunnelStage(stage=label(q), remaining=sum(1 for c in with_data
                                                                 if c.name not in removed or removed[c.name][0] > k)))
    alive = [c for c in with_data if c.name not in removed]
    ranking = _rank(alive, rank, sides, hulls, metrics, notes)
    if cathode_potential_V is not None:
        for c in alive:
            key = f"reactivity with cathode, open Li at {cathode_potential_V:g} V (mixing)"
            try:
                metrics[c.name][key] = open_reaction_meV(hulls, c, sides["cathode"], cathode_potential_V)
            except AnalysisError as e:
                notes[c.name].append(f"{key}: {e}")
    by_name = {x.name: x for x in cands if isinstance(x, Side)}
    for name, m in metrics.items():
        side = by_name[name]
        formula = _comp(side.composition).reduced_formula
        if name in removed:
            _, by, v = removed[name]
            out[name] = ScreenCandidate(name=name, formula=formula, status="removed", removed_by=by,
                                        failed_value=None if v is None else round(v, 4), metrics=_round(m),
                                        record_id=side.record["id"], notes=notes[name])
        else:
            out[name] = ScreenCandidate(name=name, formula=formula, status="survivor", metrics=_round(m),
                                        record_id=side.record["id"], notes=notes[name])
    listed = [out[n] for n in ranking] + sorted((c for n, c in out.items() if n not in ranking), key=lambda c: c.name)
    return listed, funnel, ranking


def _filters(cands: list[Side], sides, order, hulls: SubHulls):
    """Every filter, cheapest first, on a list of candidates: (metrics, notes, removed), where
    removed maps a name to (stage index, stage label, the value that failed)."""
    metrics: dict[str, dict[str, float]] = {c.name: {} for c in cands}
    notes: dict[str, list[str]] = {c.name: [] for c in cands}
    removed: dict[str, tuple[int, str, float | None]] = {}
    alive = list(cands)
    for k, q in enumerate(order):
        keep = []
        for c in alive:
            try:
                ok, value = _apply(q, c, sides, hulls, metrics[c.name], notes[c.name])
            except AnalysisError as e:
                notes[c.name].append(f"{label(q)}: {e}")
                ok, value = False, None
            if ok:
                keep.append(c)
            else:
                removed[c.name] = (k, label(q), value)
        alive = keep
    return metrics, notes, removed


# Below this many candidates a screen runs in this process: forking workers costs more than
# the hulls they would build.
PARALLEL_MIN = 100
_WORK: tuple = ()  # what forked workers read (inherited memory: nothing large is pickled)


def _worker(groups: list[list[int]]):
    cands, sides, order, hulls = _WORK
    return _filters([cands[i] for g in groups for i in g], sides, order, hulls)


def _workers() -> int:
    """Processes for the filters: one per core, 1 where forking is unsafe (threads running,
    e.g. a Parsl executor or torch's, which a fork would copy mid-flight) or unavailable."""
    import multiprocessing as mp
    import os
    import sys
    import threading

    if "fork" not in mp.get_all_start_methods() or threading.active_count() > 1 or "torch" in sys.modules:
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _filters_in_parallel(cands: list[Side], sides, order, hulls: SubHulls):
    """_filters over candidates grouped by chemical system (each group's hulls are built in
    one process), the groups spread over forked workers; the same results as one process,
    merged in a fixed order."""
    workers = _workers()
    if workers < 2 or len(cands) < PARALLEL_MIN:
        return _filters(cands, sides, order, hulls)
    from concurrent.futures import ProcessPoolExecutor
    import multiprocessing as mp

    groups: dict[frozenset, list[int]] = {}
    for i, c in enumerate(cands):
        groups.setdefault(frozenset(c.composition), []).append(i)
    # largest groups first, each to the least loaded worker: deterministic and balanced
    shares: list[list[list[int]]] = [[] for _ in range(workers)]
    load = [0] * workers
    for g in sorted(groups.values(), key=lambda g: (-len(g), g[0])):
        k = load.index(min(load))
        shares[k].append(g)
        load[k] += len(g)
    global _WORK
    _WORK = (cands, sides, order, hulls)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as ex:
            parts = list(ex.map(_worker, [s for s in shares if s]))
    finally:
        _WORK = ()
    metrics: dict = {}
    notes: dict = {}
    removed: dict = {}
    for m, n, r in parts:
        metrics.update(m)
        notes.update(n)
        removed.update(r)
    return {c.name: metrics[c.name] for c in cands}, {c.name: notes[c.name] for c in cands}, removed


def _round(m: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) + 0.0 for k, v in sorted(m.items())}  # + 0.0: no "-0.0" in the JSON


def _metric(q_metric: str, with_role: str | None, c: Side, sides, hulls, m: dict) -> float:
    key = q_metric + (f" with {with_role}" if with_role else "")
    if key not in m:
        if q_metric == "e_hull":
            m[key] = e_hull_meV(hulls, c)
        elif q_metric == "reactivity":
            m[key] = reaction_meV(hulls, c, sides[with_role])
        else:
            raise AnalysisError(f"the data hold no {q_metric}")
    return m[key]


def _apply(q, c: Side, sides, hulls, m: dict, notes: list[str]) -> tuple[bool, float | None]:
    if q.metric == "window":
        if "window reduction V" not in m:
            m["window reduction V"], m["window oxidation V"] = window_edges(hulls, c)
            if m["window oxidation V"] > IMPLAUSIBLE_EDGE_V:
                # no solid holds Li at such a potential: removing Li must have made elements or
                # O2 because the data hold no phase of these elements that takes them up
                notes.append(f"window: the oxidation edge at {m['window oxidation V']:.1f} V is not physical; the "
                             f"data likely lack a competing phase of {'-'.join(sorted(c.composition))} (e.g. a "
                             f"binary oxide), so the edge is an upper bound")
        lo, hi = q.range_V
        red, ox = m["window reduction V"], m["window oxidation V"]
        ok = red <= lo + 1e-9 and ox >= hi - 1e-9
        return ok, (red if red > lo + 1e-9 else ox)
    if q.metric in ("band_gap", "barrier"):
        notes.append(f"{label(q)}: not evaluated, the data hold no {q.metric.replace('_', ' ')}s")
        return True, None
    v = _metric(q.metric, q.with_role, c, sides, hulls, m)  # meV/atom
    return OPS[q.op](v, q.value * 1000), v


def _rank(alive, rank, sides, hulls, metrics, notes) -> list[str]:
    if rank is None or not alive:
        return sorted(c.name for c in alive)
    vals = {}
    for c in alive:
        try:
            vals[c.name] = _metric(rank.metric, rank.with_role, c, sides, hulls, metrics[c.name])
        except AnalysisError as e:
            notes[c.name].append(f"rank: {e}")
    sign = -1 if rank.order == "descending" else 1
    ranked = sorted(vals, key=lambda n: (sign * vals[n], n))
    return ranked + sorted(c.name for c in alive if c.name not in vals)
