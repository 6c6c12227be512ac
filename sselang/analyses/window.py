"""Electrochemical window and Li-uptake staircase of one phase (Zhu, He, Mo 2015).

Both come from one object: the hull energy G(x) of the composition
`phase + x Li`, from the fully delithiated composition (x = -n_Li) to the
last assemblage before Li metal.  G is convex and piecewise linear in x; on
each linear step the assemblage holds at one Li chemical potential, its slope,
so the step's voltage is Eq. 4 of the science notes,

    V = -(G(x2) - G(x1) - (x2 - x1) E(Li)) / (x2 - x1),

with E(Li) the Li metal energy per atom of the same data.  A phase is stable
at V exactly when x = 0 is a kink of G and V lies between the voltages of the
two steps that meet there: those are the window's edges.  A metastable phase
has the same construction on the hull without it: its neutral decomposition
products hold without exchanging Li only between those two voltages (a single
potential when x = 0 is not a kink).

Deliberate difference from pymatgen: PhaseDiagram.get_element_profile gives
the same steps but leaves which end of a step is "the" potential to the
caller and get_chempot_range_stability_phase fails for phases above the hull
or without Li; here both cases are explicit results.
"""

from __future__ import annotations

from dataclasses import dataclass

from .hull import AnalysisError
from .results import Edge, Phase, Plateau

X_TOL = 1e-6  # Li per formula unit: critical compositions closer than this are one
E_TOL = 1e-6  # eV/atom: a phase this close to the hull is on it


@dataclass(frozen=True)
class Step:
    x1: float
    x2: float
    g1: float
    g2: float
    voltage: float


def _with_li(comp, x: float, li: str = "Li"):
    from pymatgen.core import Composition

    d = {el.symbol: amt for el, amt in comp.items()}
    d[li] = d.get(li, 0.0) + x
    return Composition({k: v for k, v in d.items() if v > 1e-12})


def li_line(pd, comp, li: str = "Li") -> tuple[list[tuple[float, float]], float]:
    """Kinks (x, G(x)) of the hull energy along comp + x Li, x ascending from
    full delithiation to the last assemblage before Li metal; and E(Li) per atom."""
    from pymatgen.core import Composition, Element

    others = [el for el in comp if el.symbol != li]
    if not others:
        raise AnalysisError("the staircase of Li metal itself is not defined")
    ref = others[0]
    n_li = comp[Element(li)] if Element(li) in comp else 0.0
    start = _with_li(comp, -n_li, li)
    xs = []
    for k in pd.get_critical_compositions(start, Composition(li)):
        if k[ref] < 1e-12:
            continue  # Li metal itself: x = infinity
        scale = comp[ref] / k[ref]
        xs.append(k[Element(li)] * scale - n_li if Element(li) in k else -n_li)
    xs = sorted(xs)
    kinks: list[float] = []
    for x in xs:
        if not kinks or x - kinks[-1] > X_TOL:
            kinks.append(x)
    mu_li = pd.get_hull_energy_per_atom(Composition(li))
    return [(x, pd.get_hull_energy(_with_li(comp, x, li))) for x in kinks], mu_li


def steps(line: list[tuple[float, float]], mu_li: float) -> list[Step]:
    out = []
    for (x1, g1), (x2, g2) in zip(line, line[1:]):
        out.append(Step(x1, x2, g1, g2, -((g2 - g1) / (x2 - x1) - mu_li)))
    return out


def assemblage(pd, comp, x: float, li: str = "Li") -> list[Phase]:
    """Equilibrium phases of comp + x Li, in formula units per formula unit of comp."""
    c = _with_li(comp, x, li)
    out = []
    for e, frac in pd.get_decomposition(c).items():
        red = e.composition.reduced_composition
        out.append(Phase(formula=red.reduced_formula, amount=round(frac * c.num_atoms / red.num_atoms, 6),
                         id=e.entry_id or red.reduced_formula))
    return sorted(out, key=lambda p: (p.formula, p.id))


def plateaus(pd, comp, li: str = "Li") -> tuple[list[Plateau], float]:
    line, mu_li = li_line(pd, comp, li)
    out = [Plateau(x_from=round(s.x1, 6), x_to=round(s.x2, 6), voltage_V=round(s.voltage, 4),
                   phases=assemblage(pd, comp, (s.x1 + s.x2) / 2, li)) for s in steps(line, mu_li)]
    return out, mu_li


@dataclass(frozen=True)
class Window:
    e_above_hull: float  # eV/atom
    reduction: Edge | None
    oxidation: Edge | None
    kink_at_zero: bool
    neutral: list[Phase]
    decomposition_energy: dict[str, float]  # eV per atom of the phase at "0 V", "5 V"


def window(pd, comp, energy: float, li: str = "Li") -> Window:
    """Window of a phase of composition `comp` (one formula unit) and total energy `energy`."""
    from pymatgen.core import Element

    n_atoms = comp.num_atoms
    line, mu_li = li_line(pd, comp, li)
    st = steps(line, mu_li)
    g0 = pd.get_hull_energy(comp)
    e_hull = (energy - g0) / n_atoms
    has_li = Element(li) in comp and comp[Element(li)] > 0
    at_zero = [i for i, (x, _) in enumerate(line) if abs(x) <= X_TOL]
    kink = bool(at_zero)

    def edge(s: Step, x_end: float) -> Edge:
        # the products are the assemblage at the far end of the first step, where the
        # starting phase (or its neutral decomposition) has been used up
        return Edge(voltage_V=round(s.voltage, 4), products=assemblage(pd, comp, x_end, li), li_per_fu=round(x_end, 6))

    red = ox = None
    if kink:
        right = [s for s in st if abs(s.x1) <= X_TOL]
        left = [s for s in st if abs(s.x2) <= X_TOL]
        if right:
            red = edge(right[0], right[0].x2)
        else:  # fully lithiated: only Li metal lies beyond, stable down to 0 V
            red = Edge(voltage_V=0.0, products=assemblage(pd, comp, 0.0, li), li_per_fu=0.0)
        if left and has_li:
            ox = edge(left[0], left[0].x1)
    else:  # x = 0 inside one step: the neutral products hold at that single potential
        inside = [s for s in st if s.x1 < 0 < s.x2]
        if inside:
            red, ox = edge(inside[0], inside[0].x2), edge(inside[0], inside[0].x1)
    dec = {}
    for label, v in (("0 V", 0.0), ("5 V", 5.0)):
        mu = mu_li - v
        # G(x) - mu x is convex piecewise linear: its minimum lies on a kink (beyond the
        # last kink G grows by E(Li) per Li, which never lowers it for V >= 0)
        best = min(g - mu * x for x, g in line)
        dec[label] = float(min(0.0, (best - energy) / n_atoms))
    return Window(e_above_hull=e_hull, reduction=red, oxidation=ox, kink_at_zero=kink,
                  neutral=assemblage(pd, comp, 0.0, li), decomposition_energy=dec)


def window_edges(pd, comp, li: str = "Li") -> tuple[float, float]:
    """(reduction, oxidation) voltages of window() alone, from the hull's facet planes.

    With W the facet planes over element amounts (reactivity.hull_planes), the hull energy
    of comp + x Li is G(x) = max_f (W_f . comp + x W_f[Li]): a line per facet whose slope is
    that facet's Li chemical potential.  At x = 0 the facets whose line is highest are the
    assemblage of comp; adding Li follows the steepest of them, removing Li the shallowest,
    so the edges are E(Li) minus those slopes, as the first steps of window().  No Li in
    comp: nothing to remove, the oxidation edge is nan (as window() gives None).  What a
    screen needs of a window at the cost of two dot products (tests: the same as window())."""
    from pymatgen.core import Composition

    from .reactivity import hull_planes

    hp = hull_planes(pd)
    symbols = [el.symbol for el in hp.elements]
    if li not in symbols:
        raise AnalysisError(f"the phase diagram holds no {li}")
    k = symbols.index(li)
    amounts = hp.amounts(comp)
    a, b = hp.planes @ amounts, hp.planes[:, k]
    on = a >= a.max() - 1e-9 * max(1.0, abs(a.max()))
    mu_li = pd.get_hull_energy_per_atom(Composition(li))
    red = round(float(mu_li - b[on].max()), 4)
    ox = round(float(mu_li - b[on].min()), 4) if amounts[k] > 0 else float("nan")
    return red, ox

