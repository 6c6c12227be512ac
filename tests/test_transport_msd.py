"""MSD engine and diffusion fit against analytic answers: seeded random walks of known
D (1-, 2- and 3-D, anisotropic, in a skewed cell), the direct O(N^2) average, periodic
wrapping, framework drift, Nernst-Einstein worked out by hand in SI units, and an
Arrhenius fit whose propagated error is checked against a Monte Carlo spread."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from sselang.transport.fit import (A2_PER_FS, DiffusionResult, analyse_diffusion, arrhenius,
                                   auto_window, fit_arrhenius, fit_line, msd_covariance, nernst_einstein,
                                   number_density_cm3)
from sselang.transport.msd import (TransportWarning, compute_msd, directional_msd, fft_msd, unwrap,
                                   wrapped_steps)
from sselang.transport.trajectory import Trajectory

ORTHO = np.diag([12.0, 13.0, 14.0])
# monoclinic: c leans 31 degrees towards a, so c is not the normal of the ab plane
MONO = np.array([[10.0, 0.0, 0.0], [0.0, 11.0, 0.0], [6.0, 0.0, 10.0]])


def walk(seed: int, diff_tensor, *, n_mobile=30, n_frames=1500, dt=10.0, lattice=ORTHO, n_framework=10,
         rattle=0.1, drift_path=None, wrap=True) -> tuple[Trajectory, np.ndarray]:
    """Brownian Li (Gaussian steps of covariance 2 D dt, D in Å^2/fs) among framework atoms
    rattling about fixed sites.  Returns the trajectory (fractional, wrapped into the cell
    unless wrap=False) and the true Cartesian positions."""
    rng = np.random.default_rng(seed)
    dmat = np.diag(diff_tensor) if np.ndim(diff_tensor) == 1 else np.asarray(diff_tensor, float)
    w, v = np.linalg.eigh(2 * dmat * dt)
    chol = v * np.sqrt(np.maximum(w, 0.0))  # chol chol^T = 2 D dt, also for D with zero directions
    steps = rng.normal(size=(n_frames, n_mobile, 3)) @ chol.T
    steps[0] = 0.0
    start = rng.uniform(size=(1, n_mobile + n_framework, 3)) @ lattice
    mobile = steps.cumsum(axis=0)
    frame = rng.normal(scale=rattle, size=(n_frames, n_framework, 3))
    cart = np.concatenate([mobile, frame], axis=1) + start
    if drift_path is not None:
        cart = cart + drift_path[:, None, :]
    frac = cart @ np.linalg.inv(lattice)
    if wrap:
        frac %= 1.0
    traj = Trajectory(frac=frac, lattice=lattice, species=["Li"] * n_mobile + ["S"] * n_framework, dt_fs=dt,
                      temperature_K=600.0, source=f"walk-{seed}")
    return traj, cart


def cramer_rao(D: float, n_mobile: int, n_frames: int, dim: int) -> float:
    """Smallest possible standard error of D from n_mobile x (n_frames - 1) independent Gaussian
    steps in dim dimensions: the variance of each step's squared length is known exactly, so the
    maximum-likelihood estimate has relative error sqrt(2 / (n steps x dim))."""
    return D * np.sqrt(2.0 / (n_mobile * (n_frames - 1) * dim))


def direct_moments(disp: np.ndarray):
    """Tensor MSD, fourth moment and charge MSD by the O(N^2) double loop over lags and origins,
    from Cartesian displacements (frames x atoms x 3)."""
    n = disp.shape[0]
    tensor = np.zeros((n, 3, 3))
    fourth = np.zeros(n)
    charge = np.zeros(n)
    total = disp.sum(axis=1)
    for m in range(n):
        d = disp[m:] - disp[:n - m]
        tensor[m] = np.einsum("tai,taj->ij", d, d) / (d.shape[0] * d.shape[1])
        fourth[m] = ((d ** 2).sum(-1) ** 2).mean()
        dc = total[m:] - total[:n - m]
        charge[m] = (dc ** 2).sum(-1).mean() / disp.shape[1]
    return tensor, fourth, charge


# ---- the MSD against the direct average ------------------------------------------------------


def test_fft_msd_equals_direct_average():
    x = np.random.default_rng(0).normal(size=(5, 64)).cumsum(-1) + 40.0
    direct = np.array([[((s[m:] - s[:64 - m]) ** 2).mean() for m in range(64)] for s in x])
    assert np.allclose(fft_msd(x), direct, rtol=0, atol=1e-10 * direct.max())


def test_compute_msd_equals_direct_average_skewed_cell_wrapped_input():
    traj, cart = walk(1, [2e-3, 1e-3, 3e-3], n_mobile=6, n_frames=60, lattice=MONO, n_framework=4, rattle=0.2)
    res = compute_msd(traj, "Li", drift="framework")
    disp = cart - cart[0]
    disp = disp - disp[:, 6:].mean(axis=1, keepdims=True)  # framework centre removed
    tensor, fourth, charge = direct_moments(disp[:, :6])
    scale = tensor.max()
    assert np.abs(res.tensor - tensor).max() < 1e-10 * scale
    assert np.abs(res.fourth - fourth).max() < 1e-10 * fourth.max()
    assert np.abs(res.charge - charge).max() < 1e-10 * charge.max()
    assert res.n_frames == 60 and res.n_mobile == 6


def test_chunking_does_not_change_the_result():
    traj, _ = walk(2, [1e-3] * 3, n_mobile=17, n_frames=200)
    one = compute_msd(traj, "Li", chunk_bytes=1)  # one atom at a time
    many = compute_msd(traj, "Li", chunk_bytes=10 ** 9)  # all at once
    assert np.allclose(one.tensor, many.tensor, rtol=1e-12, atol=1e-12)
    assert np.allclose(one.fourth, many.fourth, rtol=1e-12, atol=1e-12)
    assert np.allclose(one.charge, many.charge, rtol=1e-12, atol=1e-12)


# ---- unwrapping and drift -------------------------------------------------------------------


def test_periodic_crossings_wrapped_equals_unwrapped():
    small = np.diag([6.0, 6.0, 6.0])
    # ~0.45 Å per step per direction; each ion crosses the 6 Å cell many times
    wrapped, cart = walk(3, [1e-2] * 3, n_frames=800, lattice=small)
    plain, _ = walk(3, [1e-2] * 3, n_frames=800, lattice=small, wrap=False)
    crossings = np.abs(np.diff(np.floor(cart @ np.linalg.inv(small)), axis=0)).sum()
    assert crossings > 1000
    a, b = compute_msd(wrapped, "Li"), compute_msd(plain, "Li")
    assert np.allclose(a.tensor, b.tensor, rtol=1e-10, atol=1e-10)
    assert np.allclose(a.charge, b.charge, rtol=1e-10, atol=1e-10)
    # and unwrap() recovers the true fractional path from the wrapped one
    true_frac = cart @ np.linalg.inv(small)
    assert np.allclose(unwrap(wrapped.frac) + np.floor(true_frac[0]), true_frac, atol=1e-9)


def test_minimum_image_steps_are_in_half_open_interval():
    frac = np.array([[[0.95, 0.5, 0.0]], [[0.05, 0.0, 0.5]], [[0.9, 0.49, 0.75]]])
    steps = wrapped_steps(frac)
    assert np.allclose(steps[0, 0], [0.1, -0.5, -0.5])  # +0.5 exactly folds to -0.5
    assert np.allclose(steps[1, 0], [-0.15, 0.49, 0.25])
    assert (steps >= -0.5).all() and (steps < 0.5).all()


def test_too_long_steps_are_flagged():
    frac = np.zeros((5, 2, 3))
    frac[2:, 0, 0] = 0.45  # one jump of 0.45 of a cell between two frames
    with pytest.warns(TransportWarning, match="0.45 of a cell"):
        unwrap(frac)
    traj = Trajectory(frac=frac, lattice=ORTHO, species=["Li", "S"], dt_fs=1.0)
    assert any("0.45 of a cell" in w for w in compute_msd(traj, "Li").warnings)


def test_framework_drift_is_removed():
    rng = np.random.default_rng(4)
    drift = np.cumsum(rng.normal(scale=0.3, size=(1000, 3)), axis=0) + np.linspace(0, 40, 1000)[:, None]
    clean, _ = walk(5, [1e-3] * 3, n_frames=1000, rattle=0.0)
    moved, _ = walk(5, [1e-3] * 3, n_frames=1000, rattle=0.0, drift_path=drift)
    a, b = compute_msd(clean, "Li"), compute_msd(moved, "Li")
    assert np.allclose(a.tensor, b.tensor, rtol=1e-9, atol=1e-9)
    raw = compute_msd(moved, "Li", drift="none")
    assert raw.msd[-1] > 10 * a.msd[-1]  # the drift would otherwise dominate
    # with a still framework, drift removal gives exactly the walk's own MSD
    _, cart = walk(5, [1e-3] * 3, n_frames=1000, rattle=0.0)
    disp = cart[:, :30] - cart[0, :30]
    assert np.allclose(a.msd, fft_msd(disp.transpose(1, 2, 0)).sum(axis=1).mean(axis=0), rtol=1e-9, atol=1e-9)


def test_per_frame_lattice_equals_fixed_lattice_in_nvt():
    traj, _ = walk(6, [1e-3] * 3, n_frames=300, lattice=MONO)
    npt = Trajectory(frac=traj.frac, lattice=np.repeat(MONO[None], 300, axis=0), species=traj.species,
                     dt_fs=traj.dt_fs)
    assert np.allclose(compute_msd(traj, "Li").tensor, compute_msd(npt, "Li").tensor, rtol=1e-12, atol=1e-12)


# ---- D of random walks ----------------------------------------------------------------------


@pytest.mark.parametrize("dim,diff,direction", [
    (1, [2e-3, 0.0, 0.0], "x"),
    (2, [2e-3, 2e-3, 0.0], "xy"),
    (3, [2e-3, 2e-3, 2e-3], "xyz"),
])
def test_random_walk_D_in_1_2_3_dimensions(dim, diff, direction):
    traj, _ = walk(10 + dim, diff, n_mobile=30, n_frames=1500)
    res = analyse_diffusion(traj, "Li", window=(100.0, 7000.0), directions=(direction,))
    d_true = 2e-3 * A2_PER_FS  # cm^2/s
    got = res.directions[direction]
    assert got.dimensionality == dim
    bound = cramer_rao(d_true, 30, 1500, dim)
    assert bound <= got.D_err_cm2_s <= 20 * bound
    assert abs(got.D_cm2_s - d_true) < 4 * got.D_err_cm2_s
    # the total (3-D) D of a walk confined to dim dimensions is dim/3 of it
    assert abs(res.D_cm2_s - d_true * dim / 3) < 4 * res.D_err_cm2_s


def test_error_bar_matches_spread_over_independent_runs():
    """40 independent walks: the scatter of (D - D_true) / error must be about 1 and the
    estimate unbiased.  The GLS bar is built to be conservative (kinisi's covariance model
    overstates the variance of a Gaussian walk's MSD by up to 3/2): over ten such ensembles the
    scatter was 0.74-1.02 for the tracer and 0.53-0.97 for the charge D, hence the bounds."""
    d_true = 1e-3 * A2_PER_FS
    z_tracer, z_charge = [], []
    for seed in range(40):
        traj, _ = walk(100 + seed, [1e-3] * 3, n_mobile=12, n_frames=600)
        r = analyse_diffusion(traj, "Li", window=(50.0, 3000.0), directions=())
        z_tracer.append((r.D_cm2_s - d_true) / r.D_err_cm2_s)
        z_charge.append((r.D_charge_cm2_s - d_true) / r.D_charge_err_cm2_s)
    for z in (np.array(z_tracer), np.array(z_charge)):
        assert 0.4 < z.std() < 1.3
        assert abs(z.mean()) < 3 * z.std() / np.sqrt(len(z)) + 0.15


def test_anisotropic_walk_orthorhombic():
    diff = np.array([0.5e-3, 1e-3, 4e-3])
    traj, _ = walk(20, diff, n_mobile=40, n_frames=1500)
    res = analyse_diffusion(traj, "Li", window=(100.0, 7000.0), directions=("x", "y", "z", "a", "b", "c", "ab"))
    expect = {"x": diff[0], "y": diff[1], "z": diff[2], "a": diff[0], "b": diff[1], "c": diff[2],
              "ab": diff[:2].mean()}
    for name, d in expect.items():
        got = res.directions[name]
        assert abs(got.D_cm2_s - d * A2_PER_FS) < 4 * got.D_err_cm2_s, name
    assert abs(res.D_cm2_s - diff.mean() * A2_PER_FS) < 4 * res.D_err_cm2_s


def test_anisotropic_walk_skewed_cell_c_versus_ab_plane():
    """Fast along the normal of the ab plane (z), slow within it.  In this cell c leans
    towards a, so the MSD along c mixes both: D_c = c^T D c / |c|^2, not D_z."""
    d_plane, d_normal = 2e-4, 2e-3
    tensor = np.diag([d_plane, d_plane, d_normal])
    traj, _ = walk(21, tensor, n_mobile=40, n_frames=1500, lattice=MONO)
    res = analyse_diffusion(traj, "Li", window=(100.0, 7000.0), directions=("c", "ab", "z", "a"))
    c = MONO[2] / np.linalg.norm(MONO[2])
    expect = {"c": c @ tensor @ c, "ab": d_plane, "z": d_normal, "a": d_plane}
    assert abs(expect["c"] - d_normal) > 0.08 * d_normal  # the two are told apart
    for name, d in expect.items():
        got = res.directions[name]
        assert abs(got.D_cm2_s - d * A2_PER_FS) < 4 * got.D_err_cm2_s, name
    for name in ("c", "z"):  # precise enough to tell the projection on c from the normal
        assert res.directions[name].D_err_cm2_s < 0.25 * abs(expect["c"] - d_normal) * A2_PER_FS


def test_directional_msd_identities():
    t = np.random.default_rng(7).normal(size=(4, 3, 3))
    t = t @ t.transpose(0, 2, 1)  # symmetric positive
    total, _ = directional_msd(t, "xyz", MONO)
    plane, d2 = directional_msd(t, "ab", MONO)
    normal = np.cross(MONO[0], MONO[1])
    normal /= np.linalg.norm(normal)
    assert d2 == 2
    assert np.allclose(plane + np.einsum("i,nij,j->n", normal, t, normal), total)
    assert np.allclose(directional_msd(t, "x", MONO)[0] + directional_msd(t, "yz", MONO)[0], total)
    with pytest.raises(ValueError):
        directional_msd(t, "q", MONO)


def test_haven_ratio_of_independent_ions_is_one():
    traj, _ = walk(30, [2e-3] * 3, n_mobile=40, n_frames=2000)
    res = analyse_diffusion(traj, "Li", window=(100.0, 10000.0), directions=())
    assert abs(res.haven_ratio - 1.0) < 4 * res.haven_ratio_err


# ---- the fit machinery ----------------------------------------------------------------------


def test_linear_time_gls_equals_dense_gls():
    rng = np.random.default_rng(8)
    lags = np.unique(rng.integers(3, 400, size=60))
    t = lags * 2.0
    variance = (0.5 + 0.01 * lags) ** 2 * rng.uniform(1, 2, size=len(lags))
    y = 0.3 + 0.004 * t + rng.normal(scale=0.05, size=len(lags))
    cov = msd_covariance(lags, variance, 20, 801)
    x = np.column_stack([t, np.ones_like(t)])
    ci = np.linalg.inv(cov)
    pcov = np.linalg.inv(x.T @ ci @ x)
    beta = pcov @ x.T @ ci @ y
    fast = fit_line(t, y, np.sqrt(variance), lags, 1.0 / (20 * 800), "gls")
    assert fast.slope == pytest.approx(beta[0], rel=1e-8)
    assert fast.slope_err == pytest.approx(np.sqrt(pcov[0, 0]), rel=1e-8)
    # sandwich error of an unweighted fit under the same covariance
    a = np.linalg.solve(x.T @ x, x.T)
    ols = fit_line(t, y, np.sqrt(variance), lags, 1.0 / (20 * 800), "ols")
    assert ols.slope_err == pytest.approx(np.sqrt((a @ cov @ a.T)[0, 0]), rel=1e-8)


def test_auto_window_skips_ballistic_and_caged_start():
    t = np.arange(4000.0)
    # ballistic rise to a 0.5 Å^2 cage over ~30 frames, then a slope that approaches its
    # diffusive value as 1 - exp(-t / 100).  The secant over [t, 2t] falls short of it by
    # (100 / t)(exp(-t / 100) - exp(-2t / 100)): under the 2^0.1 - 1 = 7 % tolerance from t = 190
    msd = 0.5 * (1 - np.exp(-((t / 15) ** 2))) + 2e-3 * (t - 100 * (1 - np.exp(-t / 100)))
    win, notes = auto_window(msd)
    assert not notes and win.how == "auto"
    assert 170 <= win.lags[0] <= 260 and win.lags[-1] == 1999
    # a walk is linear from the first lag
    win, _ = auto_window(2e-3 * t)
    assert win.lags[0] == 1
    # a plateau never is
    win, notes = auto_window(0.5 * (1 - np.exp(-t / 200)))
    assert win.how == "auto-fallback" and notes


def test_warnings_short_run_and_no_diffusion():
    traj, _ = walk(40, [1e-7] * 3, n_mobile=8, n_frames=300)
    res = analyse_diffusion(traj, "Li")
    text = " ".join(res.warnings)
    assert "effective hops" in text and "less than one hop" in text
    rattling, _ = walk(41, [0.0] * 3, n_mobile=8, n_frames=300)
    rattling.frac[:, :8] = rattling.frac[:1, :8] + np.random.default_rng(0).normal(scale=0.005, size=(300, 8, 3))
    res = analyse_diffusion(rattling, "Li", window=(100.0, 1500.0))
    assert any("no significant diffusion at 600 K" in w for w in res.warnings)


def test_result_round_trips_through_json():
    traj, _ = walk(50, [1e-3] * 3, n_frames=400)
    res = analyse_diffusion(traj, "Li")
    again = DiffusionResult.model_validate_json(res.model_dump_json())
    assert again == res
    assert json.loads(res.model_dump_json())["kind"] == "diffusion"


def test_equilibration_is_dropped():
    traj, cart = walk(51, [1e-3] * 3, n_frames=500)
    res = compute_msd(traj, "Li", equilibration_fs=1000.0)  # 100 frames of 10 fs
    later = Trajectory(frac=traj.frac[100:], lattice=traj.lattice, species=traj.species, dt_fs=10.0)
    assert res.n_frames == 400
    assert np.allclose(res.tensor, compute_msd(later, "Li").tensor, rtol=1e-12, atol=1e-12)


# ---- Nernst-Einstein and Arrhenius ----------------------------------------------------------


def test_nernst_einstein_by_hand_lgps():
    """LGPS test cell: 20 Li in 970.4137 Å^3 at 600 K, D = 1.16083658794e-6 cm^2/s.
    In SI: n = 20 / 970.4137e-30 m^3 = 2.06098e28 m^-3; D = 1.16084e-10 m^2/s;
    sigma = n e^2 D / (kB T) = 2.06098e28 * (1.602177e-19)^2 * 1.16084e-10 / (1.380649e-23 * 600)
          = 7.4136 S/m = 74.136 mS/cm (1 S/m = 10 mS/cm)."""
    n_si = 20 / (970.4137e-30)
    d_si = 1.16083658794e-6 * 1e-4
    sigma_si = n_si * (1.602176634e-19) ** 2 * d_si / (1.380649e-23 * 600.0)
    assert sigma_si * 10 == pytest.approx(74.136, rel=1e-4)
    ours = nernst_einstein(1.16083658794e-6, number_density_cm3(20, 970.4137), 600.0, 1)
    assert ours == pytest.approx(sigma_si * 10, rel=1e-12)
    # the molar form of the science notes, sigma = rho z^2 F^2 D / (R T), with F and R
    faraday, gas = 96485.33212, 8.314462618
    rho = n_si / 6.02214076e23
    assert ours == pytest.approx(rho * faraday ** 2 * d_si / (gas * 600.0) * 10, rel=1e-8)
    # z = 2 quadruples it
    assert nernst_einstein(1e-6, 1e22, 600.0, 2) == pytest.approx(4 * nernst_einstein(1e-6, 1e22, 600.0, 1))


def test_arrhenius_recovers_exact_parameters():
    kb = 8.617333262e-5
    temps = np.array([600.0, 800.0, 1000.0, 1200.0])
    D = 1e-2 * np.exp(-0.21 / (kb * temps))
    res = fit_arrhenius(temps, D, 0.05 * D, number_density=2.06e22)
    assert res.Ea_eV == pytest.approx(0.21, rel=1e-9)
    assert res.D0_cm2_s == pytest.approx(1e-2, rel=1e-9)
    assert res.D_target_cm2_s == pytest.approx(1e-2 * np.exp(-0.21 / (kb * 300)), rel=1e-9)
    assert res.sigma_target_mS_cm == pytest.approx(nernst_einstein(res.D_target_cm2_s, 2.06e22, 300.0), rel=1e-12)
    lo, hi = res.sigma_target_band_mS_cm
    assert lo < res.sigma_target_mS_cm < hi
    assert any("extrapolated" in w for w in res.warnings)


def test_arrhenius_error_propagation_matches_monte_carlo():
    """Errors on ln D of 10-20 %: the reported errors of Ea and of ln D(300 K) must match the
    spread of fits to resampled data (chi^2 inflation off: the data are drawn from the model)."""
    kb = 8.617333262e-5
    temps = np.array([600.0, 700.0, 900.0, 1200.0, 1500.0])
    D = 3e-3 * np.exp(-0.25 / (kb * temps))
    rel = np.array([0.2, 0.15, 0.12, 0.1, 0.1])
    rng = np.random.default_rng(9)
    ea, ln300 = [], []
    for _ in range(2000):
        sample = D * np.exp(rng.normal(size=5) * rel)
        x = np.column_stack([np.ones(5), 1 / temps])
        w = 1 / rel ** 2
        beta = np.linalg.solve(x.T @ (x * w[:, None]), (x * w[:, None]).T @ np.log(sample))
        ea.append(-beta[1] * kb)
        ln300.append(beta[0] + beta[1] / 300)
    res = fit_arrhenius(temps, D, rel * D)
    assert res.Ea_err_eV == pytest.approx(np.std(ea), rel=0.08)
    assert res.D_target_err_cm2_s / res.D_target_cm2_s == pytest.approx(np.std(ln300), rel=0.08)


def test_arrhenius_from_results_and_guards():
    kb = 8.617333262e-5
    results = []
    for i, T in enumerate((700.0, 900.0, 1100.0)):
        d = 2e-3 * np.exp(-0.3 / (kb * T)) / A2_PER_FS  # Å^2/fs
        traj, _ = walk(60 + i, [d] * 3, n_mobile=30, n_frames=1500)
        traj.temperature_K = T
        results.append(analyse_diffusion(traj, "Li", window=(100.0, 7000.0), directions=()))
    res = arrhenius(results)
    assert abs(res.Ea_eV - 0.3) < 4 * res.Ea_err_eV
    assert res.sigma_target_mS_cm is not None
    with pytest.raises(ValueError):
        fit_arrhenius([600.0, 800.0], [-1.0, 1e-6], [1e-7, 1e-7])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        two = fit_arrhenius([600.0, 800.0], [1e-6, 3e-6], [1e-7, 3e-7])
    assert two.chi2_reduced is None and any("two temperatures" in w for w in two.warnings)
