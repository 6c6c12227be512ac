"""The plan and the VASP decks."""

import subprocess
import sys

import pytest
from pymatgen.io.vasp import Incar, Kpoints, Poscar

from sselang.plan import supercell_for

from conftest import ROOT

EX = ROOT / "examples"


@pytest.fixture(scope="module")
def lgps_build(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    r = subprocess.run([sys.executable, "-m", "sselang.cli", "compile", str(EX / "lgps_transport.cell"),
                        "--build-dir", str(out)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    return out / "lgps-transport"


def test_supercell_multipliers_reach_the_minimum_length():
    assert supercell_for((8.69, 8.69, 12.60), 10.0) == [2, 2, 1]
    assert supercell_for((10.0, 5.0, 3.4), 10.0) == [1, 2, 3]


def test_one_md_run_per_temperature_with_the_study_values(lgps_build):
    calcs = sorted(p for p in (lgps_build / "calcs").iterdir() if p.name.startswith("md-") and "-vasp-" in p.name)
    temps = sorted(int(p.name.split("-")[2].rstrip("K")) for p in calcs)
    assert temps == [600, 750, 900, 1050, 1200]
    for d in calcs:
        incar = Incar.from_str((d / "INCAR").read_text())
        poscar = Poscar.from_str((d / "POSCAR").read_text())
        n = len(poscar.structure)
        # the per-atom criterion, not pymatgen MPMDSet's relaxation EDIFF; no bogus tag
        assert incar["EDIFF"] == pytest.approx(1e-5 * n)
        assert "EDIFF_PER_ATOM" not in incar
        # the study's `encut = 280 eV for = diffusion` wins over the set's default
        assert incar["ENCUT"] == pytest.approx(280.0)
        assert (incar["IBRION"], incar["ISYM"], incar["SMASS"], incar["POTIM"]) == (0, 0, 0, 2.0)
        assert incar["NSW"] == 25000  # 50 ps / 2 fs
        assert incar["TEBEG"] == incar["TEEND"] == int(d.name.split("-")[2].rstrip("K"))
        assert Kpoints.from_str((d / "KPOINTS").read_text()).kpts == [(1, 1, 1)]
        assert min(poscar.structure.lattice.abc) >= 10.0
        assert (d / "POTCAR.spec").read_text().split() == ["Li_sv", "Ge_d", "P", "S"]
        assert "study" in (d / "README.md").read_text()


def test_a_calculation_that_holds_results_is_never_touched(tmp_path):
    build = tmp_path / "b"
    cmd = [sys.executable, "-m", "sselang.cli", "compile", str(EX / "lgps_transport.cell"), "--build-dir", str(build)]
    assert subprocess.run(cmd, capture_output=True, timeout=900).returncode == 0
    d = next(p for p in (build / "lgps-transport" / "calcs").iterdir() if p.name.startswith("md-LGPS-600K-vasp"))
    (d / "OUTCAR").write_text("a finished run\n")
    (d / "INCAR").write_text("edited by hand on the cluster\n")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0
    assert (d / "OUTCAR").read_text() == "a finished run\n"
    assert (d / "INCAR").read_text() == "edited by hand on the cluster\n"
    plan = subprocess.run([sys.executable, "-m", "sselang.cli", "plan", str(EX / "lgps_transport.cell"),
                           "--build-dir", str(build)], capture_output=True, text=True, timeout=900)
    assert plan.returncode == 0 and "holds results: never touched" in plan.stdout
    assert "0 to add" in plan.stdout


def test_hand_edited_decks_are_refused_then_moved_aside_with_force(tmp_path):
    build = tmp_path / "b"
    cmd = [sys.executable, "-m", "sselang.cli", "compile", str(EX / "lgps_transport.cell"), "--build-dir", str(build)]
    assert subprocess.run(cmd, capture_output=True, timeout=900).returncode == 0
    d = next(p for p in (build / "lgps-transport" / "calcs").iterdir() if p.name.startswith("md-LGPS-900K-vasp"))
    (d / "INCAR").write_text("NSW = 5  # a quick test by hand\n")
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert r.returncode == 1 and d.name in r.stderr and "--force" in r.stderr
    assert (d / "INCAR").read_text() == "NSW = 5  # a quick test by hand\n"
    r = subprocess.run(cmd + ["--force"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    assert (d.with_name(d.name + ".old-1") / "INCAR").read_text() == "NSW = 5  # a quick test by hand\n"
    assert "EDIFF" in (d / "INCAR").read_text()


def test_manifest_lists_every_written_file(lgps_build):
    import hashlib
    import json

    manifest = json.loads((lgps_build / "manifest.json").read_text())["files"]
    for rel, digest in manifest.items():
        assert hashlib.sha256((lgps_build / rel).read_bytes()).hexdigest() == digest
    assert any(k.startswith("calcs/md-LGPS-600K") and k.endswith("INCAR") for k in manifest)


def test_job_scripts_take_the_run_block_resources(tmp_path):
    study = tmp_path / "s.cell"
    study.write_text('study "jobs" { title = "t" }\nmaterial LPS {\n  formula = Li3PS4\n  structure = library("Li3PS4")\n}\n'
                     "analyze LPS {\n  diffusion {\n    temperatures = [600, 900, 1200] K\n    duration = 20 ps\n  }\n}\n"
                     'run {\n  executor = slurm { partition = "batch"  walltime = 12 h  nodes = 2 }\n}\n')
    r = subprocess.run([sys.executable, "-m", "sselang.cli", "compile", str(study), "--build-dir", str(tmp_path / "b")],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "b" / "jobs"
    (array,) = (out / "jobs").glob("md-LPS-vasp.sh")
    text = array.read_text()
    assert "#SBATCH --array=0-2" in text and "#SBATCH --nodes=2" in text and "#SBATCH --time=12:00:00" in text
    assert "#SBATCH --partition=batch" in text and text.count('"md-LPS-') == 3
    for d in (out / "calcs").iterdir():
        job = (d / "job.sh").read_text()
        assert "srun vasp_std" in job and "#SBATCH --nodes=2\n" in job


def test_qe_decks_parse_back_and_take_the_family_cutoffs(lgps_build):
    import io

    from ase.io import read
    from pymatgen.io.pwscf import PWInput

    (relax,) = (lgps_build / "calcs").glob("relax-LGPS-qe-*")
    text = (relax / "pw.in").read_text()
    pw = PWInput.from_str(text)
    # SSSP efficiency 1.3.0: Li 40/320, Ge 40/320, P 30/240, S 35/280 Ry -> the largest
    assert (pw.sections["system"]["ecutwfc"], pw.sections["system"]["ecutrho"]) == (40, 320)
    assert pw.sections["control"]["calculation"] == "vc-relax"
    assert pw.structure.composition.reduced_formula == "Li10Ge(PS6)2"
    assert read(io.StringIO(text), format="espresso-in").get_chemical_formula() == "Ge2Li20P4S24"
    for md in (lgps_build / "calcs").glob("md-LGPS-*-qe-*"):
        text = (md / "pw.in").read_text()
        assert "K_POINTS gamma" in text and "ion_temperature = 'svr'" in text
        assert "dt = 41.341" in text  # 2 fs in Rydberg atomic units (0.048378 fs)
        assert "nstep = 25000" in text


def test_neb_endpoints_images_and_tags(tmp_path):
    import numpy as np

    study = tmp_path / "neb.cell"
    study.write_text('study "neb" { title = "t" }\nmaterial LGPS {\n  formula = Li10GeP2S12\n'
                     '  structure = library("Li10GeP2S12")\n}\n'
                     "analyze LGPS {\n  barrier {\n    hop = Li along c\n    images = 5\n    climb = true\n  }\n}\n"
                     "engine vasp { preset = mp }\n")
    r = subprocess.run([sys.executable, "-m", "sselang.cli", "compile", str(study), "--build-dir", str(tmp_path / "b")],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    (d,) = (tmp_path / "b" / "neb" / "calcs").glob("neb-LGPS-Li-c-vasp-*")
    incar = Incar.from_str((d / "INCAR").read_text())
    assert (incar["IMAGES"], incar["SPRING"], incar["IBRION"], incar["LCLIMB"], incar["ISIF"]) == (5, -5, 3, True, 2)
    path = [Poscar.from_str((d / f"{k:02d}" / "POSCAR").read_text()).structure for k in range(7)]
    first, last = path[0], path[-1]
    assert len({len(s) for s in path}) == 1  # one vacancy in every image
    moved = np.linalg.norm(last.cart_coords - first.cart_coords, axis=1)
    mover = int(np.argmax(moved))
    assert sorted(moved)[-2] < 1e-6  # only the hopping Li differs between the endpoints
    hop = last.cart_coords[mover] - first.cart_coords[mover]
    c = first.lattice.matrix[2] / np.linalg.norm(first.lattice.matrix[2])
    assert abs(hop @ c) / np.linalg.norm(hop) > 0.9  # along c
    # IDPP images advance the hopping Li monotonically from one end to the other
    steps = [np.linalg.norm(s.cart_coords[mover] - first.cart_coords[mover]) for s in path]
    assert all(b > a for a, b in zip(steps, steps[1:]))


def test_poscar_potcar_and_magmom_agree_whatever_the_atom_order():
    # a structure listed anion first: POSCAR, POTCAR.spec and MAGMOM must still follow one order
    from pymatgen.core import Lattice, Structure
    from pymatgen.io.vasp import Incar, Poscar

    from sselang.decks import DeckRequest
    from sselang.decks.vasp import render

    s = Structure(Lattice.hexagonal(2.82, 14.05), ["O", "O", "Co", "Li"],
                  [[0, 0, 0.24], [0, 0, 0.76], [0, 0, 0], [0, 0, 0.5]])
    files = render(DeckRequest("static", s, {}, "LiCoO2"))
    pos = Poscar.from_str(files["POSCAR"])
    spec = files["POTCAR.spec"].split()
    assert [sym.split("_")[0] for sym in spec] == pos.site_symbols
    magmom = Incar.from_str(files["INCAR"])["MAGMOM"]
    assert len(magmom) == len(pos.structure)
    co = [i for i, site in enumerate(pos.structure) if site.specie.symbol == "Co"]
    assert all(magmom[i] > 0.5 for i in co) and all(m < 0.7 for i, m in enumerate(magmom) if i not in co)


def test_a_calculation_folder_appears_whole_or_not_at_all(tmp_path, monkeypatch):
    # a failure while a folder's files are written (here: the third file) leaves no folder
    # under the calculation's name and no temporary behind; the next compile writes it whole
    from pathlib import Path

    from sselang.util import atomic

    real = Path.write_bytes
    calls = {"n": 0}

    def failing(self, data):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(28, "No space left on device")
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", failing)
    files = {"INCAR": "a\n", "KPOINTS": "b\n", "POSCAR": "c\n", "00/POSCAR": "d\n"}
    target = tmp_path / "calcs" / "relax-x-vasp-0123456789"
    with pytest.raises(OSError):
        atomic.write_dir_atomic(target, files)
    assert not target.exists() and list((tmp_path / "calcs").iterdir()) == []
    monkeypatch.setattr(Path, "write_bytes", real)
    atomic.write_dir_atomic(target, files)
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()) == sorted(files)
    assert (target / "00" / "POSCAR").read_text() == "d\n"


@pytest.mark.parametrize("result", ["OUTCAR", "03/OUTCAR", "neb.traj", "md-pos-1.xyz", "pw.out"])
def test_results_of_every_engine_and_the_preview_mark_a_folder_as_untouchable(tmp_path, result):
    from sselang.plan import holds_results, status

    d = tmp_path / "neb-Li2S"
    d.mkdir()
    (d / "INCAR").write_text("IMAGES = 5\n")
    assert not holds_results(d) and status(d, {"INCAR": "IMAGES = 7\n"}) == "change"
    (d / result).parent.mkdir(exist_ok=True)
    (d / result).write_text("a finished run\n")
    assert holds_results(d) and status(d, {"INCAR": "IMAGES = 7\n"}) == "results"
