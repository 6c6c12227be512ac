"""Mean-squared displacements of a trajectory (science notes, section 1).

    D = <|r(t + dt) - r(t)|^2> / (2 d dt)

averaged over every time origin t and every mobile ion.  The pipeline, one
chunk of atoms at a time so that no second copy of the trajectory is ever
held (extra memory stays a fraction of frames x atoms x 3):

    fractional frames --unwrap--> fractional steps --lattice--> Cartesian
    displacements --minus framework drift--> FFT moments summed over atoms

The FFT (Wiener-Khinchin) route gives the MSD at every lag in O(N log N) per
atom instead of O(N^2):  MSD(m) = S1(m) - 2 S2(m), S1 from prefix sums of
x(t)^2 and S2 the autocorrelation of x by a zero-padded FFT.  Because the
inverse transform is linear, the spectra are summed over atoms first and
inverted once per species: the cost per atom is three forward transforms
(ten more for the fourth moment).

Besides the MSD this module keeps two things the fit needs and the peers do
not both provide:

* the full 3 x 3 MSD tensor <dr_i dr_j>, from which the MSD along any
  Cartesian or lattice direction or in any lattice plane follows without
  another pass over the data (`directional_msd`);
* the fourth moment <|dr|^4> at every lag, by the same FFT trick, so the
  variance of the squared displacements that sets the error bar of D
  carries the observed non-Gaussian excess (hopping ions are far from
  Gaussian), as kinisi's observed variances do.

The charge (collective) MSD is the MSD of the summed displacement of all
mobile ions divided by their number: equal to the tracer MSD when ions move
independently, so D_tracer / D_charge is the Haven ratio.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from .trajectory import Trajectory

# The six independent components of the symmetric 3 x 3 tensor, in the order
# the accumulators store them.
PAIRS = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))

# Largest wrapped fractional step (any component) between two stored frames
# before unwrapping is declared unsafe: the minimum-image convention only
# recovers steps shorter than half a cell, and a true step near 0.5 is
# indistinguishable from one of -0.5.
MAX_STEP_FRAC = 0.4

# A framework whose atoms end this far (mean square, drift removed) from their
# start has most likely melted or amorphised (thermal rattling alone gives
# well under 1 Å^2 in sulfides at AIMD temperatures): D then describes a melt.
FRAMEWORK_MELT_A2 = 2.0


class TransportWarning(UserWarning):
    """A diffusion analysis ran but its numbers need a caveat."""


# ---------------------------------------------------------------- unwrapping


def wrapped_steps(frac: np.ndarray) -> np.ndarray:
    """Fractional step of every atom between consecutive frames, each component
    wrapped into [-0.5, 0.5): the minimum-image step.

    Works on wrapped and unwrapped input alike.  Assumes no atom moves more
    than half a cell between stored frames (see MAX_STEP_FRAC).  In a skewed
    cell the shortest Cartesian image of a long step can differ from the
    fractional minimum image, but for steps shorter than half the smallest
    interplanar spacing the two are the same step (every other image is at
    least one lattice vector, i.e. one spacing, away), so kinisi's search over
    8 images is not needed for any trajectory stored often enough to unwrap.
    """
    steps = np.diff(np.asarray(frac, dtype=np.float64), axis=0)
    steps -= np.floor(steps + 0.5)
    return steps


def unwrap(frac: np.ndarray, max_step: float = MAX_STEP_FRAC) -> np.ndarray:
    """Unwrapped fractional coordinates (frames x atoms x 3): the first frame
    plus the cumulative sum of minimum-image steps.  Warns when a step exceeds
    `max_step` of a cell, where the result is no longer trustworthy."""
    frac = np.asarray(frac, dtype=np.float64)
    steps = wrapped_steps(frac)
    message = step_warning(largest_step(steps), max_step)
    if message:
        warnings.warn(message, TransportWarning, stacklevel=2)
    out = np.empty_like(frac)
    out[0] = frac[0]
    np.cumsum(steps, axis=0, out=out[1:])
    out[1:] += frac[0]
    return out


def largest_step(steps: np.ndarray) -> float:
    return float(np.abs(steps).max()) if steps.size else 0.0


def step_warning(largest: float, max_step: float = MAX_STEP_FRAC) -> str | None:
    if largest <= max_step:
        return None
    return (f"an atom moved {largest:.2f} of a cell between two stored frames (limit {max_step}): "
            "unwrapping may have folded a jump back; store frames more often")


def cartesian_displacements(frac: np.ndarray, lattice: np.ndarray) -> tuple[np.ndarray, float]:
    """Displacement in Å of every atom from its position in the first frame
    (frames x atoms x 3), and the largest fractional step seen.

    Each step is converted with the lattice of the frame it ends in and the
    Cartesian steps are summed (kinisi does the same).  pymatgen-analysis-
    diffusion instead multiplies the cumulative fractional displacement by the
    current lattice, which in an NPT run lets every lattice fluctuation scale
    the whole distance an ion has travelled; for a fixed cell (NVT) the two
    are identical.
    """
    steps = wrapped_steps(frac)
    largest = largest_step(steps)
    lattice = np.asarray(lattice, dtype=np.float64)
    cart = _to_cartesian(steps, lattice)
    out = np.empty((frac.shape[0],) + frac.shape[1:], dtype=np.float64)
    out[0] = 0.0
    np.cumsum(cart, axis=0, out=out[1:])
    return out, largest


# ------------------------------------------------------------ FFT machinery


def fft_length(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n: pocketfft is fastest on such lengths, while
    exactly 2N can carry a large prime factor and be several times slower."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            v = p35
            while v < n:
                v *= 2
            best = min(best, v)
            p35 *= 3
        p5 *= 5
    return best


def _prefix(q: np.ndarray) -> np.ndarray:
    """P[k] = sum_{t<k} q[t] along the last axis (P[0] = 0)."""
    out = np.zeros(q.shape[:-1] + (q.shape[-1] + 1,))
    np.cumsum(q, axis=-1, out=out[..., 1:])
    return out


def _two_sided_sum(prefix: np.ndarray, n: int) -> np.ndarray:
    """sum_{t < n-m} q(t) + sum_{t >= m} q(t) for every lag m = 0..n-1: the
    'S1' part of every moment (a function of one endpoint only)."""
    m = np.arange(n)
    return prefix[..., n - m] + prefix[..., n:n + 1] - prefix[..., m]


class _Moments:
    """Sums over atoms of everything the MSD tensor and <|dr|^4> need, for
    all lags at once.  Feed it centred displacement series, chunk by chunk."""

    def __init__(self, n_frames: int, fourth: bool = True):
        self.n = n_frames
        self.length = fft_length(2 * n_frames - 1)  # zero padding: no circular wrap for lags < n
        k = self.length // 2 + 1
        self.cross = np.zeros((6, k))  # sum_a 2 Re(conj X_d X_e): lag products x_d(t+m) x_e(t) + x_e(t+m) x_d(t)
        self.same = np.zeros((6, n_frames))  # sum_a x_d(t) x_e(t)
        self.fourth = fourth
        self.cross4 = np.zeros(k)  # spectrum of the lag-coupled terms of |x(t+m) - x(t)|^4
        self.same4 = np.zeros(n_frames)  # sum_a |x(t)|^4
        self.count = 0

    def add(self, x: np.ndarray) -> None:
        """x: (atoms, 3, frames), each series centred on its mean.  Centring
        changes no displacement but keeps |x|^4 small, so the cancellations in
        S1 - 2 S2 lose no precision."""
        rfft = np.fft.rfft
        spec = rfft(x, n=self.length, axis=-1)
        for k, (d, e) in enumerate(PAIRS):
            self.cross[k] += 2.0 * (np.einsum("af,af->f", spec[:, d].real, spec[:, e].real)
                                    + np.einsum("af,af->f", spec[:, d].imag, spec[:, e].imag))
            self.same[k] += np.einsum("at,at->t", x[:, d], x[:, e])
        self.count += x.shape[0]
        if not self.fourth:
            return
        # |a - b|^4 = |a|^4 + |b|^4 + 2|a|^2|b|^2 + 4 (a.b)^2 - 4 |a|^2 (a.b) - 4 |b|^2 (a.b),
        # a = x(t+m), b = x(t).  The first two depend on one time only (prefix
        # sums); each other term is a correlation of two series, i.e. a product
        # of their spectra: of u = |x|^2, of the six x_d x_e, and of u x_d with
        # x_d.  The ten series go through one batched transform.
        u = np.einsum("adt,adt->at", x, x)
        self.same4 += np.einsum("at,at->t", u, u)
        series = np.empty((x.shape[0], 10, self.n))
        series[:, 0] = u
        for k, (d, e) in enumerate(PAIRS):
            np.multiply(x[:, d], x[:, e], out=series[:, 1 + k])
        np.multiply(u[:, None], x, out=series[:, 7:])
        s = rfft(series, n=self.length, axis=-1)
        del series
        # power of each series summed over atoms, then weighted:
        # |U|^2 x 2; (a.b)^2 x 4, its off-diagonal pairs twice
        power = np.einsum("akf,akf->kf", s.real[:, :7], s.real[:, :7])
        power += np.einsum("akf,akf->kf", s.imag[:, :7], s.imag[:, :7])
        self.cross4 += np.array([2.0, 4.0, 4.0, 4.0, 8.0, 8.0, 8.0]) @ power
        self.cross4 -= 8.0 * (np.einsum("adf,adf->f", spec.real, s[:, 7:].real)
                              + np.einsum("adf,adf->f", spec.imag, s[:, 7:].imag))

    def tensor(self) -> np.ndarray:
        """(frames, 6) sum over atoms and origins of dr_d dr_e at each lag, per origin."""
        n = self.n
        lagged = np.fft.irfft(self.cross, n=self.length, axis=-1)[:, :n]
        total = _two_sided_sum(_prefix(self.same), n) - lagged
        return (total / (n - np.arange(n))).T

    def fourth_moment(self) -> np.ndarray:
        """(frames,) sum over atoms of <|dr|^4> over origins at each lag."""
        n = self.n
        lagged = np.fft.irfft(self.cross4, n=self.length)[:n]
        return (_two_sided_sum(_prefix(self.same4), n) + lagged) / (n - np.arange(n))


def fft_msd(x: np.ndarray) -> np.ndarray:
    """MSD over all time origins of each series in x (..., frames), by FFT:
    MSD(m) = 1/(N-m) sum_t (x(t+m) - x(t))^2.  The building block, exposed for
    checks against the direct O(N^2) average."""
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[-1]
    x = x - x.mean(axis=-1, keepdims=True)
    length = fft_length(2 * n - 1)
    spec = np.fft.rfft(x, n=length, axis=-1)
    lagged = np.fft.irfft(spec.real ** 2 + spec.imag ** 2, n=length, axis=-1)[..., :n]
    return (_two_sided_sum(_prefix(x * x), n) - 2.0 * lagged) / (n - np.arange(n))


# --------------------------------------------------------------- the result


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


@dataclass
class MSDResult:
    """MSD of one mobile species at every lag 0..frames-1 (Å^2; times in fs)."""

    species: str
    dt_fs: float
    n_frames: int
    n_mobile: int
    tensor: np.ndarray  # (frames, 3, 3): <dr_i dr_j> over ions and origins, Cartesian
    fourth: np.ndarray | None  # (frames,): <|dr|^4> over ions and origins (None: not computed)
    charge: np.ndarray  # (frames,): <|sum_ions dr|^2> / n_mobile
    charge_fourth: np.ndarray | None  # (frames,): <|sum_ions dr|^4> / n_mobile^2
    lattice: np.ndarray  # (3, 3) mean lattice, rows a, b, c in Å
    drift: str
    temperature_K: float | None = None
    source: str = ""
    framework_msd_end_A2: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def lag_fs(self) -> np.ndarray:
        return np.arange(self.n_frames) * self.dt_fs

    @property
    def msd(self) -> np.ndarray:
        return np.trace(self.tensor, axis1=1, axis2=2)

    @property
    def variance(self) -> np.ndarray:
        """Variance of one ion's squared displacement over one origin, per lag
        (the Gaussian 2/3 MSD^2 when the fourth moment was not computed)."""
        if self.fourth is None:
            return 2.0 / 3.0 * self.msd ** 2
        return np.maximum(self.fourth - self.msd ** 2, 0.0)

    @property
    def charge_variance(self) -> np.ndarray:
        if self.charge_fourth is None:
            return 2.0 / 3.0 * self.charge ** 2
        return np.maximum(self.charge_fourth - self.charge ** 2, 0.0)

    @property
    def volume_A3(self) -> float:
        return float(abs(np.linalg.det(self.lattice)))

    def along(self, direction: str) -> tuple[np.ndarray, int]:
        """(MSD, dimensionality) along a direction or in a plane: 'x', 'y', 'z',
        'a', 'b', 'c' (projection on the unit vector along that lattice
        vector), 'xy', 'xz', 'yz', 'ab', 'bc', 'ac' (in-plane MSD: the total
        minus the part along the plane's normal, e.g. a x b for 'ab', which is
        c itself only in cells where c is perpendicular to a and b), or
        'xyz' / 'abc' (total)."""
        return directional_msd(self.tensor, direction, self.lattice)


def _axis(name: str, lattice: np.ndarray) -> np.ndarray:
    cart = {"x": 0, "y": 1, "z": 2}
    if name in cart:
        return np.eye(3)[cart[name]]
    return _unit(lattice["abc".index(name)])


def directional_msd(tensor: np.ndarray, direction: str, lattice: np.ndarray) -> tuple[np.ndarray, int]:
    d = direction.strip().lower()
    if d == "ca":
        d = "ac"
    total = np.trace(tensor, axis1=-2, axis2=-1)
    if d in ("xyz", "abc"):
        return total, 3
    if len(d) == 1 and d in "xyzabc":
        u = _axis(d, lattice)
        return np.einsum("i,...ij,j->...", u, tensor, u), 1
    if len(d) == 2 and (set(d) <= set("xyz") or set(d) <= set("abc")) and d[0] != d[1]:
        normal = _unit(np.cross(_axis(d[0], lattice), _axis(d[1], lattice)))
        return total - np.einsum("i,...ij,j->...", normal, tensor, normal), 2
    raise ValueError(f"unknown direction {direction!r}: use x, y, z, a, b, c, xy, xz, yz, ab, bc, ac or xyz")


# --------------------------------------------------------------- the driver


def _chunk_atoms(n_frames: int, budget_bytes: int, fourth: bool) -> int:
    # Per atom in flight, in float64 units of n_frames: the step, Cartesian,
    # cumulative and centred copies (3 each), the 3 spectra (~2N complex = 4N
    # floats each) and, for the fourth moment, 10 more series, their spectra
    # and power (10 + 40 + 20).
    per_atom = n_frames * 8 * (3 * 5 + 3 * 4 + (70 if fourth else 0))
    return max(1, int(budget_bytes // per_atom))


def _budget(traj: Trajectory, chunk_bytes: int | None) -> int:
    if chunk_bytes is not None:
        return int(chunk_bytes)
    # A quarter of the trajectory as float64 (so the whole analysis stays well
    # under the 1.2x extra-memory goal), at least 2 MB so small runs are not
    # cut into slivers whose per-call overhead dominates, at most 256 MB.
    size = traj.n_frames * traj.n_atoms * 3 * 8
    return int(min(max(size // 4, 2_000_000), 256_000_000))


def _lattice(traj: Trajectory, first: int) -> np.ndarray:
    return traj.lattice if traj.lattice.ndim == 2 else traj.lattice[first:]


def _to_cartesian(steps: np.ndarray, lattice: np.ndarray) -> np.ndarray:
    """Fractional steps (frames-1 x ... x 3) to Å with the lattice of the frame
    each step ends in.  einsum, not matmul: a stack of (atoms x 3) @ (3 x 3)
    products would go through BLAS, whose threads only contend on a busy
    machine for 3 x 3 work."""
    if lattice.ndim == 2:
        return np.einsum("f...i,ij->f...j", steps, lattice)
    return np.einsum("f...i,fij->f...j", steps, lattice[1:])


def framework_drift(traj: Trajectory, atoms: np.ndarray, first: int = 0,
                    chunk: int = 64) -> tuple[np.ndarray, float | None, float]:
    """Mean Cartesian displacement (frames x 3) of the given atoms; their mean
    squared displacement from the start at the last frame with that drift
    removed (a melting check that costs nothing extra); the largest
    fractional step among them.

    Unweighted mean, as pymatgen-analysis-diffusion and kinisi (without
    masses) take it: the point is to remove a rigid translation of the
    framework, for which every framework atom moves alike and the weights do
    not matter.  Averaging is linear, so the fractional steps are averaged
    first and only the mean path is converted and summed."""
    frac = traj.frac[first:]
    lattice = _lattice(traj, first)
    n = frac.shape[0]
    step_sum = np.zeros((n - 1, 3))
    sq_end, largest = 0.0, 0.0
    for s in range(0, len(atoms), chunk):
        steps = wrapped_steps(frac[:, atoms[s:s + chunk]])
        largest = max(largest, largest_step(steps))
        step_sum += steps.sum(axis=1)
        end = steps.sum(axis=0) @ lattice if lattice.ndim == 2 else np.einsum("fai,fij->aj", steps, lattice[1:])
        sq_end += float((end ** 2).sum())
    drift = np.zeros((n, 3))
    if not len(atoms):
        return drift, None, largest
    np.cumsum(_to_cartesian(step_sum / len(atoms), lattice), axis=0, out=drift[1:])
    # mean |r - drift|^2 = mean |r|^2 - |drift|^2 since drift is the mean of r
    return drift, sq_end / len(atoms) - float((drift[-1] ** 2).sum()), largest


def compute_msd(traj: Trajectory, species: str = "Li", *, drift: str = "framework",
                equilibration_fs: float = 0.0, max_step: float = MAX_STEP_FRAC,
                fourth: bool = True, chunk_bytes: int | None = None) -> MSDResult:
    """Tracer MSD tensor, fourth moment and charge MSD of `species`.

    drift: 'framework' (default) removes the mean displacement of all atoms
    not of `species` (what pymatgen-analysis-diffusion and kinisi do, so
    results compare one to one); 'all' removes the mean of every atom,
    mobile ones included (for runs where everything moves, e.g. melts: it
    slightly lowers D, by the ions' own share of the mean); 'none' keeps
    the raw displacements.
    equilibration_fs: frames before this time are dropped before anything
    else (the MSD then starts from the first kept frame).
    """
    mobile = traj.indices(species)
    if not len(mobile):
        raise ValueError(f"{traj.source or 'trajectory'}: no {species} atoms")
    first = int(round(equilibration_fs / traj.dt_fs))
    n = traj.n_frames - first
    if n < 4:
        run_ps = (traj.n_frames - 1) * traj.dt_fs / 1000
        raise ValueError(f"{traj.source or 'trajectory'}: the run ({traj.n_frames} frames, {run_ps:g} ps) leaves "
                         f"{max(n, 0)} frames after {equilibration_fs / 1000:g} ps of equilibration; need at least 4")
    notes: list[str] = []

    framework = np.setdiff1d(np.arange(traj.n_atoms), mobile)
    budget = _budget(traj, chunk_bytes)
    chunk = _chunk_atoms(n, budget, fourth)
    # the drift pass holds no spectra: four frames x 3 float64 arrays per atom
    drift_chunk = max(1, budget // (n * 8 * 12))
    if drift == "framework":
        reference = framework
    elif drift == "all":
        reference = np.arange(traj.n_atoms)
    elif drift == "none":
        reference = np.array([], dtype=int)
    else:
        raise ValueError(f"drift must be 'framework', 'all' or 'none', not {drift!r}")
    if drift == "framework" and not len(framework):
        notes.append(f"no atoms besides {species}: no framework drift to remove")
    shift, fw_end, largest = framework_drift(traj, reference, first, drift_chunk)
    if drift != "framework" and len(framework):
        _, fw_end, largest = framework_drift(traj, framework, first, drift_chunk)
    if fw_end is not None and fw_end > FRAMEWORK_MELT_A2:
        notes.append(f"framework atoms end {fw_end:.2f} Å^2 (mean square) from their start: "
                     "the host may be melting or amorphising")

    moments, collective = _Moments(n, fourth), _Moments(n, fourth)
    summed = np.zeros((3, n))
    lattice = _lattice(traj, first)
    frac = traj.frac[first:]
    for s in range(0, len(mobile), chunk):
        disp, big = cartesian_displacements(frac[:, mobile[s:s + chunk]], lattice)
        largest = max(largest, big)
        disp -= shift[:, None, :]
        x = np.ascontiguousarray(disp.transpose(1, 2, 0))
        del disp
        x -= x.mean(axis=-1, keepdims=True)
        summed += x.sum(axis=0)
        moments.add(x)
        del x
    collective.add(summed[None])
    message = step_warning(largest, max_step)
    if message:
        notes.append(message)

    six = moments.tensor() / len(mobile)
    tensor = np.empty((n, 3, 3))
    for k, (d, e) in enumerate(PAIRS):
        tensor[:, d, e] = tensor[:, e, d] = six[:, k]
    return MSDResult(
        species=species, dt_fs=traj.dt_fs, n_frames=n, n_mobile=len(mobile), tensor=tensor,
        fourth=moments.fourth_moment() / len(mobile) if fourth else None,
        charge=collective.tensor()[:, :3].sum(axis=1) / len(mobile),
        charge_fourth=collective.fourth_moment() / len(mobile) ** 2 if fourth else None,
        lattice=traj.mean_lattice() if traj.lattice.ndim == 2 else traj.lattice[first:].mean(axis=0),
        drift=drift, temperature_K=traj.temperature_K, source=traj.source,
        framework_msd_end_A2=fw_end, warnings=notes,
    )
