"""Charge balance of a composition with the oxidation states chemists expect.

pymatgen's `Composition.oxi_state_guesses` needs integer formulas and blows up
combinatorially on the fractional formulas of doped electrolytes
(Li9.54Si1.74P1.44S11.7Cl0.3) and NMC cathodes, so the search is done here,
with pymatgen's oxidation-state tables: one state per element, first from the
element's common states, then from all states seen in the ICSD; finally a
transition metal may take an average between its states (LiMn2O4: Mn3.5+,
Co3O4, NMC), as pymatgen's per-site guesses allow.  Main-group elements and
anions keep one state, so a typo such as Li6PS6Cl (it would need S-11/6) is
caught; a composition that really mixes them (Li2O2, polysulfides) must say so
(`mixed_valence = true`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from ..model.elements import element

# Elements that form anions in the compounds of this field; a composition
# without any is an alloy or an element (LiIn, Li15Ge4, Li) and carries no
# formal charges to balance.
ANION_FORMERS = frozenset({"N", "P", "As", "O", "S", "Se", "Te", "F", "Cl", "Br", "I", "H"})
TOL = 1e-6
MAX_COMBINATIONS = 200_000


@dataclass(frozen=True)
class Balance:
    balanced: bool
    states: dict[str, float] | None  # a balancing assignment (averages for mixed metals), or the closest one
    residual: float  # total charge of `states` per formula unit
    skipped: str | None = None  # why no check was needed


def _states(el: str, icsd: bool) -> tuple[int, ...]:
    e = element(el)
    states = set(e.common_oxidation_states)
    if icsd:
        states |= set(e.icsd_oxidation_states or ())
    if not states:
        states = set(e.oxidation_states)
    # 0 is the state of an element, not of an ion in a compound: allowing it
    # let the typo Li6PS5CI (C + I for Cl) balance with carbon at 0
    states.discard(0)
    return tuple(sorted(states)) or (0,)


def charge_balance(comp: dict[str, float]) -> Balance:
    if len(comp) == 1:
        return Balance(True, {next(iter(comp)): 0}, 0.0, skipped="element")
    if not ANION_FORMERS & comp.keys():
        return Balance(True, None, 0.0, skipped="alloy")
    best: tuple[float, dict[str, int]] | None = None
    els = sorted(comp)
    # The most electronegative element is the anion and keeps a negative
    # state: otherwise ICSD's Cl+1 would "balance" the typo Li6PS6Cl.
    anion = max(els, key=lambda el: (_x(el), el))
    for icsd in (False, True):
        options = [tuple(s for s in _states(el, icsd) if el != anion or s < 0) or (0,) for el in els]
        n = 1
        for o in options:
            n *= len(o)
        if n > MAX_COMBINATIONS:
            continue
        for combo in itertools.product(*options):
            q = sum(comp[el] * s for el, s in zip(els, combo))
            if best is None or abs(q) < abs(best[0]) - TOL:
                best = (q, dict(zip(els, combo)))
            if abs(q) < TOL:
                return Balance(True, dict(zip(els, combo)), 0.0)
    mixed = _transition_metal_average(comp, els, anion)
    if mixed is not None:
        return Balance(True, mixed, 0.0)
    assert best is not None
    return Balance(False, best[1], best[0])


def _x(el: str) -> float:
    x = element(el).X
    return -1.0 if x != x else x  # noble gases have no electronegativity


def _is_transition_metal(el: str) -> bool:
    e = element(el)
    return e.is_transition_metal or e.is_lanthanoid or e.is_actinoid


def _transition_metal_average(comp: dict[str, float], els: list[str], anion: str) -> dict[str, float] | None:
    """Balance with transition metals at any average between their lowest and
    highest positive ICSD state, the other elements at one state each."""
    metals = [el for el in els if el != anion and _is_transition_metal(el)]
    if not metals:
        return None
    others = [el for el in els if el not in metals]
    ranges = {}
    for el in metals:
        pos = [x for x in _states(el, True) if x > 0]
        if not pos:
            return None
        ranges[el] = (min(pos), max(pos))
    lo = sum(comp[el] * ranges[el][0] for el in metals)
    hi = sum(comp[el] * ranges[el][1] for el in metals)
    options = [tuple(x for x in _states(el, True) if el != anion or x < 0) or (0,) for el in others]
    for combo in itertools.product(*options):
        need = -sum(comp[el] * x for el, x in zip(others, combo))
        if lo - TOL <= need <= hi + TOL:
            # spread the metals' charge proportionally within their ranges
            f = 0.0 if hi == lo else (need - lo) / (hi - lo)
            out = {el: x for el, x in zip(others, combo)}
            out.update({el: round(ranges[el][0] + f * (ranges[el][1] - ranges[el][0]), 4) for el in metals})
            return out
    return None
