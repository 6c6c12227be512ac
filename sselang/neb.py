"""Migration barriers: the Li hop along a requested direction, its endpoints and
the images between them (IDPP interpolation, ase's implementation).

A hop needs a vacancy: in the (super)cell one Li is removed (site j) and a Li
neighbour i hops into it; the final state has the vacancy at i.  Among all
Li-Li pairs within HOP_CUTOFF, the hop most closely aligned with the requested
direction (or lying in the requested plane) is taken, the shortest first, so
the choice is deterministic: the shortest hop within ~25 degrees of the
direction (or of the plane), else the best aligned one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HOP_CUTOFF = 4.0  # Å: first-neighbour Li-Li hops in sulfides are 2-4 Å
ALIGN_MIN = 0.9  # a hop within ~25 degrees of the direction counts as along it


@dataclass
class Hop:
    initial: object  # pymatgen Structure
    final: object
    images: list  # interpolated Structures (without the endpoints)
    distance: float
    alignment: float  # 1 = exactly along the direction (or in the plane)


def _direction(lattice, direction: str) -> tuple[np.ndarray, bool]:
    """A unit vector and whether it is a plane normal (for 'ab', 'xy', ...)."""
    axes = {"a": lattice.matrix[0], "b": lattice.matrix[1], "c": lattice.matrix[2],
            "x": np.array([1.0, 0, 0]), "y": np.array([0, 1.0, 0]), "z": np.array([0, 0, 1.0])}
    if len(direction) == 1:
        v = axes[direction]
        return v / np.linalg.norm(v), False
    if len(direction) == 2:
        n = np.cross(axes[direction[0]], axes[direction[1]])
        return n / np.linalg.norm(n), True
    raise ValueError(f"a hop direction is one axis or one plane, not {direction!r}")


def find_hop(structure, species: str = "Li", direction: str | None = None, images: int = 5) -> Hop:
    from ase.mep import NEB
    from pymatgen.io.ase import AseAtomsAdaptor

    s = structure
    idx = [i for i, site in enumerate(s) if site.specie.symbol == species]
    if len(idx) < 2:
        raise ValueError(f"fewer than two {species} in the cell: no {species} hop")
    unit, plane = _direction(s.lattice, direction) if direction else (None, False)
    best = None
    for i in idx:
        for nb in s.get_neighbors(s[i], HOP_CUTOFF):
            if nb.specie.symbol != species or nb.index == i:
                continue
            vec = nb.coords - s[i].coords
            d = float(np.linalg.norm(vec))
            if unit is None:
                align = 1.0
            else:
                cos = abs(float(vec @ unit)) / d
                align = 1 - cos if plane else cos
            key = (0, round(d, 3), -round(align, 3), i, nb.index) if align >= ALIGN_MIN else \
                (1, -round(align, 3), round(d, 3), i, nb.index)
            if best is None or key < best[0]:
                best = (key, i, nb.index, nb.coords.copy(), d, align)
    if best is None:
        raise ValueError(f"no {species}-{species} pair within {HOP_CUTOFF} Å")
    _, i, j, j_coords, d, align = best
    initial = s.copy()
    initial.remove_sites([j])
    moved = i if i < j else i - 1
    final = initial.copy()
    final.replace(moved, species, coords=j_coords, coords_are_cartesian=True)
    ada = AseAtomsAdaptor()
    path = [ada.get_atoms(initial)] + [ada.get_atoms(initial) for _ in range(images)] + [ada.get_atoms(final)]
    # the band method only matters for forces; named so ase does not warn about its changed default
    NEB(path, method="improvedtangent").interpolate(method="idpp", mic=True)
    mids = [ada.get_structure(a) for a in path[1:-1]]
    return Hop(initial, final, mids, d, align)
