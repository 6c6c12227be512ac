"""compile reads finished AIMD runs of a study's diffusion request from its build folder."""

import gzip
import json
import shutil
import subprocess
import sys

import pytest

from conftest import LPSCL_500K_XDATCAR as XDATCAR
from conftest import LPSCL_MD_STUDY as STUDY

pytestmark = pytest.mark.skipif(not XDATCAR.exists(), reason="shared trajectories not present")


def _compile(study, build):
    return subprocess.run([sys.executable, "-m", "sselang.cli", "compile", str(study), "--build-dir", str(build)],
                          capture_output=True, text=True, timeout=600)


def test_a_finished_run_is_fitted_and_the_rest_waits(tmp_path):
    from sselang.transport.fit import analyse_diffusion
    from sselang.transport.readers import read_xdatcar

    study = tmp_path / "s.cell"
    study.write_text(STUDY)
    r = _compile(study, tmp_path / "build")
    assert r.returncode == 0, r.stderr
    out = tmp_path / "build" / "lpscl-md"
    (d500,) = [d for d in (out / "calcs").iterdir() if d.name.startswith("md-LPSCl-500K")]
    # the user ran it: 2 fs steps, every 50th written (NBLOCK 50), as the shared trajectory was
    incar = (d500 / "INCAR").read_text()
    (d500 / "INCAR").write_text(incar + "NBLOCK = 50\n")
    with gzip.open(XDATCAR, "rb") as src, open(d500 / "XDATCAR", "wb") as dst:
        shutil.copyfileobj(src, dst)
    r = _compile(study, tmp_path / "build")
    assert r.returncode == 0, r.stderr
    (res,) = [x for x in json.loads((out / "analyses.json").read_text())["results"] if x["kind"] == "diffusion"]
    assert res["engine"] == "vasp" and len(res["runs"]) == 1 and res["arrhenius"] is None
    assert [w.split("-")[2] for w in res["waiting"]] == ["600K"]
    run = res["runs"][0]
    assert run["temperature_K"] == 500 and run["dt_fs"] == pytest.approx(100)
    direct = analyse_diffusion(read_xdatcar(XDATCAR, dt_fs=100.0), "Li", equilibration_fs=1000)
    assert run["D_cm2_s"] == pytest.approx(direct.D_cm2_s, rel=1e-9)
    # the folder with results is never rewritten
    assert (d500 / "INCAR").read_text().endswith("NBLOCK = 50\n")


def test_a_run_shorter_than_twice_the_equilibration_keeps_its_last_four_fifths(tmp_path):
    from sselang.transport.fit import analyse_diffusion
    from sselang.transport.readers import read_xdatcar

    study = tmp_path / "s.cell"
    study.write_text(STUDY.replace("equilibrate  = 1 ps", "equilibrate  = 10 ps").replace("duration     = 10 ps", "duration     = 30 ps"))
    assert _compile(study, tmp_path / "build").returncode == 0
    out = tmp_path / "build" / "lpscl-md"
    (d500,) = [d for d in (out / "calcs").iterdir() if d.name.startswith("md-LPSCl-500K")]
    (d500 / "INCAR").write_text((d500 / "INCAR").read_text() + "NBLOCK = 50\n")
    with gzip.open(XDATCAR, "rb") as src, open(d500 / "XDATCAR", "wb") as dst:
        shutil.copyfileobj(src, dst)
    r = _compile(study, tmp_path / "build")
    assert r.returncode == 0, r.stderr
    (res,) = [x for x in json.loads((out / "analyses.json").read_text())["results"] if x["kind"] == "diffusion"]
    run = res["runs"][0]
    # 140 frames 100 fs apart: 13.9 ps < 2 x 10 ps, so the first 20 % (2.78 ps) go instead
    assert "shorter than twice the study's equilibration" in run["warnings"][0]
    direct = analyse_diffusion(read_xdatcar(XDATCAR, dt_fs=100.0), "Li", equilibration_fs=0.2 * 13900)
    assert run["D_cm2_s"] == pytest.approx(direct.D_cm2_s, rel=1e-9)
