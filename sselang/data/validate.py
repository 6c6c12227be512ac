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
    try:
        sg = SpacegroupAnalyzer(s, symprec=0.01).get_space_group_number()
        if sg != p.spacegroup:
            out.append(f"the expanded structure has space group {sg}, the table says {p.spacegroup}")
    except Exception as e:  # noqa: BLE001
        out.append(f"symmetry analysis failed: {e}")
    return out
