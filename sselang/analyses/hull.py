"""Convex hulls from the data stage's entry records, built once per chemical system.

A record (data.stage.entry_record) holds a corrected total energy and its
provenance; here it becomes a pymatgen ComputedEntry whose entry_id keeps the
record id, so every analysis can say which energies it used and where they
came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class AnalysisError(ValueError):
    """An analysis cannot be evaluated on the data at hand; the message is for the user."""


def entry(record: dict):
    from pymatgen.core import Composition
    from pymatgen.entries.computed_entries import ComputedEntry

    return ComputedEntry(Composition(record["composition"]), float(record["energy_eV"]), entry_id=record["id"])


@dataclass
class Hulls:
    """Phase diagrams of the systems in data.json, built lazily and kept: one
    hull serves every analysis of its system."""

    systems: dict[str, dict]  # key "Cl-Li-P-S" -> {"entries": [records], "sources": [...]}
    _cache: dict = field(default_factory=dict, repr=False)
    sub: object = None  # screen.SubHulls over every record, built when a screen needs it

    def records(self, key: str) -> list[dict]:
        try:
            return self.systems[key]["entries"]
        except KeyError:
            raise AnalysisError(f"no data for the chemical system {key}") from None

    def diagram(self, key: str):
        if key not in self._cache:
            from pymatgen.analysis.phase_diagram import PhaseDiagram

            entries = [entry(r) for r in self.records(key)]
            try:
                self._cache[key] = PhaseDiagram(entries)
            except ValueError as e:  # missing terminal (elemental) entries
                raise AnalysisError(f"no phase diagram for {key}: {e}") from e
        return self._cache[key]

    def sources(self, key: str) -> list[str]:
        return list(self.systems[key].get("sources", []))


def system_key(elements) -> str:
    return "-".join(sorted(elements))


def material_record(records: list[dict], name: str, doc: dict) -> dict:
    """The record that stands for a study material in one system.

    A library phase is the dataset's record of the same library name; a
    material with its own energy (edited structures, files) is `study:<name>`;
    otherwise the lowest-energy record of its formula (the ground-state polymorph
    the data holds), which the result then names."""
    by_id = {r["id"]: r for r in records}
    src = doc.get("source", "")
    if f"study:{name}" in by_id:
        return by_id[f"study:{name}"]
    if src.startswith("library:"):
        lib = src.split(":", 1)[1].split(" ", 1)[0]
        for r in records:
            if r["id"].split(":", 1)[-1] == lib and r["formula"] == doc["formula"]:
                return r
    same = [r for r in records if r["formula"] == doc["formula"]]
    if not same:
        raise AnalysisError(f"the data hold no energy for {name} ({doc['formula']})")
    return min(same, key=lambda r: (r["energy_eV"] / sum(r["composition"].values()), r["id"]))
