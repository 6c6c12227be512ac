"""Preview runs of a plan's calculations with the universal ML potential CHGNet.

A preview runs a calculation on a laptop in minutes instead of a DFT job on a
cluster, on the same structure and settings the decks were written from:

    relax   cell and ions (FrechetCellFilter + FIRE, fmax 0.1 eV/Å, at most 500
            steps): the dataset build's settings (sselang.data.build), so a
            preview reproduces the bundled energies  -> CONTCAR, preview-relax.json
    static  single point                              -> preview-static.json
    md      NVT molecular dynamics                    -> XDATCAR, preview-md.json
    neb     climbing-image NEB of the planned hop (end points relaxed first, fixed
            cell; FIRE to 0.05 eV/Å, at most 300 steps: the decks' EDIFFG and NSW)
                                                      -> neb.traj, preview-neb.json

The files are the VASP ones whatever the calculation's engine: compile reads
an XDATCAR in any calculation folder (analyses/diffusion.py).  The compiled
INCAR is never touched: the time between frames (POTIM x NBLOCK) and the
temperature are in preview-md.json, which the XDATCAR reader takes when the
XDATCAR's comment line is the one the json records.

Energies are CHGNet's, which are on the Materials Project MP2020 scale (see
sselang.data.build): they are written as they come.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from pathlib import Path

from ..data.build import FMAX, STEPS
from ..transport.barrier import NEB_TRAJ, PREVIEW_NEB_JSON
from ..transport.readers import PREVIEW_MD_JSON
from ..util.atomic import write_text_atomic

NBLOCK = 10  # MD steps between stored frames: 20 fs at 2 fs, ample for MSDs over picoseconds
SEED = 20240  # velocities are drawn from this seed: the same calculation gives the same trajectory
THERMOSTAT_PERIOD_STEPS = 40  # VASP's SMASS = 0 gives a Nose period of ~40 steps; the decks use it
PROGRESS_EVERY = 50  # steps between progress calls
SAVE_EVERY_S = 30.0  # seconds between updates of preview-md.json during a run (what a resume reads)
PREVIEW_MARK = "sselang preview"  # in the XDATCAR comment line: tells a preview's XDATCAR from VASP's
INSTALL = "pip install torch==2.13.0 chgnet"


class PreviewUnsupported(ValueError):
    """A calculation the preview cannot run (NpT MD, an interface model...)."""


class PreviewUnavailable(RuntimeError):
    """torch or chgnet is not installed."""


def available() -> bool:
    from ..data.ml import available as ml_available

    return ml_available()


def _model():
    if not available():
        raise PreviewUnavailable(f"the preview runs the CHGNet potential, which is not installed: {INSTALL}")
    from ..data.ml import model

    return model()  # one model per process, shared with compile's relaxations


def _calculator():
    from chgnet.model.dynamics import CHGNetCalculator

    with contextlib.redirect_stdout(io.StringIO()):  # it prints the device it runs on
        return CHGNetCalculator(model=_model())


def _model_info() -> dict:
    import chgnet

    return {"model": f"CHGNet {_model().version}", "package": f"chgnet {chgnet.__version__}"}


def _atoms(structure_doc: dict, group: bool = False):
    """ASE atoms of a structure document; with group=True the atoms of each element are
    made contiguous (an XDATCAR lists one count per element), keeping the first-seen
    order of the elements and the order of atoms within each."""
    from ase import Atoms

    species = list(structure_doc["species"])
    order = list(range(len(species)))
    if group:
        first = {}
        for el in species:
            first.setdefault(el, len(first))
        order.sort(key=lambda i: first[species[i]])
    return Atoms([species[i] for i in order], scaled_positions=[structure_doc["frac_coords"][i] for i in order],
                 cell=structure_doc["lattice"], pbc=True)


def _structure_of(atoms):
    from pymatgen.core import Lattice, Structure

    return Structure(Lattice(atoms.cell[:]), atoms.get_chemical_symbols(), atoms.get_scaled_positions(wrap=True))


def _say(options, text: str) -> None:
    if not getattr(options, "quiet", False):
        print(text, file=sys.stderr, flush=True)


def run_calculation(calc, calc_dir: Path, options) -> dict:
    """Run one calculation of a plan with CHGNet in calc_dir and return its summary
    (also written to preview-<kind>.json there).

    options: duration_ps (MD length, overrides the study's), steps (MD steps, or the step
    limit of a relaxation or of an NEB's optimiser; over duration_ps), quiet, and optionally
    progress(done_steps, total_steps), called every ~50 steps (every step of an NEB)."""
    if calc.kind not in ("relax", "static", "md", "neb"):
        raise PreviewUnsupported(f"{calc.id}: {calc.kind} calculations have no ML-potential preview yet; "
                                 "they run with DFT only")
    if calc.kind == "md" and str(calc.settings.get("ensemble", "nvt")).lower() != "nvt":
        raise PreviewUnsupported(f"{calc.id}: the preview runs NVT MD only; this run is "
                                 f"{calc.settings['ensemble']} (not previewed as NVT)")
    if calc.kind == "neb" and "final_doc" not in calc.settings:
        raise PreviewUnsupported(f"{calc.id}: the NEB has no final state in the plan (compile the study again)")
    _model()  # PreviewUnavailable before any file is written
    calc_dir = Path(calc_dir)
    calc_dir.mkdir(parents=True, exist_ok=True)
    if calc.kind == "relax":
        return _relax(calc, calc_dir, options)
    if calc.kind == "static":
        return _static(calc, calc_dir, options)
    if calc.kind == "neb":
        return _neb(calc, calc_dir, options)
    return _md(calc, calc_dir, options)


# ---- relax and static ---------------------------------------------------------------------

def _relax(calc, d: Path, options) -> dict:
    from ase.filters import FrechetCellFilter
    from ase.optimize import FIRE
    from pymatgen.io.vasp import Poscar

    atoms = _atoms(calc.structure)
    atoms.calc = _calculator()
    v0 = atoms.get_volume()
    max_steps = int(getattr(options, "steps", None) or STEPS)
    progress = getattr(options, "progress", None)
    # chgnet's StructOptimizer.relax with its defaults (FIRE on a FrechetCellFilter), which the
    # dataset build calls; written out here to report progress
    opt = FIRE(FrechetCellFilter(atoms), logfile=None)
    if progress is not None:
        opt.attach(lambda: progress(opt.nsteps, max_steps), interval=PROGRESS_EVERY)
    _say(options, f"{calc.id}: CHGNet relaxation of {len(atoms)} atoms")
    t0 = time.perf_counter()
    converged = bool(opt.run(fmax=FMAX, steps=max_steps))
    seconds = time.perf_counter() - t0
    energy = float(atoms.get_potential_energy())
    fmax = float((atoms.get_forces() ** 2).sum(axis=1).max() ** 0.5)
    final = _structure_of(atoms)
    write_text_atomic(d / "CONTCAR", Poscar(final, comment=f"{calc.id} {PREVIEW_MARK}: CHGNet relaxed").get_str())
    out = {"kind": "relax", "calculation": calc.id, "material": calc.material, **_model_info(),
           "energy_eV": round(energy, 6), "energy_per_atom_eV": round(energy / len(atoms), 6),
           "energy_scale": "MP2020-compatible (CHGNet is trained on MP2020-corrected energies)",
           "natoms": len(atoms), "volume_initial_A3": round(float(v0), 4), "volume_A3": round(float(final.volume), 4),
           "volume_change": round(float(final.volume / v0 - 1), 5), "steps": int(opt.nsteps), "max_steps": max_steps,
           "converged": converged, "fmax_eV_per_A": FMAX, "max_force_eV_per_A": round(fmax, 5),
           "optimizer": "FIRE on FrechetCellFilter (cell and ions)", "seconds": round(seconds, 2),
           "structure": _doc(final)}
    write_text_atomic(d / "preview-relax.json", json.dumps(out, indent=1) + "\n")
    if progress is not None:
        progress(int(opt.nsteps), max_steps)
    _say(options, f"{calc.id}: {energy / len(atoms):.4f} eV/atom, dV/V {out['volume_change']:+.2%}, "
                  f"{opt.nsteps} steps{'' if converged else ' (not converged)'}, {seconds:.1f} s")
    return out


def _doc(s) -> dict:
    from ..data.ml import structure_doc

    return structure_doc(s)


def _static(calc, d: Path, options) -> dict:
    from ase.units import GPa

    atoms = _atoms(calc.structure)
    atoms.calc = _calculator()
    t0 = time.perf_counter()
    energy = float(atoms.get_potential_energy())
    forces = atoms.get_forces()
    stress = atoms.get_stress(voigt=True) / GPa
    out = {"kind": "static", "calculation": calc.id, "material": calc.material, **_model_info(),
           "energy_eV": round(energy, 6), "energy_per_atom_eV": round(energy / len(atoms), 6),
           "energy_scale": "MP2020-compatible (CHGNet is trained on MP2020-corrected energies)",
           "natoms": len(atoms), "max_force_eV_per_A": round(float((forces ** 2).sum(axis=1).max() ** 0.5), 5),
           "stress_GPa_voigt": [round(float(x), 5) for x in stress],
           "seconds": round(time.perf_counter() - t0, 2)}
    write_text_atomic(d / "preview-static.json", json.dumps(out, indent=1) + "\n")
    progress = getattr(options, "progress", None)
    if progress is not None:
        progress(1, 1)
    _say(options, f"{calc.id}: {out['energy_per_atom_eV']:.4f} eV/atom")
    return out


# ---- molecular dynamics -------------------------------------------------------------------

def _md_steps(calc, options) -> int:
    dt = float(calc.settings.get("timestep_fs", 2.0))
    if getattr(options, "steps", None):
        n = int(options.steps)
    elif getattr(options, "duration_ps", None):
        n = int(round(float(options.duration_ps) * 1000 / dt))
    else:
        n = int(calc.settings["steps"])
    if n < 1:
        raise ValueError(f"{calc.id}: {n} MD steps: give a positive duration or number of steps")
    return n


def _xdatcar_header(comment: str, atoms) -> str:
    species, counts = [], []
    for el in atoms.get_chemical_symbols():
        if species and species[-1] == el:
            counts[-1] += 1
        else:
            species.append(el)
            counts.append(1)
    rows = "".join(" " + "".join(f"{x:12.6f}" for x in row) + "\n" for row in atoms.cell[:])
    return (f"{comment}\n           1\n{rows}" + "".join(f"{el:>5s}" for el in species) + "\n"
            + "".join(f"{n:6d}" for n in counts) + "\n")


def _xdatcar_frame(step: int, atoms) -> str:
    frac = atoms.get_scaled_positions(wrap=True)
    frac[frac >= 1.0] = 0.0  # wrap=True can give 1.0 for -1e-17: VASP writes [0, 1)
    return f"Direct configuration= {step:5d}\n" + "".join(
        f"  {x:.8f}  {y:.8f}  {z:.8f}\n" for x, y, z in frac)


def _complete_frames(path: Path, natoms: int, limit: int) -> tuple[int, int, list[list[float]] | None]:
    """(frames, byte length up to the end of the last frame kept, its fractional coordinates)
    of a constant-cell XDATCAR, keeping at most `limit` frames; a frame cut by a killed
    run is not counted."""
    lines = path.read_bytes().split(b"\n")[:-1]  # a last line without its newline is incomplete
    header, per = 7, natoms + 1
    if len(lines) < header:
        return 0, 0, None
    k = min((len(lines) - header) // per, limit)
    end = sum(len(x) + 1 for x in lines[: header + k * per])
    if k == 0:
        return 0, end, None
    block = lines[header + (k - 1) * per + 1: header + k * per]
    return k, end, [[float(v) for v in ln.split()[:3]] for ln in block]


def _md(calc, d: Path, options) -> dict:
    import numpy as np
    from ase import units
    # Nose-Hoover (a chain of three thermostats, ASE's NoseHooverChainNVT), not Langevin:
    # the DFT decks run VASP's Nose-Hoover NVT, and a Langevin friction slows diffusion by
    # an amount that depends on the friction chosen, which would bias the preview's
    # diffusion coefficients; Nose-Hoover leaves the dynamics deterministic and unbiased.
    from ase.md.nose_hoover_chain import NoseHooverChainNVT
    from ase.md import velocitydistribution as vd

    st = calc.settings
    T = float(st["temperature_K"])
    dt = float(st.get("timestep_fs", 2.0))
    total = _md_steps(calc, options)
    progress = getattr(options, "progress", None)
    atoms = _atoms(calc.structure, group=True)
    natoms = len(atoms)
    info = _model_info()
    comment = f"{calc.id} {PREVIEW_MARK}: {info['model']} NVT {T:g} K"
    xdat, meta_path = d / "XDATCAR", d / PREVIEW_MD_JSON
    base = {"kind": "md", "calculation": calc.id, "material": calc.material, **info, "comment": comment,
            "ensemble": "nvt", "thermostat": f"Nose-Hoover chain (3), period {THERMOSTAT_PERIOD_STEPS} steps",
            "timestep_fs": dt, "nblock": NBLOCK, "temperature_K": T, "natoms": natoms,
            "velocities": f"Maxwell-Boltzmann at {T:g} K from seed {SEED}, centre-of-mass momentum removed"}

    start, energies, resumed, seconds_before = 0, {"potential_eV": [], "total_eV": [], "temperature_K": []}, [], 0.0
    if xdat.exists():
        meta = None
        with contextlib.suppress(OSError, ValueError):
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        same = meta is not None and all(meta.get(k) == base[k] for k in ("comment", "timestep_fs", "nblock", "natoms"))
        if not same:
            raise FileExistsError(f"{xdat} exists and is not a preview of this calculation (no matching "
                                  f"{PREVIEW_MD_JSON}); move it aside to run the preview")
        if meta.get("finished") and meta.get("steps", 0) >= total:
            _say(options, f"{calc.id}: finished already ({meta['steps']} steps)")
            return meta
        # the frames the json has energies for (it is saved every SAVE_EVERY_S, the XDATCAR every frame)
        k, end, last = _complete_frames(xdat, natoms, limit=len(meta["energies"]["potential_eV"]))
        start = k * NBLOCK
        energies = {key: v[:k] for key, v in meta["energies"].items()}
        resumed = list(meta.get("resumed", []))
        seconds_before = float(meta.get("seconds", 0.0))
        with open(xdat, "r+b") as f:
            f.truncate(end)  # drops a frame cut by the run that stopped
        if last is not None:
            atoms.set_scaled_positions(np.array(last))
        if start > 0:
            resumed.append({"at_step": start, "frames_kept": k,
                            "velocities": f"redrawn from seed {SEED + start} (the XDATCAR holds none)"})
    if start == 0:
        write_text_atomic(xdat, _xdatcar_header(comment, atoms))

    atoms.calc = _calculator()
    # the velocities of a resumed run are drawn anew, from a seed of its own, at the target temperature
    rng = np.random.default_rng(SEED + start)
    if hasattr(vd, "thermalize_momenta"):  # ASE >= 3.29 name of MaxwellBoltzmannDistribution
        vd.thermalize_momenta(atoms, temperature_K=T, rng=rng)
    else:
        vd.MaxwellBoltzmannDistribution(atoms, temperature_K=T, rng=rng)
    vd.Stationary(atoms)
    dyn = NoseHooverChainNVT(atoms, timestep=dt * units.fs, temperature_K=T,
                             tdamp=THERMOSTAT_PERIOD_STEPS * dt * units.fs)

    def summary(done: int, seconds: float, finished: bool) -> dict:
        run = done - start
        return {**base, "steps": done, "steps_requested": total, "frames": len(energies["potential_eV"]),
                "duration_ps": round(done * dt / 1000, 6), "finished": finished,
                "seconds": round(seconds_before + seconds, 2),
                "steps_per_s": round(run / seconds, 3) if seconds > 0 and run > 0 else None,
                "resumed": resumed, "energies": energies}

    _say(options, f"{calc.id}: CHGNet NVT MD of {natoms} atoms at {T:g} K, {total} steps of {dt:g} fs"
                  + (f", resuming at step {start}" if start else ""))
    write_text_atomic(meta_path, json.dumps(summary(start, 0.0, False)) + "\n")  # a run killed now resumes
    t0 = time.perf_counter()
    last_save = t0
    done = start
    with open(xdat, "a", encoding="utf-8") as out:
        while done < total:
            n = min(NBLOCK - done % NBLOCK, total - done)
            dyn.run(n)
            before, done = done, done + n
            if done % NBLOCK == 0:
                out.write(_xdatcar_frame(done, atoms))
                out.flush()
                energies["potential_eV"].append(round(float(atoms.get_potential_energy()), 6))
                energies["total_eV"].append(round(float(atoms.get_total_energy()), 6))
                energies["temperature_K"].append(round(float(atoms.get_temperature()), 2))
            if progress is not None and (done // PROGRESS_EVERY > before // PROGRESS_EVERY or done == total):
                progress(done, total)
            now = time.perf_counter()
            if now - last_save > SAVE_EVERY_S and done % NBLOCK == 0:
                write_text_atomic(meta_path, json.dumps(summary(done, now - t0, False)) + "\n")
                last_save = now
    result = summary(done, time.perf_counter() - t0, True)
    write_text_atomic(meta_path, json.dumps(result) + "\n")
    _say(options, f"{calc.id}: {done} steps, {result['frames']} frames, {result['steps_per_s']} steps/s")
    return result


# ---- nudged elastic band ------------------------------------------------------------------

NEB_FMAX = 0.05  # eV/Å on every image: the decks' EDIFFG = -0.05
NEB_STEPS = 300  # optimiser steps at most: the decks' NSW
NEB_SPRING = 5.0  # eV/Å^2: the decks' SPRING = -5 (negative in VASP: a nudged band with this constant)
NEB_OPTIMIZER = "FIRE"  # robust with the non-conservative NEB forces, where BFGS's line model can fail


def _unwrapped(path: list) -> list:
    """Copies of the images with every atom's position continuous from one image to the next.
    The plan stores fractional coordinates wrapped into [0, 1), so the hopping atom can jump
    by a lattice vector between images; the band is built from the shortest displacements."""
    from ase.geometry import find_mic

    out = [path[0].copy()]
    for a in path[1:]:
        b = a.copy()
        step, _ = find_mic(b.get_positions() - out[-1].get_positions(), b.cell, b.pbc)
        b.set_positions(out[-1].get_positions() + step)
        out.append(b)
    return out


def _max_force(forces) -> float:
    return float((forces ** 2).sum(axis=1).max() ** 0.5) if len(forces) else 0.0


def _relax_end_point(atoms, max_steps: int) -> dict:
    """Relax the ions of an end point with the cell fixed (the NEB runs at the end points' cell)."""
    from ase.optimize import FIRE

    start = atoms.get_positions()
    atoms.calc = _calculator()
    opt = FIRE(atoms, logfile=None)
    converged = bool(opt.run(fmax=NEB_FMAX, steps=max_steps))
    moved = ((atoms.get_positions() - start) ** 2).sum(axis=1).max() ** 0.5
    return {"energy_eV": round(float(atoms.get_potential_energy()), 6), "steps": int(opt.nsteps),
            "converged": converged, "max_force_eV_per_A": round(_max_force(atoms.get_forces()), 5),
            "largest_displacement_A": round(float(moved), 4)}


def _band_snapshot(band) -> list:
    """The band as it stands, each image with its CHGNet energy and forces stored (what
    read_ase_neb and any ASE tool read from neb.traj)."""
    from ase.calculators.singlepoint import SinglePointCalculator

    out = []
    for a in band:
        b = a.copy()
        b.calc = SinglePointCalculator(b, energy=float(a.get_potential_energy()), forces=a.get_forces())
        out.append(b)
    return out


def _write_band(path: Path, band) -> None:
    import os
    import tempfile

    import ase.io

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        ase.io.write(tmp, _band_snapshot(band), format="traj")
        os.replace(tmp, path)  # a run killed while writing leaves the previous band
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _neb(calc, d: Path, options) -> dict:
    """Climbing-image NEB of the planned hop with CHGNet, as the VASP deck would run it.

    The end points are the plan's (the perfect cell's sites with one atom removed): their ions
    are relaxed first, cell fixed.  The intermediate images are the ones the plan wrote (IDPP
    between the unrelaxed end points) shifted by the end points' relaxation, the initial's
    share falling linearly along the band to the final's, so the band joins the relaxed end
    points; a plan without images gets an IDPP interpolation between the relaxed end points.
    The band is saved to neb.traj every ~30 s and at the end; preview-neb.json says whether it
    is finished.  A run stopped midway resumes from the last saved band."""
    import ase.io
    from ase.mep import NEB
    from ase.optimize import FIRE

    from ..transport.barrier import read_ase_neb

    st = calc.settings
    image_docs = list(st.get("image_docs") or [])
    n_inner = int(st.get("images") or len(image_docs) or 5)
    if image_docs and len(image_docs) != n_inner:
        raise PreviewUnsupported(f"{calc.id}: the plan holds {len(image_docs)} images for an NEB of {n_inner}")
    climb = bool(st.get("climb", True))
    max_steps = int(getattr(options, "steps", None) or NEB_STEPS)
    progress = getattr(options, "progress", None)
    info = _model_info()
    traj_path, meta_path = d / NEB_TRAJ, d / PREVIEW_NEB_JSON
    base = {"kind": "neb", "calculation": calc.id, "material": calc.material, **info,
            "species": st.get("species"), "direction": st.get("direction"),
            "hop_distance_A": st.get("hop_distance"), "images": n_inner, "climb": climb,
            "natoms": calc.natoms, "method": "improved tangent", "spring_eV_per_A2": NEB_SPRING,
            "optimizer": NEB_OPTIMIZER, "fmax_eV_per_A": NEB_FMAX, "trajectory": NEB_TRAJ,
            "energy_scale": "MP2020-compatible (CHGNet is trained on MP2020-corrected energies)"}

    band, before, seconds_before, endpoints, resumed = None, 0, 0.0, {}, []
    if traj_path.exists():
        meta = None
        with contextlib.suppress(OSError, ValueError):
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        same = isinstance(meta, dict) and all(meta.get(k) == base[k] for k in
                                              ("calculation", "model", "images", "climb", "natoms", "fmax_eV_per_A"))
        if not same:
            raise FileExistsError(f"{traj_path} exists and is not a preview of this calculation (no matching "
                                  f"{PREVIEW_NEB_JSON}); move it aside to run the preview")
        if meta.get("finished") and (meta.get("converged") or meta.get("steps", 0) >= max_steps):
            _say(options, f"{calc.id}: finished already ({meta['steps']} steps)")
            return meta
        band = ase.io.read(str(traj_path), index=":")
        if len(band) != n_inner + 2:
            raise FileExistsError(f"{traj_path} holds {len(band)} images, not {n_inner + 2}; move it aside")
        before, seconds_before = int(meta.get("steps", 0)), float(meta.get("seconds", 0.0))
        endpoints, resumed = dict(meta.get("endpoints") or {}), list(meta.get("resumed", []))
        resumed.append({"at_step": before, "note": "from the band saved in neb.traj; FIRE's velocities restart at 0"})
        base["path"] = meta.get("path")
        for a in band[1:-1]:
            a.calc = _calculator()  # the end points keep the stored energies they were relaxed to

    t0 = time.perf_counter()
    if band is None:
        plan_path = [_atoms(calc.structure), *[_atoms(x) for x in image_docs], _atoms(st["final_doc"])]
        if not image_docs:
            plan_path = [plan_path[0], plan_path[-1]]
        plan_path = _unwrapped(plan_path)
        ends = [plan_path[0].copy(), plan_path[-1].copy()]
        relax = not st.get("endpoints_relaxed", False)
        _say(options, f"{calc.id}: CHGNet NEB of {len(ends[0])} atoms, {n_inner} images"
                      + (" (climbing image)" if climb else "")
                      + (", relaxing the end points first" if relax else ""))
        for name, atoms in zip(("initial", "final"), ends):
            if relax:
                endpoints[name] = _relax_end_point(atoms, max_steps)
            else:
                atoms.calc = _calculator()
                endpoints[name] = {"energy_eV": round(float(atoms.get_potential_energy()), 6), "steps": 0,
                                   "converged": None, "note": "relaxed by the plan"}
        if image_docs:
            shift_i = ends[0].get_positions() - plan_path[0].get_positions()
            shift_f = ends[1].get_positions() - plan_path[-1].get_positions()
            inner = []
            for k, a in enumerate(plan_path[1:-1], 1):
                t = k / (n_inner + 1)
                b = a.copy()
                b.set_positions(a.get_positions() + (1 - t) * shift_i + t * shift_f)
                inner.append(b)
            path_from = "the plan's images (IDPP), shifted by the end points' relaxation"
        else:
            inner = [ends[0].copy() for _ in range(n_inner)]
            path_from = "IDPP interpolation between the relaxed end points"
        band = [ends[0], *inner, ends[1]]
        if not image_docs:
            NEB(band, method="improvedtangent").interpolate(method="idpp", mic=True)
        for a in inner:
            a.calc = _calculator()
        base["path"] = path_from
    else:
        _say(options, f"{calc.id}: CHGNet NEB resuming at step {before}")

    # one calculator per image (sharing the model): each keeps its own image's results
    neb = NEB(band, k=NEB_SPRING, climb=climb, method="improvedtangent")
    opt = FIRE(neb, logfile=None)
    last_save = [time.perf_counter()]

    def summary(done: int, finished: bool) -> dict:
        energies = [float(a.get_potential_energy()) for a in band]
        top = max(energies)
        fmax = _max_force(neb.get_forces())  # the band's forces (the climbing image's inverted), as FIRE sees them
        return {**base, "steps": done, "max_steps": max_steps, "finished": finished,
                "converged": finished and fmax < NEB_FMAX, "max_force_eV_per_A": round(fmax, 5),
                "energies_eV": [round(e, 6) for e in energies],
                "relative_eV": [round(e - energies[0], 6) for e in energies],
                "highest_image": int(energies.index(top)),
                "barrier_eV": round(top - energies[0], 6), "endpoints": endpoints, "resumed": resumed,
                "seconds": round(seconds_before + time.perf_counter() - t0, 2)}

    def save(done: int, finished: bool) -> dict:
        _write_band(traj_path, band)
        out = summary(done, finished)
        write_text_atomic(meta_path, json.dumps(out, indent=1) + "\n")
        last_save[0] = time.perf_counter()
        return out

    def checkpoint() -> None:
        if progress is not None:
            progress(before + opt.nsteps, max_steps)
        if time.perf_counter() - last_save[0] > SAVE_EVERY_S:
            save(before + opt.nsteps, False)

    opt.attach(checkpoint, interval=1)
    neb.get_forces()  # the band's energies before the first step, for the first save
    save(before, False)  # a run killed from here on resumes without relaxing the end points again
    opt.run(fmax=NEB_FMAX, steps=max(0, max_steps - before))
    out = save(before + opt.nsteps, True)
    # the barrier and path as compile reads them back from neb.traj
    res = read_ase_neb(traj_path, nimages=n_inner + 2)
    out["reaction_coordinate_A"] = [round(x, 5) for x in res.reaction_coordinate_A]
    write_text_atomic(meta_path, json.dumps(out, indent=1) + "\n")
    if progress is not None:
        progress(out["steps"], max_steps)
    _say(options, f"{calc.id}: barrier {out['barrier_eV']:.3f} eV, {out['steps']} steps, max force "
                  f"{out['max_force_eV_per_A']:.3f} eV/Å{'' if out['converged'] else ' (not converged)'}, "
                  f"{out['seconds']:.1f} s")
    return out
