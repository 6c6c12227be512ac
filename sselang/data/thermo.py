"""Thermodynamic data sources behind one small interface.

A source gives pymatgen ComputedEntries for a chemical system, and says which
energy scheme they are on.  Phase diagrams may only combine entries of one
scheme: `check_mixing` reports a chemical system that two sources of
different schemes would both feed.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

BUNDLED = Path(__file__).with_name("bundled") / "entries.json.gz"

SCHEME_MP2020 = "MP2020 GGA/GGA+U"  # Materials Project DFT with the MP2020 corrections
# CHGNet 0.3.0 predicts on the MP2020-corrected scale (see data/build.py), but its
# energies are a model's, with errors of their own: a hull never mixes them with DFT.
SCHEME_CHGNET = "CHGNet 0.3.0 (MP2020 scale)"


class DataError(ValueError):
    """A data source cannot give what was asked; the message is for the user."""


@dataclass
class Source:
    name: str  # as the study writes it: bundled, mp, entries("x.json"), ...
    scheme: str  # energy scheme of every entry it gives
    fidelity: str  # how a reader should weigh its numbers
    notes: list[str] = field(default_factory=list, kw_only=True)  # what was left out, and why

    def covers(self, elements: frozenset[str]) -> bool:
        raise NotImplementedError

    def entries(self, elements: frozenset[str]) -> list:
        """Entries whose elements all lie in `elements`."""
        raise NotImplementedError

    def records(self, elements: frozenset[str]) -> list[dict]:
        """The entries as plain records (see data.stage.entry_record)."""
        from .stage import entry_record

        return [entry_record(e, self.name) for e in self.entries(elements)]

    def describe(self) -> dict:
        return {"name": self.name, "scheme": self.scheme, "fidelity": self.fidelity}


# ---- bundled -------------------------------------------------------------------------
@lru_cache(maxsize=1)
def bundled_document() -> dict:
    if not BUNDLED.exists():
        raise DataError("the bundled dataset is missing from this installation (sselang/data/bundled/entries.json.gz)")
    raw = BUNDLED.read_bytes()
    doc = json.loads(gzip.decompress(raw))
    doc["sha256"] = hashlib.sha256(raw).hexdigest()
    return doc


def _structure(doc: dict):
    from pymatgen.core import Lattice, Structure

    return Structure(Lattice(doc["lattice"]), doc["species"], doc["frac_coords"])


@dataclass
class BundledSource(Source):
    name: str = "bundled"
    scheme: str = SCHEME_CHGNET
    fidelity: str = "bundled preview (CHGNet 0.3.0)"

    def records_all(self) -> list[dict]:
        return bundled_document()["entries"]

    def covers(self, elements: frozenset[str]) -> bool:
        have = {el for r in self.records_all() for el in r["composition"]}
        return elements <= have

    def records(self, elements: frozenset[str]) -> list[dict]:
        # straight from the dataset: building pymatgen entries only to flatten
        # them again would import pymatgen's analysis package (about 1.5 s)
        out = []
        for r in self.records_all():
            if set(r["composition"]) <= elements:
                comp = {el: float(n) for el, n in sorted(r["composition"].items())}
                out.append({"id": f"bundled:{r['name']}", "formula": r["formula"], "composition": comp,
                            "energy_eV": round(float(r["energy_eV"]), 6),
                            "uncorrected_energy_eV": round(float(r["energy_eV"]), 6), "correction_eV": 0.0,
                            "source": self.name})
        return out

    def entries(self, elements: frozenset[str]) -> list:
        from pymatgen.entries.computed_entries import ComputedStructureEntry

        out = []
        meta = bundled_document()["metadata"]
        for r in self.records_all():
            if set(r["composition"]) <= elements:
                out.append(ComputedStructureEntry(
                    _structure(r["structure"]), r["energy_eV"], entry_id=f"bundled:{r['name']}",
                    parameters={"source": "bundled", "model": meta["model"], "scheme": self.scheme},
                    data={"name": r["name"], "volume_change": r["volume_change"], "flagged": r["flagged"],
                          "reference": r["reference"]}))
        return out

    def describe(self) -> dict:
        d = super().describe()
        doc = bundled_document()
        d.update(model=doc["metadata"]["model"], dataset_sha256=doc["sha256"], phases=len(doc["entries"]))
        return d


# ---- a file of pymatgen entries ---------------------------------------------------------
def _scheme_of(entries) -> str:
    names = {a.name for e in entries for a in getattr(e, "energy_adjustments", [])}
    if any("MP2020" in n for n in names):
        return SCHEME_MP2020
    corrected = any(abs(e.correction) > 1e-9 for e in entries)
    if corrected:
        return "corrected (not MP2020)"
    return "uncorrected"


def load_entries_file(path: Path) -> list:
    from monty.json import MontyDecoder

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise DataError(f"cannot read {path}: {e.strerror or e}") from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataError(f"{path} is not JSON (line {e.lineno}, column {e.colno}: {e.msg})") from e
    except RecursionError:  # "[[[[..." thousands deep: no entry file nests like that
        raise DataError(f"{path} is nested too deeply to be a file of entries") from None
    items = data.get("entries") if isinstance(data, dict) else data
    if not isinstance(items, list) or not items:
        raise DataError(f"{path} holds no list of entries")
    out = []
    for i, d in enumerate(items):
        if not isinstance(d, dict) or "@class" not in d:
            raise DataError(f"{path}: entry {i} is not a pymatgen ComputedEntry (no '@class')")
        # monty imports whatever module an "@module" names and calls its class's from_dict:
        # a shared entries file must not make a compile import (and run) arbitrary code
        bad = _foreign_object(d)
        if bad is not None:
            raise DataError(f"{path}: entry {i} holds a {bad} object; an entries file may hold pymatgen entries, "
                            "structures and compositions only")
        try:
            e = MontyDecoder().process_decoded(d)
        except Exception as ex:  # noqa: BLE001 - malformed input, reported with its position
            raise DataError(f"{path}: entry {i} cannot be read: {ex}") from ex
        if not math.isfinite(e.energy) or not math.isfinite(e.correction):
            raise DataError(f"{path}: entry {i} ({e.composition.reduced_formula}) has a non-finite energy")
        out.append(e)
    return out


# the modules whose objects a file of pymatgen entries holds ("@module" of each object)
_ENTRY_MODULES = ("pymatgen.entries.", "pymatgen.core.", "pymatgen.analysis.phase_diagram")


def _foreign_object(doc) -> str | None:
    """The first "@module.@class" (or "@callable") in a decoded JSON document that is no
    pymatgen entry, structure or composition object, else None.  Iterative: depth is free."""
    stack = [doc]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            if "@callable" in x:
                return f"'{x.get('@module')}.{x['@callable']}' callable"
            mod = x.get("@module")
            if mod is not None and (not isinstance(mod, str) or not mod.startswith(_ENTRY_MODULES)):
                if not (mod == "numpy" and x.get("@class") == "array"):
                    return f"'{mod}.{x.get('@class')}'"
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return None


@dataclass
class _ListSource(Source):
    """A source holding its entries in memory (a file, a folder of results)."""

    path: Path = field(default=Path("."))
    _entries: list = field(default_factory=list, repr=False)

    def covers(self, elements: frozenset[str]) -> bool:
        # any entry inside the system feeds its hull (and could mix with another scheme)
        return any({el.symbol for el in e.composition} <= elements for e in self._entries)

    def entries(self, elements: frozenset[str]) -> list:
        return [e for e in self._entries if {el.symbol for el in e.composition} <= elements]


@dataclass
class EntriesSource(_ListSource):
    @classmethod
    def open(cls, rel: str, base: Path) -> "EntriesSource":
        entries = load_entries_file(base / rel)
        return cls(name=f'entries("{rel}")', scheme=_scheme_of(entries), fidelity=f"user entries ({rel})",
                   path=base / rel, _entries=entries)


# ---- results of the user's calculations ----------------------------------------------------
@dataclass
class ResultsSource(_ListSource):
    @classmethod
    def open(cls, rel: str, base: Path) -> "ResultsSource":
        import warnings

        from pymatgen.entries.compatibility import CompatibilityError, MaterialsProject2020Compatibility
        from pymatgen.io.vasp.outputs import Vasprun

        root = base / rel
        if not root.is_dir():
            raise DataError(f"results folder {rel} does not exist")
        raw, notes = [], []
        from ..util.paths import escapes

        for f in sorted(root.rglob("vasprun.xml*")):
            where = f.relative_to(base)
            if escapes(base, where) is not None:  # a link to a run elsewhere: not this study's folder
                raise DataError(f"{where} is a link leading outside the study's folder; copy the run into it")
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    v = Vasprun(str(f), parse_dos=False, parse_eigen=False, parse_projected_eigen=False)
            except Exception as e:  # noqa: BLE001 - a truncated or foreign file
                raise DataError(f"{where} cannot be read as a VASP run: {e}") from e
            if not v.converged:
                notes.append(f"{where} is left out: the run did not converge (electronic or ionic)")
                continue
            e = v.get_computed_entry(inc_structure=True, entry_id=f"results:{f.parent.relative_to(base)}")
            # Deliberate difference from pymatgen: a run with GGA = PE and PAW_PBE potentials is the
            # Materials Project's functional, but pymatgen labels it "PBE" and MP2020 would discard it.
            if e.parameters.get("run_type") == "PBE" and all(p.startswith("PAW_PBE") for p in v.potcar_symbols):
                e.parameters["run_type"] = "GGA+U" if v.is_hubbard else "GGA"
            raw.append((where, e))
        compat = MaterialsProject2020Compatibility(check_potcar=False)
        entries = []
        for where, e in raw:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    e.energy_adjustments = compat.get_adjustments(e)
            except CompatibilityError as ex:
                notes.append(f"{where} is left out: it cannot be put on the MP2020 scale ({ex})")
                continue
            entries.append(e)
        return cls(name=f'results("{rel}")', scheme=SCHEME_MP2020, fidelity="DFT (user results)", path=root,
                   _entries=entries, notes=notes)


# ---- Materials Project --------------------------------------------------------------------
@dataclass
class MPSource(Source):
    name: str = "mp"
    scheme: str = SCHEME_MP2020
    fidelity: str = "DFT (Materials Project)"

    def _client(self):
        key = os.environ.get("MP_API_KEY")
        if not key:
            raise DataError("thermo source 'mp' needs a Materials Project API key in MP_API_KEY")
        try:
            from mp_api.client import MPRester
        except ImportError as e:
            raise DataError("thermo source 'mp' needs the mp-api package: pip install mp-api") from e
        return MPRester(key)

    def covers(self, elements: frozenset[str]) -> bool:
        return True  # the Materials Project has every element

    def entries(self, elements: frozenset[str]) -> list:
        with self._client() as mpr:
            return mpr.get_entries_in_chemsys(sorted(elements),
                                              additional_criteria={"thermo_types": ["GGA_GGA+U"]})


def open_sources(specs, study_dir: Path) -> list[Source]:
    """The study's `thermo` list as sources; DataError for an unusable one."""
    out: list[Source] = []
    for spec in specs:
        if spec.kind == "bundled":
            out.append(BundledSource())
        elif spec.kind == "mp":
            out.append(MPSource())
        elif spec.kind == "entries":
            out.append(EntriesSource.open(spec.path, study_dir))
        elif spec.kind == "results":
            out.append(ResultsSource.open(spec.path, study_dir))
        elif spec.kind == "chgnet":
            from .ml import ChgnetSource

            out.append(ChgnetSource())
    return out


def mixing(sources: list[Source], systems: list[frozenset[str]]) -> list[tuple[frozenset[str], Source, Source]]:
    """Chemical systems that two sources of different schemes would both feed."""
    out = []
    for sys_ in systems:
        feeding = [s for s in sources if s.covers(sys_)]
        for i, a in enumerate(feeding):
            for b in feeding[i + 1:]:
                if a.scheme != b.scheme:
                    out.append((sys_, a, b))
    return out
