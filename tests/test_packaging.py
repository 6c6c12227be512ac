"""The wheel carries grammar/ and templates/ and works outside the checkout."""

import shutil
import subprocess
import sys
import zipfile

import pytest

from conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    pytest.importorskip("hatchling")
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(ROOT)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    (whl,) = out.glob("sselang-*.whl")
    return whl


def test_wheel_ships_grammar_and_templates(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "sselang/_data/grammar/sselang.lark" in names
    assert any(n.startswith("sselang/_data/templates/") for n in names)
    assert "sselang/model/units.txt" in names
    assert "sselang/data/bundled/entries.json.gz" in names
    assert "sselang/data/phases/core.toml" in names
    assert "sselang/decks/data/sssp_efficiency_1.3.0.toml" in names
    assert "sselang/_data/templates/vasp/md.INCAR.j2" in names
    meta = next(n for n in names if n.endswith("METADATA"))
    text = zipfile.ZipFile(wheel).read(meta).decode()
    assert "Requires-Dist: pymatgen<2027,>=" in text and "Requires-Dist: pymatgen-core<2027,>=" in text


def test_installed_wheel_checks_outside_the_checkout(wheel, tmp_path):
    site = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(site), str(wheel)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copy(ROOT / "examples" / "baseline.cell", work)
    code = ("import sselang, sselang.resources as r; print(sselang.__file__); print(r.grammar_path()); "
            "print(len(sselang.check('baseline.cell')))")
    env = {"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=work, env=env, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    module_file, grammar, ndiag = r.stdout.split()
    assert module_file.startswith(str(site)) and grammar.startswith(str(site / "sselang" / "_data"))
    assert ndiag == "0"
    # the whole compile (library, dataset, templates) from the installed wheel
    r = subprocess.run([sys.executable, "-m", "sselang.cli", "compile", "baseline.cell", "--build-dir", "b"],
                       capture_output=True, text=True, cwd=work, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert list((work / "b" / "lco-linbo3-lpscl" / "calcs").glob("md-LPSCl-600K-vasp-*/INCAR"))
