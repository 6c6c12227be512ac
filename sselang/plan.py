"""The plan: the calculations a study needs, each with a stable id.

    relax-<material>-<engine>-<hash>           every material an analysis uses
    static-<material>-<engine>-<hash>          where an analysis needs its energy
    md-<material>-<T>K-<engine>-<hash>         one AIMD run per diffusion temperature
    md-<material>-<T>K-npt-<engine>-<hash>     the same in the NpT ensemble (`ensemble = npt`)
    interface-<substrate>_<film>-<engine>-<hash>  one lattice-matched interface model per request (VASP)

NpT runs keep the kind "md" (one job array per material and ensemble); their
settings carry ensemble = "npt" and the target pressure (pressure_MPa, from
the analysed cell's conditions, 0 otherwise), so the hash differs from the
NVT run's, while NVT settings are unchanged and keep their ids.  Only VASP
has NpT decks (ENGINES_WITH_NPT): an NpT run asked of another engine is
listed in Plan.skipped, never written as NVT.

The hash covers everything the deck is written from (structure, settings,
kind, engine, deck version), so an id names one set of inputs for good: a
changed input is a new calculation, and a directory that holds results is
never rewritten (see write_calculations).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

DECK_VERSION = 2  # part of every id: bump when the decks change for the same inputs
ENGINES_WITH_DECKS = ("vasp", "qe", "cp2k")
KINDS_BY_ENGINE = {"vasp": ("relax", "static", "md", "neb", "interface"), "qe": ("relax", "static", "md"),
                   "cp2k": ("relax", "md")}
ENGINES_WITH_NPT = ("vasp",)  # engines whose md decks can run the NpT ensemble
# Atoms in one calculation: beyond any DFT budget (AIMD runs hold 100-500), and the largest
# a preview or a deck is written for; a larger supercell or structure is refused (SSE045).
MAX_ATOMS = 5000
OUTPUT_FILES = ("OUTCAR", "vasprun.xml", "XDATCAR", "OSZICAR", "CONTCAR", "cp2k.out", "pw.out", "neb.traj")
# a calculation directory with any of these (or a VASP NEB image folder with an OUTCAR, or a
# CP2K trajectory) holds results: sselang never writes into it (see holds_results)


def holds_results(calc_dir: Path) -> bool:
    """Whether a calculation folder holds an engine's or the preview's results."""
    calc_dir = Path(calc_dir)
    if not calc_dir.is_dir():
        return False
    return (any((calc_dir / f).exists() for f in OUTPUT_FILES) or any(calc_dir.glob("*-pos-1.xyz"))
            or any(calc_dir.glob("[0-9][0-9]/OUTCAR")))


@dataclass(frozen=True)
class Calculation:
    id: str
    kind: str  # relax | static | md | neb | interface
    material: str
    engine: str
    settings: dict
    structure: dict  # structure document (lattice, species, frac_coords)
    why: str  # which analysis needs it

    @property
    def natoms(self) -> int:
        return len(self.structure["species"])


@dataclass
class Plan:
    calculations: list[Calculation] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # engines without decks yet, etc.


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:40]


def _id(kind, material, engine, settings, structure, extra="") -> str:
    blob = json.dumps([kind, engine, settings, structure, DECK_VERSION], sort_keys=True)
    h = hashlib.sha256(blob.encode()).hexdigest()[:10]
    return f"{kind}-{_safe(material)}{extra}-{engine}-{h}"


def supercell_for(lattice_abc, min_length: float) -> list[int]:
    """Multipliers that bring every lattice vector to at least min_length Å."""
    return [max(1, math.ceil(min_length / a - 1e-9)) for a in lattice_abc]


def _md_cell(s, min_length: float):
    """The cell (as ordered, or its primitive) whose diagonal supercell reaching
    min_length has the fewest atoms: the argyrodite's 52-atom cell (9.85 Å)
    would need 416 atoms for 10 Å, its 26-atom primitive fewer."""
    cands = [s]
    try:
        p = s.get_primitive_structure(tolerance=0.01)
        if len(p) < len(s):
            cands.append(p.get_reduced_structure())
    except Exception:  # noqa: BLE001 - keep the ordered cell
        pass
    return min(cands, key=lambda c: (len(c) * math.prod(supercell_for(c.lattice.abc, min_length)), -len(c)))


def engines_for(study, group: str) -> list:
    """Engine blocks that apply to a calculation group (relax, static, diffusion)."""
    blocks = [e for e in study.engines if not e.applies_to or group in e.applies_to]
    if not blocks and not study.engines:
        from .model.study import Engine

        return [Engine(name="vasp")]
    return blocks


def _settings(engine, extra: dict) -> dict:
    s = dict(engine.settings)  # quantities are in canonical units; "<key>_unit" says which
    s.update(extra)
    return s


def make_plan(study, data) -> Plan:
    from .data.ml import structure_doc
    from .data.stage import systems_needed
    from .data.thermo import _structure

    plan = Plan()
    need_energy = sorted({m for n in systems_needed(study, set(data.unresolved)).values() for m in n.materials})
    structural = []
    for a in study.analyses:
        for r in a.requests:
            if r.kind in ("diffusion", "barrier"):
                structural.append(r.material)
    for name in sorted(set(need_energy) | set(structural)):
        doc = data.materials.get(name)
        if doc is None:
            continue
        for kind, group in (("relax", "relax"), ("static", "static")):
            if kind == "static" and name not in need_energy:
                continue
            for eng in engines_for(study, group):
                if eng.name not in ENGINES_WITH_DECKS or kind not in KINDS_BY_ENGINE[eng.name]:
                    plan.skipped.append(f"{kind} {name} with {eng.name}: no {eng.name} {kind} decks yet")
                    continue
                st = _settings(eng, {})
                cid = _id(kind, name, eng.name, st, doc["structure"])
                plan.calculations.append(Calculation(cid, kind, name, eng.name, st, doc["structure"],
                                                     "energy for the phase diagrams" if kind == "static"
                                                     else "relaxed structure"))
    for a in study.analyses:
        for r in a.requests:
            if r.kind != "diffusion" or r.material not in data.materials:
                continue
            s = _md_cell(_structure(data.materials[r.material]["structure"]), r.supercell_min_length_A)
            mult = supercell_for(s.lattice.abc, r.supercell_min_length_A)
            doc = structure_doc(s * mult)
            steps = int(round(r.duration_ps * 1000 / r.timestep_fs))
            npt = r.ensemble == "npt"
            # only NpT settings name the ensemble: NVT runs keep the ids they always had
            ens = {"ensemble": "npt", "pressure_MPa": _pressure_MPa(study, a)} if npt else {}
            for eng in engines_for(study, "diffusion"):
                if eng.name not in ENGINES_WITH_DECKS:
                    plan.skipped.append(f"md {r.material} with {eng.name}: no {eng.name} decks yet")
                    continue
                if npt and eng.name not in ENGINES_WITH_NPT:
                    plan.skipped.append(f"md {r.material} with {eng.name}: ensemble = npt, but there are no "
                                        f"{eng.name} NpT decks yet (not written as NVT)")
                    continue
                for t in r.temperatures_K:
                    st = _settings(eng, {"temperature_K": t, "timestep_fs": r.timestep_fs, "steps": steps,
                                         "supercell": mult, "equilibrate_ps": r.equilibrate_ps, **ens})
                    cid = _id("md", r.material, eng.name, st, doc, extra=f"-{t:g}K" + ("-npt" if npt else ""))
                    plan.calculations.append(Calculation(cid, "md", r.material, eng.name, st, doc,
                                                         f"diffusion at {t:g} K ({'x'.join(map(str, mult))} supercell"
                                                         + (f", NpT at {ens['pressure_MPa']:g} MPa)" if npt else ")")))
    _plan_barriers(study, data, plan)
    _plan_interfaces(study, data, plan)
    seen, unique = set(), []
    for c in plan.calculations:
        if c.id not in seen:
            seen.add(c.id)
            unique.append(c)
    plan.calculations = unique
    return plan


def _pressure_MPa(study, analysis) -> float:
    """The NpT target pressure: the analysed cell's conditions pressure, else 0
    (a material analysed on its own has no stack pressure)."""
    if analysis.target_kind == "cell":
        p = study.cell(analysis.target).conditions.pressure_MPa
        if p is not None:
            return float(p)
    return 0.0


def _plan_barriers(study, data, plan: Plan) -> None:
    from .data.ml import structure_doc
    from .data.thermo import _structure
    from .neb import find_hop

    for a in study.analyses:
        for r in a.requests:
            if r.kind != "barrier" or r.material not in data.materials:
                continue
            s = _md_cell(_structure(data.materials[r.material]["structure"]), 10.0)
            s = s * supercell_for(s.lattice.abc, 10.0)
            try:
                hop = find_hop(s, r.species, r.direction, r.images)
            except ValueError as e:
                plan.skipped.append(f"barrier of {r.material}: {e}")
                continue
            for eng in engines_for(study, "barrier"):
                if eng.name != "vasp":
                    plan.skipped.append(f"neb {r.material} with {eng.name}: NEB decks are written for VASP only")
                    continue
                st = _settings(eng, {"images": r.images, "climb": r.climb, "species": r.species,
                                     "direction": r.direction, "hop_distance": round(hop.distance, 4),
                                     "image_docs": [structure_doc(x) for x in hop.images],
                                     "final_doc": structure_doc(hop.final)})
                doc = structure_doc(hop.initial)
                cid = _id("neb", r.material, eng.name, st, doc, extra=f"-{r.species}-{r.direction or 'any'}")
                plan.calculations.append(Calculation(cid, "neb", r.material, eng.name, st, doc,
                                                     f"{r.species} hop of {hop.distance:.2f} Å along "
                                                     f"{r.direction or 'the shortest path'}"))


def _plan_interfaces(study, data, plan: Plan) -> None:
    """One interface model per `interface A | B` request: A the substrate, B
    the film strained onto it (see sselang/interfaces.py).  A request no model
    fits (no match within max_area and max_strain, or more than MAX_ATOMS
    atoms) is listed in plan.skipped with the reason."""
    from .data.ml import structure_doc
    from .data.thermo import _structure
    from .interfaces import InterfaceError, build_interface

    for a in study.analyses:
        for r in a.requests:
            if r.kind != "interface" or r.a not in data.materials or r.b not in data.materials:
                continue
            label = f"{r.a} | {r.b}"
            engines = engines_for(study, "interface")
            for eng in engines:
                if "interface" not in KINDS_BY_ENGINE.get(eng.name, ()):
                    plan.skipped.append(f"interface {label} with {eng.name}: interface decks are written for VASP only")
            if not any("interface" in KINDS_BY_ENGINE.get(e.name, ()) for e in engines):
                continue  # no deck to write: the match search is not run
            try:
                model = build_interface(_structure(data.materials[r.a]["structure"]),
                                        _structure(data.materials[r.b]["structure"]), max_area=r.max_area_A2,
                                        max_strain=r.max_strain, thickness=r.thickness_A, vacuum=r.vacuum_A)
            except InterfaceError as e:
                plan.skipped.append(f"interface {label}: {e}")
                continue
            info = model.summary()
            doc = structure_doc(model.structure)
            hkl = "".join(map(str, info["film_miller"])), "".join(map(str, info["substrate_miller"]))
            why = (f"{r.b}({hkl[0]}) on {r.a}({hkl[1]}), {info['area_A2']:.1f} Å^2, film strain "
                   f"{max(abs(x) for x in info['strain_principal']) * 100:.2f} %, "
                   + (f"{r.vacuum_A:g} Å vacuum" if r.vacuum_A > 0 else "periodic"))
            for eng in engines:
                if "interface" not in KINDS_BY_ENGINE.get(eng.name, ()):
                    continue
                st = _settings(eng, {"interface": info})
                cid = _id("interface", f"{r.a}_{r.b}", eng.name, st, doc)
                plan.calculations.append(Calculation(cid, "interface", f"{r.a}|{r.b}", eng.name, st, doc, why))


def render(calc: Calculation) -> dict[str, str]:
    from . import __version__
    from .data.thermo import _structure
    from .decks import DeckRequest

    settings = dict(calc.settings)
    if calc.kind == "neb":
        settings["image_structures"] = [_structure(d) for d in settings.pop("image_docs")]
        settings["final_structure"] = _structure(settings.pop("final_doc"))
    req = DeckRequest(calc.kind, _structure(calc.structure), settings, calc.material)
    if calc.engine == "vasp":
        from .decks.vasp import render as vasp

        return vasp(req, calc.id, __version__)
    if calc.engine == "qe":
        from .decks.qe import render as qe

        files = qe(req, calc.id, __version__)
    elif calc.engine == "cp2k":
        from .decks.cp2k import render as cp2k

        files = cp2k(DeckRequest(calc.kind, req.structure, settings, _safe(calc.material)))
    else:
        raise ValueError(f"no decks for engine {calc.engine}")
    deck = next(iter(files.values()))
    comments = [ln.lstrip("!# ").rstrip() for ln in deck.splitlines() if ln.startswith(("!", "#"))]
    files["README.md"] = (f"# {calc.id}\n\n{calc.why}\n\n- engine: {calc.engine}\n- material: {calc.material}, "
                          f"{calc.natoms} atoms\n- written by sselang {__version__}\n\n## Defaults and why\n\n"
                          + "\n".join(f"- {c}" for c in comments if c) + "\n")
    return files


def status(calc_dir: Path, files: dict[str, str]) -> str:
    """add (new), keep (same inputs), results (holds outputs: untouched)."""
    if not calc_dir.exists():
        return "add"
    if holds_results(calc_dir):
        return "results"
    same = all((calc_dir / n).exists() and (calc_dir / n).read_text(encoding="utf-8") == t for n, t in files.items())
    return "keep" if same else "change"


def files_for(c: Calculation, executor=None) -> dict[str, str]:
    """Every file of a calculation directory: the deck and its job script."""
    from . import __version__
    from .decks.jobs import job_script

    files = render(c)
    files["job.sh"] = job_script(c, executor, __version__)
    return files


class EditedCalculations(Exception):
    """Calculation directories whose files were changed by hand (no results yet)."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids
        super().__init__(", ".join(ids))


def write_calculations(plan: Plan, out: Path, executor=None, force: bool = False, tx=None,
                       rendered: list | None = None) -> list[tuple[str, str]]:
    """Write every calculation's deck under out/calcs/<id>/ and the job arrays
    under out/jobs/.  A directory that holds results is never touched; one whose
    files were edited by hand is refused (EditedCalculations) unless `force`,
    which moves it aside to <id>.old-N (never deletes it).
    With a build transaction `tx` (out is then its staging folder), new folders and
    moves are staged and happen at its commit.  `rendered`: (calculation, files) of
    every calculation, when already made.  Returns (id, status) per calculation."""
    from . import __version__
    from .decks.jobs import array_script
    from .util.atomic import write_dir_atomic, write_text_atomic

    if rendered is None:
        rendered = [(c, files_for(c, executor)) for c in plan.calculations]
    states = [status(out / "calcs" / c.id, files) for c, files in rendered]
    edited = [c.id for (c, _), st in zip(rendered, states) if st == "change"]
    if edited and not force:
        raise EditedCalculations(edited)
    report = []
    for (c, files), st in zip(rendered, states):
        d = out / "calcs" / c.id
        if st == "change":
            if tx is not None:
                tx.move_aside(c.id)
            else:
                n = 1
                while d.with_name(f"{d.name}.old-{n}").exists():
                    n += 1
                d.rename(d.with_name(f"{d.name}.old-{n}"))
        if st in ("add", "change"):
            if tx is not None:
                tx.stage_calc(c.id, files)
            else:
                write_dir_atomic(d, files)
        report.append((c.id, st))
    series: dict[str, list[Calculation]] = {}
    for c in plan.calculations:
        if c.kind == "md":
            npt = "-npt" if c.settings.get("ensemble") == "npt" else ""
            series.setdefault(f"md-{_safe(c.material)}{npt}-{c.engine}", []).append(c)
    for name, calcs in sorted(series.items()):
        write_text_atomic(out / "jobs" / f"{name}.sh", array_script(name, calcs, executor, __version__))
    return report
