"""A finished NEB -> energy profile, barrier and reaction coordinate.

    read_vasp_neb(folder)   VASP/VTST layout: 00 .. NN image folders, each with an OUTCAR
                            (the end points may have none: then a relaxation of that end
                            point beside the NEB, or an energy given, or unknown)
    read_ase_neb(file)      an ASE .traj of NEB images (the last band when the optimizer
                            wrote every iteration)
    read_neb(path)          either, by whether path is a folder
    read_preview_neb(folder)  a finished ML-potential preview NEB (`sselang run --fidelity
                            preview`): neb.traj, the final band, described by preview-neb.json

Energies are relative to the initial state; the barrier is the highest image minus the
initial state (no spline through the images: the highest computed image, which is the
climbing image of a converged climbing-image NEB).  The reaction coordinate is the
cumulative distance between neighbouring images in Å, each atom's displacement taken
with the minimum-image convention.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

import numpy as np

from .readers import TrajectoryError, _Lines, _incar

__all__ = ["BarrierError", "NebImage", "NebResult", "read_vasp_neb", "read_ase_neb", "read_neb",
           "read_preview_neb", "outcar_final_energy", "path_length"]

ENERGY_KINDS = ("without_entropy", "sigma0", "toten")
# conventional names of the relaxations of the two end points, looked for beside an NEB
INITIAL_NAMES = ("initial", "ini", "is", "start", "reactant", "relax_initial", "initial_relax")
FINAL_NAMES = ("final", "fin", "fs", "end", "product", "relax_final", "final_relax")
# an end point's relaxation counts as that end point only if its geometry is this close (Å, any atom)
SAME_GEOMETRY_A = 0.02
# what the ML-potential preview of an NEB writes in the calculation folder (sselang.run.preview)
NEB_TRAJ = "neb.traj"
PREVIEW_NEB_JSON = "preview-neb.json"


class BarrierError(ValueError):
    """An NEB that cannot be read; the message names the file or folder and the problem."""


@dataclass
class NebImage:
    index: int
    energy_eV: float | None  # absolute; None when unknown
    energy_from: str  # file the energy came from, or why it is unknown
    converged: bool | None = None  # the image's optimizer reported convergence (VASP), None if unknown


@dataclass
class NebResult:
    source: str
    images: list[NebImage]
    reaction_coordinate_A: list[float]  # cumulative distance of each image from the initial one
    energy_kind: str
    climbing: bool | None = None  # climbing-image NEB (LCLIMB), None when the files do not say
    notes: list[str] = field(default_factory=list)

    @property
    def energies_eV(self) -> list[float | None]:
        return [im.energy_eV for im in self.images]

    @property
    def relative_eV(self) -> list[float | None]:
        e0 = self.images[0].energy_eV
        if e0 is None:
            return [None] * len(self.images)
        return [None if e is None else e - e0 for e in self.energies_eV]

    @property
    def highest_image(self) -> int | None:
        known = [(im.energy_eV, im.index) for im in self.images if im.energy_eV is not None]
        return max(known)[1] if known else None

    @property
    def climbing_image(self) -> int | None:
        """The highest intermediate image when the run climbed, else None."""
        if not self.climbing:
            return None
        inner = [(im.energy_eV, im.index) for im in self.images[1:-1] if im.energy_eV is not None]
        return max(inner)[1] if inner else None

    def _top(self) -> float | None:
        known = [e for e in self.energies_eV if e is not None]
        return max(known) if known else None

    @property
    def barrier_eV(self) -> float | None:
        """Forward barrier: highest image - initial state."""
        e0, top = self.images[0].energy_eV, self._top()
        return None if e0 is None or top is None else top - e0

    @property
    def backward_barrier_eV(self) -> float | None:
        """Backward barrier: highest image - final state."""
        en, top = self.images[-1].energy_eV, self._top()
        return None if en is None or top is None else top - en

    @property
    def reaction_energy_eV(self) -> float | None:
        e0, en = self.images[0].energy_eV, self.images[-1].energy_eV
        return None if e0 is None or en is None else en - e0

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "energy_kind": self.energy_kind,
            "images": [{"index": im.index, "energy_eV": im.energy_eV, "relative_eV": rel,
                        "reaction_coordinate_A": s, "energy_from": im.energy_from, "converged": im.converged}
                       for im, rel, s in zip(self.images, self.relative_eV, self.reaction_coordinate_A)],
            "barrier_eV": self.barrier_eV,
            "backward_barrier_eV": self.backward_barrier_eV,
            "reaction_energy_eV": self.reaction_energy_eV,
            "highest_image": self.highest_image,
            "climbing": self.climbing,
            "climbing_image": self.climbing_image,
            "notes": list(self.notes),
        }


# ---- geometry -------------------------------------------------------------------------------

_SHIFTS = np.array(list(product((-1, 0, 1), repeat=3)), dtype=float)


def _mic_displacements(frac_a: np.ndarray, frac_b: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Per-atom shortest Cartesian displacement a -> b under periodic boundaries.

    Rounding the fractional difference is the minimum image only for orthogonal cells;
    the 27 neighbouring images are searched as well so skewed cells are right too."""
    d = frac_b - frac_a
    d -= np.round(d)
    cand = (d[:, None, :] + _SHIFTS[None, :, :]) @ cell  # atoms x 27 x 3
    k = np.argmin((cand ** 2).sum(axis=2), axis=1)
    return cand[np.arange(len(d)), k]


def path_length(frac_a: np.ndarray, frac_b: np.ndarray, cell: np.ndarray) -> float:
    """Distance between two images in configuration space, Å: sqrt(sum over atoms |dr|^2)."""
    return float(np.sqrt((_mic_displacements(frac_a, frac_b, cell) ** 2).sum()))


def _coordinates(images: list[tuple[list[str], np.ndarray, np.ndarray]], where: str) -> list[float]:
    s = [0.0]
    for i in range(1, len(images)):
        sym_a, fa, cell = images[i - 1]
        sym_b, fb, _ = images[i]
        if sym_a != sym_b:
            raise BarrierError(f"{where}: image {i} has other atoms than image {i - 1}")
        s.append(s[-1] + path_length(fa, fb, cell))
    return s


# ---- VASP -------------------------------------------------------------------------------------

_TOTEN = re.compile(r"free\s+energy\s+TOTEN\s*=\s*([-+\d.Ee]+)")
_WITHOUT = re.compile(r"energy\s+without\s+entropy\s*=\s*([-+\d.Ee]+)\s+energy\(sigma->0\)\s*=\s*([-+\d.Ee]+)")


@dataclass
class OutcarEnergy:
    without_entropy: float | None
    sigma0: float | None
    toten: float | None
    converged: bool  # "reached required accuracy" was printed (relaxation / NEB convergence)
    ionic_steps: int

    def get(self, kind: str) -> float | None:
        return {"without_entropy": self.without_entropy, "sigma0": self.sigma0, "toten": self.toten}[kind]


def outcar_final_energy(path) -> OutcarEnergy:
    """The energies of the last finished ionic step of an OUTCAR.

    Only the block VASP prints once an ionic step's SCF is done ("FREE ENERGIE OF THE
    ION-ELECTRON SYSTEM") counts: the per-iteration energies in between are not converged."""
    path = Path(path)
    without = sigma0 = toten = None
    in_final = False
    steps = 0
    converged = False
    try:
        with _Lines(path) as lines:
            for line in lines:
                if "FREE ENERGIE OF THE ION-ELECTRON SYSTEM" in line:
                    in_final = True
                    steps += 1
                    continue
                if "reached required accuracy" in line:
                    converged = True
                if not in_final:
                    continue
                m = _TOTEN.search(line)
                if m:
                    toten = _number(m.group(1), path, lines.n)
                    continue
                m = _WITHOUT.search(line)
                if m:
                    without = _number(m.group(1), path, lines.n)
                    sigma0 = _number(m.group(2), path, lines.n)
                    in_final = False
    except TrajectoryError as e:
        raise BarrierError(str(e)) from None
    return OutcarEnergy(without, sigma0, toten, converged, steps)


def _number(text: str, path: Path, line: int) -> float:
    try:
        v = float(text)
    except ValueError:
        raise BarrierError(f"{path}: line {line}: energy {text!r} is not a number") from None
    if not math.isfinite(v):
        raise BarrierError(f"{path}: line {line}: energy {text!r} is not finite")
    return v


def _find(folder: Path, name: str) -> Path | None:
    for suffix in ("", ".gz", ".bz2", ".xz"):
        p = folder / (name + suffix)
        if p.is_file() and p.stat().st_size > 0:
            return p
    return None


def _geometry(folder: Path, prefer_contcar: bool = True) -> tuple[list[str], np.ndarray, np.ndarray, Path]:
    """(symbols, fractional coordinates, cell) of an image: CONTCAR when it is there and not empty, else POSCAR."""
    import ase.io

    names = ("CONTCAR", "POSCAR") if prefer_contcar else ("POSCAR", "CONTCAR")
    for name in names:
        p = _find(folder, name)
        if p is None:
            continue
        try:
            atoms = ase.io.read(str(p), format="vasp")
        except Exception as e:  # noqa: BLE001 - ase raises many kinds for a damaged POSCAR
            raise BarrierError(f"{p}: cannot read the geometry ({type(e).__name__}: {e})") from None
        return atoms.get_chemical_symbols(), atoms.get_scaled_positions(wrap=False), atoms.cell.array, p
    raise BarrierError(f"{folder}: no CONTCAR or POSCAR")


def _endpoint_relax(neb: Path, names: tuple[str, ...], geometry) -> tuple[Path, OutcarEnergy] | None:
    """An end point's relaxation beside the NEB (in it or next to it) whose geometry is the end point's."""
    symbols, frac, cell, _ = geometry
    for parent in (neb, neb.parent):
        for d in sorted(parent.iterdir()) if parent.is_dir() else []:
            if not d.is_dir() or d.name.lower() not in names:
                continue
            outcar = _find(d, "OUTCAR")
            if outcar is None:
                continue
            try:
                sym2, frac2, _, _ = _geometry(d)
            except BarrierError:
                continue
            if sym2 != symbols:
                continue
            shift = _mic_displacements(frac, frac2, cell)
            if np.sqrt((shift ** 2).sum(axis=1)).max() <= SAME_GEOMETRY_A:
                return outcar, outcar_final_energy(outcar)
    return None


def _given_endpoint(value, kind: str, which: str) -> tuple[float, str]:
    """An end-point energy given by the caller: a number (eV) or an OUTCAR / folder with one."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value), f"given ({which})"
    p = Path(value)
    outcar = _find(p, "OUTCAR") if p.is_dir() else p
    if outcar is None or not outcar.is_file():
        raise BarrierError(f"{p}: no OUTCAR for the {which} state")
    e = outcar_final_energy(outcar).get(kind)
    if e is None:
        raise BarrierError(f"{outcar}: no finished ionic step (no final energy block)")
    return e, str(outcar)


def read_vasp_neb(folder, energy: str = "without_entropy", initial=None, final=None) -> NebResult:
    """A finished VASP NEB folder (00, 01, ..., NN).

    energy: which OUTCAR energy: "without_entropy" (default), "sigma0" (energy(sigma->0)) or
    "toten" (free energy TOTEN).  initial / final: the end points' energies when 00 / NN hold
    no OUTCAR -- a number in eV or an OUTCAR or relaxation folder; without them a relaxation
    folder beside the NEB (initial/, final/, is/, fs/, ...) with the same geometry is used,
    else the end point's energy is unknown and so is the barrier measured from it.
    """
    folder = Path(folder)
    if energy not in ENERGY_KINDS:
        raise BarrierError(f"energy must be one of {', '.join(ENERGY_KINDS)}, got {energy!r}")
    if not folder.is_dir():
        raise BarrierError(f"{folder}: not a folder (a VASP NEB is a folder with 00, 01, ... image folders)")
    numbered = sorted((int(d.name), d) for d in folder.iterdir() if d.is_dir() and re.fullmatch(r"\d\d+", d.name))
    if len(numbered) < 3:
        raise BarrierError(f"{folder}: {len(numbered)} image folders (00, 01, ...); an NEB needs at least 3")
    idx = [i for i, _ in numbered]
    if idx != list(range(len(idx))):
        gap = next(i for i, j in enumerate(idx) if i != j)
        raise BarrierError(f"{folder}: image folder {gap:02d} is missing (found {', '.join(d.name for _, d in numbered)})")
    dirs = [d for _, d in numbered]
    last = len(dirs) - 1
    notes: list[str] = []

    incar = _find(folder, "INCAR")
    params = {}
    if incar is not None:
        try:
            params = _incar(incar)
        except TrajectoryError:
            params = {}
    climbing = None
    if "LCLIMB" in params:
        climbing = params["LCLIMB"].strip().strip(".").upper().startswith("T")
    if "IMAGES" in params:
        try:
            n_inner = int(params["IMAGES"])
            if n_inner != last - 1:
                notes.append(f"INCAR IMAGES = {n_inner} but {last - 1} intermediate image folders")
        except ValueError:
            pass

    geoms = []
    for i, d in enumerate(dirs):
        sym, frac, cell, src = _geometry(d, prefer_contcar=0 < i < last)
        geoms.append((sym, frac, cell))
    images: list[NebImage] = []
    for i, d in enumerate(dirs):
        outcar = _find(d, "OUTCAR")
        endpoint = i in (0, last)
        if outcar is not None:
            res = outcar_final_energy(outcar)
            e = res.get(energy)
            if e is None:
                if not endpoint:
                    raise BarrierError(f"{outcar}: no finished ionic step (no final energy block): "
                                       "the image did not run or was cut inside its first SCF")
                notes.append(f"{outcar}: no finished ionic step; looking elsewhere for the end point's energy")
            else:
                conv = res.converged if not endpoint else None
                images.append(NebImage(i, e, str(outcar), conv))
                continue
        elif not endpoint:
            raise BarrierError(f"{d}: no OUTCAR: the intermediate image {i:02d} has no energy")
        # an end point without its own energy
        which = "initial" if i == 0 else "final"
        given = initial if i == 0 else final
        if given is not None:
            e, src = _given_endpoint(given, energy, which)
            images.append(NebImage(i, e, src, None))
            continue
        found = _endpoint_relax(folder, INITIAL_NAMES if i == 0 else FINAL_NAMES,
                                (*geoms[i], None))
        if found is not None and found[1].get(energy) is not None:
            images.append(NebImage(i, found[1].get(energy), str(found[0]), None))
            notes.append(f"the {which} energy is from the relaxation {found[0]} (same geometry as {d.name}/POSCAR)")
        else:
            images.append(NebImage(i, None, "unknown: no OUTCAR and no matching relaxation beside the NEB", None))
            notes.append(f"the {which} state's energy is unknown: put its OUTCAR in {d.name}/ or give it "
                         f"(--{which} on the command line)")
    unconverged = [im.index for im in images if im.converged is False]
    if unconverged:
        notes.append("images without 'reached required accuracy' in their OUTCAR (not converged?): "
                     + ", ".join(f"{i:02d}" for i in unconverged))
    s = _coordinates(geoms, str(folder))
    return NebResult(str(folder), images, s, energy, climbing, notes)


# ---- ASE ----------------------------------------------------------------------------------------

def _band_size(frames) -> int:
    """Images per band of an NEB trajectory that holds every iteration's band.

    The initial image does not move, so its next exact repeat starts the second band."""
    first = frames[0].get_positions()
    for k in range(1, len(frames)):
        if len(frames[k]) == len(frames[0]) and np.array_equal(frames[k].get_positions(), first):
            return k
    return len(frames)


def read_ase_neb(path, nimages: int | None = None, initial: float | None = None,
                 final: float | None = None) -> NebResult:
    """An ASE trajectory of NEB images: one band, or every optimizer iteration's band one after
    another (then the last band is read; nimages = images per band, guessed when not given)."""
    import ase.io

    path = Path(path)
    if not path.is_file():
        raise BarrierError(f"{path}: no such file")
    try:
        frames = ase.io.read(str(path), index=":")
    except Exception as e:  # noqa: BLE001 - ase raises many kinds for damaged files
        raise BarrierError(f"{path}: ase cannot read it ({type(e).__name__}: {e})") from None
    if not isinstance(frames, list):
        frames = [frames]
    if len(frames) < 3:
        raise BarrierError(f"{path}: {len(frames)} images; an NEB needs at least 3")
    n = nimages or _band_size(frames)
    if n < 3 or len(frames) % n:
        raise BarrierError(f"{path}: {len(frames)} frames are not whole bands of {n} images; give nimages")
    first = frames[0].get_positions()
    for start in range(n, len(frames), n):
        # the initial image never moves: every band must start with it
        if len(frames[start]) != len(frames[0]) or not np.array_equal(frames[start].get_positions(), first):
            raise BarrierError(f"{path}: frame {start} does not repeat the initial image: the file is not "
                               f"whole bands of {n} images; give nimages")
    band = frames[-n:]
    notes = []
    if len(frames) > n:
        notes.append(f"{len(frames) // n} bands of {n} images in the file; the last one is read")
    images = []
    for i, atoms in enumerate(band):
        e = None
        if atoms.calc is not None:
            try:
                e = float(atoms.get_potential_energy())
            except Exception:  # noqa: BLE001 - a calculator without stored results
                e = None
        src = str(path) if e is not None else "unknown: no energy stored with the image"
        if i == 0 and initial is not None:
            e, src = float(initial), "given (initial)"
        if i == n - 1 and final is not None:
            e, src = float(final), "given (final)"
        if e is None and 0 < i < n - 1:
            raise BarrierError(f"{path}: intermediate image {i} of the last band has no energy stored")
        images.append(NebImage(i, e, src, None))
    for i in (0, n - 1):
        if images[i].energy_eV is None:
            notes.append(f"the {'initial' if i == 0 else 'final'} image has no stored energy; give it")
    geoms = [(a.get_chemical_symbols(), a.get_scaled_positions(wrap=False), a.cell.array) for a in band]
    if any(abs(np.linalg.det(c)) < 1e-8 for _, _, c in geoms):
        # molecules: plain Cartesian distances (no periodic images)
        s = [0.0]
        for a, b in zip(band, band[1:]):
            s.append(s[-1] + float(np.sqrt(((b.get_positions() - a.get_positions()) ** 2).sum())))
    else:
        s = _coordinates(geoms, str(path))
    return NebResult(str(path), images, s, "potential energy", None, notes)


def has_dft_images(folder) -> bool:
    """Whether a NEB folder's intermediate image folders (01, 02, ...) hold VASP OUTCARs: the
    DFT band, which wins over a preview's neb.traj in the same folder."""
    folder = Path(folder)
    return folder.is_dir() and any((folder / f"{i:02d}" / "OUTCAR").is_file() for i in range(1, 100))


def read_neb(path, **kw) -> NebResult:
    """read_vasp_neb for a VASP NEB folder, read_preview_neb for a preview's folder (its
    preview-neb.json and neb.traj), read_ase_neb for a file."""
    p = Path(path)
    # a folder the plan wrote holds the VASP image folders too; DFT wins once they hold OUTCARs
    if p.is_dir() and (p / PREVIEW_NEB_JSON).is_file() and not has_dft_images(p):
        given = [k for k in ("initial", "final") if kw.get(k) is not None]
        if given:
            raise BarrierError(f"{p}: {', '.join(given)} does not apply to a preview NEB (its end points are in neb.traj)")
        res = read_preview_neb(p)
        if res is None:
            raise BarrierError(f"{p / PREVIEW_NEB_JSON}: the preview NEB has not finished (sselang run goes on from "
                               f"the band saved in {NEB_TRAJ})")
        return res[0]
    if p.is_dir():
        allowed = {"energy", "initial", "final"}
        reader = read_vasp_neb
    else:
        allowed = {"nimages", "initial", "final"}
        reader = read_ase_neb
    extra = [k for k, v in kw.items() if v is not None and k not in allowed]
    if extra:
        raise BarrierError(f"{p}: {', '.join(extra)} does not apply to "
                           f"{'a VASP NEB folder' if p.is_dir() else 'an ASE trajectory'}")
    return reader(p, **{k: v for k, v in kw.items() if v is not None})


def read_preview_neb(folder) -> tuple[NebResult, dict] | None:
    """(energy profile, the preview's preview-neb.json) of a finished preview NEB in folder, or
    None when the folder holds none or one still running (its json says finished: false)."""
    import json

    folder = Path(folder)
    meta_path = folder / PREVIEW_NEB_JSON
    if not meta_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise BarrierError(f"{meta_path}: unreadable ({e})") from None
    if not isinstance(meta, dict) or not meta.get("finished"):
        return None
    try:
        n = int(meta["images"]) + 2
    except (KeyError, TypeError, ValueError):
        raise BarrierError(f"{meta_path}: no number of images") from None
    res = read_ase_neb(folder / str(meta.get("trajectory") or NEB_TRAJ), nimages=n)
    res.climbing = bool(meta.get("climb"))
    converged = bool(meta.get("converged"))
    for im in res.images[1:-1]:
        im.converged = converged
    if not converged:
        res.notes.append(f"the preview NEB stopped after {meta.get('steps')} steps with a largest force of "
                         f"{meta.get('max_force_eV_per_A')} eV/Å (above {meta.get('fmax_eV_per_A')}): not converged")
    for which in ("initial", "final"):
        ep = (meta.get("endpoints") or {}).get(which) or {}
        if ep.get("converged") is False:
            res.notes.append(f"the {which} state's relaxation stopped after {ep.get('steps')} steps, not converged")
    return res, meta
