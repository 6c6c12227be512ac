"""Diffusion coefficient, conductivity and activation energy from MSDs.

    window     which lags are diffusive (automatic or set by the user)
    fit        D = slope / (2 d) by generalised least squares, with an error
               bar from the covariance of the MSD between lags
    hops       how many effective ion hops the estimate rests on
    sigma      Nernst-Einstein: sigma = n z^2 e^2 D / (kB T)
    arrhenius  ln D against 1/T, weighted, with propagated uncertainty

The error bar.  MSD values at different lags come from the same trajectory
and are strongly correlated, so neither the scatter of the points about the
line nor a 1/t weighting (pymatgen-analysis-diffusion's "max" mode) gives a
defensible uncertainty.  We take kinisi's route (McCluskey et al., JCTC 2024):
model the covariance of the MSD between lags and fit the line by generalised
least squares (GLS), whose parameter covariance (X^T C^-1 X)^-1 is the error
bar.  Where we deliberately differ from kinisi:

* the covariance is kinisi's "independent samples" model written in a form
  that is positive definite by construction (msd_covariance), so it needs no
  reconditioning, and its inverse is tridiagonal: the fit costs O(lags), no
  dense solve, no MCMC.  With a flat prior kinisi's posterior is this same
  Gaussian, so the numbers agree (tested on the Li6PS5Cl run) at a
  thousandth of the time;
* the per-lag variance is modelled from the fitted line, (2/d) m(t)^2 times
  the observed non-Gaussian excess, rather than taken point by point from
  the data, so the weights do not follow the noise (see fit_diffusivity).

We also tried the exact covariance of the time-averaged MSD of Gaussian
increments (neighbouring lags far more tightly correlated).  It is optimal
for a true random walk but makes GLS read D from the fine structure of the
curve near the window start; on the LGPS test run it gave negative D along
a and b.  kinisi's looser model is the robust choice.  On seeded random
walks the GLS error bar is about 1.3x the observed spread (conservative),
and the D itself several times tighter than an unweighted or 1/t fit.

Block averaging was the other candidate; it needs runs long enough to cut
into several blocks that each still hold a diffusive window, which AIMD runs
of tens of ps rarely are, and with few blocks its error bar is itself noisy.

Effective hops: a random walk of hops of length l has MSD = (hops per ion) l^2,
so N_ions x 2 d D t_run / l^2 counts the hops the run contains, with l = 2.5 Å
by default (a typical Li-Li site distance in sulfides).  The relative error of
D falls roughly as 1/sqrt(hops) (He, Zhu, Epstein, Mo, npj Comput. Mater. 4,
18 (2018)), which is why few hops trigger a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from sselang.analyses.results import Result

from .msd import MSDResult, compute_msd
from .trajectory import Trajectory

E_CHARGE = 1.602176634e-19  # C (exact, SI 2019)
K_B = 1.380649e-23  # J/K (exact)
K_B_EV = K_B / E_CHARGE  # eV/K
A2_PER_FS = 0.1  # 1 Å^2/fs = 1e-16 cm^2 / 1e-15 s = 0.1 cm^2/s

# Charge of common mobile ions; anything else must be given explicitly.
VALENCE = {"Li": 1, "Na": 1, "K": 1, "Ag": 1, "Cu": 1, "H": 1, "Mg": 2, "Ca": 2, "Zn": 2,
           "F": -1, "Cl": -1, "Br": -1, "I": -1, "O": -2}

DEFAULT_DIRECTIONS = ("x", "y", "z", "a", "b", "c", "ab")
MIN_FRAMES = 16  # below this no window has enough lags after the ballistic start


# ------------------------------------------------------------------ results


class FitWindow(Result):
    start_fs: float
    end_fs: float
    n_points: int = Field(description="lags used in the fit")
    how: str = Field(description="'auto' (slope criterion, see auto_window), 'auto-fallback', 'user' or 'lags'")


class DirectionalD(Result):
    dimensionality: int
    D_cm2_s: float
    D_err_cm2_s: float


class DiffusionResult(Result):
    kind: Literal["diffusion"] = "diffusion"
    species: str
    temperature_K: float | None
    source: str = ""
    D_cm2_s: float = Field(description="tracer diffusivity")
    D_err_cm2_s: float = Field(description="one standard error (GLS with the MSD covariance)")
    sigma_mS_cm: float | None = Field(description="Nernst-Einstein conductivity from the tracer D")
    sigma_err_mS_cm: float | None
    D_charge_cm2_s: float = Field(description="from the MSD of the summed displacement / N")
    D_charge_err_cm2_s: float
    sigma_charge_mS_cm: float | None
    haven_ratio: float | None = Field(description="D_tracer / D_charge")
    haven_ratio_err: float | None
    directions: dict[str, DirectionalD] = Field(default_factory=dict)
    window: FitWindow
    effective_hops: float = Field(description="N_ions x 2 d D t_run / hop_length^2")
    hop_length_A: float
    msd_window_end_A2: float
    framework_msd_end_A2: float | None = Field(
        description="framework atoms' mean squared distance from their start at the end (drift removed): "
                    "a melting check")
    n_mobile: int
    z: int
    number_density_cm3: float
    n_frames: int
    dt_fs: float
    run_fs: float
    drift: str
    estimator: str
    msd_curve: list[tuple[float, float]] = Field(
        default_factory=list, description="(lag in fs, tracer MSD in Å^2), at most 120 lags evenly spaced: for plots")
    fit_intercept_A2: float | None = Field(
        None, description="the fitted line is MSD = 6 D t + intercept over the window (for plots)")
    warnings: list[str] = Field(default_factory=list)


class ArrheniusResult(Result):
    kind: Literal["arrhenius"] = "arrhenius"
    species: str
    temperatures_K: list[float]
    D_cm2_s: list[float]
    D_err_cm2_s: list[float]
    Ea_eV: float
    Ea_err_eV: float
    D0_cm2_s: float
    D0_err_cm2_s: float = Field(description="first-order error; D0 is log-normal, see ln_D0_err")
    ln_D0_err: float
    covariance: list[list[float]] = Field(description="covariance of (ln D0, Ea in eV)")
    chi2_reduced: float | None
    T_target_K: float
    D_target_cm2_s: float
    D_target_err_cm2_s: float
    D_target_band_cm2_s: tuple[float, float] = Field(description="exp(ln D +- 1 sigma)")
    sigma_target_mS_cm: float | None
    sigma_target_err_mS_cm: float | None
    sigma_target_band_mS_cm: tuple[float, float] | None
    warnings: list[str] = Field(default_factory=list)


# ---------------------------------------------------------- Nernst-Einstein


def number_density_cm3(n_ions: int, volume_A3: float) -> float:
    return n_ions / (volume_A3 * 1e-24)


def nernst_einstein(D_cm2_s: float, number_density: float, temperature_K: float, z: int = 1) -> float:
    """sigma in mS/cm from D in cm^2/s and the mobile-ion density in cm^-3:
    n [cm^-3] (z e)^2 [C^2] D [cm^2/s] / (kB T) [J] = C^2/(J s cm) = S/cm."""
    return 1e3 * number_density * (z * E_CHARGE) ** 2 * D_cm2_s / (K_B * temperature_K)


# ------------------------------------------------------------------ window


@dataclass(frozen=True)
class Window:
    lags: np.ndarray  # frame lags used, ascending
    how: str

    def describe(self, dt_fs: float) -> FitWindow:
        return FitWindow(start_fs=float(self.lags[0] * dt_fs), end_fs=float(self.lags[-1] * dt_fs),
                         n_points=len(self.lags), how=self.how)


def lag_grid(start: int, stop: int, max_points: int | None = None) -> np.ndarray:
    """Integer lags from start to stop inclusive; every lag by default (the
    fit is O(number of lags)), or evenly thinned to at most max_points."""
    start, stop = max(int(start), 1), int(stop)
    if stop <= start:
        raise ValueError(f"empty fit window: lags {start}..{stop}")
    step = 1 if not max_points else max(1, -(-(stop - start) // (max_points - 1)))
    return np.arange(start, stop + 1, step)


def window_from_times(n_frames: int, dt_fs: float, start_fs: float, end_fs: float,
                      max_points: int | None = None) -> Window:
    start = int(round(start_fs / dt_fs))
    stop = min(int(round(end_fs / dt_fs)), n_frames - 1)
    return Window(lag_grid(start, stop, max_points), "user")


def auto_window(msd: np.ndarray, *, end_fraction: float = 0.5, tol: float = 0.1,
                max_points: int | None = None) -> tuple[Window, list[str]]:
    """Diffusive window from the MSD curve alone.

    End: `end_fraction` of the run (half by default): beyond it a lag has few
    independent time origins and the MSD wanders.
    Start: the first lag t from which the MSD grows linearly.  Judged on the
    slope of the MSD, not of log MSD, which the vibrational offset keeps below
    1 long after the motion is diffusive: the secant slope over [t, 2t] must
    match the secant over [t, end] within a factor 2^tol, at every grid lag
    from t to 2t.  That rejects the ballistic start (slope growing) and the
    caged, sub-diffusive stretch (slope falling) and needs no threshold on the
    MSD itself.  If no such t exists up to end/4 the start falls back to a
    fifth of the window, with a warning.
    """
    n = len(msd)
    end = max(int(end_fraction * (n - 1)), 4)
    grid = np.unique(np.round(np.geomspace(1, max(end // 2, 1), 64)).astype(int))
    ok = []
    for t in grid:
        local, overall = (msd[2 * t] - msd[t]) / t, (msd[end] - msd[t]) / (end - t)
        ok.append(local > 0 and overall > 0 and abs(np.log2(local / overall)) <= tol)
    ok = np.array(ok)
    for t in grid:
        span = (grid >= t) & (grid <= 2 * t)
        if 2 * t <= grid[-1] and ok[span].all():
            return Window(lag_grid(t, end, max_points), "auto"), []
    start = max(end // 5, 1)
    return Window(lag_grid(start, end, max_points), "auto-fallback"), [
        "the MSD never settles into linear growth before half the run: fitted from a fixed window "
        f"({start} to {end} frames); the run may be too short or the ions not diffusing"]


# --------------------------------------------------------------------- fit


@dataclass(frozen=True)
class LineFit:
    slope: float  # Å^2/fs
    slope_err: float
    intercept: float  # Å^2
    covariance: np.ndarray  # of (slope, intercept)


def msd_covariance(lags: np.ndarray, variance: np.ndarray, n_particles: int, n_frames: int) -> np.ndarray:
    """Covariance of the all-origin MSD between lags i <= j (frames).

    kinisi's model: the MSD at lag i is a mean over n_i = N (F - 1) / i
    independent samples of one ion's squared displacement, of observed
    variance v_i, and two lags share samples in the ratio n_i / n_j, so
    Cov(i, j) = v_i j / (N (F - 1)).  For Brownian ions (v ~ i^2) that equals
    the symmetric form used here,

        Cov(i, j) = sqrt(v_i v_j) min(i, j) / (N (F - 1)),

    which is diag(sqrt v) . min(i, j) . diag(sqrt v) and so positive definite
    whatever the observed variances.  kinisi's own form is not when v grows
    slower than i (caged ions, a flattening MSD: it becomes singular), and
    kinisi repairs the matrix afterwards by a minimum-eigenvalue method."""
    s = np.sqrt(variance)
    return np.outer(s, s) * np.minimum.outer(lags, lags) / (n_particles * (n_frames - 1))


def _gram(cols: np.ndarray, sd: np.ndarray, lags: np.ndarray, scale: float) -> np.ndarray:
    """cols^T C^-1 cols for C = diag(sd) scale min(lags_i, lags_j) diag(sd),
    in O(n): min(lag_i, lag_j) is the covariance of a Brownian motion sampled
    at those lags, whose increments are independent with variance equal to
    the lag step, so its inverse is tridiagonal and a quadratic form is a
    sum over increments.  No dense solve: also immune to the condition number
    of C, which reaches 1e8 for a few hundred lags."""
    w = cols / sd[:, None]
    z = np.empty_like(w)
    z[0] = w[0]
    np.subtract(w[1:], w[:-1], out=z[1:])
    z /= np.sqrt(_steps(lags))[:, None]
    return np.einsum("ki,kj->ij", z, z) / scale


def _steps(lags: np.ndarray) -> np.ndarray:
    out = np.empty(len(lags))
    out[0] = lags[0]
    np.subtract(lags[1:], lags[:-1], out=out[1:])
    return out


def _inv2(m: np.ndarray) -> np.ndarray:
    (a, b), (c, d) = m
    return np.array([[d, -b], [-c, a]]) / (a * d - b * c)


def _sandwich(a: np.ndarray, sd: np.ndarray, lags: np.ndarray, scale: float) -> np.ndarray:
    """a C a^T for the same C, in O(n): min(i, j) = sum over steps k <= min(i, j)
    of the lag step, so a C a^T = scale sum_k step_k r_k r_k^T with r the
    reverse cumulative sum of a sd."""
    r = np.cumsum((a * sd)[:, ::-1], axis=1)[:, ::-1]
    return scale * np.einsum("ik,k,jk->ij", r, _steps(lags), r)


def fit_line(t_fs: np.ndarray, y: np.ndarray, sd: np.ndarray, lags: np.ndarray, scale: float,
             estimator: str = "gls") -> LineFit:
    """Straight line y = slope t + intercept through MSD points at `lags` with
    covariance diag(sd) scale min(lag_i, lag_j) diag(sd) (msd_covariance).
    'gls' is the best linear unbiased estimate under that covariance; 'wls'
    weights points by 1/t as pymatgen-analysis-diffusion's 'max' mode does and
    'ols' not at all - for those two the error still comes from the
    covariance (sandwich estimate), not from the residuals, which understate
    it for correlated points."""
    x = np.empty((len(t_fs), 3))
    x[:, 0], x[:, 1], x[:, 2] = t_fs, 1.0, y
    if estimator == "gls":
        g = _gram(x, sd, lags, scale)
        pcov = _inv2(g[:2, :2])
        beta = pcov @ g[:2, 2]
    elif estimator in ("wls", "ols"):
        x = x[:, :2]
        w = 1.0 / t_fs if estimator == "wls" else np.ones_like(t_fs)
        a = _inv2(np.einsum("ki,k,kj->ij", x, w, x)) @ (x * w[:, None]).T
        beta = a @ y
        pcov = _sandwich(a, sd, lags, scale)
    else:
        raise ValueError(f"estimator must be 'gls', 'wls' or 'ols', not {estimator!r}")
    return LineFit(float(beta[0]), float(np.sqrt(pcov[0, 0])), float(beta[1]), pcov)


def fit_diffusivity(msd: np.ndarray, window: Window, dt_fs: float, n_particles: int, dim: int,
                    excess: np.ndarray | float = 1.0, estimator: str = "gls",
                    iterations: int = 2) -> tuple[float, float]:
    """(D, error) in cm^2/s from an MSD curve over all lags.

    The variance of one particle's squared displacement at lag i is modelled
    as excess_i (2/d) m_i^2, m the fitted line (Gaussian displacements give
    excess 1; `excess` carries the observed non-Gaussian part), refitted
    `iterations` times starting from the observed curve.  Taking m from the
    line, not the noisy MSD points, keeps the weights independent of the
    noise they weigh: weights built from the points themselves favour points
    that fluctuated low and bias D down, badly so for the single collective
    coordinate behind D_charge."""
    lags = window.lags
    t, y = lags * dt_fs, msd[lags]
    scale = 1.0 / (n_particles * (len(msd) - 1))
    width = np.sqrt(np.asarray(excess, dtype=float) * 2.0 / dim)
    if np.ndim(width):
        width = width[lags]
    floor = max(float(np.abs(y).max()), 1e-12) * 1e-6
    model = np.maximum(np.abs(y), floor)
    for _ in range(iterations + 1):
        line = fit_line(t, y, width * model, lags, scale, estimator)
        fitted = line.slope * t + line.intercept
        # where the line dips below zero (a negative intercept at the first
        # lags) the observed point stands in
        model = np.maximum(np.where(fitted > 0, fitted, np.abs(y)), floor)
    factor = A2_PER_FS / (2 * dim)
    return line.slope * factor, line.slope_err * factor


def non_gaussian_excess(res: MSDResult) -> np.ndarray:
    """Observed variance of one ion's squared displacement over its Gaussian
    value 2/3 MSD^2, per lag: 1 for Gaussian displacements, above 1 for
    hopping (a few long jumps among many rattles).  Only <|dr|^4> of the
    total displacement is accumulated; directions take the same excess."""
    msd = res.msd
    return np.where(msd > 0, res.variance / np.maximum(2.0 / 3.0 * msd ** 2, 1e-300), 1.0)


# ---------------------------------------------------------------- analysis


def resolve_window(res: MSDResult, window, end_fraction: float, max_points: int | None) -> tuple[Window, list[str]]:
    if window is None:
        return auto_window(res.msd, end_fraction=end_fraction, max_points=max_points)
    if isinstance(window, Window):
        return window, []
    if isinstance(window, np.ndarray) or (isinstance(window, (list, tuple)) and len(window) > 2):
        return Window(np.unique(np.asarray(window, dtype=int)), "lags"), []
    start_fs, end_fs = window
    return window_from_times(res.n_frames, res.dt_fs, start_fs, end_fs, max_points), []


def analyse_msd(res: MSDResult, *, z: int | None = None, window=None,
                directions: Sequence[str] = DEFAULT_DIRECTIONS, estimator: str = "gls",
                hop_length_A: float = 2.5, min_hops: float = 100.0, end_fraction: float = 0.5,
                max_points: int | None = None) -> DiffusionResult:
    """Fit an MSDResult.  window: None (automatic), (start_fs, end_fs), an
    explicit array of frame lags, or a Window."""
    notes = list(res.warnings)
    if res.n_frames < MIN_FRAMES:
        raise ValueError(f"{res.n_frames} frames are too few for a diffusion fit (at least {MIN_FRAMES}: "
                         "the window skips the ballistic start and ends at half the run)")
    if z is None:
        if res.species not in VALENCE:
            raise ValueError(f"give the charge z of {res.species}")
        z = VALENCE[res.species]
    win, more = resolve_window(res, window, end_fraction, max_points)
    notes += more
    if len(win.lags) < 3:
        raise ValueError(f"a fit window needs at least 3 lags, got {len(win.lags)}")
    if win.lags[0] < 1 or win.lags[-1] >= res.n_frames:
        raise ValueError(f"fit window lags {win.lags[0]}..{win.lags[-1]} outside 1..{res.n_frames - 1}")
    n, dt = res.n_mobile, res.dt_fs
    excess = non_gaussian_excess(res)
    D, D_err = fit_diffusivity(res.msd, win, dt, n, 3, excess, estimator)
    # The summed displacement of many ions is Gaussian (central limit), so the
    # collective coordinate takes excess 1: its own fourth moment, from one
    # trajectory of one coordinate, is too noisy to weigh with.
    Dc, Dc_err = fit_diffusivity(res.charge, win, dt, 1, 3, 1.0, estimator)

    per_dir = {}
    for name in directions:
        curve, dim = res.along(name)
        d_, e_ = fit_diffusivity(curve, win, dt, n, dim, excess, estimator)
        per_dir[name] = DirectionalD(dimensionality=dim, D_cm2_s=d_, D_err_cm2_s=e_)

    density = number_density_cm3(n, res.volume_A3)
    T = res.temperature_K
    sig = sig_err = sig_c = None
    if T:
        sig = nernst_einstein(D, density, T, z)
        sig_err = nernst_einstein(D_err, density, T, z)
        sig_c = nernst_einstein(Dc, density, T, z)
    else:
        notes.append("no temperature: conductivity not computed")
    haven = haven_err = None
    if Dc > 0 and D > 0:
        haven = D / Dc
        # errors treated as independent; tracer and charge MSD are positively
        # correlated, so this overstates the error somewhat
        haven_err = haven * float(np.hypot(D_err / D, Dc_err / Dc))

    run_fs = (res.n_frames - 1) * dt
    hops = n * 6 * max(D, 0.0) / A2_PER_FS * run_fs / hop_length_A ** 2
    msd_end = float(res.msd[win.lags[-1]])
    where = f" at {T:g} K" if T else ""
    if D <= 2 * D_err:
        notes.append(f"no significant diffusion{where}: D = {D:.3g} +- {D_err:.2g} cm^2/s")
    if hops < min_hops:
        notes.append(f"only {hops:.0f} effective hops in the run (fewer than {min_hops:g}): "
                     "D and its error bar are rough; run longer or hotter")
    if msd_end < hop_length_A ** 2:
        notes.append(f"MSD at the end of the fit window is {msd_end:.2f} Å^2, less than one hop "
                     f"({hop_length_A:g} Å)^2: the fit may still see vibrations, not diffusion")

    # the curve a plot needs, not the whole MSD: a report of many runs stays small
    shown = np.unique(np.linspace(0, res.n_frames - 1, min(res.n_frames, 120)).round().astype(int))
    curve = [(round(float(i * dt), 6), round(float(res.msd[i]), 6)) for i in shown]
    t_win = win.lags * dt
    intercept = float(np.mean(res.msd[win.lags] - 6 * D / A2_PER_FS * t_win))

    return DiffusionResult(
        species=res.species, temperature_K=T, source=res.source,
        D_cm2_s=D, D_err_cm2_s=D_err, sigma_mS_cm=sig, sigma_err_mS_cm=sig_err,
        D_charge_cm2_s=Dc, D_charge_err_cm2_s=Dc_err, sigma_charge_mS_cm=sig_c,
        haven_ratio=haven, haven_ratio_err=haven_err, directions=per_dir,
        window=win.describe(dt), effective_hops=hops, hop_length_A=hop_length_A,
        msd_window_end_A2=msd_end, framework_msd_end_A2=res.framework_msd_end_A2,
        n_mobile=n, z=z, number_density_cm3=density, n_frames=res.n_frames, dt_fs=dt, run_fs=run_fs,
        drift=res.drift, estimator=estimator, msd_curve=curve, fit_intercept_A2=round(intercept, 6),
        warnings=notes,
    )


def analyse_diffusion(traj: Trajectory, species: str = "Li", *, drift: str = "framework",
                      equilibration_fs: float = 0.0, **fit_options) -> DiffusionResult:
    """Trajectory -> DiffusionResult: compute_msd then analyse_msd."""
    return analyse_msd(compute_msd(traj, species, drift=drift, equilibration_fs=equilibration_fs),
                       **fit_options)


# ---------------------------------------------------------------- Arrhenius


def fit_arrhenius(temperatures_K: Sequence[float], D_cm2_s: Sequence[float], D_err_cm2_s: Sequence[float], *,
                  T_target_K: float = 300.0, number_density: float | None = None, z: int = 1,
                  species: str = "Li") -> ArrheniusResult:
    """ln D = ln D0 - Ea / (kB T), weighted by 1/var(ln D) = (D/err)^2.

    The parameter covariance is (X^T W X)^-1, inflated by the reduced chi^2
    when that exceeds 1 (the scatter between temperatures is then larger
    than the error bars claim, and the fit must not be more confident than
    the data).  The value at T_target carries the full covariance of
    (ln D0, slope): ln D and Ea are strongly correlated, so propagating
    their errors separately would overstate the band.  sigma(T_target) uses
    `number_density` (cm^-3) as at the simulated temperatures: thermal
    expansion is ignored."""
    T = np.asarray(temperatures_K, float)
    D = np.asarray(D_cm2_s, float)
    err = np.asarray(D_err_cm2_s, float)
    notes = []
    keep = (D > 0) & (err > 0)
    if not keep.all():
        notes.append("left out (D <= 0 or no error bar): " + ", ".join(f"{t:g} K" for t in T[~keep]))
    T, D, err = T[keep], D[keep], err[keep]
    if len(T) < 2:
        raise ValueError("an Arrhenius fit needs at least two temperatures with positive D")
    if len(T) < 3:
        notes.append("only two temperatures: Ea has no check against curvature and no scatter estimate")
    x = np.column_stack([np.ones_like(T), 1.0 / T])
    y = np.log(D)
    w = (D / err) ** 2
    pcov = np.linalg.inv(x.T @ (x * w[:, None]))
    beta = pcov @ (x * w[:, None]).T @ y
    dof = len(T) - 2
    chi2 = float(((y - x @ beta) ** 2 * w).sum() / dof) if dof > 0 else None
    if chi2 is not None and chi2 > 1:
        pcov = pcov * chi2
    ea = -beta[1] * K_B_EV
    # covariance of (ln D0, Ea): Ea = -kB slope
    jac = np.array([[1.0, 0.0], [0.0, -K_B_EV]])
    cov_ea = jac @ pcov @ jac.T
    d0 = float(np.exp(beta[0]))
    g = np.array([1.0, 1.0 / T_target_K])
    ln_t, s_t = float(g @ beta), float(np.sqrt(g @ pcov @ g))
    d_t = float(np.exp(ln_t))
    band = (float(np.exp(ln_t - s_t)), float(np.exp(ln_t + s_t)))
    sig = sig_err = sig_band = None
    if number_density:
        sig = nernst_einstein(d_t, number_density, T_target_K, z)
        sig_err = sig * s_t
        sig_band = (nernst_einstein(band[0], number_density, T_target_K, z),
                    nernst_einstein(band[1], number_density, T_target_K, z))
    if T_target_K < T.min():
        notes.append(f"D({T_target_K:g} K) is extrapolated {T.min() - T_target_K:g} K below the coldest run; "
                     "a change of mechanism below it would not show")
    return ArrheniusResult(
        species=species, temperatures_K=T.tolist(), D_cm2_s=D.tolist(), D_err_cm2_s=err.tolist(),
        Ea_eV=float(ea), Ea_err_eV=float(np.sqrt(cov_ea[1, 1])), D0_cm2_s=d0,
        D0_err_cm2_s=d0 * float(np.sqrt(pcov[0, 0])), ln_D0_err=float(np.sqrt(pcov[0, 0])),
        covariance=cov_ea.tolist(), chi2_reduced=chi2, T_target_K=T_target_K,
        D_target_cm2_s=d_t, D_target_err_cm2_s=d_t * s_t, D_target_band_cm2_s=band,
        sigma_target_mS_cm=sig, sigma_target_err_mS_cm=sig_err, sigma_target_band_mS_cm=sig_band,
        warnings=notes,
    )


def arrhenius(results: Sequence[DiffusionResult], T_target_K: float = 300.0) -> ArrheniusResult:
    """Arrhenius fit over DiffusionResults of one species at several
    temperatures; the number density is their mean."""
    if len({r.species for r in results}) > 1:
        raise ValueError("results mix species")
    if any(r.temperature_K is None for r in results):
        raise ValueError("every result needs its temperature")
    return fit_arrhenius([r.temperature_K for r in results], [r.D_cm2_s for r in results],
                         [r.D_err_cm2_s for r in results], T_target_K=T_target_K,
                         number_density=float(np.mean([r.number_density_cm3 for r in results])),
                         z=results[0].z, species=results[0].species)
