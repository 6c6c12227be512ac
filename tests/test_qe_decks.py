"""Quantum ESPRESSO decks compiled from a study and -- when Debian's quantum-espresso is
installed (apt-get install quantum-espresso) -- run with pw.x for a few steps on Li2S.

The SSSP files the default family names are not packaged anywhere the tests can install
from (Debian's quantum-espresso-data has example files for other elements only), so the
study names files of its own (`pseudo_files`) and this module makes them with QE's own
atomic code ld1.x from the inputs below: reproducible, and free of any licence question.
They are good enough for a deck to run (SCF converges, sane pressure, forces and
cohesive energy), not for production results.
"""

from __future__ import annotations

import io
import math
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from sselang.decks import DeckRequest
from sselang.decks import qe
from sselang.pipeline import front_end_text

RY_IN_EV = qe.RY_IN_EV
A_LI2S = 5.708  # Å, the library's antifluorite Li2S (298 K)

# ---- pseudopotentials made with ld1.x ---------------------------------------------------
# Scalar-relativistic PBE, norm-conserving Troullier-Martins, one projector per channel
# (pseudotype=1): the simplest kind pw.x reads, with ecutrho = 4 x ecutwfc.
# Li: 2s1 valence only (1 electron; the 1s core is frozen), so a nonlinear core correction
#   (nlcc, pseudised inside rcore = 1.4 bohr) keeps exchange-correlation with the 1s
#   density right; p is the local channel; rc = 2.4 bohr for both (Li-S is 4.67 bohr in
#   Li2S, S's rc 1.7-1.9 bohr: the cores do not overlap).
# S: 3s2 3p4 valence; the unbound 3d at 0.1 Ry is the local channel; rc 1.7 (s), 1.8 (p),
#   1.9 (d) bohr: about 25 Ry converge Li2S to ~10 mRy per formula unit (measured against
#   60 Ry: -23.0008 / -23.0093 Ry for the 3-atom cell), while the PBE band gap (3.4 eV) and
#   the pressure at the experimental cell (-1 kbar at 60 Ry) come out as expected.
LD1_INPUTS = {
    "Li": """\
 &input
   title='Li', zed=3.0, rel=1, config='1s2 2s1 2p0', iswitch=3, dft='PBE'
 /
 &inputp
   pseudotype=1, file_pseudopw='Li.pbe-tm.UPF', author='sselang tests',
   lloc=1, nlcc=.true., new_core_ps=.true., rcore=1.4, tm=.true.
 /
2
2S  1  0  1.00  0.00  2.40  2.40  0.0
2P  2  1  0.00  0.00  2.40  2.40  0.0
""",
    "S": """\
 &input
   title='S', zed=16.0, rel=1, config='[Ne] 3s2 3p4 3d-2', iswitch=3, dft='PBE'
 /
 &inputp
   pseudotype=1, file_pseudopw='S.pbe-tm.UPF', author='sselang tests',
   lloc=2, nlcc=.false., tm=.true.
 /
3
3S  1  0  2.00  0.00  1.70  1.70  0.0
3P  2  1  4.00  0.00  1.80  1.80  0.0
3D  3  2  0.00  0.10  1.90  1.90  0.0
""",
}
PATTERN = "{element}.pbe-tm.UPF"
ECUTWFC_RY = 25  # the lowest the checks take without a warning; see above for its error

STUDY = """\
study "li2s-qe" { title = "Li2S with pw.x and pseudopotentials of its own" }

material Li2S {
  formula   = Li2S
  structure = library("Li2S")
}

analyze Li2S {
  diffusion {
    temperatures = [600, 900, 1200] K
    duration     = 1 ps
    supercell    = min 5 Å  # the 12-atom cubic cell: small enough for a run in seconds
  }
}

engine qe {
  pseudo_dir   = "PSEUDO_DIR"
  pseudo_files = "{element}.pbe-tm.UPF"
  ecutwfc      = 25 Ry
  kspacing     = 0.6  # 2x2x2 k-points for the relaxation; MD runs at Gamma
}
"""


@pytest.fixture(scope="session")
def pseudo_dir(tmp_path_factory) -> Path:
    """Where the study says the files are; filled by the `pseudopotentials` fixture."""
    return tmp_path_factory.mktemp("pseudo")


@pytest.fixture(scope="session")
def pseudopotentials(pseudo_dir) -> dict[str, dict]:
    """Runs ld1.x once per session; element -> its output and UPF header attributes."""
    if shutil.which("ld1.x") is None:
        pytest.skip("no ld1.x on PATH (apt-get install quantum-espresso)")
    made = {}
    for element, text in LD1_INPUTS.items():
        work = pseudo_dir / f"ld1-{element}"
        work.mkdir(exist_ok=True)
        proc = subprocess.run(["ld1.x"], input=text, cwd=work, capture_output=True, text=True, timeout=120,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        name = PATTERN.replace("{element}", element)
        shutil.move(work / name, pseudo_dir / name)
        upf = (pseudo_dir / name).read_text()
        header = dict(re.findall(r'(\w+)="([^"]*)"', re.search(r"<PP_HEADER(.*?)/>", upf, re.S).group(1)))
        made[element] = {"out": proc.stdout, "header": header}
    return made


@pytest.fixture(scope="session")
def build(tmp_path_factory, pseudo_dir) -> Path:
    where = tmp_path_factory.mktemp("qe-build")
    study = where / "li2s_qe.cell"
    study.write_text(STUDY.replace("PSEUDO_DIR", str(pseudo_dir)))
    r = subprocess.run([sys.executable, "-m", "sselang.cli", "compile", str(study), "--build-dir", str(where / "build")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr, r.stderr
    return where / "build" / "li2s-qe" / "calcs"


def calc_dir(build: Path, prefix: str) -> Path:
    (found,) = build.glob(prefix + "-qe-*")
    return found


def _header_defaults(text: str) -> dict[str, str]:
    """'!   key = value: why' lines of the deck's comment block -> {key: 'value: why'}."""
    return dict(re.findall(r"^!   (\S+) = (.*)$", text, re.M))


# ---- the decks as written ---------------------------------------------------------------
def test_study_names_its_own_pseudopotential_files(build, pseudo_dir):
    from ase.io import read
    from pymatgen.io.pwscf import PWInput

    names = sorted(p.name.split("-qe-")[0] for p in build.iterdir())
    assert names == ["md-Li2S-1200K", "md-Li2S-600K", "md-Li2S-900K", "relax-Li2S"]
    for d in build.iterdir():
        text = (d / "pw.in").read_text()
        pw = PWInput.from_file(d / "pw.in")
        assert pw.pseudo == {"Li": "Li.pbe-tm.UPF", "S": "S.pbe-tm.UPF"}
        assert pw.sections["control"]["pseudo_dir"] == str(pseudo_dir)
        # the study's ecutwfc wins; ecutrho is pw.x's 4 x ecutwfc, listed as a default with its reason
        assert (pw.sections["system"]["ecutwfc"], pw.sections["system"]["ecutrho"]) == (25, 100)
        defaults = _header_defaults(text)
        assert "ecutwfc" not in defaults and "pseudo_dir" not in defaults
        assert defaults["ecutrho"].startswith("100.0 Ry: 4 x ecutwfc")
        assert pw.structure.composition.reduced_formula == "Li2S" and len(pw.structure) == 12
        atoms = read(io.StringIO(text), format="espresso-in")
        assert atoms.get_chemical_formula() == "Li8S4"
        np.testing.assert_allclose(atoms.cell.lengths(), [A_LI2S] * 3, atol=1e-6)
        assert "input_dft" not in text  # no functional given: pw.x takes the files' (PBE)

    relax = PWInput.from_file(calc_dir(build, "relax-Li2S") / "pw.in")
    assert relax.sections["control"]["calculation"] == "vc-relax"
    assert relax.kpoints_grid == (2, 2, 2)  # kspacing 0.6 1/Å on a 5.708 Å cube
    assert "nosym" not in relax.sections["system"]
    for t in (600, 900, 1200):
        md_dir = calc_dir(build, f"md-Li2S-{t}K")
        md = PWInput.from_file(md_dir / "pw.in")
        assert md.sections["control"]["calculation"] == "md"
        assert md.sections["control"]["nstep"] == 500  # 1 ps of 2 fs steps
        assert md.sections["ions"]["tempw"] == t and md.sections["ions"]["ion_temperature"] == "svr"
        assert md.sections["system"]["nosym"] is True
        assert md.kpoints_mode == "gamma"
        assert "nosym = .true.: " in (md_dir / "pw.in").read_text()


def _li2s() -> Structure:
    return Structure.from_spacegroup("Fm-3m", Lattice.cubic(A_LI2S), ["Li", "S"], [[0.25, 0.25, 0.25], [0, 0, 0]])


def test_without_pseudo_files_the_family_names_files_and_cutoffs():
    text = qe.render(DeckRequest("relax", _li2s(), {}))["pw.in"]
    assert "  Li 6.9410 li_pbe_v1.4.uspp.F.UPF\n" in text and "  S 32.0650 s_pbe_v1.4.uspp.F.UPF\n" in text
    assert "  ecutwfc = 40\n" in text and "  ecutrho = 320\n" in text  # SSSP: Li 40/320, S 35/280 Ry
    defaults = _header_defaults(text)
    assert defaults["pseudo_dir"] == "./pseudo: link or copy the family's files there"
    assert defaults["ecutwfc"] == "40 Ry: largest SSSP-efficiency 1.3.0 recommendation"
    own = qe.render(DeckRequest("static", _li2s(), {"pseudo_files": "{element}_ONCV_PBE-1.2.upf",
                                                    "ecutwfc": 60 * RY_IN_EV, "ecutrho": 240 * RY_IN_EV}))["pw.in"]
    assert "  Li 6.9410 Li_ONCV_PBE-1.2.upf\n" in own and "  ecutrho = 240.0\n" in own
    assert _header_defaults(own)["pseudo_dir"] == "./pseudo: put the files pseudo_files names there"


def test_functional_is_written_as_input_dft():
    for functional, dft in (("PBEsol", "PBESOL"), ("PBE", "PBE")):
        text = qe.render(DeckRequest("relax", _li2s(), {"functional": functional}))["pw.in"]
        assert f"  input_dft = '{dft}'\n" in text


@pytest.mark.parametrize("settings, match", [
    ({"pseudo_files": "{element}.UPF"}, "needs ecutwfc"),
    ({"pseudo_files": "{element}.UPF", "ecutwfc": 400.0, "pseudos": "SSSP-efficiency"}, "not both"),
    ({"pseudo_files": "Li.UPF", "ecutwfc": 400.0}, "pseudo_files"),
    ({"pseudo_files": "{element}.UPF\n/", "ecutwfc": 400.0}, "pseudo_files"),
    ({"pseudo_dir": "/x'\n&SYSTEM"}, "pseudo_dir"),
    ({"functional": "LDA"}, "functional"),
])
def test_bad_settings_raise(settings, match):
    with pytest.raises(ValueError, match=match):
        qe.render(DeckRequest("relax", _li2s(), settings))


@pytest.mark.parametrize("lines, codes", [
    (['pseudo_files = "{element}.pbe-tm.UPF"', "ecutwfc = 30 Ry"], []),
    (['pseudo_files = "{element}.pbe-tm.UPF"'], ["SSE012"]),
    (['pseudo_files = "{element}.pbe-tm.UPF"', "ecutwfc = 30 Ry", 'pseudos = "SSSP-efficiency"'], ["SSE011"]),
    (['pseudo_files = "Li.UPF"', "ecutwfc = 30 Ry"], ["SSE013"]),
    (['pseudo_files = "pseudo/{element}.UPF"', "ecutwfc = 30 Ry"], ["SSE013"]),
    (["pseudo_files = 3", "ecutwfc = 30 Ry"], ["SSE013"]),
    (['pseudo_dir = "/opt/it\'s here"'], ["SSE013"]),
    (['pseudo_dir = "/opt/pseudo"'], []),
    (['pseudo_fils = "{element}.UPF"'], ["SSE010"]),
])
def test_the_checker_reports_bad_pseudopotential_settings(lines, codes):
    text = ('study "x" { title = "t" }\nanalyze Li2S { window }\nengine qe {\n'
            + "".join(f"  {line}\n" for line in lines) + "}\n")
    fe = front_end_text(text, "qe.cell")
    assert [d.code for d in fe.diagnostics if d.is_error] == codes, fe.diagnostics


# ---- the pseudopotentials ---------------------------------------------------------------
def test_generated_pseudopotentials(pseudopotentials):
    for element, zval in (("Li", 1.0), ("S", 6.0)):
        got = pseudopotentials[element]
        head = got["header"]
        assert head["pseudo_type"] == "NC" and head["functional"].strip() == "PBE"
        assert float(head["z_valence"]) == zval
        assert head["core_correction"] == ("true" if element == "Li" else "false")
        # the pseudo-atom reproduces the all-electron valence eigenvalues
        rows = re.findall(r"^\s+\d\s+\d\s+\d[SPD]\s+\d\(\s*[\d.]+\)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+(-?[\d.]+)\s*$",
                          got["out"].split("Testing the pseudopotential")[1], re.M)
        assert len(rows) == 2, got["out"][-3000:]
        assert all(abs(float(de)) < 1e-4 for _, _, de in rows)


# ---- run the decks with pw.x ------------------------------------------------------------
needs_pw = pytest.mark.skipif(shutil.which("pw.x") is None,
                              reason="no pw.x on PATH (apt-get install quantum-espresso)")
TOTAL = re.compile(r"^!\s+total energy\s+=\s+(-?\d+\.\d+) Ry", re.M)


def _run_pw(deck: Path, where: Path, nstep: int) -> tuple[int, str]:
    """Runs a copy of the deck as a user trying it out would: nstep cut down by hand."""
    text = deck.read_text()
    text, n = re.subn(r"^  nstep = \d+$", f"  nstep = {nstep}", text, flags=re.M)
    assert n == 1
    (where / "pw.in").write_text(text)
    start = time.monotonic()
    with open(where / "pw.out", "w") as out:
        proc = subprocess.run(["pw.x", "-in", "pw.in"], cwd=where, stdout=out, stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=600)
    log = (where / "pw.out").read_text()
    print(f"pw.x {deck.parent.name}, {nstep} steps, 1 thread: {time.monotonic() - start:.1f} s")
    assert "JOB DONE" in log, log[-3000:] + proc.stderr[-2000:]
    return proc.returncode, log


def _images(where: Path):
    from ase.io import read

    images = read(where / "pw.out", format="espresso-out", index=":")
    energies = np.array([a.get_potential_energy() for a in images])  # eV
    assert np.isfinite(energies).all() and (energies < 0).all()
    return images, energies


@needs_pw
def test_relax_deck_runs(build, pseudopotentials, tmp_path):
    rc, log = _run_pw(calc_dir(build, "relax-Li2S") / "pw.in", tmp_path, nstep=2)
    # pw.x's exit status 3: ionic convergence not reached within nstep (the 2 we asked for)
    assert rc == 3 and "The maximum number of steps has been reached." in log
    assert log.count("convergence has been achieved in") == 2  # every SCF converged
    images, energies = _images(tmp_path)
    assert len(images) == 2
    np.testing.assert_allclose(energies / RY_IN_EV, [float(e) for e in TOTAL.findall(log)], atol=1e-6)
    assert energies[1] < energies[0]  # BFGS went downhill
    # the ideal antifluorite has no forces; the cell moves against the pressure
    assert max(np.abs(a.get_forces()).max() for a in images) < 1e-3
    pressures = [float(p) for p in re.findall(r"P=\s*(-?\d+\.\d+)", log)]
    assert len(pressures) == 2 and abs(pressures[0]) < 20  # kbar, at the experimental cell
    volumes = [a.get_volume() for a in images]
    assert np.sign(volumes[1] - volumes[0]) == np.sign(pressures[0])
    # cohesive energy against the ld1.x pseudo-atoms (spherical, spin-unpolarised): PBE
    # puts Li2S at about 3.5-4 eV/atom (10.7 eV per formula unit from experiment)
    atom = {e: float(pseudopotentials[e]["header"]["total_psenergy"]) * RY_IN_EV for e in ("Li", "S")}
    symbols = images[0].get_chemical_symbols()
    cohesive = (sum(atom[s] for s in symbols) - energies[0]) / len(symbols)
    print(f"relax: E = {energies[0]:.4f} -> {energies[1]:.4f} eV, P = {pressures[0]} kbar, "
          f"cohesive {cohesive:.3f} eV/atom")
    assert 3.0 < cohesive < 5.0


@needs_pw
def test_md_deck_runs(build, pseudopotentials, tmp_path):
    rc, log = _run_pw(calc_dir(build, "md-Li2S-600K") / "pw.in", tmp_path, nstep=3)
    assert rc == 0
    images, energies = _images(tmp_path)
    assert len(images) == 3  # an SCF before each of the 3 steps
    assert np.ptp(energies) / len(images[0]) < 0.05  # eV/atom: 6 fs at 600 K move the atoms little
    temperatures = [float(t) for t in re.findall(r"^\s+temperature\s+=\s+(\S+) K", log, re.M)]
    assert len(temperatures) == 3 and all(math.isfinite(t) and 300 < t < 1200 for t in temperatures), temperatures
    # once the atoms have moved there are forces, of the size of a few eV/Å at most
    forces = images[-1].get_forces()
    assert 0.01 < np.abs(forces).max() < 5
    # Ekin + Etot stays nearly constant: the CSVR thermostat only nudges the velocities
    # (without it the drift over these steps is ~1e-4 Ry; with it a few mRy)
    const = [float(c) for c in re.findall(r"Ekin \+ Etot \(const\)\s+=\s+(-?\d+\.\d+) Ry", log)]
    assert len(const) == 3
    drift = (max(const) - min(const)) * RY_IN_EV / len(images[0])
    print(f"md: E = {', '.join(f'{e:.4f}' for e in energies)} eV, T = {temperatures} K, "
          f"Ekin+Etot drift {drift * 1000:.2f} meV/atom")
    assert drift < 0.03  # eV/atom
