"""Partially occupied structures -> ordered cells for DFT.

LGPS, argyrodites and substituted derivatives have sites that are half Li or
half Ge/P.  A DFT cell needs one definite arrangement.  The usual choice
(e.g. Mo, Ong, Ceder 2012 for LGPS) is the arrangement of lowest electrostatic
(Ewald) energy with formal charges.

Two paths, chosen by the size of the problem:
- up to EXACT_LIMIT arrangements: pymatgen's OrderDisorderedStructureTransformation
  ranks them all (exact);
- beyond (the argyrodite's 24 Li on 48 sites: 3e13 arrangements, which the
  exact search cannot finish), a seeded simulated annealing of site swaps on
  the Ewald interaction matrix, computed once.  Deterministic for a given
  seed; the bound is the fixed number of sweeps, not wall time, so the same
  seed gives the same cell on every machine.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

EXACT_LIMIT = 20_000
MAX_ATOMS_DEFAULT = 200
SWEEPS = 400
RESTARTS = 4

SUPERCELLS = sorted(
    {tuple(d) for d in itertools.product((1, 2, 3), repeat=3)},
    key=lambda d: (d[0] * d[1] * d[2], max(d) - min(d), d),
)


class OrderingError(ValueError):
    pass


@dataclass
class Ordered:
    structure: object  # pymatgen Structure, ordered
    supercell: tuple[int, int, int]
    method: str
    seed: int
    ewald_energy_eV: float
    arrangements: float  # how many arrangements the partial sites allow
    rank: int = 0
    notes: list[str] = field(default_factory=list)


def is_ordered(s) -> bool:
    return s.is_ordered


def _groups(s):
    """Partial sites grouped by their species dict: {key: [site indices]}."""
    groups: dict[tuple, list[int]] = {}
    for i, site in enumerate(s):
        if not site.is_ordered:
            key = tuple(sorted((sp.symbol, round(float(x), 6)) for sp, x in site.species.items()))
            groups.setdefault(key, []).append(i)
    return groups


def _counts(key, n_sites):
    """How many of the group's sites each species fills (None if not whole)."""
    out = {}
    for sym, x in key:
        c = x * n_sites
        if abs(c - round(c)) > 1e-3:
            return None
        out[sym] = int(round(c))
    if sum(out.values()) > n_sites:
        return None
    return out


def _supercell_for(s, max_atoms: int):
    for d in SUPERCELLS:
        n = d[0] * d[1] * d[2]
        ok = all(_counts(key, len(idx) * n) is not None for key, idx in _groups(s).items())
        if ok:
            atoms = sum(site.species.num_atoms for site in s) * n
            if atoms > max_atoms:
                raise OrderingError(f"the smallest ordered cell has {atoms:.0f} atoms (supercell {d}); "
                                    f"the limit is {max_atoms}: raise max_atoms in `order` or use a smaller cell")
            return d
    raise OrderingError("the occupancies do not become whole numbers in any supercell up to 3x3x3")


def arrangements(s) -> float:
    total = 1.0
    for key, idx in _groups(s).items():
        counts = _counts(key, len(idx))
        if counts is None:
            return math.inf
        rest = len(idx)
        for c in counts.values():
            total *= math.comb(rest, c)
            rest -= c
    return total


def order(structure, oxidation_states: dict[str, float], seed: int = 0, keep: int = 1,
          max_atoms: int | None = None) -> list[Ordered]:
    """The `keep` lowest-Ewald-energy ordered cells of a partially occupied structure."""
    from pymatgen.core import Structure

    max_atoms = max_atoms or MAX_ATOMS_DEFAULT
    s = Structure.from_sites(structure)
    if s.is_ordered:
        return [Ordered(s, (1, 1, 1), "already ordered", seed, float("nan"), 1.0)]
    d = _supercell_for(s, max_atoms)
    if d != (1, 1, 1):
        s.make_supercell(list(d))
    missing = {el.symbol for el in s.composition.elements} - set(oxidation_states)
    if missing:
        raise OrderingError(f"no oxidation state for {', '.join(sorted(missing))}")
    n_arr = arrangements(s)
    if n_arr <= EXACT_LIMIT:
        return _exact(s, oxidation_states, keep, d, seed, n_arr)
    return _anneal(s, oxidation_states, keep, d, seed, n_arr)


def _exact(s, ox, keep, d, seed, n_arr) -> list[Ordered]:
    from pymatgen.transformations.standard_transformations import OrderDisorderedStructureTransformation

    t = s.copy()
    t.add_oxidation_state_by_element(ox)
    ranked = OrderDisorderedStructureTransformation(algo=2).apply_transformation(t, return_ranked_list=max(keep, 1))
    out = []
    for rank, r in enumerate(ranked[:keep]):
        st = r["structure"]
        st.remove_oxidation_states()
        out.append(Ordered(st.get_sorted_structure(), d, "ewald-exact", seed, float(r["energy"]), n_arr, rank))
    return out


def _anneal(s, ox, keep, d, seed, n_arr) -> list[Ordered]:
    import numpy as np
    from pymatgen.analysis.ewald import EwaldSummation
    from pymatgen.core import Structure

    # unit charges on every site: E(config) = q^T M q with q the occupants' charges
    unit = Structure(s.lattice, ["H"] * len(s), s.frac_coords)
    unit.add_oxidation_state_by_element({"H": 1})
    M = EwaldSummation(unit).total_energy_matrix
    M = (M + M.T) / 2
    fixed_q = np.zeros(len(s))
    groups = _groups(s)
    for i, site in enumerate(s):
        if site.is_ordered:
            fixed_q[i] = ox[site.specie.symbol]
    slots = []  # per group: (indices, list of occupant symbols incl. None for vacancy)
    for key, idx in groups.items():
        counts = _counts(key, len(idx))
        occupants = [sym for sym, c in sorted(counts.items()) for _ in range(c)]
        occupants += [None] * (len(idx) - len(occupants))
        slots.append((np.array(idx), occupants))
    rng = np.random.default_rng(seed)
    best: list[tuple[float, tuple]] = []
    for _ in range(RESTARTS):
        assign = [list(rng.permutation(np.array(occ, dtype=object))) for _, occ in slots]
        q = fixed_q.copy()
        for (idx, _), a in zip(slots, assign):
            q[idx] = [ox[x] if x is not None else 0.0 for x in a]
        e = float(q @ M @ q)
        t0 = max(abs(e) * 1e-3, 1e-3)
        for sweep in range(SWEEPS):
            temp = t0 * (1 - sweep / SWEEPS) + 1e-9
            for g, (idx, _) in enumerate(slots):
                for _ in range(len(idx)):
                    i, j = rng.integers(0, len(idx), size=2)
                    a, b = idx[i], idx[j]
                    if q[a] == q[b]:
                        continue
                    dq = q[b] - q[a]
                    # energy change of exchanging the charges at a and b
                    de = 2 * dq * (M[a] @ q - M[b] @ q) + dq * dq * (M[a, a] + M[b, b] - 2 * M[a, b])
                    if de < 0 or rng.random() < math.exp(-de / temp):
                        q[a], q[b] = q[b], q[a]
                        assign[g][i], assign[g][j] = assign[g][j], assign[g][i]
                        e += de
        key = tuple(tuple(a) for a in assign)
        if all(key != k for _, k in best):
            best.append((float(q @ M @ q), key))
    best.sort(key=lambda x: x[0])
    out = []
    for rank, (energy, key) in enumerate(best[:keep]):
        species, coords = [], []
        occupied = {}
        for (idx, _), a in zip(slots, key):
            for site_i, sym in zip(idx, a):
                occupied[int(site_i)] = sym
        for i, site in enumerate(s):
            sym = site.specie.symbol if site.is_ordered else occupied[i]
            if sym is not None:
                species.append(sym)
                coords.append(site.frac_coords)
        st = Structure(s.lattice, species, coords).get_sorted_structure()
        out.append(Ordered(st, d, "ewald-anneal", seed, energy, n_arr, rank,
                           [f"{n_arr:.3g} arrangements; simulated annealing, {RESTARTS} restarts x {SWEEPS} sweeps"]))
    return out


def apply_edits(structure, edits) -> object:
    """A library structure with `substitute / add / remove` edits applied as
    partial occupancies (amounts per formula unit of the parent)."""
    from pymatgen.core import Composition, Structure

    s = Structure.from_sites(structure)
    z = s.composition.get_reduced_composition_and_factor()[1]
    for e in edits:
        amount_cell = e.amount * z
        have = sum(site.species.get_el_amt_dict().get(e.species, 0.0) for site in s)
        if e.op in ("substitute", "remove"):
            if have < amount_cell - 1e-6:
                raise OrderingError(f"cannot {e.op} {e.amount:g} {e.species} per formula unit: the structure has "
                                    f"{have / z:g}")
            frac = amount_cell / have
            for i, site in enumerate(s):
                sp = site.species.get_el_amt_dict()
                if e.species in sp:
                    x = sp[e.species]
                    sp[e.species] = x * (1 - frac)
                    if e.op == "substitute":
                        sp[e.new_species] = sp.get(e.new_species, 0.0) + x * frac
                    s.replace(i, Composition({k: v for k, v in sp.items() if v > 1e-9}), properties=site.properties)
        else:  # add: fill the vacancies of the partially occupied sites of that element
            room = []
            for i, site in enumerate(s):
                sp = site.species.get_el_amt_dict()
                if e.species in sp and site.species.num_atoms < 1 - 1e-9:
                    room.append((i, 1 - site.species.num_atoms))
            total = sum(r for _, r in room)
            if total < amount_cell - 1e-6:
                raise OrderingError(f"no room to add {e.amount:g} {e.species} per formula unit: its sites have "
                                    f"{total / z:g} vacancies")
            for i, r in room:
                sp = s[i].species.get_el_amt_dict()
                sp[e.species] += amount_cell * r / total
                s.replace(i, Composition(sp), properties=s[i].properties)
    return s
