"""Lattice-matched interface models for `interface A | B` requests.

A is the substrate, B the film: the film is strained onto the substrate's
in-plane lattice and stacked on it.  The search:

1. both ordered structures in their conventional standard cells, so that the
   Miller indices mean what they mean in the literature ((104) of LiCoO2 in
   its hexagonal setting, (001) of a cubic cell along a cube axis);
2. a small fixed set of low-index planes per side (PLANES, plus HEX_PLANES for
   hexagonal lattices), symmetry-equivalent ones dropped;
3. for every film x substrate plane pair, the Zur-McGill supercell matches
   (pymatgen's ZSLGenerator) up to the largest area the request allows (and a
   MAX_ATOMS model can hold at the requested thickness), kept when every
   principal in-plane strain of the film is within max_strain;
4. the match with the smallest area (to 1e-3 Å^2), then the smallest
   largest principal strain, then the Miller indices (film, then substrate,
   compared as tuples), then the supercell vectors themselves, so the choice
   never depends on the order in which matches were found;
5. the model from pymatgen's CoherentInterfaceBuilder: both slabs at least
   `thickness` thick (outermost atomic planes), GAP_A between them, and either
   `vacuum` above the film or (vacuum 0) the same gap again, which makes a
   periodic cell holding two film/substrate interfaces.

Deliberate differences from pymatgen's defaults: the ZSL length and angle
tolerances are the request's max_strain (pymatgen: 3 % and 1 %), its
area-ratio tolerance is widened to what that strain allows (pymatgen: 9 %),
and the strain accepted is then checked on the principal strains of the
film's in-plane deformation; slab thickness is given in Å and raised until the
atoms (not the slab's bulk repeat) span it; one termination pair is built
(the first pymatgen lists), not all of them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

MAX_ATOMS = 400  # an interface relax beyond this is not a routine DFT job
SEARCH_SECONDS = 120.0  # wall-time guard on the lattice-match search
FIRST_AREA_A2 = 50.0  # first area bound of the search (doubled until a match is found)
GAP_A = 2.0  # film-substrate spacing before relaxation (pymatgen's default gap)
PLANES = ((0, 0, 1), (1, 0, 0), (1, 1, 0), (1, 1, 1))
HEX_PLANES = ((1, 0, 4),)  # the usual facet of layered R-3m oxides (LiCoO2, NMC) in the hexagonal setting


class InterfaceError(ValueError):
    """No model within the request's limits; the message says which limit."""


@dataclass(frozen=True)
class Match:
    area: float  # Å^2, of the matched supercells (the substrate's is the model's)
    strains: tuple[float, float]  # principal in-plane strains of the film (stretch - 1)
    von_mises: float  # von Mises strain of the film's Green-Lagrange strain (pymatgen's definition)
    film_miller: tuple[int, int, int]
    substrate_miller: tuple[int, int, int]
    film_vectors: tuple[tuple[float, float, float], ...]  # supercell vectors, fractions of the film's conventional cell
    substrate_vectors: tuple[tuple[float, float, float], ...]  # ... and of the substrate's
    zsl: object  # pymatgen ZSLMatch

    @property
    def max_strain(self) -> float:
        return max(abs(x) for x in self.strains)

    def key(self):
        return (round(self.area, 3), round(self.max_strain, 6), self.film_miller, self.substrate_miller,
                self.film_vectors, self.substrate_vectors)


@dataclass
class InterfaceModel:
    structure: object  # pymatgen Interface (a Structure), sorted by species
    match: Match
    termination: tuple[str, str]  # (film, substrate) labels as pymatgen names them
    terminations: tuple[tuple[str, str], ...]  # every pair pymatgen found for these planes
    film_thickness_A: float  # between the outermost atomic planes of the film
    substrate_thickness_A: float
    film_units: int  # formula units of the film's reduced formula
    substrate_units: int
    vacuum_A: float
    gap_A: float
    substrate_bulk: object  # conventional cells the Miller indices refer to
    film_bulk: object

    def summary(self) -> dict:
        """What the plan records (and the README shows); plain JSON values."""
        m = self.match
        s = self.structure
        return {
            "substrate_miller": list(m.substrate_miller), "film_miller": list(m.film_miller),
            "substrate_termination": self.termination[1], "film_termination": self.termination[0],
            "terminations_found": len(self.terminations),
            "area_A2": round(m.area, 4), "strain_principal": [round(x, 6) for x in m.strains],
            "von_mises_strain": round(m.von_mises, 6), "strained": "film",
            "substrate_vectors": [list(v) for v in m.substrate_vectors],
            "film_vectors": [list(v) for v in m.film_vectors],
            "natoms": len(s), "substrate_atoms": len(self.structure.substrate_indices),
            "film_atoms": len(self.structure.film_indices),
            "substrate_units": self.substrate_units, "film_units": self.film_units,
            "substrate_thickness_A": round(self.substrate_thickness_A, 4),
            "film_thickness_A": round(self.film_thickness_A, 4),
            "gap_A": self.gap_A, "vacuum_A": self.vacuum_A, "periodic": self.vacuum_A == 0,
        }


def conventional(structure):
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    return SpacegroupAnalyzer(structure, symprec=0.01).get_conventional_standard_structure()


def planes(structure) -> list[tuple[int, int, int]]:
    """The candidate planes of a conventional cell, one per symmetry family,
    in PLANES order."""
    from pymatgen.core.surface import get_symmetrically_equivalent_miller_indices

    cands = PLANES + (HEX_PLANES if structure.lattice.is_hexagonal() else ())
    out: list[tuple[int, int, int]] = []
    seen: set[tuple[int, ...]] = set()
    for hkl in cands:
        if hkl in seen:
            continue
        out.append(hkl)
        seen.update(tuple(int(x) for x in e) for e in
                    get_symmetrically_equivalent_miller_indices(structure, hkl, return_hkil=False))
    return out


def _slab_generator(structure, hkl, size=1.0, in_unit_planes=True):
    from pymatgen.core.surface import SlabGenerator

    # the same generator CoherentInterfaceBuilder uses, so the in-plane
    # vectors found here are the ones it builds with
    return SlabGenerator(structure, hkl, min_slab_size=size, min_vacuum_size=3, in_unit_planes=in_unit_planes,
                         center_slab=True, primitive=True, reorient_lattice=False)


def _in_plane(structure, hkl) -> np.ndarray:
    return _slab_generator(structure, hkl).get_slab(shift=0).lattice.matrix[:2]


def _frac_vectors(lattice, vectors) -> tuple[tuple[float, float, float], ...]:
    """Cartesian lattice vectors in fractions of a conventional cell (halves
    and thirds where the lattice is centred), rounded for the record."""
    frac = lattice.get_fractional_coords(np.asarray(vectors, dtype=float))
    return tuple(tuple(round(float(x), 6) + 0.0 for x in row) for row in frac)


def film_strain(film_vectors, substrate_vectors) -> tuple[tuple[float, float], float]:
    """Principal strains (stretch - 1) and the von Mises strain of the
    deformation that maps the film supercell onto the substrate's, from the
    two 2x2 Gram matrices alone (so frame and rotation play no part).

    With G = V V^T, the right Cauchy-Green tensor of the map has the
    eigenvalues of G_f^-1 G_s; stretches are their roots, the Green-Lagrange
    strain is (C - 1)/2 with a zero out-of-plane component (pymatgen keeps the
    normal's length)."""
    f = np.asarray(film_vectors, dtype=float)
    s = np.asarray(substrate_vectors, dtype=float)
    lam = np.sort(np.linalg.eigvals(np.linalg.solve(f @ f.T, s @ s.T)).real)
    stretches = np.sqrt(lam)
    gl = np.array([(lam[0] - 1) / 2, (lam[1] - 1) / 2, 0.0])
    dev = gl - gl.mean()
    von_mises = float(np.sqrt(2.0 / 3.0 * np.sum(dev**2)))
    return (float(stretches[0] - 1), float(stretches[1] - 1)), von_mises


def _density(structure) -> float:
    return len(structure) / structure.volume


def find_match(substrate, film, max_area: float, max_strain: float, thickness: float,
               max_atoms: int = MAX_ATOMS, seconds: float = SEARCH_SECONDS) -> Match:
    """The chosen lattice match of two conventional cells (see the module doc)."""
    # atoms of a model >= area x thickness x (number densities): no match
    # beyond this area can fit max_atoms, so the search need not go there
    atom_area = max_atoms / (thickness * (_density(film) + _density(substrate)))
    limit = min(max_area, atom_area)
    start = time.monotonic()
    fplanes, splanes = planes(film), planes(substrate)
    fvecs = {h: _in_plane(film, h) for h in fplanes}
    svecs = {h: _in_plane(substrate, h) for h in splanes}
    # The cost of the ZSL enumeration grows steeply with the area, so the
    # search runs to a bound doubled from FIRST_AREA until a match turns up:
    # every match of area <= bound is seen at that bound, so the smallest one
    # found is the smallest there is, whatever the later bounds would add.
    bound = min(limit, FIRST_AREA_A2)
    while True:
        best = None
        for fh in fplanes:
            for sh in splanes:
                if time.monotonic() - start > seconds:
                    raise InterfaceError(f"the lattice-match search took more than {seconds:g} s; "
                                         "lower max_area or max_strain")
                for m in _matches(film, substrate, fh, sh, fvecs[fh], svecs[sh], bound, max_strain):
                    if best is None or m.key() < best.key():
                        best = m
        if best is not None:
            return best
        if bound >= limit:
            break
        bound = min(limit, 2 * bound)
    why = (f"{max_area:g} Å^2" if max_area <= atom_area else
           f"{atom_area:.0f} Å^2 (the most a {max_atoms}-atom model holds at {thickness:g} Å per slab)")
    raise InterfaceError(f"no lattice match within {why} and {max_strain * 100:g} % strain over the planes "
                         f"{_hkls(fplanes)} (film) and {_hkls(splanes)} (substrate)")


def _matches(film, substrate, fh, sh, fvecs, svecs, bound: float, max_strain: float):
    """Every ZSL match of one plane pair with a substrate area <= bound and
    film strains within max_strain."""
    from pymatgen.analysis.elasticity.strain import Deformation
    from pymatgen.analysis.interfaces.zsl import ZSLGenerator

    eps = min(max_strain, 0.5)
    # A film supercell strained by at most eps per direction covers a
    # substrate area between A_f (1 - eps)^2 and A_f (1 + eps)^2: the film's
    # area bound and the area-ratio tolerance are widened to match (pymatgen's
    # fixed 9 % ratio tolerance would miss matches strained near 5 %).
    zsl = ZSLGenerator(max_area=bound / (1 - eps) ** 2 * 1.0001, max_area_ratio_tol=((1 + eps) / (1 - eps)) ** 2 - 1,
                       max_length_tol=max_strain, max_angle_tol=max_strain, bidirectional=True)
    for zm in zsl(fvecs, svecs, lowest=False):
        area = float(np.linalg.norm(np.cross(*zm.substrate_sl_vectors)))
        if area > bound + 1e-9:
            continue
        strains, _ = film_strain(zm.film_sl_vectors, zm.substrate_sl_vectors)
        if max(abs(x) for x in strains) > max_strain + 1e-12:
            continue
        vm = float(Deformation(zm.match_transformation).green_lagrange_strain.von_mises_strain)
        yield Match(area, strains, vm, fh, sh, _frac_vectors(film.lattice, zm.film_sl_vectors),
                    _frac_vectors(substrate.lattice, zm.substrate_sl_vectors), zm)


def _hkls(hkls) -> str:
    return " ".join("(" + "".join(str(i) for i in h) + ")" for h in hkls)


class _OneMatch:
    """A ZSL generator that yields the one chosen match, so that
    CoherentInterfaceBuilder builds that model and no other."""

    def __init__(self, match) -> None:
        self.match = match

    def __call__(self, film_vectors, substrate_vectors, lowest=False):
        return [self.match]


def _extent(structure, indices) -> float:
    z = structure.cart_coords[list(indices), 2]
    return float(z.max() - z.min())


def _units(structure, indices, bulk) -> int:
    """Formula units of the bulk's reduced formula in a slab (0 if the slab
    is not stoichiometric)."""
    from collections import Counter

    from pymatgen.core import Composition

    comp = Composition(Counter(structure[i].species_string for i in indices))
    red = bulk.composition.reduced_composition
    k = comp.num_atoms / red.num_atoms
    if abs(k - round(k)) > 1e-9 or Composition({e: a * round(k) for e, a in red.items()}) != comp:
        return 0
    return int(round(k))


def build_interface(substrate_structure, film_structure, max_area: float = 400.0, max_strain: float = 0.05,
                    thickness: float = 12.0, vacuum: float = 0.0, max_atoms: int = MAX_ATOMS,
                    seconds: float = SEARCH_SECONDS) -> InterfaceModel:
    """The interface model of two ordered structures (substrate first)."""
    if not (max_area > 0 and 0 < max_strain < 1 and thickness > 0 and vacuum >= 0):
        raise InterfaceError("max_area and thickness must be positive, max_strain between 0 and 1, vacuum >= 0")
    sub, film = conventional(substrate_structure), conventional(film_structure)
    match = find_match(sub, film, max_area, max_strain, thickness, max_atoms, seconds)
    try:
        iface, term, terms, got = _build(sub, film, match, thickness, vacuum)
    except (ValueError, RuntimeError) as e:
        if isinstance(e, InterfaceError):
            raise
        raise InterfaceError(f"pymatgen could not build the matched interface: {e}") from e
    if len(iface) > max_atoms:
        raise InterfaceError(f"the smallest match ({match.area:.1f} Å^2, {_hkls([match.film_miller])} on "
                             f"{_hkls([match.substrate_miller])}) needs {len(iface)} atoms at {thickness:g} Å per "
                             f"slab, more than {max_atoms}; lower thickness, or raise max_strain for a smaller match")
    return InterfaceModel(iface, match, term, terms, got["film"], got["substrate"],
                          _units(iface, iface.film_indices, film), _units(iface, iface.substrate_indices, sub),
                          float(vacuum), GAP_A, sub, film)


def _build(sub, film, match: Match, thickness: float, vacuum: float):
    import warnings

    from pymatgen.analysis.interfaces.coherent_interfaces import CoherentInterfaceBuilder

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        builder = CoherentInterfaceBuilder(sub, film, match.film_miller, match.substrate_miller,
                                           zslgen=_OneMatch(match.zsl))
        terms = tuple(builder.terminations)
        if not terms:
            raise InterfaceError("pymatgen found no termination for the matched planes")
        term = terms[0]
        # thickness in Å counts whole oriented cells of the bulk; raise the
        # request by one such cell while the atoms do not span `thickness`
        heights = {}
        for side, s, hkl in (("film", film, match.film_miller), ("substrate", sub, match.substrate_miller)):
            ouc = _slab_generator(s, hkl).oriented_unit_cell
            a, b, _ = ouc.lattice.matrix
            heights[side] = ouc.volume / float(np.linalg.norm(np.cross(a, b)))
        want = {"film": thickness, "substrate": thickness}
        for _ in range(4):
            iface = next(builder.get_interfaces(term, gap=GAP_A, vacuum_over_film=vacuum if vacuum > 0 else GAP_A,
                                                film_thickness=want["film"], substrate_thickness=want["substrate"],
                                                in_layers=False))
            got = {"film": _extent(iface, iface.film_indices), "substrate": _extent(iface, iface.substrate_indices)}
            short = [k for k in got if got[k] < thickness - 1e-6]
            if not short:
                break
            for k in short:
                want[k] += heights[k]
        else:
            raise InterfaceError(f"the slabs do not reach {thickness:g} Å")
    return iface, term, terms, got
