"""Interface reactivity of two phases (Richards et al. 2016; Xiao et al. 2019).

pymatgen's InterfacialReactivity does the geometry: the kinks of the hull
along the tie line between the two compositions, each normalised to one atom,
and the balanced reaction at each kink.  This module fixes the conventions the
field reports and pymatgen leaves open:

- reactants enter at the energy of their lowest polymorph in the data, not at
  the hull (use_hull_energy=False), so a metastable electrolyte's own
  instability is part of the reaction energy;
- open to Li at a potential V: the grand potential at mu_Li = E(Li) - eV, with
  each reactant's own reaction with the reservoir included at x = 0 and 1
  (include_no_mixing_energy=True), which is what a charged cathode sees;
- x is the atom fraction of A in the mixture; energies in meV/atom.
"""

from __future__ import annotations

from dataclasses import dataclass

from .hull import AnalysisError


@dataclass(frozen=True)
class Kink:
    x: float
    energy: float  # eV/atom
    reaction: str
    products: tuple[str, ...]


def _products(rxn) -> tuple[str, ...]:
    return tuple(sorted({c.reduced_formula for c in rxn.products}))


def reaction_curve(pd, a_entry, b_entry, open_element: str | None = None, potential_V: float | None = None,
                   mixing_only: bool = False) -> list[Kink]:
    """Kinks of the reaction energy of x A + (1 - x) B, x ascending.  Open to an
    element, `mixing_only` measures from each reactant's own equilibrium with the
    reservoir (what the two add by touching) instead of from the reactants as made."""
    import warnings

    from pymatgen.analysis.interface_reactions import GrandPotentialInterfacialReactivity, InterfacialReactivity
    from pymatgen.analysis.phase_diagram import GrandPotentialPhaseDiagram
    from pymatgen.core import Composition, Element

    ca, cb = a_entry.composition, b_entry.composition
    if ca.reduced_composition == cb.reduced_composition:
        raise AnalysisError("the two sides have the same composition: nothing to react")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if open_element is None:
            ir = InterfacialReactivity(Composition(ca), Composition(cb), pd, norm=True, use_hull_energy=False)
        else:
            el = Element(open_element)
            mu = pd.get_hull_energy_per_atom(Composition(open_element)) - (potential_V or 0.0)
            gpd = GrandPotentialPhaseDiagram(pd.all_entries, {el: mu})
            if ca.reduced_composition == Composition(open_element) or cb.reduced_composition == Composition(open_element):
                raise AnalysisError(f"{open_element} is open: it cannot also be a reactant")
            ir = GrandPotentialInterfacialReactivity(Composition(ca), Composition(cb), gpd, pd,
                                                     include_no_mixing_energy=not mixing_only, norm=True,
                                                     use_hull_energy=False)
        kinks = ir.get_kinks()
    # rounded far below any meaningful digit: the same input gives the same bytes
    out = [Kink(round(float(x), 9) + 0.0, round(float(e), 9) + 0.0, str(rxn), _products(rxn)) for _, x, e, rxn, _ in kinks]
    return sorted(out, key=lambda k: k.x)


def minimum(curve: list[Kink]) -> Kink:
    # the most negative kink; ties go to the smaller x so the choice is reproducible
    return min(curve, key=lambda k: (round(k.energy, 9), k.x))


@dataclass(frozen=True)
class HullPlanes:
    """The lower hull of a phase diagram as planes: one row of `planes` per facet, the plane
    E = w . c through its vertices over atom fractions c (columns in the order of `elements`),
    so that E_hull(c) = max over rows of planes @ c (the lower hull is convex: every facet's
    plane lies on or below it, and touches it on that facet).  `ground` maps a reduced formula
    to the lowest energy per atom of that composition in the data (the energy a reactant enters
    with, as InterfacialReactivity(use_hull_energy=False) takes it: a metastable phase's own
    instability counts).  `vertex_fractions`, `vertex_formulas` and `facet_vertices` (the
    vertices of each row) give the phases of a facet."""

    elements: list
    planes: object  # numpy array (facets x elements)
    ground: dict[str, float]
    vertex_fractions: object  # numpy array (vertices x elements)
    vertex_formulas: list[str]
    facet_vertices: list[list[int]]

    def amounts(self, composition) -> object:
        """A pymatgen Composition as a vector of element amounts in the column order."""
        import numpy as np

        return np.array([composition[el] if el in composition else 0.0 for el in self.elements], dtype=float)

    def energy_per_atom(self, fractions) -> float:
        """Hull energy per atom at a vector of atom fractions."""
        return float((self.planes @ fractions).max())


def hull_planes(pd) -> HullPlanes:
    """The HullPlanes of a phase diagram, built once per diagram."""
    import numpy as np

    cached = getattr(pd, "_sselang_planes", None)
    if cached is None:
        els = list(pd.elements)
        ents = pd.qhull_entries
        comp = np.array([[e.composition.get_atomic_fraction(el) for el in els] for e in ents], dtype=float)
        energy = np.array([e.energy_per_atom for e in ents], dtype=float)
        rows, vertices = [], []
        for f in pd.facets:
            f = [int(i) for i in np.atleast_1d(f)]
            if len(f) != len(els):
                continue
            try:
                rows.append(np.linalg.solve(comp[f], energy[f]))
            except np.linalg.LinAlgError:  # a flat facet: its neighbours hold the same plane
                continue
            vertices.append(f)
        ground: dict[str, float] = {}
        for e in pd.all_entries:
            red = e.composition.reduced_formula
            ground[red] = min(ground.get(red, e.energy_per_atom), e.energy_per_atom)
        cached = HullPlanes(els, np.array(rows, dtype=float).reshape(-1, len(els)), ground, comp,
                            [e.composition.reduced_formula for e in ents], vertices)
        pd._sselang_planes = cached
    return cached


def minimum_on_tie_line(pd, a_entry, b_entry) -> Kink:
    """The most negative reaction energy of x A + (1 - x) B without walking the kinks.

    Along the tie line, E_hull is the upper envelope of one line per hull facet,
    p_f + q_f x (hull_planes), less the reactants' x e_A + (1 - x) e_B.  The minimum over
    0 <= x <= 1 of such an envelope is, by linear-programming duality, the largest of: a
    rising line's value at x = 0, a falling line's at x = 1, and the value where a rising and
    a falling line cross inside [0, 1].  One pass of numpy over the facets replaces
    InterfacialReactivity's kinks (and a linear program per pair); the products are the hull
    phases at that composition.  Agrees with reaction_curve's minimum (tests)."""
    import numpy as np

    hp = hull_planes(pd)
    W = hp.planes
    if len(W) == 0:
        raise AnalysisError("the phase diagram has no hull facets")
    ca, cb = hp.amounts(a_entry.composition), hp.amounts(b_entry.composition)
    if (abs(ca.sum() - a_entry.composition.num_atoms) > 1e-9 * a_entry.composition.num_atoms
            or abs(cb.sum() - b_entry.composition.num_atoms) > 1e-9 * b_entry.composition.num_atoms):
        raise AnalysisError(f"{a_entry.composition.reduced_formula} or {b_entry.composition.reduced_formula} "
                            f"holds elements outside the diagram")
    ca, cb = ca / ca.sum(), cb / cb.sum()
    ea = min(a_entry.energy_per_atom, hp.ground.get(a_entry.composition.reduced_formula, np.inf))
    eb = min(b_entry.energy_per_atom, hp.ground.get(b_entry.composition.reduced_formula, np.inf))
    p = W @ cb - eb
    q = W @ (ca - cb) - (ea - eb)
    cand_x = [np.array([0.0]), np.array([1.0])]
    cand_v = [np.array([p[q >= 0].max() if (q >= 0).any() else -np.inf]),
              np.array([(p + q)[q <= 0].max() if (q <= 0).any() else -np.inf])]
    up, down = np.where(q > 0)[0], np.where(q < 0)[0]
    if len(up) and len(down):
        qi, qj = q[up][:, None], q[down][None, :]
        pi, pj = p[up][:, None], p[down][None, :]
        x = (pj - pi) / (qi - qj)
        v = pi + qi * x
        inside = (x >= 0) & (x <= 1)
        cand_x.append(x[inside])
        cand_v.append(v[inside])
    xs, vs = np.concatenate(cand_x), np.concatenate(cand_v)
    best = vs.max()
    # of the candidates at the optimum, the smallest x where the envelope itself is that low
    x_best = 0.0
    for k in np.argsort(xs):
        if vs[k] >= best - 1e-9 and (p + q * xs[k]).max() <= best + 1e-9:
            x_best = float(xs[k])
            break
    energy = min(float(best), 0.0)
    products: tuple[str, ...] = ()
    if energy < 0:
        # the hull phases there: the vertices of a facet whose plane is the hull at that point,
        # with their (barycentric) amounts in the mixture
        mix = x_best * ca + (1 - x_best) * cb
        top = W @ mix
        for f in np.where(top >= top.max() - 1e-9)[0]:
            vs = hp.facet_vertices[f]
            amounts = np.linalg.solve(hp.vertex_fractions[vs].T, mix)
            if amounts.min() >= -1e-8:
                products = tuple(sorted({hp.vertex_formulas[v] for v, amt in zip(vs, amounts) if amt > 1e-8}))
                break
    return Kink(round(x_best, 9) + 0.0, round(energy, 9) + 0.0, "", products)
