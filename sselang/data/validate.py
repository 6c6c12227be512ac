"""Checks every library phase must pass (tests/test_library.py runs them all).

A table typed from a paper can go wrong in a few typical ways: a coordinate
with a digit dropped (atoms far too close), the wrong origin setting (wrong
space group after expansion, overlapping orbits), a formula that does not
match the sites.  Each gives a problem string here.
"""

from __future__ import annotations

from .library import Phase, build

MIN_DISTANCE_A = 1.1  # shorter than any bond between the heavy atoms of this field (C-O 1.28, B-O 1.37)
MIN_DISTANCE_H_A = 0.7  # H-H in H2 0.74, O-H 0.97
MIN_BOND_RATIO = 0.7  # shortest distance / (sum of covalent radii) between fully occupied sites


def problems(p: Phase) -> list[str]:
    import numpy as np
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    from ..checks.chemistry import charge_balance
    from ..model.formula import parse_formula

    out: list[str] = []
    try:
        s = build(p)
    except Exception as e:  # noqa: BLE001 - report any failure to build as a problem of the record
        return [f"does not build: {e}"]
    want = parse_formula(p.formula)
    comp = s.composition.reduced_composition if p.is_ordered else s.composition
    got = {el.symbol: amt for el, amt in comp.items()}
    total_w, total_g = sum(want.values()), sum(got.values())
    if set(want) != set(got) or any(abs(want[k] / total_w - got[k] / total_g) > 2e-3 for k in want):
        out.append(f"sites give {s.composition.reduced_formula if p.is_ordered else s.composition}, "
                   f"formula says {p.formula}")
    b = charge_balance(want)
    if not b.balanced and not p.mixed_valence:
        out.append(f"{p.formula} is not charge balanced ({b.residual:+g})")
    # overlapping sites: total occupancy above 1 at one position
    dm = s.distance_matrix
    np.fill_diagonal(dm, np.inf)
    occ = np.array([site.species.num_atoms for site in s])
    for i, j in zip(*np.where(dm < 0.5)):
        if i < j and occ[i] + occ[j] > 1 + 1e-6:
            out.append(f"sites {s[i].label} and {s[j].label} overlap with total occupancy {occ[i] + occ[j]:.2f}")
            break
    has_h = any(el.symbol == "H" for el in s.composition.elements)
    limit = MIN_DISTANCE_H_A if has_h else MIN_DISTANCE_A
    close = dm[dm >= 0.5].min() if (dm >= 0.5).any() else np.inf
    if close < limit:
        i, j = np.argwhere(dm == close)[0]
        out.append(f"atoms {s[i].label} and {s[j].label} are {close:.2f} Å apart (< {limit} Å)")
    # between fully occupied sites, a bond much shorter than the covalent radii allow is a
    # typing error (the worst real case in the library, Nb-O in Nb2O5, is 0.78 of the sum);
    # partially occupied split sites may sit close by design and are left to the absolute limit
    from ase.data import atomic_numbers, covalent_radii

    full = occ > 1 - 1e-6
    r = np.array([covalent_radii[atomic_numbers[site.species.elements[0].symbol]] for site in s])
    ratio = np.where(np.outer(full, full) & (dm >= 0.5), dm / (r[:, None] + r[None, :]), np.inf)
    if ratio.min() < MIN_BOND_RATIO:
        i, j = np.unravel_index(np.argmin(ratio), ratio.shape)
        out.append(f"{s[i].label}-{s[j].label} is {dm[i, j]:.2f} Å, {ratio[i, j]:.2f} of the covalent radii's "
                   f"sum (< {MIN_BOND_RATIO})")
    try:
        sg = SpacegroupAnalyzer(s, symprec=0.01).get_space_group_number()
        if sg != p.spacegroup:
            out.append(f"the expanded structure has space group {sg}, the table says {p.spacegroup}")
    except Exception as e:  # noqa: BLE001
        out.append(f"symmetry analysis failed: {e}")
    return out
