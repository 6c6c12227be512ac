"""The in-memory trajectory every reader produces and the MSD engine takes.

Fractional coordinates in one float array (frames x atoms x 3), never one
pymatgen Structure per frame: a 20000-frame, 200-atom run is 96 MB as float64
and analysed without copies of that size being multiplied.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Trajectory:
    frac: np.ndarray  # (n_frames, n_atoms, 3) fractional coordinates, wrapped or not
    lattice: np.ndarray  # (3, 3) rows are lattice vectors in Å; or (n_frames, 3, 3) for NPT
    species: list[str]  # element symbol per atom
    dt_fs: float  # time between stored frames (MD timestep x stride)
    temperature_K: float | None = None
    source: str = ""  # file it came from, for messages and provenance
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.frac = np.asarray(self.frac)
        self.lattice = np.asarray(self.lattice, dtype=float)
        if self.frac.ndim != 3 or self.frac.shape[2] != 3:
            raise ValueError(f"{self.source or 'trajectory'}: coordinates must be frames x atoms x 3, "
                             f"got shape {self.frac.shape}")
        if self.frac.shape[1] != len(self.species):
            raise ValueError(f"{self.source or 'trajectory'}: {self.frac.shape[1]} atoms but "
                             f"{len(self.species)} species")
        if not np.isfinite(self.frac).all():
            raise ValueError(f"{self.source or 'trajectory'}: coordinates hold NaN or infinite values")
        if not (self.dt_fs > 0):
            raise ValueError(f"{self.source or 'trajectory'}: the time between frames must be positive")

    @property
    def n_frames(self) -> int:
        return self.frac.shape[0]

    @property
    def n_atoms(self) -> int:
        return self.frac.shape[1]

    def indices(self, species: str) -> np.ndarray:
        return np.array([i for i, s in enumerate(self.species) if s == species], dtype=int)

    def mean_lattice(self) -> np.ndarray:
        return self.lattice if self.lattice.ndim == 2 else self.lattice.mean(axis=0)

    @property
    def volume_A3(self) -> float:
        return float(abs(np.linalg.det(self.mean_lattice())))
