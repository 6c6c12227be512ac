"""Trajectory files -> Trajectory, straight into one float array.

    read_xdatcar              VASP 5 XDATCAR, constant or variable cell, optionally compressed
    read_vasprun              vasprun.xml ionic steps (streaming XML parse)
    read_cp2k_xyz             CP2K *-pos-1.xyz with the cell from the input or a *-1.cell file
    read_qe_md                pw.x md / vc-md output
    read_ase                  extxyz, ASE .traj and anything else ase.io.iread reads
    read_diffusion_analyzer   a serialized pymatgen DiffusionAnalyzer (structure + displacements)
    read_trajectory           picks one of the above from the file name and content

No reader builds one pymatgen Structure per frame: the text is parsed a frame at a
time into a preallocated array that grows when the estimate was short.  Files may be
gzip-, bzip2- or xz-compressed whatever their name (the magic bytes decide).

Every reader raises TrajectoryError (a ValueError) for a file it cannot read, with the
file name, the line where that helps, and what is wrong or missing.
"""

from __future__ import annotations

import bz2
import gzip
import inspect
import json
import lzma
import math
import os
import re
import zlib
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO, Iterator
from xml.etree import ElementTree as ET

import numpy as np

from .trajectory import Trajectory

__all__ = [
    "TrajectoryError",
    "read_xdatcar",
    "read_vasprun",
    "read_cp2k_xyz",
    "read_qe_md",
    "read_ase",
    "read_diffusion_analyzer",
    "read_trajectory",
    "FORMATS",
]

# Quantum ESPRESSO's own constants (Modules/constants.f90), so that cells converted
# here agree with the Å values pw.x prints itself.
QE_BOHR_A = 0.52917720859
# pw.x integrates in Rydberg atomic units: one unit of time is 2 x the Hartree one
# (hbar / Hartree = 2.4188843265857e-17 s).
QE_RY_TIME_FS = 2.0 * 2.4188843265857e-2
# CP2K's [bohr] unit in &CELL (CODATA 2006 as in CP2K's physcon)
CP2K_BOHR_A = 0.52917720859

_ELEMENT = re.compile(r"^([A-Z][a-z]?)")


class TrajectoryError(ValueError):
    """A trajectory file that cannot be read; the message names the file and the problem."""


# ---- files --------------------------------------------------------------------------------

def _compression(path: Path) -> str | None:
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except FileNotFoundError:
        raise TrajectoryError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise TrajectoryError(f"{path}: is a folder, not a trajectory file") from None
    except OSError as e:
        raise TrajectoryError(f"{path}: cannot read: {e.strerror or e}") from None
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:3] == b"BZh":
        return "bzip2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    return None


def _open_binary(path: Path) -> IO[bytes]:
    kind = _compression(path)
    try:
        if kind == "gzip":
            return gzip.open(path, "rb")
        if kind == "bzip2":
            return bz2.open(path, "rb")
        if kind == "xz":
            return lzma.open(path, "rb")
        return open(path, "rb")
    except OSError as e:
        raise TrajectoryError(f"{path}: cannot read: {e.strerror or e}") from None


def _open_text(path: Path) -> IO[str]:
    import io

    # latin-1 never fails to decode: a stray byte in a comment line must not stop a read
    return io.TextIOWrapper(_open_binary(path), encoding="latin-1", newline=None)


_DECOMPRESSION_ERRORS = (EOFError, zlib.error, lzma.LZMAError, gzip.BadGzipFile, OSError)


def _uncompressed_size(path: Path) -> int:
    """Best cheap guess of the text size, to preallocate the coordinate array."""
    size = path.stat().st_size
    kind = _compression(path)
    if kind == "gzip":
        # the gzip trailer holds the uncompressed size modulo 2**32
        with open(path, "rb") as f:
            f.seek(max(size - 4, 0))
            isize = int.from_bytes(f.read(4), "little")
        while isize < size:  # files over 4 GiB wrapped around
            isize += 1 << 32
        return isize
    if kind in ("bzip2", "xz"):
        return size * 6
    return size


class _Lines:
    """Line reader that counts lines and turns a damaged compressed stream into a TrajectoryError."""

    def __init__(self, path: Path):
        self.path = path
        self.f = _open_text(path)
        self.n = 0  # lines read so far = number of the last line read

    def __enter__(self) -> "_Lines":
        return self

    def __exit__(self, *exc) -> None:
        self.f.close()

    def _damaged(self, e: Exception) -> TrajectoryError:
        return TrajectoryError(f"{self.path}: the compressed data is damaged or cut short after line {self.n} ({e})")

    def readline(self) -> str:
        try:
            line = self.f.readline()
        except _DECOMPRESSION_ERRORS as e:
            raise self._damaged(e) from None
        if line:
            self.n += 1
        return line

    def next(self, what: str) -> str:
        line = self.readline()
        if not line:
            raise TrajectoryError(f"{self.path}: the file ends after line {self.n} where {what} should follow "
                                  "(cut short?)")
        return line

    def take(self, k: int, what: str) -> list[str]:
        try:
            lines = list(islice(self.f, k))
        except _DECOMPRESSION_ERRORS as e:
            raise self._damaged(e) from None
        self.n += len(lines)
        if len(lines) < k:
            raise TrajectoryError(f"{self.path}: the file ends at line {self.n} inside {what}: "
                                  f"{len(lines)} of {k} lines (cut short?)")
        return lines

    def __iter__(self) -> Iterator[str]:
        while True:
            line = self.readline()
            if not line:
                return
            yield line


def _float(text: str, path: Path, line: int | None, what: str) -> float:
    try:
        value = float(text.replace("D", "E").replace("d", "e"))
    except ValueError:
        where = f"line {line}: " if line else ""
        raise TrajectoryError(f"{path}: {where}{what} is not a number: {text!r}") from None
    if not math.isfinite(value):
        where = f"line {line}: " if line else ""
        raise TrajectoryError(f"{path}: {where}{what} is not finite: {text!r}")
    return value


def _rows(lines: list[str], ncol: int, path: Path, first_line: int, what: str, skip_cols: int = 0) -> np.ndarray:
    """(len(lines), ncol) floats from whitespace-separated columns; a bad line is named by number.

    The fast path converts the whole block at once; only when that fails are the lines
    looked at one by one, to find the culprit or to drop extra columns (flags, labels).
    """
    tokens = "".join(lines).split()
    width = skip_cols + ncol
    if len(tokens) == width * len(lines):
        if skip_cols:
            labels = tokens[::width]
            # the label columns must hold labels: a misaligned block falls to the line-by-line path
            if all(tok[:1].isalpha() for tok in labels):
                tokens = [tok for i, tok in enumerate(tokens) if i % width >= skip_cols] if skip_cols > 1 else tokens
                if skip_cols == 1:
                    del tokens[::width]
            else:
                tokens = None
        if tokens is not None:
            try:
                values = np.array(tokens, dtype=np.float64)
            except ValueError:
                values = None
            if values is not None:
                out = values.reshape(len(lines), ncol)
                if np.isfinite(out).all():
                    return out
    out = np.empty((len(lines), ncol))
    for i, line in enumerate(lines):
        parts = line.split()
        if len(parts) < skip_cols + ncol:
            raise TrajectoryError(f"{path}: line {first_line + i}: {what}: expected {ncol} numbers, "
                                  f"found {line.strip()!r}")
        for j in range(ncol):
            tok = parts[skip_cols + j]
            try:
                out[i, j] = float(tok)
            except ValueError:
                raise TrajectoryError(f"{path}: line {first_line + i}: {what}: {tok!r} is not a number "
                                      f"(Fortran overflow stars or a cut line?)") from None
        if not np.isfinite(out[i]).all():
            raise TrajectoryError(f"{path}: line {first_line + i}: {what}: not a finite number: {line.strip()!r}")
    return out


class _Grow:
    """A (capacity, *shape) float array filled row by row, grown by half when full."""

    def __init__(self, shape: tuple[int, ...], capacity: int):
        self.a = np.empty((max(int(capacity), 1), *shape))
        self.n = 0

    def append(self, x) -> None:
        if self.n == len(self.a):
            bigger = np.empty((len(self.a) + len(self.a) // 2 + 1, *self.a.shape[1:]))
            bigger[: self.n] = self.a[: self.n]
            self.a = bigger
        self.a[self.n] = x
        self.n += 1

    def result(self) -> np.ndarray:
        if len(self.a) - self.n > max(16, self.n // 20):  # a poor estimate: give the memory back
            return self.a[: self.n].copy()
        return self.a[: self.n]


def _element(token: str, path: Path, line: int | None) -> str:
    m = _ELEMENT.match(token.strip())
    if not m:
        where = f"line {line}: " if line else ""
        raise TrajectoryError(f"{path}: {where}{token!r} is not an element symbol")
    return m.group(1)


def _stride(stride: int | None, path: Path) -> int:
    if stride is None:
        return 1
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or stride < 1:
        raise TrajectoryError(f"{path}: stride must be a whole number >= 1, got {stride!r}")
    return int(stride)


def _positive_dt(dt_fs, path: Path, what: str = "dt_fs") -> float:
    try:
        dt = float(dt_fs)
    except (TypeError, ValueError):
        raise TrajectoryError(f"{path}: {what} must be a number of femtoseconds, got {dt_fs!r}") from None
    if not (dt > 0 and math.isfinite(dt)):
        raise TrajectoryError(f"{path}: {what} must be positive, got {dt_fs!r}")
    return dt


def _collapse_lattice(lat: np.ndarray) -> np.ndarray:
    """One (3, 3) cell when every frame has the same one, else (frames, 3, 3)."""
    if len(lat) and np.array_equal(lat, np.broadcast_to(lat[0], lat.shape)):
        return np.array(lat[0])
    return lat


def _trajectory(path: Path, **kw) -> Trajectory:
    try:
        return Trajectory(source=str(path), **kw)
    except ValueError as e:
        msg = str(e)
        raise TrajectoryError(msg if msg.startswith(str(path)) else f"{path}: {msg}") from None


# ---- VASP parameters (INCAR, OUTCAR, vasprun.xml) -----------------------------------------

_VASP_KEYS = ("POTIM", "NBLOCK", "TEBEG", "TEEND", "IBRION", "ML_MODE", "ML_OUTBLOCK", "NSW")


def _incar(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    with _Lines(path) as lines:
        for line in lines:
            line = re.split(r"[!#]", line, maxsplit=1)[0]
            for part in line.split(";"):
                if "=" in part:
                    key, _, value = part.partition("=")
                    if key.strip():
                        out[key.strip().upper()] = value.strip()
    return out


_OUTCAR_KEY = re.compile(r"\b(" + "|".join(_VASP_KEYS) + r")\s*=\s*([^\s;]+)")


def _outcar_parameters(path: Path) -> dict[str, str]:
    """The parameter echo at the top of an OUTCAR; stops at the first electronic iteration."""
    out: dict[str, str] = {}
    with _Lines(path) as lines:
        for line in lines:
            if "Iteration" in line and "----" in line:
                break
            for key, value in _OUTCAR_KEY.findall(line):
                out.setdefault(key, value)
            if lines.n > 200_000:
                break
    return out


def _vasprun_parameters(path: Path) -> dict[str, str]:
    """<parameters> (what VASP ran with) over <incar> (what was asked), read up to the end of <parameters>."""
    incar: dict[str, str] = {}
    params: dict[str, str] = {}
    section = None
    try:
        with _open_binary(path) as f:
            for event, elem in ET.iterparse(f, events=("start", "end")):
                if event == "start":
                    if elem.tag in ("incar", "parameters"):
                        section = elem.tag
                    continue
                if elem.tag == "i" and section and elem.get("name"):
                    (incar if section == "incar" else params)[elem.get("name").upper()] = (elem.text or "").strip()
                elif elem.tag in ("incar", "parameters"):
                    section = None
                    if elem.tag == "parameters":
                        break
    except (ET.ParseError, *_DECOMPRESSION_ERRORS):
        pass  # a damaged file beside an XDATCAR gives what it could; the XDATCAR itself is still read
    return {**incar, **params}


def _vasp_int(params: dict[str, str], key: str, path: Path, default: int | None = None) -> int | None:
    if key not in params:
        return default
    v = _float(params[key], path, None, key)
    if v != int(v):
        raise TrajectoryError(f"{path}: {key} = {params[key]} is not a whole number")
    return int(v)


def _md_stride(params: dict[str, str], source: Path, notes: list[str]) -> int:
    nblock = _vasp_int(params, "NBLOCK", source, 1) or 1
    mode = params.get("ML_MODE", "").strip().strip("'\"").lower()
    if mode in ("run", "predict") and "ML_OUTBLOCK" in params:
        # VASP: in prediction-only runs NBLOCK is raised to at least ML_OUTBLOCK
        outblock = _vasp_int(params, "ML_OUTBLOCK", source, 1) or 1
        if outblock > nblock:
            notes.append(f"ML_MODE = {mode}: frames every ML_OUTBLOCK = {outblock} steps (NBLOCK = {nblock})")
            nblock = outblock
    return nblock


def _sibling(path: Path, name: str) -> Path | None:
    """NAME (or NAME.gz/.bz2/.xz) beside path; also PREFIX_NAME for PREFIX_XDATCAR style names."""
    base = path.name
    for suffix in (".gz", ".bz2", ".xz"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    names = [name]
    if "XDATCAR" in base and base != "XDATCAR":
        names.insert(0, base.replace("XDATCAR", name))
    for n in names:
        for suffix in ("", ".gz", ".bz2", ".xz"):
            p = path.parent / (n + suffix)
            if p.is_file():
                return p
    return None


PREVIEW_MD_JSON = "preview-md.json"  # written beside its XDATCAR by the ML-potential preview (sselang/run/preview.py)


def _preview_md_parameters(xdatcar: Path) -> tuple[dict[str, str], Path] | None:
    """POTIM, NBLOCK, TEBEG of an XDATCAR written by the ML-potential preview, from the
    preview-md.json beside it.  Only when the XDATCAR's comment line is the one the json
    records: the compiled INCAR in the same folder describes the DFT run (its NBLOCK is
    not the preview's), and a DFT XDATCAR later written there must not be read with the
    preview's timestep."""
    p = xdatcar.parent / PREVIEW_MD_JSON
    if not p.is_file():
        return None
    try:
        meta = json.loads(p.read_text(encoding="utf-8"))
        comment = str(meta["comment"]).strip()
        params = {"POTIM": repr(float(meta["timestep_fs"])), "NBLOCK": str(int(meta["nblock"])),
                  "TEBEG": repr(float(meta["temperature_K"])), "IBRION": "0"}
        with _Lines(xdatcar) as lines:
            first = lines.readline().strip()
    except (OSError, ValueError, KeyError, TypeError, TrajectoryError):
        return None  # not a preview's description: the DFT files beside the XDATCAR decide
    return (params, p) if first == comment else None


def _vasp_md_parameters(xdatcar: Path) -> tuple[dict[str, str], Path] | None:
    """POTIM, NBLOCK, TEBEG... from the first of INCAR, OUTCAR, vasprun.xml beside the file that has POTIM
    (a preview's preview-md.json first, when it describes this very XDATCAR)."""
    preview = _preview_md_parameters(xdatcar)
    if preview is not None:
        return preview
    found: list[tuple[dict[str, str], Path]] = []
    for name, reader in (("INCAR", _incar), ("OUTCAR", _outcar_parameters), ("vasprun.xml", _vasprun_parameters)):
        p = _sibling(xdatcar, name)
        if p is None:
            continue
        try:
            params = reader(p)
        except TrajectoryError:
            continue
        found.append((params, p))
        if "POTIM" in params:
            # TEBEG may sit in a file read earlier (an INCAR without POTIM)
            for other, _ in found:
                for key in ("TEBEG", "TEEND"):
                    if key in other and key not in params:
                        params[key] = other[key]
            return params, p
    return None


def _vasp_temperature(params: dict[str, str], source: Path, notes: list[str]) -> float | None:
    if "TEBEG" not in params:
        return None
    t = _float(params["TEBEG"], source, None, "TEBEG")
    if "TEEND" in params:
        te = _float(params["TEEND"], source, None, "TEEND")
        if abs(te - t) > 1e-6 and te >= 0:
            notes.append(f"temperature ramps from TEBEG = {t:g} K to TEEND = {te:g} K; TEBEG is used")
    return t


# ---- XDATCAR ------------------------------------------------------------------------------

_CONFIG = re.compile(r"^\s*(direct|cartesian)\b", re.I)


@dataclass
class _XdatHeader:
    lattice: np.ndarray  # Å, rows a, b, c (scale applied)
    species: list[str]
    counts: list[int]


def _xdatcar_header(lines: _Lines, comment_line: int) -> _XdatHeader:
    path = lines.path
    scale_line = lines.next("the scale factor")
    scale = [_float(t, path, lines.n, "the scale factor") for t in scale_line.split()[:3]]
    if not scale:
        raise TrajectoryError(f"{path}: line {lines.n}: the scale factor is missing")
    first = lines.n + 1
    lat = _rows(lines.take(3, "the lattice vectors"), 3, path, first, "lattice vector")
    species_line = lines.next("the element names")
    tokens = species_line.split()
    if not tokens:
        raise TrajectoryError(f"{path}: line {lines.n}: the element names line is empty")
    if all(t.isdigit() for t in tokens):
        raise TrajectoryError(f"{path}: line {lines.n}: no element names (a VASP 4 XDATCAR); "
                              "only the VASP 5 layout, with a line of element symbols, is read")
    species_lineno = lines.n
    species = [_element(t, path, lines.n) for t in tokens]
    counts_line = lines.next("the atom counts")
    try:
        counts = [int(t) for t in counts_line.split()]
    except ValueError:
        raise TrajectoryError(f"{path}: line {lines.n}: the atom counts are not whole numbers: "
                              f"{counts_line.strip()!r}") from None
    if len(counts) != len(species) or any(c < 0 for c in counts) or sum(counts) == 0:
        raise TrajectoryError(f"{path}: line {lines.n}: {len(counts)} atom counts for {len(species)} elements "
                              f"(line {species_lineno})")
    if len(scale) == 1:
        if scale[0] < 0:  # a negative scale is the cell volume
            vol = abs(np.linalg.det(lat))
            if vol == 0:
                raise TrajectoryError(f"{path}: line {comment_line + 2}: the lattice vectors are degenerate")
            lat = lat * (-scale[0] / vol) ** (1 / 3)
        else:
            lat = lat * scale[0]
    elif len(scale) == 3:
        lat = lat * np.array(scale)[None, :]
    if abs(np.linalg.det(lat)) < 1e-8:
        raise TrajectoryError(f"{path}: line {comment_line + 2}: the lattice vectors are degenerate (zero volume)")
    return _XdatHeader(lat, species, counts)


def read_xdatcar(path, dt_fs: float | None = None, stride: int | None = None, *,
                 partial: bool = False) -> Trajectory:
    """A VASP 5 XDATCAR: one header (constant cell) or one before every frame (variable cell).

    The time between stored frames is dt_fs when given, else POTIM x NBLOCK from an INCAR,
    OUTCAR or vasprun.xml beside the file (the XDATCAR itself holds no time).  Every
    stride-th frame is kept.  With partial=True a file cut inside its last frame (a run
    still going) gives the complete frames instead of an error.
    """
    path = Path(path)
    step = _stride(stride, path)
    notes: list[str] = []
    temperature = None
    if dt_fs is not None:
        dt = _positive_dt(dt_fs, path)
        found = _vasp_md_parameters(path)
        if found:
            temperature = _vasp_temperature(found[0], found[1], notes)
    else:
        found = _vasp_md_parameters(path)
        if found is None:
            raise TrajectoryError(
                f"{path}: the time between frames is unknown: an XDATCAR holds no timestep, and no INCAR, "
                "OUTCAR or vasprun.xml with POTIM is beside it; give the time between stored frames "
                "(dt_fs, or --timestep on the command line), i.e. POTIM x NBLOCK in fs")
        params, source = found
        potim = _float(params["POTIM"], source, None, "POTIM")
        if potim <= 0:
            raise TrajectoryError(f"{source}: POTIM = {params['POTIM']} is not a positive timestep")
        nblock = _md_stride(params, source, notes)
        dt = potim * nblock
        notes.append(f"time between frames {dt:g} fs = POTIM {potim:g} fs x NBLOCK {nblock} from {source}")
        if "IBRION" in params and _vasp_int(params, "IBRION", source) != 0:
            notes.append(f"{source}: IBRION = {params['IBRION']}, not molecular dynamics")
        temperature = _vasp_temperature(params, source, notes)

    with _Lines(path) as lines:
        lines.next("the comment line")
        head = _xdatcar_header(lines, 1)
        n_atoms = sum(head.counts)
        species = [s for s, c in zip(head.species, head.counts) for _ in range(c)]
        # bytes of one frame, for the preallocation: atoms x ~36 characters + the configuration line
        estimate = _uncompressed_size(path) / (n_atoms * 36 + 30) / step * 1.02 + 2
        frac = _Grow((n_atoms, 3), estimate)
        lattices = _Grow((3, 3), estimate)
        lattice = head.lattice
        index = 0  # frames seen, kept or not
        while True:
            line = lines.readline()
            if not line:
                break
            if not line.strip():
                continue
            if not _CONFIG.match(line):
                # a variable-cell file repeats the header (this line is its comment) before every frame
                start = lines.n
                try:
                    h = _xdatcar_header(lines, start)
                except TrajectoryError:
                    if partial and index > 0:
                        notes.append(f"read {frac.n} complete frames; the file is cut after line {lines.n}")
                        break
                    raise
                if h.species != head.species or h.counts != head.counts:
                    raise TrajectoryError(f"{path}: line {start}: the header of frame {index + 1} lists "
                                          f"{h.species} {h.counts}, the first one {head.species} {head.counts}")
                lattice = h.lattice
                line = lines.readline()
                if not line or not _CONFIG.match(line):
                    if not line and partial and index > 0:
                        notes.append(f"read {frac.n} complete frames; the file is cut after line {lines.n}")
                        break
                    raise TrajectoryError(f"{path}: line {lines.n}: expected 'Direct configuration=' "
                                          f"after the header, found {line.strip()!r}" if line else
                                          f"{path}: the file ends after a header at line {lines.n} (cut short?)")
            cartesian = line.lstrip()[0] in "cC"
            first = lines.n + 1
            try:
                block = lines.take(n_atoms, f"frame {index + 1} (from line {first})")
            except TrajectoryError:
                if partial and index > 0:
                    notes.append(f"read {frac.n} complete frames; the file is cut inside frame {index + 1}")
                    break
                raise
            if index % step == 0:
                xyz = _rows(block, 3, path, first, f"frame {index + 1}")
                if cartesian:
                    xyz = np.linalg.solve(lattice.T, xyz.T).T
                frac.append(xyz)
                lattices.append(lattice)
            index += 1
    if frac.n == 0:
        raise TrajectoryError(f"{path}: no frames ('Direct configuration=' blocks) after the header")
    return _trajectory(path, frac=frac.result(), lattice=_collapse_lattice(lattices.result()), species=species,
                       dt_fs=dt * step, temperature_K=temperature, notes=notes)


# ---- vasprun.xml ----------------------------------------------------------------------------

def read_vasprun(path, dt_fs: float | None = None, stride: int | None = None, *,
                 partial: bool = False) -> Trajectory:
    """The structure of every ionic step (<calculation>) of a vasprun.xml.

    vasprun.xml records every ionic step whatever NBLOCK is (NBLOCK thins only XDATCAR),
    so the time between frames is POTIM unless dt_fs is given.  Parsed with a streaming
    XML reader that drops each step once read, so memory is the coordinate array alone.
    """
    path = Path(path)
    step = _stride(stride, path)
    notes: list[str] = []
    incar: dict[str, str] = {}
    params: dict[str, str] = {}
    species: list[str] = []
    section: str | None = None
    in_atoms_array = False
    in_calc = False
    basis: np.ndarray | None = None
    frac: _Grow | None = None
    lattices: _Grow | None = None
    index = 0
    root = None
    f = _open_binary(path)
    try:
        context = ET.iterparse(f, events=("start", "end"))
        for event, elem in context:
            tag = elem.tag
            if event == "start":
                if root is None:
                    root = elem
                    if tag != "modeling":
                        raise TrajectoryError(f"{path}: not a vasprun.xml (the root element is <{tag}>)")
                if tag in ("incar", "parameters"):
                    section = tag
                elif tag == "array" and elem.get("name") == "atoms":
                    in_atoms_array = True
                elif tag == "calculation":
                    in_calc = True
                continue
            # end events
            if tag == "i" and section is not None and elem.get("name"):
                (incar if section == "incar" else params)[elem.get("name").upper()] = (elem.text or "").strip()
            elif tag in ("incar", "parameters"):
                section = None
            elif tag == "rc" and in_atoms_array:
                cells = elem.findall("c")
                if cells:
                    species.append(_element(cells[0].text or "", path, None))
            elif tag == "array" and in_atoms_array:
                in_atoms_array = False
            elif tag == "varray" and in_calc:
                name = elem.get("name")
                if name == "basis":
                    basis = _varray(elem, path)
                elif name == "positions":
                    if not species:
                        raise TrajectoryError(f"{path}: positions before the atom list (<atominfo>)")
                    if frac is None:
                        est = _uncompressed_size(path) / (len(species) * 400 + 4000) / step + 2
                        frac = _Grow((len(species), 3), est)
                        lattices = _Grow((3, 3), est)
                    if index % step == 0:
                        pos = _varray(elem, path)
                        if pos.shape != (len(species), 3):
                            raise TrajectoryError(f"{path}: ionic step {index + 1} has {pos.shape[0]} positions "
                                                  f"for {len(species)} atoms")
                        if basis is None:
                            raise TrajectoryError(f"{path}: ionic step {index + 1} has positions but no cell")
                        frac.append(pos)
                        lattices.append(basis)
            elif tag == "calculation":
                in_calc = False
                index += 1
                basis = None
                root.clear()  # drop the finished step (eigenvalues, forces, ...) from memory
    except ET.ParseError as e:
        line = e.position[0] if getattr(e, "position", None) else "?"
        if partial and frac is not None and frac.n:
            notes.append(f"read {frac.n} complete ionic steps; the XML breaks at line {line}")
        else:
            raise TrajectoryError(f"{path}: line {line}: the XML is broken or cut short "
                                  f"({'inside ionic step ' + str(index + 1) if in_calc else 'outside the ionic steps'}"
                                  f"; {e.msg if hasattr(e, 'msg') else e})") from None
    except _DECOMPRESSION_ERRORS as e:
        raise TrajectoryError(f"{path}: the compressed data is damaged or cut short ({e})") from None
    finally:
        f.close()
    if not species:
        raise TrajectoryError(f"{path}: no atom list (<atominfo>): not a complete vasprun.xml")
    if frac is None or frac.n == 0:
        raise TrajectoryError(f"{path}: no ionic steps (<calculation> with a structure)")
    # <parameters> holds what VASP ran with (it overrides some INCAR values), <incar> what was asked
    merged = {**incar, **params}
    if dt_fs is not None:
        dt = _positive_dt(dt_fs, path)
    else:
        if "POTIM" not in merged:
            raise TrajectoryError(f"{path}: no POTIM in <incar> or <parameters>; give dt_fs")
        dt = _float(merged["POTIM"], path, None, "POTIM")
        if dt <= 0:
            raise TrajectoryError(f"{path}: POTIM = {merged['POTIM']} is not a positive timestep")
        nblock = _vasp_int(merged, "NBLOCK", path, 1) or 1
        if nblock > 1:
            notes.append(f"NBLOCK = {nblock} thins XDATCAR only: vasprun.xml has every ionic step, "
                         f"{dt:g} fs apart")
    ibrion = _vasp_int(merged, "IBRION", path, None) if "IBRION" in merged else None
    if ibrion is not None and ibrion != 0:
        notes.append(f"IBRION = {ibrion}: not molecular dynamics; the frames are ionic steps, not times")
    temperature = _vasp_temperature(merged, path, notes)
    return _trajectory(path, frac=frac.result(), lattice=_collapse_lattice(lattices.result()), species=species,
                       dt_fs=dt * step, temperature_K=temperature, notes=notes)


def _varray(elem, path: Path) -> np.ndarray:
    rows = [(v.text or "") for v in elem.findall("v")]
    try:
        a = np.array(" ".join(rows).split(), dtype=np.float64)
    except ValueError:
        raise TrajectoryError(f"{path}: <varray name='{elem.get('name')}'> holds something that is not "
                              "a number (Fortran overflow stars?)") from None
    if a.size != 3 * len(rows) or not np.isfinite(a).all():
        raise TrajectoryError(f"{path}: <varray name='{elem.get('name')}'> rows are not 3 finite numbers each")
    return a.reshape(len(rows), 3)


# ---- CP2K ---------------------------------------------------------------------------------

_CP2K_HEADER = re.compile(r"\bi\s*=\s*(\d+)(?:\s*,\s*time\s*=\s*([-+\d.eE]+))?")


@dataclass
class _Cp2kInput:
    cell: np.ndarray | None
    timestep_fs: float | None
    traj_each_md: int | None
    temperature_K: float | None
    project: str | None


def _same_cp2k_run(a: _Cp2kInput, b: _Cp2kInput) -> bool:
    """Inputs that agree on everything a trajectory is read with (they may differ in length)."""
    return (a.cell is not None and b.cell is not None and a.cell.shape == b.cell.shape and np.allclose(a.cell, b.cell)
            and (a.timestep_fs, a.traj_each_md, a.temperature_K) == (b.timestep_fs, b.traj_each_md, b.temperature_K))


def _cp2k_input(path: Path) -> _Cp2kInput:
    """&CELL (A/B/C or ABC [+ ALPHA_BETA_GAMMA]), &MD TIMESTEP/TEMPERATURE, the trajectory print
    stride (&MOTION &PRINT &TRAJECTORY &EACH MD) and PROJECT of a CP2K input."""
    stack: list[str] = []
    vectors: dict[str, np.ndarray] = {}
    abc = angles = None
    timestep = temperature = None
    each_md = None
    project = None
    with _Lines(path) as lines:
        for raw in lines:
            line = re.split(r"[!#]", raw, maxsplit=1)[0].strip()
            if not line or line.startswith("@"):  # preprocessor directives (@SET, @INCLUDE, ...)
                continue
            up = line.upper()
            if re.match(r"&END\b", up):
                if stack:
                    stack.pop()
                continue
            if up.startswith("&"):
                stack.append(up[1:].split()[0] if len(up) > 1 else "")
                continue
            key, _, rest = line.partition(" ")
            key = key.upper()
            rest = rest.strip()
            unit = 1.0
            m = re.match(r"\[([^\]]+)\]\s*(.*)", rest)
            if m:
                u = m.group(1).strip().lower()
                rest = m.group(2)
                unit = {"angstrom": 1.0, "bohr": CP2K_BOHR_A, "nm": 10.0, "fs": 1.0, "ps": 1000.0,
                        "k": 1.0, "deg": 1.0}.get(u)
                if unit is None:
                    raise TrajectoryError(f"{path}: line {lines.n}: unit [{m.group(1)}] of {key} is not read here")
            where = stack[-1] if stack else ""
            if where == "CELL" and "SUBSYS" in stack and "CELL_REF" not in stack:
                if key in ("A", "B", "C"):
                    vectors[key] = _rows([rest], 3, path, lines.n, f"&CELL {key}") [0] * unit
                elif key == "ABC":
                    abc = _rows([rest], 3, path, lines.n, "&CELL ABC")[0] * unit
                elif key in ("ALPHA_BETA_GAMMA", "ANGLES"):
                    angles = _rows([rest], 3, path, lines.n, "&CELL ALPHA_BETA_GAMMA")[0]
                elif key == "CELL_FILE_NAME":
                    raise TrajectoryError(f"{path}: line {lines.n}: the cell is in another file "
                                          f"(CELL_FILE_NAME {rest}); pass that cell explicitly")
            elif where == "MD" and "MOTION" in stack:
                if key == "TIMESTEP":
                    timestep = _float(rest.split()[0], path, lines.n, "TIMESTEP") * unit
                elif key == "TEMPERATURE":
                    temperature = _float(rest.split()[0], path, lines.n, "TEMPERATURE")
            elif where == "EACH" and stack[-2:-1] == ["TRAJECTORY"] and "MOTION" in stack and key == "MD":
                each_md = int(_float(rest.split()[0], path, lines.n, "&EACH MD"))
            elif where == "GLOBAL" and key in ("PROJECT", "PROJECT_NAME"):
                project = rest.split()[0] if rest else None
    cell = None
    if len(vectors) == 3:
        cell = np.array([vectors["A"], vectors["B"], vectors["C"]])
    elif abc is not None:
        cell = _cell_from_parameters(abc, angles if angles is not None else np.array([90.0, 90.0, 90.0]))
    return _Cp2kInput(cell, timestep, each_md, temperature, project)


def _cell_from_parameters(abc: np.ndarray, angles_deg: np.ndarray) -> np.ndarray:
    """CP2K's convention: a along x, b in the xy plane."""
    a, b, c = abc
    al, be, ga = np.radians(angles_deg)
    cx = c * math.cos(be)
    cy = c * (math.cos(al) - math.cos(be) * math.cos(ga)) / math.sin(ga)
    cz = math.sqrt(max(c * c - cx * cx - cy * cy, 0.0))
    return np.array([[a, 0.0, 0.0], [b * math.cos(ga), b * math.sin(ga), 0.0], [cx, cy, cz]])


def _cp2k_cell_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(steps, cells (n, 3, 3) Å) of a CP2K *-1.cell file: Step Time Ax Ay Az Bx By Bz Cx Cy Cz Volume."""
    steps: list[int] = []
    rows: list[np.ndarray] = []
    with _Lines(path) as lines:
        for line in lines:
            s = line.strip()
            if not s or s.startswith("#"):
                continue
            parts = s.split()
            if len(parts) < 11:
                raise TrajectoryError(f"{path}: line {lines.n}: a cell row needs step, time and 9 components, "
                                      f"found {len(parts)} columns")
            try:
                steps.append(int(parts[0]))
            except ValueError:
                raise TrajectoryError(f"{path}: line {lines.n}: the step {parts[0]!r} is not a whole number") from None
            rows.append(_rows([" ".join(parts[2:11])], 9, path, lines.n, "cell components")[0].reshape(3, 3))
    if not rows:
        raise TrajectoryError(f"{path}: no cell rows")
    return np.array(steps), np.array(rows)


def _cp2k_project(xyz: Path) -> str:
    name = xyz.name
    for suffix in (".gz", ".bz2", ".xz"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    m = re.match(r"(.*)-pos-\d+\.xyz$", name)
    return m.group(1) if m else Path(name).stem


def read_cp2k_xyz(path, cell=None, dt_fs: float | None = None, stride: int | None = None, *,
                  input=None) -> Trajectory:  # noqa: A002 - CP2K calls it the input
    """A CP2K position trajectory (PROJECT-pos-1.xyz: Cartesian Å, one frame per printed MD step).

    cell: a CP2K input (&CELL A/B/C or ABC), a PROJECT-1.cell file (one cell per step,
    for NPT), or a 3x3 array in Å; without it, PROJECT-1.cell or the one *.inp beside the file.
    The time between frames: dt_fs when given; else from the frames' own "time =" stamps
    (CP2K writes them in fs); else TIMESTEP x the trajectory's &EACH MD stride from the input.
    """
    path = Path(path)
    step = _stride(stride, path)
    notes: list[str] = []
    project = _cp2k_project(path)
    inp: _Cp2kInput | None = None
    inp_path: Path | None = Path(input) if input is not None else None
    cell_steps = cells = None
    const_cell: np.ndarray | None = None

    def load_input(p: Path) -> _Cp2kInput:
        if not p.is_file():
            raise TrajectoryError(f"{path}: the CP2K input {p} does not exist")
        return _cp2k_input(p)

    unreadable = ""  # why an input found beside the file (not given) could not be used
    if inp_path is not None:
        inp = load_input(inp_path)
    else:
        candidates = sorted(q for q in path.parent.glob("*.inp") if q.is_file())
        parsed = {}
        for q in candidates:
            try:
                parsed[q] = _cp2k_input(q)
            except TrajectoryError as e:
                unreadable += f"; the input beside it is unreadable ({e})"
        if len(parsed) == 1:
            inp_path, inp = next(iter(parsed.items()))
        else:
            named = [q for q, v in parsed.items() if v.project == project]
            if len(named) == 1:
                inp_path, inp = named[0], parsed[named[0]]
            elif named and all(_same_cp2k_run(parsed[q], parsed[named[0]]) for q in named):
                # a compiled deck and the copy `sselang run` ran with fewer steps (cp2k.run.inp):
                # the same project, cell, timestep and stride, so either describes the trajectory
                inp_path, inp = named[0], parsed[named[0]]

    if cell is not None and not isinstance(cell, (str, os.PathLike)):
        const_cell = np.asarray(cell, dtype=float)
        if const_cell.shape != (3, 3):
            raise TrajectoryError(f"{path}: cell must be 3x3 (rows a, b, c in Å), got shape {const_cell.shape}")
    else:
        cell_path = Path(cell) if cell is not None else None
        if cell_path is None:
            guess = path.parent / f"{project}-1.cell"
            cell_path = guess if guess.is_file() else None
        if cell_path is not None:
            if not cell_path.is_file():
                raise TrajectoryError(f"{path}: the cell file {cell_path} does not exist")
            if _looks_like_cp2k_cell_file(cell_path):
                cell_steps, cells = _cp2k_cell_file(cell_path)
                notes.append(f"cell from {cell_path}")
            else:
                other = _cp2k_input(cell_path)
                if other.cell is None:
                    raise TrajectoryError(f"{cell_path}: no &SUBSYS &CELL (A/B/C or ABC) in this CP2K input")
                const_cell = other.cell
                notes.append(f"cell from {cell_path}")
                if inp is None:
                    inp, inp_path = other, cell_path
        elif inp is not None and inp.cell is not None:
            const_cell = inp.cell
            notes.append(f"cell from {inp_path}")
    if const_cell is None and cells is None:
        raise TrajectoryError(f"{path}: no cell: an .xyz trajectory has none; give the CP2K input "
                              f"(&CELL) or the {project}-1.cell file{unreadable}")

    symbols: list[str] | None = None
    frames = None
    step_no: list[int] = []
    times: list[float] = []
    with _Lines(path) as lines:
        index = 0
        while True:
            count_line = lines.readline()
            if not count_line:
                break
            if not count_line.strip():
                continue
            try:
                n = int(count_line.split()[0])
            except ValueError:
                raise TrajectoryError(f"{path}: line {lines.n}: expected the atom count of frame {index + 1}, "
                                      f"found {count_line.strip()!r}") from None
            if symbols is not None and n != len(symbols):
                raise TrajectoryError(f"{path}: line {lines.n}: frame {index + 1} has {n} atoms, "
                                      f"the first {len(symbols)}")
            header = lines.next(f"the comment line of frame {index + 1}")
            m = _CP2K_HEADER.search(header)
            first = lines.n + 1
            block = lines.take(n, f"frame {index + 1} (from line {first})")
            if symbols is None:
                symbols = [_element(b.split()[0] if b.split() else "", path, first + i) for i, b in enumerate(block)]
                est = _uncompressed_size(path) / (n * 60 + 80) / step * 1.02 + 2
                frames = _Grow((n, 3), est)
            if index % step == 0:
                frames.append(_rows(block, 3, path, first, f"frame {index + 1}", skip_cols=1))
                step_no.append(int(m.group(1)) if m else -1)
                times.append(float(m.group(2)) if m and m.group(2) else math.nan)
            index += 1
    if frames is None or frames.n == 0:
        raise TrajectoryError(f"{path}: no frames")
    cart = frames.result()

    if cells is not None:
        lookup = {int(s): c for s, c in zip(cell_steps, cells)}
        if len(lookup) == 1 and len(cart) > 1:
            lat = np.broadcast_to(cells[0], (len(cart), 3, 3)).copy()
        else:
            missing = [s for s in step_no if s not in lookup]
            if missing:
                raise TrajectoryError(f"{path}: MD step {missing[0]} has no row in the cell file "
                                      f"(its steps run {int(cell_steps[0])}..{int(cell_steps[-1])})")
            lat = np.array([lookup[s] for s in step_no])
        lattice = _collapse_lattice(lat)
    else:
        lattice = const_cell
    if lattice.ndim == 2:
        frac = np.linalg.solve(lattice.T, cart.reshape(-1, 3).T).T.reshape(cart.shape)
    else:
        frac = np.einsum("fij,faj->fai", np.linalg.inv(np.transpose(lattice, (0, 2, 1))), cart)

    dt = None
    if dt_fs is not None:
        dt = _positive_dt(dt_fs, path) * step
    else:
        t = np.array(times)
        if len(t) >= 2 and np.isfinite(t).all():
            gaps = np.diff(t)
            span = t[-1] - t[0]
            # stamps are printed with 3 decimals: the mean gap is good to 1e-3 fs / span
            if span > 0 and np.allclose(gaps, gaps.mean(), atol=2e-3, rtol=1e-6):
                dt = span / (len(t) - 1)
                notes.append(f"time between frames {dt:g} fs from the frames' time stamps")
            elif span > 0:
                raise TrajectoryError(f"{path}: the frames' time stamps are not evenly spaced "
                                      f"(gaps {gaps.min():g}..{gaps.max():g} fs): a restart appended?")
        if dt is None and inp is not None and inp.timestep_fs:
            each = inp.traj_each_md or 1
            dt = inp.timestep_fs * each * step
            notes.append(f"time between frames {dt:g} fs = TIMESTEP {inp.timestep_fs:g} fs x &EACH MD {each}"
                         + (f" x stride {step}" if step > 1 else "") + f" from {inp_path}")
        if dt is None:
            raise TrajectoryError(f"{path}: the time between frames is unknown: no time stamps in the frames "
                                  "and no CP2K input with &MD TIMESTEP; give dt_fs (the time between stored frames)"
                                  + unreadable)
    temperature = inp.temperature_K if inp is not None else None
    return _trajectory(path, frac=frac, lattice=lattice, species=symbols, dt_fs=dt,
                       temperature_K=temperature, notes=notes)


def _looks_like_cp2k_cell_file(p: Path) -> bool:
    with _Lines(p) as lines:
        for line in lines:
            s = line.strip()
            if not s:
                continue
            if s.startswith("#"):
                return "Ax" in s or "Step" in s
            return len(s.split()) >= 11 and s.split()[0].isdigit()
    return False


# ---- Quantum ESPRESSO pw.x ------------------------------------------------------------------

_QE_UNIT = re.compile(r"(ATOMIC_POSITIONS|CELL_PARAMETERS)\s*[({]?\s*([A-Za-z]+)?\s*(?:=\s*([-+\d.eEdD]+))?")


def read_qe_md(path, dt_fs: float | None = None, stride: int | None = None) -> Trajectory:
    """pw.x output of calculation = 'md' or 'vc-md'.

    Frame 0 is the starting geometry from the header, then one frame per ATOMIC_POSITIONS
    block (alat, bohr, angstrom or crystal units), with the CELL_PARAMETERS printed
    before it when the cell moves.  The time step comes from the "Time step" line
    (Rydberg atomic units, 1 a.u. = 0.048378 fs), else from the steps' time stamps.
    """
    path = Path(path)
    step = _stride(stride, path)
    notes: list[str] = []
    alat = None  # bohr
    nat = None
    axes = None  # header cell in alat units
    species: list[str] | None = None
    tau0 = None
    dt_au = None
    stamps: list[float] = []
    stamp_resolution_fs = 0.0
    temps: list[float] = []
    frames: _Grow | None = None  # frame 0 (the header geometry) and one per ATOMIC_POSITIONS block
    lattices: _Grow | None = None
    cell_now = None  # Å
    final_block = False
    saw_pwscf = False
    index = 0
    with _Lines(path) as lines:
        try:
            for line in lines:
                s = line.strip()
                if not saw_pwscf and "PWSCF" in line:
                    saw_pwscf = True
                if s.startswith("celldm(1)="):
                    alat = _float(s.split()[1], path, lines.n, "celldm(1)")
                elif alat is None and s.startswith("lattice parameter (alat)"):
                    alat = _float(s.split("=")[1].split()[0], path, lines.n, "alat")
                elif s.startswith("number of atoms/cell"):
                    nat = int(_float(s.split("=")[1], path, lines.n, "number of atoms"))
                elif s.startswith("crystal axes:"):
                    block = lines.take(3, "the crystal axes")
                    axes = _rows([b.split("(")[-1].split(")")[0] for b in block], 3, path, lines.n - 2, "crystal axis")
                elif s.startswith("site n.") and "positions" in s and tau0 is None:
                    if nat is None:
                        raise TrajectoryError(f"{path}: line {lines.n}: atom table before 'number of atoms/cell'")
                    unit = "alat" if "alat" in s else ("crystal" if "cryst" in s else None)
                    block = lines.take(nat, "the starting positions")
                    species = [_element(b.split()[1], path, lines.n - nat + 1 + i) for i, b in enumerate(block)]
                    tau0 = (_rows([b.split("(")[-1].split(")")[0] for b in block], 3, path, lines.n - nat + 1,
                                  "starting position"), unit)
                elif s.startswith("Time step") and "a.u." in s:
                    dt_au = _float(s.split("=")[1].split()[0], path, lines.n, "Time step")
                elif s.startswith("Entering Dynamics") or (s.startswith("time") and "pico-seconds" in s):
                    m = re.search(r"time\s*=\s*([-+\d.eE]+)\s*pico", line)
                    if m:
                        stamps.append(float(m.group(1)))
                        decimals = len(m.group(1).partition(".")[2])
                        stamp_resolution_fs = max(stamp_resolution_fs, 1000.0 * 10.0 ** -decimals)
                elif s.startswith("temperature") and s.endswith("K") and "=" in s:
                    try:
                        temps.append(float(s.split("=")[1].split()[0]))
                    except ValueError:
                        pass
                elif "Begin final coordinates" in s:
                    final_block = True  # a repeat of the last step's geometry
                elif "End final coordinates" in s:
                    final_block = False
                elif s.startswith("CELL_PARAMETERS") and not final_block:
                    m = _QE_UNIT.match(s)
                    unit = (m.group(2) or "alat").lower()
                    first = lines.n + 1
                    raw = _rows(lines.take(3, "CELL_PARAMETERS"), 3, path, first, "cell vector")
                    if unit == "alat":
                        a = _float(m.group(3), path, first - 1, "alat") if m.group(3) else alat
                        if a is None:
                            raise TrajectoryError(f"{path}: line {first - 1}: CELL_PARAMETERS in alat units but no alat")
                        cell_now = raw * a * QE_BOHR_A
                    elif unit == "bohr":
                        cell_now = raw * QE_BOHR_A
                    elif unit == "angstrom":
                        cell_now = raw
                    else:
                        raise TrajectoryError(f"{path}: line {first - 1}: CELL_PARAMETERS unit {unit!r} is not known")
                elif s.startswith("ATOMIC_POSITIONS") and not final_block:
                    if nat is None or species is None:
                        raise TrajectoryError(f"{path}: line {lines.n}: ATOMIC_POSITIONS before the header "
                                              "(number of atoms, atom table)")
                    m = _QE_UNIT.match(s)
                    unit = (m.group(2) or "alat").lower()
                    first = lines.n + 1
                    block = lines.take(nat, f"ATOMIC_POSITIONS of step {index + 1}")
                    if frames is None:
                        if tau0 is None:
                            raise TrajectoryError(f"{path}: line {first - 1}: ATOMIC_POSITIONS before the starting "
                                                  "positions of the header")
                        cell0 = _qe_header_cell(axes, alat, path)
                        # an MD step prints its SCF (a few kB) besides the positions
                        est = _uncompressed_size(path) / (nat * 60 + 3000) / step + 2
                        frames, lattices = _Grow((nat, 3), est), _Grow((3, 3), est)
                        frames.append(_qe_to_frac(tau0[0], tau0[1] or "alat", cell0, alat, path, None))
                        lattices.append(cell0)
                    index += 1
                    if index % step:
                        continue
                    xyz = _rows(block, 3, path, first, "atomic position", skip_cols=1)
                    cell = cell_now if cell_now is not None else _qe_header_cell(axes, alat, path)
                    frames.append(_qe_to_frac(xyz, unit, cell, alat, path, first - 1))
                    lattices.append(cell)
        except TrajectoryError:
            raise
        except (IndexError, ValueError) as e:
            # a header line cut or garbled where its layout was relied on
            raise TrajectoryError(f"{path}: line {lines.n}: cannot read {line.strip()[:70]!r} "
                                  f"({type(e).__name__}: {e})") from None
    if not saw_pwscf:
        raise TrajectoryError(f"{path}: not a pw.x output (no 'Program PWSCF' banner)")
    if nat is None or species is None or tau0 is None or axes is None or alat is None:
        missing = [w for w, v in (("number of atoms/cell", nat), ("the atom table", tau0), ("crystal axes", axes),
                                  ("alat", alat)) if v is None]
        raise TrajectoryError(f"{path}: the header is incomplete (missing {', '.join(missing)}): cut short?")
    if frames is None:
        raise TrajectoryError(f"{path}: no ATOMIC_POSITIONS blocks: not an md/vc-md run, or it stopped "
                              "before the first step")
    if dt_fs is not None:
        dt = _positive_dt(dt_fs, path) * step
    elif dt_au is not None:
        dt = dt_au * QE_RY_TIME_FS * step
        notes.append(f"time step {dt_au:g} Ry a.u. = {dt_au * QE_RY_TIME_FS:.6g} fs")
    elif len(stamps) >= 2:
        span_fs = (stamps[-1] - stamps[0]) * 1000.0
        # the stamps' last printed digit bounds the error of the span; insist on a 1% answer
        rel = stamp_resolution_fs / span_fs if span_fs > 0 else math.inf
        if rel > 0.01:
            raise TrajectoryError(f"{path}: no 'Time step' line and the steps' time stamps span too little "
                                  "time to give the timestep to 1%; give dt_fs")
        dt = span_fs / (len(stamps) - 1) * step
        notes.append(f"time step {dt / step:.6g} fs from the steps' time stamps (+-{rel:.1%}); "
                     "no 'Time step' line")
    else:
        raise TrajectoryError(f"{path}: no 'Time step' line and no step time stamps: not an md run? give dt_fs")
    if temps:
        notes.append(f"mean instantaneous temperature {np.mean(temps):.1f} K over {len(temps)} steps")
    lat = lattices.result()
    lattice = np.array(lat[0]) if np.allclose(lat, lat[0], rtol=0, atol=1e-9) else lat
    return _trajectory(path, frac=frames.result(), lattice=lattice, species=species, dt_fs=dt,
                       temperature_K=None, notes=notes)


def _qe_header_cell(axes, alat, path: Path) -> np.ndarray:
    if axes is None or alat is None:
        raise TrajectoryError(f"{path}: positions before the crystal axes and alat in the header")
    return axes * alat * QE_BOHR_A


def _qe_to_frac(xyz: np.ndarray, unit: str, cell: np.ndarray, alat, path: Path, line) -> np.ndarray:
    if unit == "crystal":
        return xyz
    if unit == "alat":
        cart = xyz * alat * QE_BOHR_A
    elif unit == "bohr":
        cart = xyz * QE_BOHR_A
    elif unit == "angstrom":
        cart = xyz
    else:
        where = f"line {line}: " if line else ""
        raise TrajectoryError(f"{path}: {where}position unit {unit!r} is not known")
    return np.linalg.solve(cell.T, cart.T).T


# ---- ASE (extxyz, .traj, ...) -----------------------------------------------------------------

_ASE_DT_KEYS = ("dt_fs", "timestep_fs", "time_step_fs")
_ASE_TIME_KEYS = ("time_fs",)
_ASE_T_KEYS = ("temperature_K", "temperature")


def read_ase(path, dt_fs: float | None = None, stride: int | None = None, format: str | None = None) -> Trajectory:  # noqa: A002
    """Any periodic trajectory ase.io.iread reads (extxyz, ASE .traj, ...), frame by frame.

    The time between frames: dt_fs, else atoms.info "dt_fs"/"timestep_fs" of the first frame,
    else the spacing of atoms.info "time_fs"; ASE's own MD does not store it, so usually
    it must be given.
    """
    import ase.io

    path = Path(path)
    step = _stride(stride, path)
    if not path.is_file():
        raise TrajectoryError(f"{path}: no such file")
    symbols = None
    frames = lattices = None
    info0: dict = {}
    times: list[float] = []
    try:
        it = ase.io.iread(str(path), index=f"::{step}", format=format)
        for i, atoms in enumerate(it):
            if symbols is None:
                symbols = atoms.get_chemical_symbols()
                info0 = dict(atoms.info)
                frames = _Grow((len(symbols), 3), 64)
                lattices = _Grow((3, 3), 64)
            elif atoms.get_chemical_symbols() != symbols:
                raise TrajectoryError(f"{path}: frame {i * step + 1} has other atoms than the first "
                                      f"({len(atoms)} vs {len(symbols)})")
            cell = atoms.cell.array
            if abs(np.linalg.det(cell)) < 1e-8:
                raise TrajectoryError(f"{path}: frame {i * step + 1} has no periodic cell (a molecule?)")
            frames.append(atoms.get_scaled_positions(wrap=False))
            lattices.append(cell)
            t = next((atoms.info[k] for k in _ASE_TIME_KEYS if k in atoms.info), None)
            times.append(float(t) if t is not None else math.nan)
    except TrajectoryError:
        raise
    except Exception as e:  # noqa: BLE001 - ase raises many kinds for damaged files; all are "cannot read"
        raise TrajectoryError(f"{path}: ase cannot read it ({type(e).__name__}: {e})") from None
    if frames is None or frames.n == 0:
        raise TrajectoryError(f"{path}: no frames")
    notes: list[str] = []
    if dt_fs is not None:
        dt = _positive_dt(dt_fs, path) * step
    else:
        key = next((k for k in _ASE_DT_KEYS if k in info0), None)
        if key is not None:
            dt = _positive_dt(info0[key], path, f"info {key}") * step
            notes.append(f"time between frames from atoms.info[{key!r}]")
        elif len(times) >= 2 and np.isfinite(times).all():
            dt = (times[-1] - times[0]) / (len(times) - 1)
            notes.append("time between frames from atoms.info['time_fs']")
        else:
            raise TrajectoryError(f"{path}: the time between frames is unknown (no dt_fs/timestep_fs/time_fs "
                                  "in the frames' info); give dt_fs")
    tkey = next((k for k in _ASE_T_KEYS if k in info0), None)
    temperature = float(info0[tkey]) if tkey is not None else None
    return _trajectory(path, frac=frames.result(), lattice=_collapse_lattice(lattices.result()), species=symbols,
                       dt_fs=dt, temperature_K=temperature, notes=notes)


# ---- pymatgen DiffusionAnalyzer JSON ----------------------------------------------------------

def read_diffusion_analyzer(path, dt_fs: float | None = None, stride: int | None = None) -> Trajectory:
    """A serialized pymatgen DiffusionAnalyzer: "structure" (the first frame), "displacements"
    (atoms x frames x 3, Cartesian Å, cumulative from the first frame, so frame 0 is zero),
    "time_step" (fs), "step_skip", "temperature", "specie", and for NPT runs "lattices".

    Frame k is structure + displacements[:, k] (unwrapped), in fractional coordinates of
    that frame's cell; the time between frames is time_step x step_skip.
    """
    path = Path(path)
    step = _stride(stride, path)
    try:
        with _open_text(path) as f:
            d = json.load(f)
    except json.JSONDecodeError as e:
        raise TrajectoryError(f"{path}: line {e.lineno}: not valid JSON ({e.msg}; cut short?)") from None
    except _DECOMPRESSION_ERRORS as e:
        raise TrajectoryError(f"{path}: the compressed data is damaged or cut short ({e})") from None
    if not isinstance(d, dict):
        raise TrajectoryError(f"{path}: not a DiffusionAnalyzer JSON (the top level is not an object)")
    missing = [k for k in ("structure", "displacements", "time_step", "step_skip") if k not in d]
    if missing:
        raise TrajectoryError(f"{path}: not a DiffusionAnalyzer JSON: missing {', '.join(missing)}")
    s = d["structure"]
    try:
        lat0 = np.array(s["lattice"]["matrix"], dtype=float)
        sites = s["sites"]
        frac0 = np.array([site["abc"] for site in sites], dtype=float)
        species = []
        for i, site in enumerate(sites):
            occ = site["species"]
            if len(occ) != 1 or abs(float(occ[0].get("occu", 1)) - 1) > 1e-6:
                raise TrajectoryError(f"{path}: site {i} of the structure is partially occupied")
            species.append(_element(occ[0]["element"], path, None))
    except (KeyError, TypeError, IndexError, ValueError) as e:
        if isinstance(e, TrajectoryError):
            raise
        raise TrajectoryError(f"{path}: the structure is not a pymatgen Structure dict ({type(e).__name__}: {e})") \
            from None
    if lat0.shape != (3, 3) or frac0.ndim != 2 or frac0.shape[1] != 3:
        raise TrajectoryError(f"{path}: the structure's lattice or site coordinates have the wrong shape")
    try:
        disp = np.array(d["displacements"], dtype=float)
    except (ValueError, TypeError):
        raise TrajectoryError(f"{path}: displacements are not a regular atoms x frames x 3 array of numbers") \
            from None
    if disp.ndim != 3 or disp.shape[0] != len(species) or disp.shape[2] != 3 or disp.shape[1] == 0:
        raise TrajectoryError(f"{path}: displacements have shape {disp.shape}; expected "
                              f"({len(species)} atoms, frames, 3)")
    n_frames = disp.shape[1]
    lattices = d.get("lattices")
    if lattices is None:
        lat = lat0
    else:
        lat = np.array(lattices, dtype=float)
        if lat.ndim != 3 or lat.shape[1:] != (3, 3) or lat.shape[0] not in (1, n_frames):
            raise TrajectoryError(f"{path}: lattices have shape {lat.shape}; expected (1 or {n_frames}, 3, 3)")
        lat = lat[0] if lat.shape[0] == 1 else lat
    keep = slice(None, None, step)
    disp = disp[:, keep, :].transpose(1, 0, 2)  # frames x atoms x 3
    if lat.ndim == 2:
        frac = frac0[None] + np.linalg.solve(lat.T, disp.reshape(-1, 3).T).T.reshape(disp.shape)
    else:
        lat = lat[keep]
        # pymatgen wrote displacement k as (cumulative fractional change) @ lattice k
        frac = frac0[None] + np.einsum("fij,faj->fai", np.linalg.inv(np.transpose(lat, (0, 2, 1))), disp)
    time_step = _float(str(d["time_step"]), path, None, "time_step")
    step_skip = _float(str(d["step_skip"]), path, None, "step_skip")
    dt = time_step * step_skip
    notes = []
    if dt_fs is not None:
        given = _positive_dt(dt_fs, path)
        if abs(given - dt) > 1e-9 * max(given, 1.0):
            notes.append(f"time between frames {given:g} fs as given; the file says {dt:g} fs "
                         f"(time_step {time_step:g} x step_skip {step_skip:g})")
        dt = given
    else:
        if not dt > 0:
            raise TrajectoryError(f"{path}: time_step x step_skip = {dt:g} is not a positive time")
        notes.append(f"time between frames {dt:g} fs = time_step {time_step:g} fs x step_skip {step_skip:g}")
    if d.get("specie"):
        notes.append(f"mobile species in the file: {d['specie']}")
    temperature = d.get("temperature")
    return _trajectory(path, frac=frac, lattice=lat, species=species, dt_fs=dt * step,
                       temperature_K=float(temperature) if temperature is not None else None, notes=notes)


# ---- dispatch -------------------------------------------------------------------------------

FORMATS = {
    "xdatcar": read_xdatcar,
    "vasprun": read_vasprun,
    "cp2k": read_cp2k_xyz,
    "qe": read_qe_md,
    "ase": read_ase,
    "diffusion-analyzer": read_diffusion_analyzer,
}


def _head(path: Path, n_bytes: int = 65536) -> str:
    try:
        with _open_binary(path) as f:
            return f.read(n_bytes).decode("latin-1")
    except _DECOMPRESSION_ERRORS as e:
        raise TrajectoryError(f"{path}: the compressed data is damaged ({e})") from None


def detect_format(path) -> str:
    """The FORMATS key for a file, from its name and, where names are ambiguous, its first bytes."""
    path = Path(path)
    if path.is_dir():
        for name, fmt in (("XDATCAR", "xdatcar"), ("vasprun.xml", "vasprun")):
            if _sibling(path / name, name) is not None:
                return fmt
        raise TrajectoryError(f"{path}: a folder without XDATCAR or vasprun.xml")
    name = path.name
    for suffix in (".gz", ".bz2", ".xz"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    low = name.lower()
    if "xdatcar" in low:
        return "xdatcar"
    if "vasprun" in low or low.endswith(".xml"):
        return "vasprun"
    if low.endswith(".traj"):
        return "ase"
    head = _head(path)
    if low.endswith(".json"):
        return "diffusion-analyzer"
    first_lines = head.splitlines()[:2]
    if low.endswith(".xyz") or low.endswith(".extxyz"):
        if len(first_lines) > 1 and "Lattice=" in first_lines[1]:
            return "ase"
        if low.endswith(".extxyz"):
            return "ase"
        return "cp2k"
    if "Program PWSCF" in head or "PWSCF" in head[:4000]:
        return "qe"
    if head.lstrip().startswith("{") and "displacements" in head:
        return "diffusion-analyzer"
    if head.lstrip().startswith("<?xml") and "<modeling>" in head:
        return "vasprun"
    if len(first_lines) > 1 and "Lattice=" in first_lines[1]:
        return "ase"
    if len(first_lines) > 1 and _CP2K_HEADER.search(first_lines[1]) and first_lines[0].strip().isdigit():
        return "cp2k"
    raise TrajectoryError(f"{path}: unknown trajectory format; read are XDATCAR, vasprun.xml, CP2K *-pos-1.xyz, "
                          "pw.x md output, extxyz, ASE .traj and pymatgen DiffusionAnalyzer JSON")


def read_trajectory(path, format: str | None = None, **kw) -> Trajectory:  # noqa: A002
    """Read any supported trajectory; keyword arguments a format does not take are an error
    unless None (so a caller may pass dt_fs=None to every kind)."""
    path = Path(path)
    fmt = format or detect_format(path)
    if fmt not in FORMATS:
        raise TrajectoryError(f"{path}: unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    reader = FORMATS[fmt]
    if path.is_dir():
        path = _sibling(path / ("XDATCAR" if fmt == "xdatcar" else "vasprun.xml"),
                        "XDATCAR" if fmt == "xdatcar" else "vasprun.xml") or path
    accepted = set(inspect.signature(reader).parameters)
    args = {}
    for k, v in kw.items():
        if v is None:
            continue
        if k not in accepted:
            raise TrajectoryError(f"{path}: {k} does not apply to {fmt} files")
        args[k] = v
    return reader(path, **args)
