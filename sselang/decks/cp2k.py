"""CP2K input decks: Quickstep (GPW) DFT with GTH pseudopotentials and MOLOPT basis sets.

    render(DeckRequest(kind="relax" | "md", structure, settings, title)) -> {"cp2k.inp": text}

kind "relax" is a GEO_OPT (BFGS, positions only, cell kept); kind "md" is Born-Oppenheimer
MD in the NVT ensemble (CSVR thermostat, or Nose-Hoover chains with thermostat = "nose").

Settings (the user's values always win; every default used is listed, with its reason, in
the comment block at the top of cp2k.inp):

    functional     "PBE" (default) | "PBEsol"  (any case)
    cutoff_Ry      plane-wave cutoff of the finest grid, Ry (default 400); the language's
                   `cutoff` (stored in eV with cutoff_unit = "eV") is read too
    rel_cutoff_Ry  REL_CUTOFF, Ry (default 60); the language's `rel_cutoff` likewise
    basis          preferred MOLOPT basis family (default DZVP-MOLOPT-SR-GTH)
    potential      GTH pseudopotential family (default GTH-PBE)
    spin           true -> UKS (default false: closed-shell RKS)
    multiplicity   with spin: 2S+1 (default 1 for an even, 2 for an odd electron count)
    eps_default    QS EPS_DEFAULT (default 1e-12 for md, 1e-10 for relax)
    data_dir       where BASIS_MOLOPT / GTH_POTENTIALS are read; when given, the deck names
                   the files by absolute path (default: $CP2K_DATA_DIR, else Debian's
                   /usr/share/cp2k, which CP2K also searches by itself)
    max_steps      relax: GEO_OPT MAX_ITER (default 200)
    temperature_K  md: required
    steps          md: required
    timestep_fs    md: default 2.0
    thermostat     md: "csvr" (default) | "nose"
    thermostat_timecon_fs   md: default 100
    ensemble       md: only "nvt"

The basis set and pseudopotential of each element are chosen from the installed
BASIS_MOLOPT (BASIS_MOLOPT_UCL for elements BASIS_MOLOPT lacks, e.g. La) and GTH_POTENTIALS
so that their valences agree (Li: DZVP-MOLOPT-SR-GTH-q3 + GTH-PBE-q3).  When those files
are not installed, a table taken from Debian's cp2k-data 2023.1 is used instead (default
families only).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import DeckRequest, environment

DEBIAN_DATA_DIR = "/usr/share/cp2k"
BASIS_FILES = ("BASIS_MOLOPT", "BASIS_MOLOPT_UCL")  # the second only for elements the first lacks
POTENTIAL_FILE = "GTH_POTENTIALS"
RY_IN_EV = 13.605693122994

TITLE = re.compile(r"[A-Za-z0-9._-]{1,40}")
SYMBOL = re.compile(r"[A-Z][a-z]?")
FAMILY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
SAFE_PATH = re.compile(r"[A-Za-z0-9_./+-]{1,400}")

# Basis families tried in order when the user names none.  SZV sets are left out on purpose:
# they are too small for the total energies and forces these decks are used for.
BASIS_PREFERENCE = ("DZVP-MOLOPT-SR-GTH", "DZVP-MOLOPT-GTH", "TZVP-MOLOPT-GTH", "TZVP-MOLOPT-SR-GTH")
FUNCTIONALS = {"PBE": "PBE", "PBESOL": "PBESOL"}
THERMOSTATS = ("csvr", "nose")

# Default choice per element when BASIS_MOLOPT / GTH_POTENTIALS are not installed:
# element, basis file, basis set, pseudopotential -- what _choose() picks from Debian's
# cp2k-data 2023.1 for the default families (regenerate with _fallback_table()).
_FALLBACK = """\
H BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q1 GTH-PBE-q1
He BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q2 GTH-PBE-q2
Li BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q3 GTH-PBE-q3
Be BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q4 GTH-PBE-q4
B BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q3 GTH-PBE-q3
C BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q4 GTH-PBE-q4
N BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q5 GTH-PBE-q5
O BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q6 GTH-PBE-q6
F BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q7 GTH-PBE-q7
Ne BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q8 GTH-PBE-q8
Na BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q9 GTH-PBE-q9
Mg BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q10 GTH-PBE-q10
Al BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q3 GTH-PBE-q3
Si BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q4 GTH-PBE-q4
P BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q5 GTH-PBE-q5
S BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q6 GTH-PBE-q6
Cl BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q7 GTH-PBE-q7
Ar BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q8 GTH-PBE-q8
K BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q9 GTH-PBE-q9
Ca BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q10 GTH-PBE-q10
Sc BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q11 GTH-PBE-q11
Ti BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q12 GTH-PBE-q12
V BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q13 GTH-PBE-q13
Cr BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q14 GTH-PBE-q14
Mn BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q15 GTH-PBE-q15
Fe BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q16 GTH-PBE-q16
Co BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q17 GTH-PBE-q17
Ni BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q18 GTH-PBE-q18
Cu BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q11 GTH-PBE-q11
Zn BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q12 GTH-PBE-q12
Ga BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q13 GTH-PBE-q13
Ge BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q4 GTH-PBE-q4
As BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q5 GTH-PBE-q5
Se BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q6 GTH-PBE-q6
Br BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q7 GTH-PBE-q7
Kr BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q8 GTH-PBE-q8
Rb BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q9 GTH-PBE-q9
Sr BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q10 GTH-PBE-q10
Y BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q11 GTH-PBE-q11
Zr BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q12 GTH-PBE-q12
Nb BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q13 GTH-PBE-q13
Mo BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q14 GTH-PBE-q14
Tc BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q15 GTH-PBE-q15
Ru BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q16 GTH-PBE-q16
Rh BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q17 GTH-PBE-q17
Pd BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q18 GTH-PBE-q18
Ag BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q11 GTH-PBE-q11
Cd BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q12 GTH-PBE-q12
In BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q13 GTH-PBE-q13
Sn BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q4 GTH-PBE-q4
Sb BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q5 GTH-PBE-q5
Te BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q6 GTH-PBE-q6
I BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q7 GTH-PBE-q7
Xe BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q8 GTH-PBE-q8
Cs BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q9 GTH-PBE-q9
Ba BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q10 GTH-PBE-q10
La BASIS_MOLOPT_UCL DZVP-MOLOPT-SR-GTH-q11 GTH-PBE-q11
Ce BASIS_MOLOPT_UCL DZVP-MOLOPT-SR-GTH-q12 GTH-PBE-q12
Pr BASIS_MOLOPT_UCL DZVP-MOLOPT-SR-GTH-q13 GTH-PBE-q13
Nd BASIS_MOLOPT_UCL DZVP-MOLOPT-SR-GTH-q14 GTH-PBE-q14
Pm BASIS_MOLOPT_UCL DZVP-MOLOPT-SR-GTH-q15 GTH-PBE-q15
Sm BASIS_MOLOPT_UCL DZVP-MOLOPT-SR-GTH-q16 GTH-PBE-q16
Eu BASIS_MOLOPT_UCL DZVP-MOLOPT-SR-GTH-q17 GTH-PBE-q17
Gd BASIS_MOLOPT_UCL DZVP-MOLOPT-SR-GTH-q18 GTH-PBE-q18
Tb BASIS_MOLOPT_UCL DZVP-MOLOPT-SR-GTH-q19 GTH-PBE-q19
Dy BASIS_MOLOPT_UCL DZVP-MOLOPT-SR-GTH-q20 GTH-PBE-q20
Ho BASIS_MOLOPT_UCL DZVP-MOLOPT-SR-GTH-q21 GTH-PBE-q21
Er BASIS_MOLOPT_UCL DZVP-MOLOPT-SR-GTH-q22 GTH-PBE-q22
Tm BASIS_MOLOPT_UCL DZVP-MOLOPT-SR-GTH-q23 GTH-PBE-q23
Yb BASIS_MOLOPT_UCL DZVP-MOLOPT-SR-GTH-q24 GTH-PBE-q24
Lu BASIS_MOLOPT_UCL DZVP-MOLOPT-SR-GTH-q25 GTH-PBE-q25
Hf BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q12 GTH-PBE-q12
Ta BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q13 GTH-PBE-q13
W BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q14 GTH-PBE-q14
Re BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q15 GTH-PBE-q15
Os BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q16 GTH-PBE-q16
Ir BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q17 GTH-PBE-q17
Pt BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q18 GTH-PBE-q18
Au BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q11 GTH-PBE-q11
Hg BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q12 GTH-PBE-q12
Tl BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q13 GTH-PBE-q13
Pb BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q4 GTH-PBE-q4
Bi BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q5 GTH-PBE-q5
Po BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q6 GTH-PBE-q6
At BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q7 GTH-PBE-q7
Rn BASIS_MOLOPT DZVP-MOLOPT-SR-GTH-q8 GTH-PBE-q8
U BASIS_MOLOPT DZVP-MOLOPT-GTH-q14 GTH-PBE-q14
"""


# ---- the installed basis / potential library ------------------------------------------
@dataclass(frozen=True)
class Kind:
    element: str
    basis: str  # e.g. DZVP-MOLOPT-SR-GTH-q3
    potential: str  # e.g. GTH-PBE-q3
    valence: int  # electrons per atom (the q of both names)
    basis_file: str  # BASIS_MOLOPT or BASIS_MOLOPT_UCL


def _headers(path: Path) -> dict[str, list[tuple[str, ...]]]:
    """Element -> the name lists of its entries, in file order.

    An entry's header line is `Symbol NAME [ALIAS ...]`; data lines start with numbers."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for line in path.read_text(errors="replace").splitlines():
        tokens = line.split("#", 1)[0].split()
        if len(tokens) >= 2 and SYMBOL.fullmatch(tokens[0]) and tokens[1][:1].isalpha():
            out.setdefault(tokens[0], []).append(tuple(tokens[1:]))
    return out


@lru_cache(maxsize=8)
def _library(data_dir: str, stamp: tuple) -> tuple[dict, dict]:
    """({basis file: {element: set of names}}, {element: [(names...), ...]}) from data_dir.

    `stamp` (the files' mtimes) only keys the cache."""
    root = Path(data_dir)
    bases = {}
    for name in BASIS_FILES:
        f = root / name
        bases[name] = {el: {n for entry in entries for n in entry} for el, entries in _headers(f).items()} \
            if f.is_file() else {}
    return bases, _headers(root / POTENTIAL_FILE)


def _valence(name: str, family: str) -> int | None:
    m = re.fullmatch(re.escape(family) + r"-q(\d+)", name)
    return int(m.group(1)) if m else None


def _choose(element: str, bases: dict, potentials: dict, basis_families: tuple[str, ...],
            potential_family: str) -> Kind:
    """The basis set and pseudopotential of one element, with the same valence.

    Potentials: CP2K's default valence for the family first (the entry that also carries
    the bare family name as an alias, e.g. `Li GTH-PBE-q3 GTH-PBE`), then the others in
    file order.  Basis sets: the families in order; a family wins if it has a set for any
    of those valences."""
    pots: list[tuple[bool, int, str]] = []
    for entry in potentials.get(element, []):
        for name in entry:
            q = _valence(name, potential_family)
            if q is not None:
                pots.append((potential_family not in entry, len(pots), name))
    pots.sort()
    if not pots:
        raise ValueError(f"cp2k: no {potential_family} pseudopotential for {element} in {POTENTIAL_FILE}")
    # the second basis file only for elements the first does not have at all: a name is
    # then never found in two files
    basis_file = next((f for f in BASIS_FILES if element in bases.get(f, {})), None)
    names = bases.get(basis_file, {}).get(element, set()) if basis_file else set()
    for family in basis_families:
        for _, _, pot in pots:
            q = _valence(pot, potential_family)
            if f"{family}-q{q}" in names:
                return Kind(element, f"{family}-q{q}", pot, q, basis_file)
    have = ", ".join(sorted(n for n in names if "MOLOPT" in n)) or "none"
    raise ValueError(
        f"cp2k: no {' / '.join(basis_families)} basis set for {element} with the valence of its "
        f"{potential_family} pseudopotentials ({', '.join(p for _, _, p in pots)}); MOLOPT sets "
        f"for {element} in {' / '.join(BASIS_FILES)}: {have}")


def _fallback_kind(element: str) -> Kind | None:
    for line in _FALLBACK.splitlines():
        el, basis_file, basis, pot = line.split()
        if el == element:
            return Kind(el, basis, pot, _valence(pot, "GTH-PBE"), basis_file)
    return None


def _fallback_table(data_dir: str = DEBIAN_DATA_DIR) -> str:
    """The _FALLBACK text as chosen from an installed data dir (for maintainers)."""
    from pymatgen.core.periodic_table import Element

    bases, pots = _library(data_dir, _stamp(Path(data_dir)))
    lines = []
    for e in Element:
        try:
            k = _choose(e.symbol, bases, pots, BASIS_PREFERENCE, "GTH-PBE")
        except ValueError:
            continue
        lines.append(f"{k.element} {k.basis_file} {k.basis} {k.potential}\n")
    return "".join(lines)


def _stamp(root: Path) -> tuple:
    out = []
    for name in (*BASIS_FILES, POTENTIAL_FILE):
        f = root / name
        out.append(f.stat().st_mtime_ns if f.is_file() else None)
    return tuple(out)


# ---- settings ---------------------------------------------------------------------------
class _Settings:
    """Reads the user's settings; every default taken is noted with its reason."""

    def __init__(self, settings: dict) -> None:
        self.s = dict(settings or {})
        self.defaults: list[str] = []

    def default(self, text: str, reason: str) -> None:
        self.defaults.append(f"{text}: {reason}")

    def has(self, key: str) -> bool:
        return key in self.s and self.s[key] is not None

    def number(self, key: str, *, positive: bool = True) -> float:
        v = self.s[key]
        if isinstance(v, bool) or not isinstance(v, (int, float, str)):
            raise ValueError(f"cp2k: setting {key} must be a number, not {v!r}")
        try:
            x = float(v)
        except ValueError:
            raise ValueError(f"cp2k: setting {key} must be a number, not {v!r}") from None
        if not math.isfinite(x) or (positive and x <= 0):
            raise ValueError(f"cp2k: setting {key} must be a positive number, not {v!r}")
        return x

    def integer(self, key: str) -> int:
        x = self.number(key)
        if x != int(x):
            raise ValueError(f"cp2k: setting {key} must be a whole number, not {self.s[key]!r}")
        return int(x)

    def energy_ry(self, ry_key: str, lang_key: str) -> float | None:
        """A cutoff in Ry: `cutoff_Ry`, or the language's `cutoff` (+ `cutoff_unit`)."""
        if self.has(ry_key):
            return self.number(ry_key)
        if self.has(lang_key):
            x = self.number(lang_key)
            unit = self.s.get(lang_key + "_unit", "Ry")
            if unit == "eV":
                return x / RY_IN_EV
            if unit == "Ry":
                return x
            raise ValueError(f"cp2k: setting {lang_key} has unit {unit!r}; expected eV or Ry")
        return None

    def word(self, key: str, pattern: re.Pattern = FAMILY) -> str:
        v = self.s[key]
        if not isinstance(v, str) or not pattern.fullmatch(v):
            raise ValueError(f"cp2k: setting {key} must match {pattern.pattern}, not {v!r}")
        return v

    def flag(self, key: str) -> bool:
        v = self.s[key]
        if not isinstance(v, bool):
            raise ValueError(f"cp2k: setting {key} must be true or false, not {v!r}")
        return v


def _fmt(x: float) -> str:
    return f"{x:.1f}" if float(x).is_integer() else f"{x:.4g}"


# ---- structure --------------------------------------------------------------------------
def _elements(structure) -> list[str]:
    """Site element symbols, validated (names from the user never reach the deck unchecked)."""
    from pymatgen.core.periodic_table import Element

    if not getattr(structure, "is_ordered", False):
        raise ValueError("cp2k: the structure must be ordered (one species per site)")
    symbols = []
    for site in structure:
        specie = site.specie
        symbol = getattr(specie, "symbol", None)
        if not isinstance(symbol, str) or not SYMBOL.fullmatch(symbol) or not Element.is_valid_symbol(symbol):
            raise ValueError(f"cp2k: site species {str(specie)!r} is not a chemical element")
        symbols.append(symbol)
    if not symbols:
        raise ValueError("cp2k: the structure has no sites")
    return symbols


def _widths(lattice) -> list[float]:
    """Distances between opposite cell faces, in angstrom."""
    m = lattice.matrix
    import numpy as np

    vol = abs(float(np.linalg.det(m)))
    return [vol / float(np.linalg.norm(np.cross(m[(i + 1) % 3], m[(i + 2) % 3]))) for i in range(3)]


# ---- render -----------------------------------------------------------------------------
def render(req: DeckRequest) -> dict[str, str]:
    if not isinstance(req.title, str) or not TITLE.fullmatch(req.title):
        raise ValueError(f"cp2k: title must match {TITLE.pattern}, not {req.title!r}")
    if req.kind not in ("relax", "md"):
        raise ValueError(f"cp2k: decks are written for kind 'relax' or 'md', not {req.kind!r}")
    s = _Settings(req.settings)
    symbols = _elements(req.structure)
    ctx: dict = {"title": req.title}

    # functional
    if s.has("functional"):
        f = s.word("functional").upper()
        if f not in FUNCTIONALS:
            raise ValueError(f"cp2k: functional must be PBE or PBEsol, not {s.s['functional']!r}")
    else:
        f = "PBE"
        s.default("functional PBE", "the GGA the GTH-PBE pseudopotentials and MOLOPT basis sets were made with")
    ctx["parametrization"] = {"PBE": "ORIG", "PBESOL": "PBESOL"}[f]

    # basis sets and pseudopotentials
    explicit_dir = s.has("data_dir")
    if explicit_dir:
        data_dir = s.word("data_dir", SAFE_PATH)
    else:
        data_dir = os.environ.get("CP2K_DATA_DIR") or DEBIAN_DATA_DIR
        if not SAFE_PATH.fullmatch(data_dir):
            data_dir = DEBIAN_DATA_DIR
    root = Path(data_dir)
    have_files = (root / BASIS_FILES[0]).is_file() and (root / POTENTIAL_FILE).is_file()
    if explicit_dir and not have_files:
        raise ValueError(f"cp2k: data_dir {data_dir} has no {BASIS_FILES[0]} and {POTENTIAL_FILE}")
    if s.has("basis"):
        families = (s.word("basis"),)
    else:
        families = BASIS_PREFERENCE
        s.default("basis DZVP-MOLOPT-SR-GTH (else DZVP-MOLOPT-GTH, TZVP-MOLOPT-GTH)",
                  "short-range MOLOPT sets are optimised for condensed phases and keep the overlap matrix "
                  "well conditioned in dense solids; SZV sets are never used (too small for energies and forces)")
    if s.has("potential"):
        pot_family = s.word("potential")
    else:
        pot_family = "GTH-PBE"
        reason = "norm-conserving Goedecker-Teter-Hutter pseudopotentials the MOLOPT sets were fitted with; " \
                 "valence per element from the installed GTH_POTENTIALS, CP2K's default valence first"
        if f == "PBESOL":
            reason += "; with PBEsol too, as GTH_POTENTIALS has PBEsol potentials for boron only " \
                      "(a PBE/PBEsol core mismatch of this kind is common practice, but it is one)"
        s.default("potential GTH-PBE", reason)
    order = list(dict.fromkeys(symbols))
    if have_files:
        bases, pots = _library(data_dir, _stamp(root))
        kinds = [_choose(el, bases, pots, families, pot_family) for el in order]
        source = f"basis sets and pseudopotentials read from {data_dir}"
    else:
        if s.has("basis") or s.has("potential"):
            raise ValueError(f"cp2k: no {BASIS_FILES[0]} / {POTENTIAL_FILE} in {data_dir} to look up the "
                             "basis or potential you set (install cp2k-data or set data_dir)")
        kinds = []
        for el in order:
            k = _fallback_kind(el)
            if k is None:
                raise ValueError(f"cp2k: no MOLOPT basis / GTH-PBE pseudopotential known for {el}")
            kinds.append(k)
        source = (f"basis sets and pseudopotentials from sselang's table of cp2k-data 2023.1 "
                  f"({data_dir} has no {BASIS_FILES[0]})")
    ctx["kinds"] = kinds
    ctx["source"] = source
    files = [f for f in BASIS_FILES if any(k.basis_file == f for k in kinds)]
    if explicit_dir:
        ctx["basis_files"] = [f"{data_dir.rstrip('/')}/{f}" for f in files]
        ctx["potential_file"] = f"{data_dir.rstrip('/')}/{POTENTIAL_FILE}"
    else:
        ctx["basis_files"] = files
        ctx["potential_file"] = POTENTIAL_FILE
    valence = {k.element: k.valence for k in kinds}
    electrons = sum(valence[el] for el in symbols)

    # grids
    cutoff = s.energy_ry("cutoff_Ry", "cutoff")
    if cutoff is None:
        cutoff = 400.0
        s.default("CUTOFF 400 Ry", "Li2S total energy within 0.05 meV/atom of its 800 Ry value (300 Ry: 0.8 "
                  "meV/atom), measured with CP2K 2023.1 for 12-atom Li2S, PBE, DZVP-MOLOPT-SR-GTH, "
                  "REL_CUTOFF 60; for other chemistries check the convergence")
    rel = s.energy_ry("rel_cutoff_Ry", "rel_cutoff")
    if rel is None:
        rel = 60.0
        s.default("REL_CUTOFF 60 Ry", "the value usual with MOLOPT basis sets (CP2K's own default is 40): each "
                  "Gaussian goes to a grid fine enough for its width; 4 multigrids (CP2K default)")
    ctx["cutoff"], ctx["rel_cutoff"] = _fmt(cutoff), _fmt(rel)

    # spin
    spin = s.flag("spin") if s.has("spin") else False
    if not s.has("spin"):
        s.default("spin false (RKS)", "solid electrolytes and their decomposition products are closed-shell "
                  "insulators; set spin = true for transition-metal cathodes")
    ctx["uks"] = spin
    if spin:
        if s.has("multiplicity"):
            mult = s.integer("multiplicity")
        else:
            mult = 1 if electrons % 2 == 0 else 2
            s.default(f"MULTIPLICITY {mult}", "the lowest spin state for the electron count "
                      f"({electrons}); set multiplicity for magnetic ground states")
        if (electrons + mult - 1) % 2:
            raise ValueError(f"cp2k: multiplicity {mult} is impossible with {electrons} electrons")
        ctx["multiplicity"] = mult
    elif electrons % 2:
        raise ValueError(f"cp2k: {electrons} valence electrons (odd) cannot be closed-shell; set spin = true")

    # SCF: always the same numerical choices, listed as defaults
    s.default("OT (DIIS minimiser, FULL_ALL preconditioner), EPS_SCF 1e-6, MAX_SCF 50 x 20 outer",
              "orbital transformation converges robustly for gapped insulators without smearing; FULL_ALL "
              "took 27 SCF steps where FULL_SINGLE_INVERSE took 37 (Li2S, atomic guess); EPS_SCF 1e-6 keeps "
              "forces accurate for BFGS and MD energy drift small (CP2K's default is 1e-5)")
    if s.has("eps_default"):
        ctx["eps_default"] = f"{s.number('eps_default'):.1E}"
    elif req.kind == "md":
        ctx["eps_default"] = "1.0E-12"
        s.default("EPS_DEFAULT 1e-12", "tighter than CP2K's 1e-10 so that forces stay consistent with the energy "
                  "and MD conserves it; costs ~1.5x per SCF step")
    else:
        ctx["eps_default"] = "1.0E-10"
        s.default("EPS_DEFAULT 1e-10", "CP2K's default screening, accurate enough for BFGS to MAX_FORCE 4.5e-4")
    s.default("Gamma point only (no &KPOINTS)", "OT works at the Gamma point only; adequate only for cells "
              "about 10 A or more across in every direction")
    widths = _widths(req.structure.lattice)
    ctx["notes"] = []
    if min(widths) < 10.0:
        ctx["notes"].append(f"NOTE: this cell is only {min(widths):.2f} A across (face to face): Gamma-only "
                            "sampling is coarse here; use a supercell for production")

    # structure
    ctx["cell"] = [[f"{x:.10f}" for x in row] for row in req.structure.lattice.matrix]
    ctx["coords"] = [(sym, *(f"{x:.10f}" for x in xyz)) for sym, xyz in zip(symbols, req.structure.cart_coords)]

    if req.kind == "relax":
        template = "cp2k/geo_opt.inp.j2"
        if s.has("max_steps"):
            ctx["max_steps"] = s.integer("max_steps")
        else:
            ctx["max_steps"] = 200
            s.default("GEO_OPT MAX_ITER 200", "CP2K's default; enough BFGS steps for a bulk cell from a "
                      "reasonable start")
        s.default("BFGS, MAX_FORCE 4.5e-4 Ha/bohr (0.023 eV/A), positions only",
                  "CP2K's default thresholds; the cell is kept as given (no CELL_OPT: stresses need a "
                  "higher cutoff than positions do)")
    else:
        template = "cp2k/md.inp.j2"
        if s.has("ensemble") and str(s.s["ensemble"]).lower() != "nvt":
            raise ValueError(f"cp2k: md decks are NVT only, not ensemble {s.s['ensemble']!r}")
        for key in ("temperature_K", "steps"):
            if not s.has(key):
                raise ValueError(f"cp2k: md needs the setting {key}")
        ctx["temperature"] = _fmt(s.number("temperature_K"))
        ctx["steps"] = s.integer("steps")
        if s.has("timestep_fs"):
            ctx["timestep"] = _fmt(s.number("timestep_fs"))
        else:
            ctx["timestep"] = _fmt(2.0)
            s.default("TIMESTEP 2.0 fs", "about 40 steps per period of the fastest vibration in H-free sulfides "
                      "and thiophosphates (P-S stretch ~420 cm^-1, period ~80 fs)")
            if "H" in symbols:
                ctx["notes"].append("NOTE: the structure contains H: a 2 fs time step is too long for "
                                    "X-H vibrations; set timestep_fs = 0.5")
        if s.has("thermostat"):
            thermostat = s.word("thermostat").lower()
            if thermostat not in THERMOSTATS:
                raise ValueError(f"cp2k: thermostat must be csvr or nose, not {s.s['thermostat']!r}")
        else:
            thermostat = "csvr"
            s.default("THERMOSTAT CSVR", "canonical sampling through velocity rescaling (Bussi 2007) samples NVT "
                      "and disturbs the dynamics little, so diffusion coefficients can be taken from the run")
        ctx["thermostat"] = thermostat
        if s.has("thermostat_timecon_fs"):
            ctx["timecon"] = _fmt(s.number("thermostat_timecon_fs"))
        else:
            ctx["timecon"] = _fmt(100.0)
            s.default("thermostat TIMECON 100 fs", "reaches the target temperature within a few hundred fs "
                      "(CP2K's default, 1000 fs, is slow for ps-long runs)")
        if thermostat == "nose":
            s.default("Nose-Hoover chain LENGTH 3", "CP2K's default chain length")
        s.default("initial velocities", "random, generated by CP2K for TEMPERATURE (CP2K's default when the input "
                  "has none)")
        s.default("ASPC wavefunction extrapolation (order 3)", "CP2K's default for MD: good initial guesses, few "
                  "SCF steps per MD step")
        s.default("trajectory every step, restart file every 50 steps", "positions for diffusion analysis; "
                  "restart to continue an interrupted run")

    ctx["defaults"] = s.defaults
    text = environment().get_template(template).render(**ctx)
    return {"cp2k.inp": text}
