"""The data stage of `compile`: materials -> ordered structures, analyses ->
chemical systems -> entries, from the study's sources or from its lock.

Diagnostics (SSE1xx) point at the material or the thermo source concerned.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..checks.diagnostics import Reporter
from ..model import study as m
from .thermo import DataError

LOCK_VERSION = 1


def lock_problem(doc) -> str | None:
    """What makes a decoded lock unusable (wrong shape, non-finite numbers, a structure
    that does not match its sha256), else None.  A lock is committed with the study and
    merged, edited or cut short like any file; compile must say so, not fail inside."""
    import math

    from ..model.elements import table

    elements = table()

    def is_element(x) -> bool:
        return isinstance(x, str) and x in elements

    def number(x) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)

    if not isinstance(doc, dict):
        return "it is not a JSON object"
    for key, kind in (("materials", dict), ("systems", dict), ("thermo", dict), ("unresolved", list)):
        if not isinstance(doc.get(key, kind()), kind):
            return f"'{key}' is not a JSON {'object' if kind is dict else 'list'}"
    for name, m in doc.get("materials", {}).items():
        where = f"material '{name}'"
        if not isinstance(m, dict) or not isinstance(m.get("structure"), dict):
            return f"{where} has no structure"
        st = m["structure"]
        lat, species, frac = st.get("lattice"), st.get("species"), st.get("frac_coords")
        if not (isinstance(lat, list) and len(lat) == 3 and all(isinstance(r, list) and len(r) == 3 and all(map(number, r))
                                                               for r in lat)):
            return f"{where}: the lattice is not three rows of three numbers"
        if not (isinstance(species, list) and species and all(isinstance(x, str) and is_element(x) for x in species)):
            return f"{where}: the species are not element symbols"
        if not (isinstance(frac, list) and len(frac) == len(species)
                and all(isinstance(r, list) and len(r) == 3 and all(map(number, r)) for r in frac)):
            return f"{where}: the coordinates are not one row of three numbers per atom"
        for key in ("source", "sha256", "formula", "inputs"):
            if not isinstance(m.get(key), str):
                return f"{where} has no '{key}'"
        if hashlib.sha256(json.dumps(st, sort_keys=True).encode()).hexdigest() != m["sha256"]:
            return f"{where}: the structure does not match its sha256 (edited or damaged)"
    th = doc.get("thermo", {})
    if not isinstance(th.get("inputs", ""), str) or not isinstance(th.get("sources", []), list):
        return "'thermo' has no inputs and sources"
    for key, sys_ in doc.get("systems", {}).items():
        where = f"chemical system '{key}'"
        if not isinstance(sys_, dict) or not isinstance(sys_.get("entries"), list):
            return f"{where} has no entries"
        for k in ("reasons", "sources"):
            if not isinstance(sys_.get(k, []), list):
                return f"{where}: '{k}' is not a list"
        for i, e in enumerate(sys_["entries"]):
            if not isinstance(e, dict) or not isinstance(e.get("formula"), str):
                return f"{where}: entry {i} has no formula"
            comp = e.get("composition")
            if not (isinstance(comp, dict) and comp and all(is_element(k) and number(v) and v >= 0 for k, v in comp.items())):
                return f"{where}: entry {i} ({e['formula']}) has no composition of elements and amounts"
            for k in ("energy_eV", "uncorrected_energy_eV", "correction_eV"):
                if not number(e.get(k)):
                    return f"{where}: entry {i} ({e['formula']}) has no finite {k}"
            if e.get("id") is not None and not isinstance(e["id"], str):
                return f"{where}: entry {i} ({e['formula']}) has an id that is not a string"
    return None


@dataclass
class Need:
    reasons: list[str] = field(default_factory=list)
    materials: set[str] = field(default_factory=set)  # whose own energy the system must hold


def screen_only(study: m.Study) -> set[str]:
    """Materials that appear only as screening candidates: a screen reports a
    candidate it has no data for, so such a material is not an error."""
    used: set[str] = set()
    cands: set[str] = set()
    for c in study.cells:
        used.update([c.cathode.material, c.electrolyte.material, c.anode.material, *(x.material for x in c.coatings)])
    for a in study.analyses:
        if a.target_kind == "material":
            used.add(a.target)
        for r in a.requests:
            if r.kind == "screen":
                cands.update(r.candidates)
            else:
                used.update(getattr(r, f) for f in ("material", "a", "b") if hasattr(r, f))
    return cands - used


def systems_needed(study: m.Study, skip: set[str] = frozenset()) -> dict[str, Need]:
    """Chemical systems ('Cl-Li-P-S') the analyses need, why, and for which
    materials (candidates in `skip`, which have no data, are left out)."""
    out: dict[str, Need] = {}

    def add(elements, why, *materials):
        need = out.setdefault("-".join(sorted(elements)), Need())
        if why not in need.reasons:
            need.reasons.append(why)
        need.materials.update(materials)

    for a in study.analyses:
        cell = study.cell(a.target) if a.target_kind == "cell" else None
        for r in a.requests:
            if r.kind in ("window", "profile"):
                add(set(study.material(r.material).composition) | {"Li"}, f"{r.kind} {r.material}", r.material)
            elif r.kind == "reactivity":
                els = set(study.material(r.a).composition) | set(study.material(r.b).composition)
                add(els | ({r.open_element} if r.open_element else set()), f"reactivity {r.label}", r.a, r.b)
            elif r.kind == "screen" and cell is not None:
                base = set(study.material(cell.cathode.material).composition) | set(
                    study.material(cell.electrolyte.material).composition)
                for name, comp in screen_candidates(study, r, cell):
                    if name in skip:
                        continue
                    add(set(comp) | base | {"Li"}, f"screen candidate {name}",
                        *([name] if name in {x.name for x in study.materials} else []),
                        cell.cathode.material, cell.electrolyte.material)
    return dict(sorted(out.items()))


def screen_candidates(study: m.Study, r: m.ScreenRequest, cell: m.Cell) -> list[tuple[str, dict[str, float]]]:
    """(name, composition) of every candidate of a screen: the listed materials, or
    every Li compound of the bundled dataset (`candidates = all from bundled`) except
    the cell's own cathode and electrolyte and compounds of excluded elements."""
    if not r.candidates_from:
        return [(c, dict(study.material(c).composition)) for c in r.candidates]
    if r.candidates_from != "bundled":
        return []  # mp: needs the Materials Project's full list, not offline
    from ..model.formula import parse_formula
    from .thermo import bundled_document

    own = {study.material(cell.cathode.material).formula, study.material(cell.electrolyte.material).formula}
    out = []
    for rec in bundled_document()["entries"]:
        comp = parse_formula(rec["formula"])
        if "Li" not in comp or len(comp) < 2 or rec["formula"] in own:
            continue
        if set(comp) & set(r.exclude_elements):
            continue
        out.append((rec["name"], dict(comp)))
    return sorted(out)


def material_inputs(mat: m.Material) -> str:
    """Fingerprint of what decides a material's structure (for the lock)."""
    blob = json.dumps({"formula": mat.formula, "structure": mat.structure.model_dump(mode="json"),
                       "order": mat.order.model_dump(mode="json") if mat.order else None}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def sources_inputs(study: m.Study) -> str:
    blob = json.dumps([t.model_dump(mode="json") for t in study.data.thermo], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def entry_record(e, source: str) -> dict:
    """An entry as the lock and the build keep it: no structure, every number."""
    return {
        "id": e.entry_id,
        "formula": e.composition.reduced_formula,
        "composition": {el.symbol: float(n) for el, n in sorted(e.composition.items())},
        "energy_eV": round(float(e.energy), 6),  # corrected total energy
        "uncorrected_energy_eV": round(float(e.uncorrected_energy), 6),
        "correction_eV": round(float(e.correction), 6),
        "source": source,
    }


@dataclass
class DataResult:
    materials: dict[str, dict] = field(default_factory=dict)  # name -> ResolvedMaterial.document() + inputs
    systems: dict[str, dict] = field(default_factory=dict)  # system -> {reasons, sources, entries}
    sources: list[dict] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # screen candidates without data

    def lock_document(self, study: m.Study) -> dict:
        from ..compile import tool_versions

        return {
            "lock_version": LOCK_VERSION,
            "study": study.id,
            "generator": tool_versions(),
            "thermo": {"inputs": sources_inputs(study), "sources": self.sources},
            "materials": self.materials,
            "systems": self.systems,
            "unresolved": sorted(self.unresolved),
        }


def _at(spans, rep: Reporter, code: str, msg: str, key, help=None, warning=False, fallback=None):
    from ..checks.physics import _At

    at = _At(spans, rep)
    (at.warning if warning else at.error)(code, msg, key, help, fallback)


def run(study: m.Study, spans, rep: Reporter, study_dir: Path, lock: dict | None) -> DataResult:
    from .materials import resolve as resolve_material

    res = DataResult()
    optional = screen_only(study)
    # ---- structures ---------------------------------------------------------------------
    for mat in study.materials:
        inputs = material_inputs(mat)
        locked = (lock or {}).get("materials", {}).get(mat.name)
        if locked is not None and locked.get("inputs") == inputs:
            res.materials[mat.name] = locked
            continue
        if lock is not None:
            _at(spans, rep, "SSE107", f"the lock has {'no' if locked is None else 'an outdated'} structure for "
                f"'{mat.name}'; it is resolved again", ("material", mat.name),
                "run `sselang lock` to record it", warning=True)
        try:
            r = resolve_material(mat, study_dir)
        except DataError as e:
            if mat.name in optional:
                _at(spans, rep, "SSE102", f"screen candidate {mat.name} is left out: {e}",
                    ("material", mat.name, "structure"), fallback=("material", mat.name), warning=True)
                res.unresolved.append(mat.name)
            else:
                _at(spans, rep, "SSE102", f"{mat.name}: {e}", ("material", mat.name, "structure"),
                    fallback=("material", mat.name))
            continue
        res.materials[mat.name] = dict(r.document(), inputs=inputs)
    # ---- energies -------------------------------------------------------------------------
    needed = systems_needed(study, set(res.unresolved))
    if not needed:
        return res
    src_inputs = sources_inputs(study)
    lock_ok = lock is not None and lock.get("thermo", {}).get("inputs") == src_inputs
    locked_systems = (lock or {}).get("systems", {}) if lock_ok else {}
    if lock is not None and not lock_ok:
        _at(spans, rep, "SSE107", "the lock was made with other thermo sources; energies are fetched again",
            ("thermo", 0), "run `sselang lock` to record them", warning=True)
    if lock_ok and all(k in locked_systems for k in needed):
        res.sources = lock["thermo"]["sources"]
        res.systems = {k: locked_systems[k] for k in needed}
        return res
    from .thermo import mixing, open_sources

    try:
        sources = open_sources(study.data.thermo, study_dir)
    except DataError as e:
        _at(spans, rep, "SSE104", str(e), ("thermo", 0))
        return res
    res.sources = [s.describe() for s in sources]
    for s in sources:
        for note in s.notes:
            _at(spans, rep, "SSE109", note, ("thermo", 0), warning=True)
    for system, a, b in mixing(sources, [frozenset(k.split("-")) for k in needed]):
        _at(spans, rep, "SSE105", f"thermo sources '{a.name}' ({a.scheme}) and '{b.name}' ({b.scheme}) would both "
            f"give energies for {'-'.join(sorted(system))}", ("thermo", 0),
            "a phase diagram takes one energy scheme: keep one of the two for this chemical system")
    if rep.has_errors:
        return res
    for key, need in needed.items():
        if key in locked_systems:
            res.systems[key] = locked_systems[key]
            continue
        elements = frozenset(key.split("-"))
        feeding = [s for s in sources if s.covers(elements)]
        if not feeding:
            names = ", ".join(s.name for s in sources)
            _at(spans, rep, "SSE106", f"no thermo source has the elements of {key} ({names})", ("thermo", 0),
                "add a source that covers them, e.g. mp or entries(\"...\")")
            continue
        records: dict[str, dict] = {}
        try:
            for s in feeding:
                for rec in s.records(elements):
                    records.setdefault(rec["id"] or f"{s.name}:{rec['formula']}:{len(records)}", rec)
        except DataError as e:
            _at(spans, rep, "SSE104", str(e), ("thermo", 0))
            continue
        missing = [el for el in sorted(elements) if not any(set(r["composition"]) == {el} for r in records.values())]
        if missing:
            _at(spans, rep, "SSE106", f"no elemental reference for {', '.join(missing)} in {key} "
                f"(sources: {', '.join(s.name for s in feeding)})", ("thermo", 0),
                "a phase diagram needs every element's own entry: add a source that has it")
            continue
        res.systems[key] = {"reasons": need.reasons, "sources": [s.name for s in feeding],
                            "entries": [records[k] for k in sorted(records)]}
    _material_energies(study, res, spans, rep, needed)
    return res


def _material_energies(study: m.Study, res: DataResult, spans, rep: Reporter, needed) -> None:
    """Each analysed material must have its own energy in its systems' entries:
    a library phase is there already; a derived one (edits, a file) gets a
    CHGNet energy when the potential is installed."""
    from . import ml

    analysed = sorted({x for need in needed.values() for x in need.materials})
    for name in analysed:
        mat = study.material(name)
        doc = res.materials.get(name)
        if doc is None:
            continue
        src = doc["source"]
        systems = [k for k in res.systems if name in needed[k].materials]
        # a library phase (no edits) is the phase of its formula: any entry of that formula
        # stands for it; an edited or file structure is a phase of its own
        is_library_phase = src.startswith("library:") and not mat.structure.edits
        has = is_library_phase and all(any(e["formula"] == doc["formula"] for e in res.systems[k]["entries"])
                                       for k in systems)
        if has or not systems:
            continue
        if not ml.available():
            _at(spans, rep, "SSE106", f"no energy for {name} ({src}): "
                "it is in no dataset and the CHGNet potential is not installed", ("material", name),
                "pip install torch==2.13.0 chgnet (or give its energy in entries(\"...\"))", warning=True)
            continue
        from .thermo import _structure

        r = ml.relax(_structure(doc["structure"]))
        rec = {"id": f"study:{name}", "formula": doc["formula"],
               "composition": {k: float(v) for k, v in sorted(_structure(r.structure).composition.as_dict().items())},
               "energy_eV": r.energy_eV, "uncorrected_energy_eV": r.energy_eV, "correction_eV": 0.0,
               "source": "chgnet (study material)"}
        for k in systems:
            entries = res.systems[k]["entries"]
            if rec["id"] not in {e["id"] for e in entries}:
                entries.append(rec)
                entries.sort(key=lambda e: e["id"])
            if any(s != "bundled" and s != "chgnet" for s in res.systems[k]["sources"]):
                _at(spans, rep, "SSE105", f"the CHGNet energy of {name} would join DFT energies in {k}",
                    ("material", name), "give its DFT energy in entries(\"...\") or results(\"...\")", warning=True)
