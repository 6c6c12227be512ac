"""Study materials -> ordered structures.

    library("Li6PS5Cl")           the library phase, edits applied, then ordered
    formula only (inline LiNbO3)  the library phase of that formula (its ground state)
    file("x.cif")                 any file pymatgen or ase reads, then ordered
    mp("mp-1234")                 the Materials Project structure (mp-api, MP_API_KEY)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..model import study as m
from .ml import structure_doc, structure_hash
from .thermo import DataError


@dataclass
class ResolvedMaterial:
    name: str
    source: str
    structure: object  # ordered pymatgen Structure
    ordering: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return structure_hash(self.structure)

    def document(self) -> dict:
        return {"source": self.source, "ordering": self.ordering, "notes": self.notes,
                "sha256": self.sha256, "formula": self.structure.composition.reduced_formula,
                "natoms": len(self.structure), "structure": structure_doc(self.structure)}


def library_phase_for(formula_comp: dict[str, float]) -> str | None:
    """The library record of a composition: the one named by the formula
    itself (the ground state by the library's convention), else the first."""
    from pymatgen.core import Composition

    from ..model.formula import parse_formula
    from .library import phases

    target = Composition(formula_comp).reduced_composition
    matches = sorted(n for n, p in phases().items() if Composition(parse_formula(p.formula)).reduced_composition == target)
    if not matches:
        return None
    exact = [n for n in matches if _is_formula(n) and Composition(n).reduced_composition == target]
    return exact[0] if exact else matches[0]


def _is_formula(name: str) -> bool:
    from ..model.formula import looks_like_formula

    return looks_like_formula(name)


def resolve(mat: m.Material, study_dir: Path) -> ResolvedMaterial:
    from pymatgen.core import Composition

    from .library import phases
    from .library import build as build_phase

    src = mat.structure
    notes: list[str] = []
    if src.kind == "library":
        if src.ref not in phases():
            raise DataError(f"no phase '{src.ref}' in the structure library")
        s = build_phase(phases()[src.ref])
        label = f"library:{src.ref}"
        default_order = phases()[src.ref].ordering or {}
    elif src.kind == "formula":
        name = library_phase_for(mat.composition)
        if name is None:
            raise DataError(f"no structure for {mat.formula}: it is not in the structure library; "
                            f"give one with structure = file(\"...\") or mp(\"mp-...\")")
        s = build_phase(phases()[name])
        label = f"library:{name}"
        default_order = phases()[name].ordering or {}
        notes.append(f"found in the library by its formula ({name})")
    elif src.kind == "file":
        s = read_structure(study_dir / src.ref)
        label = f"file:{src.ref}"
        default_order = {}
    else:
        s = _mp_structure(src.ref)
        label = f"mp:{src.ref}"
        default_order = {}
    if src.edits:
        from .ordering import OrderingError, apply_edits

        try:
            s = apply_edits(s, src.edits)
        except OrderingError as e:
            raise DataError(str(e)) from e
        label += " with " + "; ".join(
            f"substitute {e.species} -> {e.new_species} {e.amount:g}" if e.op == "substitute" else f"{e.op} {e.species} {e.amount:g}"
            for e in src.edits)
    want = Composition(mat.composition).reduced_composition
    got = s.composition.reduced_composition
    if not _same(want, got):
        raise DataError(f"the structure ({label}) has composition "
                        f"{s.composition.formula.replace(' ', '')}, not {mat.formula}")
    ordering = None
    if not s.is_ordered:
        s, ordering = _order(s, mat, default_order)
    else:
        s = s.get_sorted_structure()
    return ResolvedMaterial(mat.name, label, s, ordering, notes)


def _same(a, b) -> bool:
    els = set(a.as_dict()) | set(b.as_dict())
    ta, tb = a.num_atoms, b.num_atoms
    return all(abs(a[el] / ta - b[el] / tb) < 2e-3 for el in els)


def _order(s, mat: m.Material, default: dict):
    from ..checks.chemistry import charge_balance
    from .ordering import OrderingError, order

    o = mat.order
    method = o.method if o else default.get("method", "ewald")
    seed = o.seed if o else int(default.get("seed", 0))
    keep = o.keep if o else 1
    max_atoms = (o.max_atoms if o else None) or default.get("max_atoms")
    b = charge_balance(mat.composition)
    ox = {k: float(v) for k, v in (b.states or {el: 0 for el in mat.composition}).items()}
    try:
        if method == "random":
            from .ordering import random_order

            cells = random_order(s, seed=seed, max_atoms=max_atoms)
        else:
            cells = order(s, ox, seed=seed, keep=keep, max_atoms=max_atoms, target=mat.composition,
                          cell=str(default.get("cell", "primitive")))
    except OrderingError as e:
        raise DataError(f"cannot order {mat.name}: {e}") from e
    best = cells[0]
    info = {"method": best.method, "seed": seed, "kept": len(cells), "supercell": list(best.supercell),
            "arrangements": best.arrangements, "ewald_energy_eV": round(best.ewald_energy_eV, 6),
            "oxidation_states": ox}
    return best.structure, info


# A CIF or POSCAR of a few thousand atoms is a few hundred kB; a larger file is a trajectory
# or a database passed by mistake, which the readers would take minutes to parse.
MAX_STRUCTURE_BYTES = 20_000_000


def read_structure(path: Path):
    """A structure from any file pymatgen reads (CIF, POSCAR, ...) or, failing that, ase."""
    if not path.is_file():
        raise DataError(f"structure file {path} does not exist")
    if path.stat().st_size > MAX_STRUCTURE_BYTES:
        raise DataError(f"structure file {path} is larger than {MAX_STRUCTURE_BYTES // 1_000_000} MB: "
                        "a crystal structure is a few kB")
    import warnings

    from ..plan import MAX_ATOMS

    errors = []
    s = None
    try:
        from pymatgen.core import Structure

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            s = Structure.from_file(str(path))
    except Exception as e:  # noqa: BLE001 - try the next reader, then report both
        errors.append(f"pymatgen: {_short_error(e)}")
    if s is None:
        try:
            from ase.io import read
            from pymatgen.io.ase import AseAtomsAdaptor

            s = AseAtomsAdaptor.get_structure(read(str(path)))
        except Exception as e:  # noqa: BLE001
            errors.append(f"ase: {_short_error(e)}")
    if s is None:
        raise DataError(f"{path} is not a structure file pymatgen or ase can read ({'; '.join(errors)})")
    import math

    if len(s) == 0:
        raise DataError(f"structure file {path} holds no atoms")
    if len(s) > MAX_ATOMS:
        raise DataError(f"structure file {path} holds {len(s)} atoms; a calculation takes at most {MAX_ATOMS}")
    if not all(math.isfinite(x) for x in s.lattice.matrix.flat) or s.volume < 1e-3 * len(s):
        raise DataError(f"structure file {path} has a degenerate cell (volume {s.volume:.3g} Å^3 for {len(s)} atoms)")
    return s


def _short_error(e: Exception) -> str:
    """An exception as one short line: a reader's message can quote a whole file."""
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 200 else text[:197] + "..."


def _mp_structure(mp_id: str):
    import os

    key = os.environ.get("MP_API_KEY")
    if not key:
        raise DataError(f"mp(\"{mp_id}\") needs a Materials Project API key in MP_API_KEY")
    try:
        from mp_api.client import MPRester
    except ImportError as e:
        raise DataError(f"mp(\"{mp_id}\") needs the mp-api package: pip install mp-api") from e
    with MPRester(key) as mpr:
        return mpr.get_structure_by_material_id(mp_id)
