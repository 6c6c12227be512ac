"""results("folder"): energies from the user's own finished VASP runs.

The runs are real VASP output that ase ships as its own test data (a NaCl
PBE run), so these tests need no VASP.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sselang.data.thermo import SCHEME_MP2020, DataError, ResultsSource

ase_vasp = Path(__import__("ase").__file__).parent / "test" / "testdata" / "vasp"
NACL = ase_vasp / "vasprun_dfpt.xml"
pytestmark = pytest.mark.skipif(not NACL.exists(), reason="ase's VASP test data is not installed")

# Wang et al., Sci. Rep. 11 (2021) 15496, Table 2: MP2020 anion correction for chloride
MP2020_CL_EV_PER_ATOM = -0.614


def _runs(tmp_path, **files) -> Path:
    for rel, text in files.items():
        f = tmp_path / "runs" / rel / "vasprun.xml"
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    return tmp_path


def test_a_finished_run_gives_its_energy_with_the_mp2020_correction(tmp_path):
    import ase.io

    base = _runs(tmp_path, nacl=NACL.read_text())
    src = ResultsSource.open("runs", base)
    (e,) = src.entries(frozenset({"Na", "Cl"}))
    # the energy ase reads from the same file, independently of pymatgen
    assert e.uncorrected_energy == pytest.approx(ase.io.read(NACL, format="vasp-xml").get_potential_energy(), abs=1e-6)
    assert e.composition.reduced_formula == "NaCl" and e.composition["Cl"] == 1
    assert e.correction == pytest.approx(MP2020_CL_EV_PER_ATOM, abs=1e-6)
    assert src.scheme == SCHEME_MP2020 and src.notes == []
    assert e.entry_id == "results:runs/nacl"


def test_a_run_with_another_functional_is_left_out_with_a_reason(tmp_path):
    pbesol = NACL.read_text().replace('name="GGA">PE<', 'name="GGA">PS<')
    assert pbesol != NACL.read_text()
    base = _runs(tmp_path, nacl=NACL.read_text(), nacl_pbesol=pbesol)
    src = ResultsSource.open("runs", base)
    assert len(src.entries(frozenset({"Na", "Cl"}))) == 1
    (note,) = src.notes
    assert "runs/nacl_pbesol/vasprun.xml is left out" in note and "MP2020" in note


def test_a_truncated_run_is_named_in_the_error(tmp_path):
    text = NACL.read_text()
    base = _runs(tmp_path, cut=text[: len(text) // 2])
    with pytest.raises(DataError, match="runs/cut/vasprun.xml cannot be read as a VASP run"):
        ResultsSource.open("runs", base)


def test_compile_warns_about_a_left_out_run_and_goes_on(tmp_path):
    pbesol = NACL.read_text().replace('name="GGA">PE<', 'name="GGA">PS<')
    base = _runs(tmp_path, nacl_pbesol=pbesol)
    study = base / "s.cell"
    study.write_text('study "r" { title = "t" }\n'
                     "material LPSCl {\n  formula = Li6PS5Cl\n  structure = library(\"Li6PS5Cl\")\n}\n"
                     "analyze LPSCl {\n  window\n}\n"
                     'data { thermo = [bundled, results("runs")] }\n')
    r = subprocess.run([sys.executable, "-m", "sselang.cli", "compile", str(study), "--build-dir",
                        str(base / "build")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "warning[SSE109]" in r.stderr and "nacl_pbesol/vasprun.xml is left out" in r.stderr
