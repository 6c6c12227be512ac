"""Element data for the checks, read straight from pymatgen's periodic table.

Deliberate difference from using `pymatgen.core.Element`: importing
pymatgen.core costs about 0.22 s (it pulls in Structure, Lattice, numpy,
monty...), more than the whole of `sselang check` may take.  The data are the
same file pymatgen reads (pymatgen/core/periodic_table.json.gz, 7 ms to
load); tests/test_elements.py compares every value with pymatgen's Element.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MAX_Z = 103  # no superheavy placeholders in a battery study

# pymatgen's definitions (Element.is_transition_metal and friends)
_TRANSITION_Z = frozenset((*range(21, 31), *range(39, 49), 57, *range(72, 81), 89, *range(104, 113)))
_LANTHANOID_Z = frozenset(range(57, 72))
_ACTINOID_Z = frozenset(range(89, 104))
_ISOTOPES = frozenset({"D", "T"})  # in the file, but not elements of pymatgen's Element


@dataclass(frozen=True)
class ElementData:
    symbol: str
    Z: int
    X: float  # Pauling electronegativity (nan where undefined)
    common_oxidation_states: tuple[int, ...]
    icsd_oxidation_states: tuple[int, ...]
    oxidation_states: tuple[int, ...]

    @property
    def is_transition_metal(self) -> bool:
        return self.Z in _TRANSITION_Z

    @property
    def is_lanthanoid(self) -> bool:
        return self.Z in _LANTHANOID_Z

    @property
    def is_actinoid(self) -> bool:
        return self.Z in _ACTINOID_Z


@lru_cache(maxsize=1)
def table() -> dict[str, ElementData]:
    spec = importlib.util.find_spec("pymatgen")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("pymatgen is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "core" / "periodic_table.json.gz"
    with gzip.open(path, "rb") as fh:
        raw = json.loads(fh.read())
    out = {}
    for sym, d in raw.items():
        if sym.startswith("_") or sym in _ISOTOPES or not isinstance(d, dict) or d.get("Atomic no", 999) > MAX_Z:
            continue
        x = d.get("X")
        out[sym] = ElementData(
            symbol=sym,
            Z=int(d["Atomic no"]),
            X=float(x) if isinstance(x, (int, float)) else float("nan"),
            common_oxidation_states=tuple(d.get("Common oxidation states") or ()),
            icsd_oxidation_states=tuple(d.get("ICSD oxidation states") or ()),
            oxidation_states=tuple(d.get("Oxidation states") or ()),
        )
    return out


def element(symbol: str) -> ElementData:
    return table()[symbol]
