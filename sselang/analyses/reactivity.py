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


def _ground_state(pd, e) -> float:
    """Energy per atom a reactant enters with, as InterfacialReactivity(use_hull_energy=False)
    takes it: the lowest entry of its composition in the data (itself when it is the
    only one, so a metastable phase's own instability counts)."""
    red = e.composition.reduced_composition
    same = [x.energy_per_atom for x in pd.all_entries if x.composition.reduced_composition == red]
    return min([e.energy_per_atom, *same])


def minimum_by_lp(pd, a_entry, b_entry) -> Kink:
    """The most negative reaction energy of x A + (1 - x) B as one linear program.

    The hull energy of a composition is the cheapest mixture of stable phases with
    that composition, so the minimum over x of E_hull(x) - [x E(A) + (1 - x) E(B)]
    is: minimise sum_i l_i e_i - x e_A - (1 - x) e_B over l_i >= 0 and 0 <= x <= 1,
    subject to sum_i l_i c_i = x c_A + (1 - x) c_B (atom fractions, so sum l_i = 1).
    One small LP (HiGHS) replaces walking every kink of the tie line; the screen
    needs only this minimum.  Agrees with reaction_curve's minimum (tests)."""
    import numpy as np
    from scipy.optimize import linprog

    cached = getattr(pd, "_sselang_lp", None)  # the hull's matrix, built once per diagram
    if cached is None:
        els = sorted({el.symbol for e in pd.stable_entries for el in e.composition})
        stable = sorted(pd.stable_entries, key=lambda e: (e.composition.reduced_formula, e.entry_id or ""))
        A = np.array([[e.composition.get_atomic_fraction(el) for el in els] for e in stable]).T
        cached = (els, stable, A, np.array([e.energy_per_atom for e in stable]))
        pd._sselang_lp = cached
    els, stable, A, e = cached

    def frac(comp):
        return np.array([comp.get_atomic_fraction(el) for el in els], dtype=float)
    ca, cb = frac(a_entry.composition), frac(b_entry.composition)
    ea, eb = _ground_state(pd, a_entry), _ground_state(pd, b_entry)
    # variables: l_1..l_n, x ; A l - x (ca - cb) = cb
    a_eq = np.hstack([A, -(ca - cb)[:, None]])
    cost = np.concatenate([e, [-(ea - eb)]])
    res = linprog(cost, A_eq=a_eq, b_eq=cb, bounds=[(0, None)] * len(stable) + [(0, 1)], method="highs")
    if res.status != 0:
        raise AnalysisError(f"the reaction of {a_entry.composition.reduced_formula} and "
                            f"{b_entry.composition.reduced_formula} has no solution on this hull ({res.message})")
    x = float(res.x[-1])
    energy = float(res.fun) - eb
    products = tuple(sorted({stable[i].composition.reduced_formula for i, l in enumerate(res.x[:-1]) if l > 1e-9}))
    return Kink(round(x, 9) + 0.0, round(min(energy, 0.0), 9) + 0.0, "", products)
