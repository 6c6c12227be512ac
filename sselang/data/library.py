"""The structure library: crystallographic tables -> pymatgen Structures.

Every phase is one record in a TOML table under sselang/data/phases/, written
the way a paper or a database entry states a structure, so it can be reviewed
against its reference:

    [[phase]]
    name       = "LiCoO2"               # library name (unique); what library("...") takes
    formula    = "LiCoO2"               # reduced formula the structure must have
    spacegroup = 166                    # International Tables number
    setting    = "H"                    # spglib's choice: origin "1"/"2", "H"/"R", "b1", "Pbnm", ...
    lattice    = { a = 2.816, c = 14.052 }   # Å and degrees; missing values follow the crystal system
    reference  = "Akimoto et al., J. Solid State Chem. 141 (1998) 298"
    sites = [
      { label = "Li1", species = "Li", wyckoff = "3b", xyz = [0, 0, 0.5] },
      { label = "Co1", species = "Co", wyckoff = "3a", xyz = [0, 0, 0] },
      { label = "O1",  species = "O",  wyckoff = "6c", xyz = [0, 0, 0.2396] },
    ]

Partial occupancy: `species = { Li = 0.5 }` (vacancy on the rest) or
`species = { Ge = 0.5, P = 0.5 }` (mixed site).

Deliberate difference from pymatgen's Structure.from_spacegroup: it knows one
setting per space group (origin choice 1 for Fd-3m and P4_2/nmc, for
instance), while the literature and the ICSD mostly state origin choice 2.
The orbits are generated here from spglib's database of all 530 Hall
settings instead, so a table is typed exactly as published; the test then
checks the result with spglib (the stated space group) and pymatgen.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

PHASES_DIR = Path(__file__).with_name("phases")
STRUCTURES_DIR = Path(__file__).with_name("structures")
SYMPREC = 1e-3


@dataclass(frozen=True)
class Site:
    label: str
    species: dict[str, float]
    wyckoff: str
    xyz: tuple[float, float, float]


@dataclass(frozen=True)
class Phase:
    name: str
    formula: str
    spacegroup: int
    setting: str | None
    lattice: dict[str, float]
    sites: tuple[Site, ...]
    reference: str
    source_file: str
    note: str = ""
    ordering: dict | None = None  # how the build orders a partially occupied phase
    mixed_valence: bool = False  # peroxides, polysulfides, polyphosphides: no single-state charge balance

    @property
    def is_ordered(self) -> bool:
        return all(len(s.species) == 1 and abs(next(iter(s.species.values())) - 1) < 1e-9 for s in self.sites)


class LibraryError(ValueError):
    pass


def _phase(d: dict, source: str) -> Phase:
    try:
        sites = []
        for s in d["sites"]:
            sp = s["species"]
            species = {sp: 1.0} if isinstance(sp, str) else {k: float(v) for k, v in sp.items()}
            sites.append(Site(s.get("label", next(iter(species))), species, s.get("wyckoff", ""),
                              tuple(float(x) for x in s["xyz"])))
        return Phase(name=d["name"], formula=d.get("formula", d["name"]), spacegroup=int(d["spacegroup"]),
                     setting=d.get("setting"), lattice={k: float(v) for k, v in d["lattice"].items()},
                     sites=tuple(sites), reference=d["reference"], source_file=source, note=d.get("note", ""),
                     ordering=d.get("ordering"), mixed_valence=bool(d.get("mixed_valence", False)))
    except (KeyError, TypeError, ValueError) as e:
        raise LibraryError(f"{source}: phase {d.get('name', '?')}: bad record ({e})") from e


@lru_cache(maxsize=1)
def phases() -> dict[str, Phase]:
    import tomllib

    out: dict[str, Phase] = {}
    for path in sorted(PHASES_DIR.glob("*.toml")):
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        for d in data.get("phase", []):
            p = _phase(d, path.name)
            if p.name in out:
                raise LibraryError(f"phase {p.name} is defined in {out[p.name].source_file} and {path.name}")
            out[p.name] = p
    return out


@lru_cache(maxsize=1)
def quick_names() -> frozenset[str]:
    """The phase names without parsing the tables (for `check`, which must stay
    fast); tests/test_library.py checks it agrees with the parsed library."""
    import re

    pattern = re.compile(r'^name\s*=\s*"([^"]+)"', re.M)
    return frozenset(n for path in PHASES_DIR.glob("*.toml") for n in pattern.findall(path.read_text(encoding="utf-8")))


# ---- symmetry ----------------------------------------------------------------------
@lru_cache(maxsize=None)
def hall_number(spacegroup: int, setting: str | None) -> int:
    """spglib's Hall number of a space group in a given setting."""
    import spglib

    candidates = []
    for h in range(1, 531):
        t = spglib.get_spacegroup_type(h)
        if t.number == spacegroup:
            candidates.append((h, t.choice, t.international_short))
    if setting is None:
        if len({c for _, c, _ in candidates}) > 1:
            raise LibraryError(f"space group {spacegroup} has several settings "
                               f"({', '.join(repr(c or s) for _, c, s in candidates)}): state `setting`")
        return candidates[0][0]
    for h, choice, symbol in candidates:
        if setting in (choice, symbol):
            return h
    raise LibraryError(f"space group {spacegroup} has no setting {setting!r}; "
                       f"choose one of {', '.join(repr(c or s) for _, c, s in candidates)}")


def _lattice(p: Phase):
    from pymatgen.core import Lattice

    L = dict(p.lattice)
    sg = p.spacegroup
    a = L["a"]
    if sg >= 195:  # cubic
        return Lattice.cubic(a)
    if sg >= 143:  # trigonal/hexagonal (rhombohedral groups in the hexagonal setting unless "R")
        if p.setting == "R":
            return Lattice.from_parameters(a, a, a, L["alpha"], L["alpha"], L["alpha"])
        return Lattice.hexagonal(a, L["c"])
    if sg >= 75:
        return Lattice.tetragonal(a, L["c"])
    if sg >= 16:
        return Lattice.orthorhombic(a, L["b"], L["c"])
    if sg >= 3:
        return Lattice.from_parameters(a, L["b"], L["c"], L.get("alpha", 90.0), L.get("beta", 90.0), L.get("gamma", 90.0))
    return Lattice.from_parameters(a, L["b"], L["c"], L["alpha"], L["beta"], L["gamma"])


def build(p: Phase):
    """The crystallographic structure of a phase (partial occupancies kept)."""
    import numpy as np
    import spglib
    from pymatgen.core import Structure

    sym = spglib.get_symmetry_from_database(hall_number(p.spacegroup, p.setting))
    rots, trans = sym["rotations"], sym["translations"]
    species, coords, labels = [], [], []
    for site in p.sites:
        orbit: list[np.ndarray] = []
        x = np.array(site.xyz)
        for r, t in zip(rots, trans):
            y = (r @ x + t) % 1.0
            y[np.isclose(y, 1.0, atol=1e-6)] = 0.0
            if not any(np.allclose((y - z) - np.round(y - z), 0, atol=1e-4) for z in orbit):
                orbit.append(y)
        for y in orbit:
            species.append(site.species)
            coords.append(y)
            labels.append(site.label)
    return Structure(_lattice(p), species, coords, labels=labels)


def structure(name: str):
    """The library structure of a phase by name (crystallographic, maybe disordered)."""
    table = phases()
    if name not in table:
        raise LibraryError(f"no phase '{name}' in the structure library")
    return build(table[name])
