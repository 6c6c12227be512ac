"""Derive the idealized enargite-type table of gamma-Li3PS4 (Pmn2_1).

gamma-Li3PS4 has the enargite (Cu3AsS4) structure: a wurtzite superstructure
(a = 2 a_w, b = sqrt(3) a_w, c = c_w) in which one cation in four is P, placed
so that every S belongs to exactly one PS4 tetrahedron.  This script builds
the ideal wurtzite positions (u = 3/8) in the published cell of Homma et al.
(Solid State Ionics 182 (2011) 53: a = 7.708, b = 6.535, c = 6.136 Å),
enumerates the 28 placements of 2 P on the 8 cation sites, keeps those with
isolated PS4 tetrahedra and space group Pmn2_1, and prints the asymmetric unit
in the standard setting for sselang/data/phases/lithium_thiophosphates.toml.
The dataset build relaxes the ideal positions (CHGNet).
"""

import itertools

import numpy as np
from pymatgen.core import Lattice, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

A, B, C = 7.708, 6.535, 6.136
U = 3 / 8
# orthohexagonal wurtzite cell (4 atoms per cation/anion pair set), doubled along a
base_cat = [(0, 0, 0), (0.5, 0.5, 0), (0, 1 / 3, 0.5), (0.5, 5 / 6, 0.5)]
cations, anions = [], []
for shift in (0, 0.5):
    for x, y, z in base_cat:
        cations.append(((x / 2 + shift) % 1, y, z))
        anions.append(((x / 2 + shift) % 1, y, (z + U) % 1))
lat = Lattice.orthorhombic(A, B, C)
found = set()
for pair in itertools.combinations(range(8), 2):
    species = ["P" if i in pair else "Li" for i in range(8)] + ["S"] * 8
    s = Structure(lat, species, cations + anions)
    # every S bonded (nearest cations, < 2.6 Å in the ideal cell) to exactly one P
    ok = True
    for j in range(8, 16):
        near = [n for n in s.get_neighbors(s[j], 2.6) if n.specie.symbol in ("Li", "P")]
        if sum(n.specie.symbol == "P" for n in near) != 1:
            ok = False
            break
    if not ok:
        continue
    sga = SpacegroupAnalyzer(s, symprec=1e-3)
    if sga.get_space_group_number() != 31:
        continue
    std = sga.get_symmetrized_structure()
    key = tuple(sorted(len(g) for g in std.equivalent_sites))
    if key in found:
        continue
    found.add(key)
    ref = SpacegroupAnalyzer(s, symprec=1e-3).get_refined_structure()
    sym = SpacegroupAnalyzer(ref, symprec=1e-3).get_symmetrized_structure()
    print("lattice", ref.lattice.abc)
    for g in sym.equivalent_sites:
        site = sorted(g, key=lambda t: tuple(np.round(t.frac_coords, 4)))[0]
        print(site.specie, len(g), np.round(site.frac_coords, 5))
