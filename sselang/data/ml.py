"""The universal ML potential (CHGNet) at compile time, when it is installed.

Used for study materials that are in no dataset (a substituted argyrodite)
and for the `chgnet` thermo source.  Results are cached per structure in the
user's cache folder and recorded in the lock, so a rebuild neither needs
torch nor recomputes anything.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .thermo import SCHEME_CHGNET, DataError, Source

# the dataset build's relaxation settings, so study materials and library
# phases are relaxed on one footing
from .build import FMAX, STEPS  # noqa: E402


def available() -> bool:
    import importlib.util

    return importlib.util.find_spec("chgnet") is not None and importlib.util.find_spec("torch") is not None


@lru_cache(maxsize=1)
def model():
    if not available():
        raise DataError("this needs the CHGNet potential: pip install torch==2.13.0 chgnet")
    from chgnet.model import CHGNet

    return CHGNet.load(verbose=False)


def structure_doc(s) -> dict:
    return {
        "lattice": [[round(x, 6) for x in row] for row in s.lattice.matrix.tolist()],
        "species": [site.specie.symbol for site in s],
        "frac_coords": [[round(x % 1.0, 6) % 1.0 for x in site.frac_coords] for site in s],
    }


def structure_hash(s) -> str:
    return hashlib.sha256(json.dumps(structure_doc(s), sort_keys=True).encode()).hexdigest()


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "sselang" / "chgnet"


@dataclass
class Relaxed:
    energy_eV: float
    natoms: int
    volume_change: float
    structure: dict  # structure_doc of the relaxed cell


def relax(s) -> Relaxed:
    """CHGNet relaxation (cell and ions) of an ordered structure, cached."""
    key = structure_hash(s) + f"-{FMAX}-{STEPS}"
    path = _cache_dir() / f"{key}.json"
    if path.exists():
        try:
            return Relaxed(**json.loads(path.read_text()))
        except (ValueError, TypeError):
            pass  # a corrupt cache entry is recomputed
    from chgnet.model import StructOptimizer

    res = StructOptimizer(model=model()).relax(s, fmax=FMAX, steps=STEPS, verbose=False)
    final = res["final_structure"]
    out = Relaxed(energy_eV=round(float(res["trajectory"].energies[-1]), 6), natoms=len(final),
                  volume_change=round(final.volume / s.volume - 1, 5), structure=structure_doc(final))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out.__dict__, sort_keys=True))
    except OSError:
        pass  # no cache: still correct, only slower
    return out


@dataclass
class ChgnetSource(Source):
    """CHGNet energies computed here for every library phase of a system."""

    name: str = "chgnet"
    scheme: str = SCHEME_CHGNET
    fidelity: str = "ML-potential preview (CHGNet 0.3.0, computed locally)"

    def covers(self, elements: frozenset[str]) -> bool:
        from .library import phases
        from ..model.formula import parse_formula

        have = {el for p in phases().values() for el in parse_formula(p.formula)}
        return elements <= have

    def entries(self, elements: frozenset[str]) -> list:
        from pymatgen.entries.computed_entries import ComputedStructureEntry

        from ..model.formula import parse_formula
        from .build import ordered_cell
        from .library import phases
        from .thermo import _structure

        out = []
        for name, p in sorted(phases().items()):
            if set(parse_formula(p.formula)) <= elements:
                s, _ = ordered_cell(p)
                r = relax(s)
                out.append(ComputedStructureEntry(_structure(r.structure), r.energy_eV, entry_id=f"chgnet:{name}",
                                                  parameters={"source": "chgnet", "scheme": self.scheme},
                                                  data={"name": name, "volume_change": r.volume_change}))
        return out
