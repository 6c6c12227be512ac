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

# Diagonal supercells of the primitive cell, smallest first, then the most
# isotropic: NMC811's 10 transition metals need 1x2x5 of the primitive cell.
SUPERCELLS = sorted(
    {tuple(d) for d in itertools.product(range(1, 7), repeat=3) if d[0] * d[1] * d[2] <= 36},
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


def _supercell_for(s, max_atoms: int, target: dict[str, float] | None = None):
    for d in SUPERCELLS:
        n = d[0] * d[1] * d[2]
        if target is not None:
            ok = _rounded_counts(s, n, target) is not None
        else:
            ok = all(_counts(key, len(idx) * n) is not None for key, idx in _groups(s).items())
        if ok:
            atoms = sum(site.species.num_atoms for site in s) * n
            if atoms > max_atoms:
                raise OrderingError(f"the smallest ordered cell has {atoms:.0f} atoms (supercell {d}); "
                                    f"the limit is {max_atoms}: raise max_atoms in `order` or use a smaller cell")
            return d
    raise OrderingError("the occupancies do not become whole numbers in any supercell of up to 36 primitive cells")


def _rounded_counts(s, n: int, target: dict[str, float]) -> dict[tuple, dict[str, int]] | None:
    """Whole occupant counts per partial-site group in an n-fold supercell such
    that the cell holds the target formula exactly.

    Refined occupancies rarely add up to the ideal formula (LGPS: Li10.1Ge1.03P1.97S12
    as refined); the ordered approximant takes the formula's composition and
    shares each element's atoms among its partial sites by largest remainder."""
    comp = s.composition
    z_est = [comp[el] * n / target[el.symbol] for el in comp if el.symbol in target]
    if not z_est or set(target) != {el.symbol for el in comp}:
        return None
    z = round(sum(z_est) / len(z_est))
    if z < 1 or any(abs(x - z) / z > 0.05 for x in z_est):
        return None
    groups = _groups(s)
    out: dict[tuple, dict[str, int]] = {key: {} for key in groups}
    fixed: dict[str, int] = {}
    for site in s:
        if site.is_ordered:
            fixed[site.specie.symbol] = fixed.get(site.specie.symbol, 0) + n
    for el, amount in target.items():
        want = amount * z - fixed.get(el, 0)
        if abs(want - round(want)) > 1e-3 or want < -1e-9:
            return None
        want = int(round(want))
        shares = [(key, sum(x for sym, x in key if sym == el) * len(idx) * n) for key, idx in groups.items()
                  if any(sym == el for sym, _ in key)]
        if not shares:
            if want:
                return None
            continue
        base = {key: int(math.floor(x + 1e-9)) for key, x in shares}
        rest = want - sum(base.values())
        order_ = sorted(shares, key=lambda kx: (-(kx[1] - math.floor(kx[1] + 1e-9)), kx[0]))
        if rest < 0 or rest > len(order_):
            return None
        for key, _ in order_[:rest]:
            base[key] += 1
        for key, c in base.items():
            out[key][el] = c
    for key, idx in groups.items():
        if sum(out[key].values()) > len(idx) * n:
            return None
    return out


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
          max_atoms: int | None = None, target: dict[str, float] | None = None,
          cell: str = "primitive") -> list[Ordered]:
    """The `keep` lowest-Ewald-energy ordered cells of a partially occupied structure.

    `target` (the formula) fixes the composition of the ordered cell when the
    occupancies themselves do not add up to whole atoms.  `cell` is the cell
    whose supercells are tried: "primitive" (smallest approximants) or
    "conventional" (the cell as given, e.g. the 52-atom argyrodite cell that
    the literature orders)."""
    from pymatgen.core import Structure

    max_atoms = max_atoms or MAX_ATOMS_DEFAULT
    s = Structure.from_sites(structure)
    if s.is_ordered:
        return [Ordered(s, (1, 1, 1), "already ordered", seed, float("nan"), 1.0)]
    if cell == "primitive":
        s = _primitive(s)
    try:
        d = _supercell_for(s, max_atoms)
    except OrderingError:
        if target is None:
            raise
        d = _supercell_for(s, max_atoms, target)
    if d != (1, 1, 1):
        s.make_supercell(list(d))
    if any(_counts(key, len(idx)) is None for key, idx in _groups(s).items()):
        s = _with_whole_occupancies(s, _rounded_counts(s, 1, target))
    missing = {el.symbol for el in s.composition.elements} - set(oxidation_states)
    if missing:
        raise OrderingError(f"no oxidation state for {', '.join(sorted(missing))}")
    n_arr = arrangements(s)
    if n_arr <= EXACT_LIMIT:
        return _exact(s, oxidation_states, keep, d, seed, n_arr)
    return _anneal(s, oxidation_states, keep, d, seed, n_arr)


def _primitive(s):
    """The primitive cell (partial sites count as their species mixture), so
    supercells are counted in the smallest repeat unit."""
    try:
        p = s.get_primitive_structure(tolerance=0.01)
    except Exception:  # noqa: BLE001 - keep the cell as given if symmetry search fails
        return s
    return p if len(p) < len(s) else s


def _with_whole_occupancies(s, counts):
    """The structure with each partial group's occupancy set to its whole counts."""
    from pymatgen.core import Composition

    t = s.copy()
    for key, idx in _groups(s).items():
        occ = {el: c / len(idx) for el, c in counts[key].items() if c}
        for i in idx:
            t.replace(i, Composition(occ) if occ else Composition({key[0][0]: 1e-9}), properties=s[i].properties)
    return t


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
        occupied = {int(site_i): sym for (idx, _), a in zip(slots, key) for site_i, sym in zip(idx, a)}
        out.append(Ordered(_filled(s, occupied), d, "ewald-anneal", seed, energy, n_arr, rank,
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


def random_order(structure, seed: int = 0, max_atoms: int | None = None) -> list[Ordered]:
    """One random arrangement of the partial sites (a seeded draw, no energy ranking)."""
    import numpy as np
    from pymatgen.core import Structure

    s = _primitive(Structure.from_sites(structure))
    d = _supercell_for(s, max_atoms or MAX_ATOMS_DEFAULT)
    if d != (1, 1, 1):
        s.make_supercell(list(d))
    rng = np.random.default_rng(seed)
    occupant: dict[int, str | None] = {}
    for key, idx in _groups(s).items():
        counts = _counts(key, len(idx))
        occ = [sym for sym, c in sorted(counts.items()) for _ in range(c)] + [None] * (len(idx) - sum(counts.values()))
        for i, sym in zip(idx, rng.permutation(np.array(occ, dtype=object))):
            occupant[i] = sym
    return [Ordered(_filled(s, occupant), d, "random", seed, float("nan"), arrangements(s))]


def _filled(s, occupant: dict[int, str | None]):
    """The ordered structure: each partial site i holds occupant[i] (None: vacant)."""
    from pymatgen.core import Structure

    species, coords = [], []
    for i, site in enumerate(s):
        sym = site.specie.symbol if site.is_ordered else occupant[i]
        if sym is not None:
            species.append(sym)
            coords.append(site.frac_coords)
    return Structure(s.lattice, species, coords).get_sorted_structure()
