"""Diffusion analysis side by side with the peer tools on real AIMD runs.

    LGPS 600 K (pymatgen-analysis-diffusion's own test run): the MSD, D, conductivity and
    Haven ratio against its DiffusionAnalyzer with the fit window and weighting it uses,
    and its numbers against the reference values it publishes (data/README.md).
    Li6PS5Cl 500 K (VASP XDATCAR): D against kinisi and pymatgen-analysis-diffusion, and
    the error bar against kinisi's.

Skipped when a peer package or the shared data is missing.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import SHARED
from sselang.transport.fit import analyse_msd
from sselang.transport.msd import compute_msd
from sselang.transport.readers import read_diffusion_analyzer, read_xdatcar

TRAJ = SHARED / "data" / "trajectories"
LGPS = TRAJ / "LGPS_600K_DiffusionAnalyzer.json"
ARGYRODITE = TRAJ / "Li6PS5Cl_500K_XDATCAR.gz"

needs_data = pytest.mark.skipif(not (LGPS.is_file() and ARGYRODITE.is_file()), reason="shared trajectories missing")

# data/README.md: what pymatgen-analysis-diffusion's tests assert for the LGPS run
REF_D, REF_SIGMA, REF_HAVEN = 1.16083658794e-06, 74.1654, 0.31854


def pymatgen_max_lags(n_frames: int, n_mobile: int, time_step: float, step_skip: int, min_obs: int = 30):
    """The lags (frames) DiffusionAnalyzer fits with its default smoothed="max", as in its
    __init__: from 1 ps, up to n_mobile * n_frames // min_obs frames (at most the run), at
    most ~200 of them evenly spaced."""
    min_dt = int(1000 / (step_skip * time_step))
    max_dt = min(n_mobile * n_frames // min_obs, n_frames)
    return np.arange(min_dt, max_dt, max(int((max_dt - min_dt) / 200), 1))


@pytest.fixture(scope="module")
def lgps():
    analyzer = pytest.importorskip("pymatgen.analysis.diffusion.analyzer")
    if not LGPS.is_file():
        pytest.skip("shared trajectories missing")
    with open(LGPS) as f:
        pmg = analyzer.DiffusionAnalyzer.from_dict(json.load(f))
    traj = read_diffusion_analyzer(LGPS)
    msd = compute_msd(traj, "Li")
    lags = pymatgen_max_lags(traj.n_frames, msd.n_mobile, pmg.time_step, pmg.step_skip, pmg.min_obs)
    return pmg, traj, msd, lags


@needs_data
def test_pymatgen_reproduces_its_published_lgps_numbers(lgps):
    pmg, *_ = lgps
    assert pmg.diffusivity == pytest.approx(REF_D, rel=1e-3)
    assert pmg.conductivity == pytest.approx(REF_SIGMA, rel=1e-4)
    assert pmg.haven_ratio == pytest.approx(REF_HAVEN, rel=1e-4)


@needs_data
def test_lgps_msd_equals_pymatgen(lgps):
    pmg, traj, msd, lags = lgps
    assert traj.n_frames == 1000 and msd.n_mobile == 20
    assert np.allclose(pmg.dt, lags * traj.dt_fs)
    assert np.allclose(msd.msd[lags], pmg.msd, rtol=1e-9, atol=0)
    assert np.allclose(msd.charge[lags], pmg.mscd, rtol=1e-9, atol=0)
    # pymatgen's "components" are Cartesian x, y, z
    diag = np.diagonal(msd.tensor, axis1=1, axis2=2)[lags]
    assert np.allclose(diag, pmg.msd_components, rtol=1e-9, atol=1e-12)


@needs_data
def test_lgps_same_window_and_weighting_as_pymatgen(lgps):
    """pymatgen's fit: its lags, weights 1/t.  D, sigma within 3 %, Haven within 5 %."""
    pmg, traj, msd, lags = lgps
    res = analyse_msd(msd, window=lags, estimator="wls", directions=("x", "y", "z"))
    assert res.D_cm2_s == pytest.approx(pmg.diffusivity, rel=0.03)
    assert res.sigma_mS_cm == pytest.approx(pmg.conductivity, rel=0.03)
    assert res.haven_ratio == pytest.approx(pmg.haven_ratio, rel=0.05)
    for k, axis in enumerate("xyz"):
        assert res.directions[axis].D_cm2_s == pytest.approx(pmg.diffusivity_components[k], rel=0.03)
    # independent Nernst-Einstein implementations: the D -> sigma factor agrees exactly
    from pymatgen.analysis.diffusion.analyzer import get_conversion_factor
    assert res.sigma_mS_cm / res.D_cm2_s == pytest.approx(get_conversion_factor(pmg.structure, "Li", 600), rel=1e-9)


@needs_data
def test_lgps_default_fit_is_consistent_with_pymatgen(lgps):
    """Our default GLS over the same lags.  On this 20 ps run (a handful of hops, a concave
    MSD) estimators differ by more than 3 %: GLS weighs the early, steeper lags more than a
    1/t-weighted fit.  They must agree within our error bar, which must admit how rough the
    run is (and say so)."""
    pmg, traj, msd, lags = lgps
    res = analyse_msd(msd, window=lags)
    assert abs(res.D_cm2_s - pmg.diffusivity) < 3 * res.D_err_cm2_s
    assert res.D_err_cm2_s > 0.1 * res.D_cm2_s
    assert res.effective_hops < 100 and any("effective hops" in w for w in res.warnings)


@pytest.fixture(scope="module")
def argyrodite():
    pytest.importorskip("pymatgen.analysis.diffusion.analyzer")
    pytest.importorskip("kinisi")
    if not ARGYRODITE.is_file():
        pytest.skip("shared trajectories missing")
    from pymatgen.io.vasp.outputs import Xdatcar

    traj = read_xdatcar(ARGYRODITE, dt_fs=100.0)  # 2 fs x every 50th step
    traj.temperature_K = 500.0
    return traj, Xdatcar(ARGYRODITE)


@needs_data
def test_li6ps5cl_against_kinisi_and_pymatgen(argyrodite):
    import scipp as sc
    from kinisi.analyze import DiffusionAnalyzer as KinisiAnalyzer
    from pymatgen.analysis.diffusion.analyzer import DiffusionAnalyzer

    traj, xdatcar = argyrodite
    assert traj.n_frames == 140 and len(traj.indices("Li")) == 192

    # pymatgen's default fit: 1 ps to the end of the run (192 ions: its min_obs cap is the run)
    pmg = DiffusionAnalyzer.from_structures(xdatcar.structures, "Li", 500, 2, 50)
    # kinisi's GLS from 1 ps on (its default lags: all of them)
    kin = KinisiAnalyzer.from_xdatcar(xdatcar, "Li", time_step=sc.scalar(2.0, unit="fs"),
                                      step_skip=sc.scalar(50), progress=False)
    kin.diffusion(sc.scalar(1000.0, unit="fs"), progress=False, random_state=np.random.RandomState(0))
    d_kin, err_kin = float(np.median(kin.D.values)), float(np.std(kin.D.values))

    res = analyse_msd(compute_msd(traj, "Li"), window=(1000.0, (traj.n_frames - 1) * traj.dt_fs))
    assert res.D_cm2_s == pytest.approx(d_kin, rel=0.05)
    assert res.D_cm2_s == pytest.approx(pmg.diffusivity, rel=0.05)
    assert 0.5 < res.D_err_cm2_s / err_kin < 2.0
    assert res.sigma_mS_cm / res.D_cm2_s == pytest.approx(pmg.conductivity / pmg.diffusivity, rel=1e-9)
    assert res.effective_hops > 100
