"""Trajectory readers and NEB barriers, each checked against an independent reader
(pymatgen, ase) or numbers worked out by hand, on real program output where there is
some: the shared AIMD trajectories, ase's VASP test data, and the CP2K / pw.x runs in
tests/data/transport (see its README)."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import SHARED
from sselang.cli import cli
from sselang.transport.barrier import BarrierError, outcar_final_energy, read_ase_neb, read_neb, read_vasp_neb
from sselang.transport.readers import (QE_RY_TIME_FS, TrajectoryError, detect_format, read_ase, read_cp2k_xyz,
                                       read_diffusion_analyzer, read_qe_md, read_trajectory, read_vasprun,
                                       read_xdatcar)

TRAJ = SHARED / "data" / "trajectories"
CL_XDATCAR = TRAJ / "Li6PS5Cl_500K_XDATCAR.gz"
I_XDATCAR = TRAJ / "Li6PS5I_500K_XDATCAR.gz"
LGPS_JSON = TRAJ / "LGPS_600K_DiffusionAnalyzer.json"
DATA = Path(__file__).resolve().parent / "data" / "transport"
ASE_VASP = Path(__import__("ase").__file__).parent / "test" / "testdata" / "vasp"

needs_shared = pytest.mark.skipif(not CL_XDATCAR.is_file(), reason="shared trajectories not present")


def _cart(frac: np.ndarray, lattice: np.ndarray) -> np.ndarray:
    return frac @ lattice if lattice.ndim == 2 else np.einsum("fai,fij->faj", frac, lattice)


# ---- XDATCAR ----------------------------------------------------------------------------------

@needs_shared
def test_xdatcar_matches_pymatgen_first_and_last_frame():
    from pymatgen.io.vasp.outputs import Xdatcar

    t = read_xdatcar(CL_XDATCAR, dt_fs=100.0)
    # the README: 140 frames of Li192 P32 S160 Cl32; count the configuration lines independently
    with gzip.open(CL_XDATCAR, "rt") as f:
        n_config = sum(1 for line in f if line.startswith("Direct configuration"))
    assert t.n_frames == n_config == 140
    assert t.n_atoms == 416 and t.frac.dtype == np.float64
    assert [t.species.count(e) for e in ("Li", "P", "S", "Cl")] == [192, 32, 160, 32]
    first = Xdatcar(str(CL_XDATCAR), ionicstep_end=2).structures
    last = Xdatcar(str(CL_XDATCAR), ionicstep_start=140).structures
    assert len(first) == len(last) == 1
    np.testing.assert_allclose(t.frac[0], first[0].frac_coords, rtol=0, atol=1e-8)
    np.testing.assert_allclose(t.frac[-1], last[0].frac_coords, rtol=0, atol=1e-8)
    np.testing.assert_allclose(t.lattice, first[0].lattice.matrix, rtol=0, atol=1e-8)
    assert [str(s.specie) for s in first[0]] == t.species
    assert t.dt_fs == 100.0 and t.temperature_K is None


@needs_shared
def test_xdatcar_frame_count_and_stride_of_the_iodide():
    full = read_xdatcar(I_XDATCAR, dt_fs=100.0)
    assert full.n_frames == 100 and full.n_atoms == 416
    thin = read_xdatcar(I_XDATCAR, dt_fs=100.0, stride=3)
    assert thin.n_frames == 34 and thin.dt_fs == 300.0
    np.testing.assert_array_equal(thin.frac, full.frac[::3])


@needs_shared
def test_xdatcar_without_timestep_names_what_is_missing(tmp_path):
    with pytest.raises(TrajectoryError) as e:
        read_xdatcar(CL_XDATCAR)
    msg = str(e.value)
    assert str(CL_XDATCAR) in msg and "INCAR" in msg and "POTIM" in msg and "dt_fs" in msg


@needs_shared
def test_xdatcar_timestep_and_temperature_from_incar_beside_it(tmp_path):
    shutil.copy(CL_XDATCAR, tmp_path / "XDATCAR.gz")
    # the run of the README: 2 fs steps, every 50th stored, 500 K
    (tmp_path / "INCAR").write_text("SYSTEM = argyrodite AIMD\nIBRION = 0 ; POTIM = 2.0 # fs\n"
                                    "NBLOCK = 50\nTEBEG = 500 ! K\nSMASS = 0\n")
    t = read_xdatcar(tmp_path / "XDATCAR.gz")
    assert t.dt_fs == pytest.approx(100.0) and t.temperature_K == 500.0
    assert any("INCAR" in n for n in t.notes)


def _small_xdatcar(frames: list[np.ndarray], lattice, species=("Li", "S"), counts=(2, 1), variable=False) -> str:
    """XDATCAR text as VASP 5 writes it (ase's writer is used for the variable-cell case)."""
    head = ["Li2S test", "           1"]
    out = []
    for k, fr in enumerate(frames):
        if k == 0 or variable:
            lat = lattice[k] if variable else lattice
            out += head + [f"    {v[0]:11.6f} {v[1]:11.6f} {v[2]:11.6f}" for v in lat]
            out += ["   " + "   ".join(species), "   " + "   ".join(str(c) for c in counts)]
        out.append(f"Direct configuration=     {k + 1}")
        out += [f"  {x:.8f}  {y:.8f}  {z:.8f}" for x, y, z in fr]
    return "\n".join(out) + "\n"


def _frames(n=4, atoms=3, seed=1):
    rng = np.random.default_rng(seed)
    return [np.round(rng.uniform(0, 1, (atoms, 3)), 8) for _ in range(n)]


def test_xdatcar_timestep_from_outcar_or_vasprun_beside_it(tmp_path):
    lat = np.diag([5.7, 5.7, 5.7])
    fr = _frames()
    (tmp_path / "run1").mkdir()
    (tmp_path / "run1" / "XDATCAR").write_text(_small_xdatcar(fr, lat))
    # the lines of an OUTCAR's parameter echo the reader relies on (VASP 6 layout)
    (tmp_path / "run1" / "OUTCAR").write_text(
        " vasp.6.3.0 20Jan22 (build Feb 16 2022 17:18:48) complex\n"
        "   NBLOCK =     10;   KBLOCK =      1    inner block; outer block\n"
        "   IBRION =      0    ionic relax: 0-MD 1-quasi-New 2-CG\n"
        "   POTIM  =   1.5000    time-step for ionic-motion\n"
        "   TEBEG  =    800.0;   TEEND  =    800.0 temperature during run\n"
        "--------------------------------------- Iteration      1(   1)  ---------------------------------------\n"
        "   POTIM  =  99.0000    (a later line must not win)\n")
    t = read_xdatcar(tmp_path / "run1" / "XDATCAR")
    assert t.dt_fs == pytest.approx(15.0) and t.temperature_K == 800.0
    np.testing.assert_allclose(t.frac, np.array(fr), atol=0)

    (tmp_path / "run2").mkdir()
    (tmp_path / "run2" / "XDATCAR").write_text(_small_xdatcar(fr, lat))
    text = (ASE_VASP / "vasprun_pstress.xml").read_text()
    text = (text.replace('<i name="POTIM">      0.50000000</i>', '<i name="POTIM">      0.75000000</i>')
                .replace('<i type="int" name="NBLOCK">     1</i>', '<i type="int" name="NBLOCK">     4</i>')
                .replace('<i name="TEBEG">      0.00010000</i>', '<i name="TEBEG">    300.00000000</i>'))
    (tmp_path / "run2" / "vasprun.xml").write_text(text)
    t = read_xdatcar(tmp_path / "run2" / "XDATCAR")
    assert t.dt_fs == pytest.approx(3.0) and t.temperature_K == 300.0
    # an explicit timestep wins over the files
    assert read_xdatcar(tmp_path / "run2" / "XDATCAR", dt_fs=2.0).dt_fs == 2.0


def test_xdatcar_beside_the_md_deck_sselang_writes(tmp_path):
    """An XDATCAR in a calculation folder compile wrote: timestep and temperature come from its INCAR."""
    from sselang.decks import DeckRequest, vasp
    from test_cp2k_decks import li2s

    s = li2s()
    files = vasp.render(DeckRequest("md", s, {"temperature_K": 700, "timestep_fs": 1.5, "steps": 100}, "li2s-md"))
    (tmp_path / "INCAR").write_text(files["INCAR"])
    fr = [s.frac_coords + 0.001 * k for k in range(3)]
    (tmp_path / "XDATCAR").write_text(_small_xdatcar(fr, s.lattice.matrix, counts=(8, 4)))
    t = read_xdatcar(tmp_path / "XDATCAR")
    assert t.dt_fs == 1.5 and t.temperature_K == 700.0  # POTIM 1.5 x NBLOCK 1, TEBEG
    np.testing.assert_allclose(t.frac, np.array(fr), atol=1e-8)


def test_variable_cell_xdatcar_written_by_ase_round_trips(tmp_path):
    import ase.io
    from ase.build import bulk

    base = bulk("Li", "bcc", a=3.44, cubic=True).repeat((2, 2, 2))
    base.symbols[:3] = "S"
    rng = np.random.default_rng(3)
    images = []
    for k in range(6):
        a = base.copy()
        a.set_cell(base.cell.array @ (np.eye(3) * (1 + 0.01 * k) + rng.uniform(-0.01, 0.01, (3, 3))),
                   scale_atoms=True)
        a.positions += rng.normal(0, 0.05, a.positions.shape)
        images.append(a)
    path = tmp_path / "XDATCAR"
    ase.io.write(path, images, format="vasp-xdatcar")
    t = read_xdatcar(path, dt_fs=1.0)
    back = ase.io.read(path, index=":", format="vasp-xdatcar")  # ase's own reader as the reference
    assert t.n_frames == 6 and t.lattice.shape == (6, 3, 3)
    for k, a in enumerate(back):
        np.testing.assert_allclose(t.lattice[k], a.cell.array, atol=1e-12)
        np.testing.assert_allclose(t.frac[k], a.get_scaled_positions(wrap=False), atol=1e-12)
        # and against what was written, to the precision ase prints (6 decimals in the cell, 8 in positions)
        np.testing.assert_allclose(t.lattice[k], images[k].cell.array, atol=1e-6)
        np.testing.assert_allclose(t.frac[k], images[k].get_scaled_positions(wrap=False), atol=1e-8)
    assert t.species == base.get_chemical_symbols()


def test_constant_cell_written_with_repeated_headers_is_one_cell(tmp_path):
    import ase.io
    from ase.build import bulk

    a = bulk("Cu", "fcc", a=3.6, cubic=True)
    images = []
    for k in range(3):
        b = a.copy()
        b.positions[0] += 0.1 * k
        images.append(b)
    ase.io.write(tmp_path / "XDATCAR", images, format="vasp-xdatcar")
    t = read_xdatcar(tmp_path / "XDATCAR", dt_fs=2.0)
    assert t.lattice.shape == (3, 3)
    np.testing.assert_allclose(t.frac[2, 0] @ t.lattice, [0.2, 0.2, 0.2], atol=1e-7)


@needs_shared
def test_truncated_xdatcar_names_the_file_and_partial_keeps_whole_frames(tmp_path):
    with gzip.open(CL_XDATCAR, "rt") as f:
        lines = f.readlines()
    cut = tmp_path / "XDATCAR"
    # 7 header lines, then 417 lines per frame: stop 100 atoms into frame 4
    cut.write_text("".join(lines[: 7 + 3 * 417 + 1 + 100]))
    with pytest.raises(TrajectoryError, match=r"XDATCAR.*frame 4.*cut short"):
        read_xdatcar(cut, dt_fs=100.0)
    t = read_xdatcar(cut, dt_fs=100.0, partial=True)
    assert t.n_frames == 3 and any("cut" in n for n in t.notes)

    # a gzip stream cut in the middle
    raw = CL_XDATCAR.read_bytes()
    (tmp_path / "cut.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(TrajectoryError, match=r"cut\.gz.*(damaged or cut short)"):
        read_xdatcar(tmp_path / "cut.gz", dt_fs=100.0)


def test_malformed_xdatcar_lines_are_named(tmp_path):
    lat = np.diag([5.0, 5.0, 5.0])
    text = _small_xdatcar(_frames(), lat)
    lines = text.splitlines(keepends=True)
    bad = tmp_path / "XDATCAR"
    lines[13] = "  0.10000000  ***********  0.30000000\n"  # Fortran overflow in frame 2
    bad.write_text("".join(lines))
    with pytest.raises(TrajectoryError, match=r"XDATCAR: line 14: frame 2"):
        read_xdatcar(bad, dt_fs=1.0)
    vasp4 = text.replace("   Li   S\n", "")
    bad.write_text(vasp4)
    with pytest.raises(TrajectoryError, match="VASP 4"):
        read_xdatcar(bad, dt_fs=1.0)
    bad.write_text("")
    with pytest.raises(TrajectoryError, match="XDATCAR: the file ends"):
        read_xdatcar(bad, dt_fs=1.0)
    with pytest.raises(TrajectoryError, match="no such file"):
        read_xdatcar(tmp_path / "missing", dt_fs=1.0)


# ---- vasprun.xml --------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["vasprun_pstress.xml", "vasprun_dfpt.xml"])
def test_vasprun_matches_pymatgen_on_real_vasp_output(name):
    from pymatgen.io.vasp.outputs import Vasprun

    t = read_vasprun(ASE_VASP / name)
    ref = Vasprun(str(ASE_VASP / name), parse_dos=False, parse_eigen=False, parse_potcar_file=False)
    assert t.n_frames == len(ref.ionic_steps)
    for k, step in enumerate(ref.ionic_steps):
        np.testing.assert_allclose(t.frac[k], step["structure"].frac_coords, atol=0)
        np.testing.assert_allclose(t.lattice, step["structure"].lattice.matrix, atol=0)
    assert t.species == [str(s.specie) for s in ref.final_structure]
    assert t.dt_fs == ref.parameters["POTIM"]


def _md_vasprun(n_steps: int, shift: float = 0.013, npt: bool = False) -> str:
    """The real vasprun_pstress.xml turned into an MD run: its <calculation> repeated with the
    positions moved a little each step (and with npt the cell too), and the MD tags set in <parameters>."""
    text = (ASE_VASP / "vasprun_pstress.xml").read_text()
    text = (text.replace('<i type="int" name="IBRION">    -1</i>', '<i type="int" name="IBRION">     0</i>')
                .replace('<i name="POTIM">      0.50000000</i>', '<i name="POTIM">      1.50000000</i>')
                .replace('<i type="int" name="NBLOCK">     1</i>', '<i type="int" name="NBLOCK">     5</i>')
                .replace('<i name="TEBEG">      0.00010000</i>', '<i name="TEBEG">    650.00000000</i>')
                .replace('<i name="TEEND">      0.00010000</i>', '<i name="TEEND">    650.00000000</i>'))
    start = text.index(" <calculation>")
    end = text.index("</calculation>") + len("</calculation>\n")
    calc = text[start:end]
    steps = []
    for k in range(n_steps):
        pos = f"""<varray name="positions" >
    <v>       {0.01 * k:.8f}       {shift * k:.8f}       0.00000000 </v>
    <v>       0.25000000       {0.25 - shift * k:.8f}       {0.25 + 0.002 * k:.8f} </v>
   </varray>"""
        step = re.sub(r'<varray name="positions" >.*?</varray>', pos, calc, count=1, flags=re.S)
        if npt:
            a = 1.785 * (1 + 0.01 * k)
            basis = f"""<varray name="basis" >
     <v>       0.00000000       {a:.8f}       {a:.8f} </v>
     <v>       {a:.8f}       0.00000000       {a:.8f} </v>
     <v>       {a:.8f}       {a:.8f}       0.00000000 </v>
    </varray>"""
            step = re.sub(r'<varray name="basis" >.*?</varray>', basis, step, count=1, flags=re.S)
        steps.append(step)
    return text[:start] + "".join(steps) + text[end:]


def test_md_vasprun_matches_pymatgen_and_takes_potim_not_nblock(tmp_path):
    from pymatgen.io.vasp.outputs import Vasprun

    p = tmp_path / "vasprun.xml"
    p.write_text(_md_vasprun(5))
    t = read_vasprun(p)
    ref = Vasprun(str(p), parse_dos=False, parse_eigen=False, parse_potcar_file=False)
    assert t.n_frames == len(ref.ionic_steps) == 5
    for k, step in enumerate(ref.ionic_steps):
        np.testing.assert_allclose(t.frac[k], step["structure"].frac_coords, atol=0)
    assert t.frac[4, 0, 1] == pytest.approx(4 * 0.013)
    # every ionic step is in vasprun.xml: POTIM apart, whatever NBLOCK (5 here) says
    assert t.dt_fs == 1.5 and t.temperature_K == 650.0
    assert read_vasprun(p, stride=2).n_frames == 3 and read_vasprun(p, stride=2).dt_fs == 3.0
    # a cell that changes every step (ISIF = 3 MD) gives one lattice per frame
    p.write_text(_md_vasprun(5, npt=True))
    t_npt = read_vasprun(p)
    ref = Vasprun(str(p), parse_dos=False, parse_eigen=False, parse_potcar_file=False)
    assert t_npt.lattice.shape == (5, 3, 3)
    for k, step in enumerate(ref.ionic_steps):
        np.testing.assert_allclose(t_npt.lattice[k], step["structure"].lattice.matrix, atol=0)
        np.testing.assert_allclose(t_npt.frac[k], step["structure"].frac_coords, atol=0)
    p.write_text(_md_vasprun(5))
    # gzip is read transparently
    gz = tmp_path / "vasprun.xml.gz"
    gz.write_bytes(gzip.compress(p.read_bytes()))
    np.testing.assert_array_equal(read_trajectory(gz).frac, t.frac)


def test_truncated_vasprun_names_the_file_and_step(tmp_path):
    text = _md_vasprun(4)
    cut = text[: text.index("<calculation>", text.index("<calculation>") + 1) + 2000]  # inside step 2
    p = tmp_path / "vasprun.xml"
    p.write_text(cut)
    with pytest.raises(TrajectoryError, match=r"vasprun\.xml: line \d+: .*ionic step 2"):
        read_vasprun(p)
    t = read_vasprun(p, partial=True)
    assert t.n_frames == 1
    p.write_text("<modeling><atominfo></atominfo></modeling>")
    with pytest.raises(TrajectoryError, match="no atom list|no ionic steps"):
        read_vasprun(p)


# ---- CP2K ---------------------------------------------------------------------------------------

def test_cp2k_nvt_run_written_by_cp2k():
    """cp2k 2023.1 output of tests/test_cp2k_decks.py's MD deck: Li2S, 3 steps of 2 fs."""
    import ase.io

    from test_cp2k_decks import A_LI2S, li2s

    t = read_cp2k_xyz(DATA / "cp2k_nvt" / "li2s-md-pos-1.xyz")  # cell and T from the cp2k.inp beside it
    assert t.n_frames == 4 and t.n_atoms == 12
    assert t.species == ["Li"] * 8 + ["S"] * 4
    np.testing.assert_allclose(t.lattice, np.eye(3) * A_LI2S, atol=1e-12)
    assert t.dt_fs == pytest.approx(2.0) and t.temperature_K == 300.0
    # frame 0 is the deck's structure; every frame's Cartesian positions are the file's (ase reads them too)
    np.testing.assert_allclose(t.frac[0], li2s().frac_coords, atol=1e-12)
    ref = ase.io.read(DATA / "cp2k_nvt" / "li2s-md-pos-1.xyz", index=":", format="xyz")
    for k, a in enumerate(ref):
        np.testing.assert_allclose(_cart(t.frac[k], t.lattice), a.positions, atol=1e-12)
    # the cell given as the input file or as an array gives the same
    same = read_cp2k_xyz(DATA / "cp2k_nvt" / "li2s-md-pos-1.xyz", cell=np.eye(3) * A_LI2S)
    np.testing.assert_allclose(same.frac, t.frac, atol=1e-14)


def test_cp2k_npt_cell_file_written_by_cp2k():
    import ase.io

    t = read_cp2k_xyz(DATA / "cp2k_npt" / "li2s-npt-pos-1.xyz")  # li2s-npt-1.cell found beside it
    rows = np.loadtxt(DATA / "cp2k_npt" / "li2s-npt-1.cell")
    assert t.n_frames == 4 and t.lattice.shape == (4, 3, 3)
    np.testing.assert_allclose(t.lattice.reshape(4, 9), rows[:, 2:11], atol=0)
    np.testing.assert_allclose(np.abs(np.linalg.det(t.lattice)), rows[:, 11], rtol=1e-9)
    ref = ase.io.read(DATA / "cp2k_npt" / "li2s-npt-pos-1.xyz", index=":", format="xyz")
    np.testing.assert_allclose(_cart(t.frac, t.lattice), np.array([a.positions for a in ref]), atol=1e-10)


def test_cp2k_without_time_stamps_takes_timestep_and_stride_from_the_input(tmp_path):
    # older CP2K headers have no time; the input's TIMESTEP x the trajectory's &EACH MD counts then
    (tmp_path / "md.inp").write_text("""&GLOBAL
  PROJECT lic
  RUN_TYPE MD
&END GLOBAL
&MOTION
  &MD
    ENSEMBLE NVT
    TIMESTEP [fs] 0.5
    TEMPERATURE 450.0
  &END MD
  &PRINT
    &TRAJECTORY
      &EACH
        MD 10
      &END EACH
    &END TRAJECTORY
  &END PRINT
&END MOTION
&FORCE_EVAL
  &SUBSYS
    &CELL
      ABC [bohr] 10.0 10.0 12.0
      ALPHA_BETA_GAMMA 90.0 90.0 120.0
    &END CELL
  &END SUBSYS
&END FORCE_EVAL
""")
    cart = [[[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]], [[0.1, 0.0, 0.0], [1.0, 2.1, 3.0]], [[0.2, 0.0, 0.0], [1.0, 2.2, 3.0]]]
    (tmp_path / "lic-pos-1.xyz").write_text("".join(
        f"       2\n i =     {10 * k:5d}, E =     -12.3456789\n"
        + "".join(f" {el:>2s} {x:20.10f} {y:20.10f} {z:20.10f}\n" for el, (x, y, z) in zip(["Li", "Cl"], fr))
        for k, fr in enumerate(cart)))
    t = read_cp2k_xyz(tmp_path / "lic-pos-1.xyz")
    assert t.dt_fs == pytest.approx(5.0) and t.temperature_K == 450.0
    b = 0.52917720859
    a_vec, b_vec = np.array([10 * b, 0, 0]), 10 * b * np.array([np.cos(np.radians(120)), np.sin(np.radians(120)), 0])
    np.testing.assert_allclose(t.lattice[0], a_vec, atol=1e-12)
    np.testing.assert_allclose(t.lattice[1], b_vec, atol=1e-12)
    np.testing.assert_allclose(t.lattice[2], [0, 0, 12 * b], atol=1e-12)
    np.testing.assert_allclose(_cart(t.frac, t.lattice), np.array(cart), atol=1e-12)
    assert read_cp2k_xyz(tmp_path / "lic-pos-1.xyz", dt_fs=1.0, stride=2).dt_fs == 2.0

    (tmp_path / "md.inp").unlink()
    with pytest.raises(TrajectoryError, match=r"lic-pos-1\.xyz: no cell"):
        read_cp2k_xyz(tmp_path / "lic-pos-1.xyz")
    with pytest.raises(TrajectoryError, match="time between frames is unknown"):
        read_cp2k_xyz(tmp_path / "lic-pos-1.xyz", cell=np.eye(3) * 5)
    text = (tmp_path / "lic-pos-1.xyz").read_text()
    (tmp_path / "lic-pos-1.xyz").write_text(text[: len(text) - 30])
    with pytest.raises(TrajectoryError, match=r"lic-pos-1\.xyz: line 12: frame 3: expected 3 numbers"):
        read_cp2k_xyz(tmp_path / "lic-pos-1.xyz", cell=np.eye(3) * 5, dt_fs=1.0)


# ---- Quantum ESPRESSO ----------------------------------------------------------------------------

def test_qe_md_output_written_by_pw():
    import ase.io

    t = read_qe_md(DATA / "qe" / "md.out")
    # the header geometry and one frame per ATOMIC_POSITIONS block (nstep = 4)
    assert t.n_frames == 5 and t.species == ["Si", "Si"]
    # 20 Ry atomic units; pw.x itself prints "0.9676 femto-seconds"
    assert t.dt_fs == pytest.approx(20 * 2 * 0.024188843265857)
    printed = float(re.search(r"Time step\s+=\s+[\d.]+ a\.u\.,\s+([\d.]+) femto", (DATA / "qe" / "md.out").read_text())[1])
    assert t.dt_fs == pytest.approx(printed, abs=5e-5)
    assert QE_RY_TIME_FS == pytest.approx(0.0483776865, rel=1e-9)
    # the input's cell (Å) and positions (crystal)
    np.testing.assert_allclose(t.lattice, [[0, 2.715, 2.715], [2.715, 0, 2.715], [2.715, 2.715, 0]], atol=2e-6)
    np.testing.assert_allclose(t.frac[0], [[0, 0, 0], [0.27, 0.25, 0.24]], atol=1e-6)
    # ase's espresso reader (one image per SCF, so without the last step) as the reference
    ref = ase.io.read(DATA / "qe" / "md.out", index=":", format="espresso-out")
    assert len(ref) == 4
    for k, a in enumerate(ref):
        np.testing.assert_allclose(t.frac[k], a.get_scaled_positions(wrap=False), atol=1e-9)
    assert t.frac[4, 1, 0] == pytest.approx(0.2690500111)  # the last block, read off the file


def test_qe_vc_md_output_written_by_pw():
    import ase.io

    t = read_qe_md(DATA / "qe" / "vcmd.out")
    assert t.n_frames == 4 and t.lattice.shape == (4, 3, 3)
    text = (DATA / "qe" / "vcmd.out").read_text()
    blocks = re.findall(r"CELL_PARAMETERS \(angstrom\)\n(.*?\n.*?\n.*?)\n", text)
    assert len(blocks) == 3
    for k, b in enumerate(blocks, start=1):
        np.testing.assert_allclose(t.lattice[k], np.array(b.split(), float).reshape(3, 3), atol=0)
    ref = ase.io.read(DATA / "qe" / "vcmd.out", index=":", format="espresso-out")
    for k, a in enumerate(ref):
        np.testing.assert_allclose(t.frac[k], a.get_scaled_positions(wrap=False), atol=1e-9)
    # pw.x 6.7 prints no "Time step" for vc-md: the steps' time stamps (0.00097 ps apart) give it
    assert t.dt_fs == pytest.approx(0.9676, rel=0.01) and any("time stamps" in n for n in t.notes)
    assert read_qe_md(DATA / "qe" / "vcmd.out", dt_fs=0.9675537).dt_fs == 0.9675537


def test_truncated_qe_output_names_the_line(tmp_path):
    text = (DATA / "qe" / "md.out").read_text()
    lines = text.splitlines(keepends=True)
    last = max(i for i, line in enumerate(lines) if line.startswith("ATOMIC_POSITIONS"))
    p = tmp_path / "md.out"
    p.write_text("".join(lines[: last + 2]))  # the last block holds one of its two atoms
    with pytest.raises(TrajectoryError, match=rf"md\.out: the file ends at line {last + 2} inside ATOMIC_POSITIONS"):
        read_qe_md(p)
    p.write_text("".join(lines[:30]))
    with pytest.raises(TrajectoryError, match=r"md\.out: the header is incomplete"):
        read_qe_md(p)


# ---- ASE (extxyz, .traj) ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ase_md():
    """A few Velocity Verlet steps of EMT copper, hot enough that atoms move visibly."""
    from ase import units
    from ase.build import bulk
    from ase.calculators.emt import EMT
    from ase.md.verlet import VelocityVerlet

    atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat((2, 2, 2))
    atoms.symbols[:4] = "Au"
    atoms.calc = EMT()
    # 1500 K Maxwell-Boltzmann velocities, drawn directly (the ase helper for it was renamed across versions)
    sigma = np.sqrt(units.kB * 1500 / atoms.get_masses())
    atoms.set_velocities(np.random.default_rng(5).normal(size=(len(atoms), 3)) * sigma[:, None])
    frames = []
    md = VelocityVerlet(atoms, timestep=2 * units.fs)
    md.attach(lambda: frames.append(atoms.copy()), interval=1)
    md.run(6)
    return frames


@pytest.mark.parametrize("fmt,name", [("extxyz", "md.extxyz"), ("traj", "md.traj")])
def test_ase_md_round_trips(tmp_path, ase_md, fmt, name):
    import ase.io

    path = tmp_path / name
    ase.io.write(path, ase_md, format=fmt)
    t = read_ase(path, dt_fs=2.0)
    assert t.n_frames == len(ase_md) == 7 and t.species == ase_md[0].get_chemical_symbols()
    back = ase.io.read(path, index=":")
    for k, a in enumerate(ase_md):
        np.testing.assert_allclose(_cart(t.frac[k], t.lattice), back[k].positions, atol=1e-12)
        # extxyz prints 8 decimals; .traj keeps the float64
        np.testing.assert_allclose(_cart(t.frac[k], t.lattice), a.positions, atol=1e-7 if fmt == "extxyz" else 1e-12)
    assert t.lattice.shape == (3, 3) and t.dt_fs == 2.0
    assert np.abs(t.frac[-1] - t.frac[0]).max() > 1e-3  # the atoms did move
    np.testing.assert_array_equal(read_trajectory(path, dt_fs=2.0, stride=3).frac, t.frac[::3])


def test_extxyz_variable_cell_and_timestep_in_info(tmp_path, ase_md):
    import ase.io

    images = []
    for k, a in enumerate(ase_md):
        b = a.copy()
        b.set_cell(a.cell.array * (1 + 0.005 * k), scale_atoms=True)
        b.info["dt_fs"] = 2.0
        b.info["temperature_K"] = 1500.0
        images.append(b)
    ase.io.write(tmp_path / "npt.extxyz", images, format="extxyz")
    t = read_ase(tmp_path / "npt.extxyz")
    assert t.lattice.shape == (7, 3, 3) and t.dt_fs == 2.0 and t.temperature_K == 1500.0
    for k, b in enumerate(images):
        np.testing.assert_allclose(t.lattice[k], b.cell.array, atol=1e-9)
        np.testing.assert_allclose(_cart(t.frac[k], t.lattice[k]), b.positions, atol=1e-8)


def test_ase_errors(tmp_path, ase_md):
    import ase.io

    ase.io.write(tmp_path / "md.extxyz", ase_md, format="extxyz")
    with pytest.raises(TrajectoryError, match="time between frames is unknown"):
        read_ase(tmp_path / "md.extxyz")
    mol = ase_md[0].copy()
    mol.set_cell(np.zeros((3, 3)))
    mol.pbc = False
    ase.io.write(tmp_path / "mol.xyz", [mol], format="extxyz")
    with pytest.raises(TrajectoryError, match="no periodic cell"):
        read_ase(tmp_path / "mol.xyz", dt_fs=1.0)
    text = (tmp_path / "md.extxyz").read_text()
    (tmp_path / "cut.extxyz").write_text(text[: len(text) * 2 // 3])
    with pytest.raises(TrajectoryError, match=r"cut\.extxyz"):
        read_ase(tmp_path / "cut.extxyz", dt_fs=1.0)


# ---- pymatgen DiffusionAnalyzer JSON ------------------------------------------------------------------

@needs_shared
def test_diffusion_analyzer_json_is_structure_plus_displacements():
    from pymatgen.core import Structure

    d = json.loads(LGPS_JSON.read_text())
    s = Structure.from_dict(d["structure"])
    disp = np.array(d["displacements"])
    t = read_diffusion_analyzer(LGPS_JSON)
    assert t.n_frames == 1000 == disp.shape[1] and t.n_atoms == 50
    assert t.species == [str(x.specie) for x in s]
    assert t.dt_fs == 20.0 and t.temperature_K == 600.0  # 2 fs x step_skip 10
    np.testing.assert_allclose(t.frac[0], s.frac_coords, atol=0)
    np.testing.assert_allclose(t.lattice, s.lattice.matrix, atol=0)
    for k in (1, 137, 999):
        np.testing.assert_allclose(t.frac[k] @ t.lattice, s.cart_coords + disp[:, k], atol=1e-9)


def test_diffusion_analyzer_errors(tmp_path):
    good = {"structure": {"lattice": {"matrix": np.eye(3).tolist()},
                          "sites": [{"abc": [0, 0, 0], "species": [{"element": "Li", "occu": 1}]}]},
            "displacements": [[[0, 0, 0], [0.1, 0, 0]]], "time_step": 2, "step_skip": 5, "temperature": 700,
            "specie": "Li"}
    p = tmp_path / "da.json"
    p.write_text(json.dumps(good))
    t = read_diffusion_analyzer(p)
    assert t.dt_fs == 10.0 and t.frac[1, 0, 0] == pytest.approx(0.1)
    text = p.read_text()
    p.write_text(text[: len(text) // 2])
    with pytest.raises(TrajectoryError, match=r"da\.json: line 1: not valid JSON"):
        read_diffusion_analyzer(p)
    p.write_text(json.dumps({k: v for k, v in good.items() if k != "displacements"}))
    with pytest.raises(TrajectoryError, match="missing displacements"):
        read_diffusion_analyzer(p)
    p.write_text(json.dumps({**good, "displacements": [[[0, 0, 0]], [[0, 0, 0]]]}))
    with pytest.raises(TrajectoryError, match="shape"):
        read_diffusion_analyzer(p)


# ---- dispatch ----------------------------------------------------------------------------------------

def test_detect_format_by_name_and_content(tmp_path):
    assert detect_format(DATA / "cp2k_nvt" / "li2s-md-pos-1.xyz") == "cp2k"
    assert detect_format(DATA / "qe" / "md.out") == "qe"
    assert detect_format(ASE_VASP / "vasprun_pstress.xml") == "vasprun"
    # content decides when the name does not tell
    shutil.copy(DATA / "qe" / "md.out", tmp_path / "pw.log")
    assert detect_format(tmp_path / "pw.log") == "qe"
    shutil.copy(DATA / "cp2k_nvt" / "li2s-md-pos-1.xyz", tmp_path / "positions.txt")
    assert detect_format(tmp_path / "positions.txt") == "cp2k"
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(TrajectoryError, match="unknown trajectory format"):
        read_trajectory(tmp_path / "notes.txt")
    with pytest.raises(TrajectoryError, match="cell does not apply to qe"):
        read_trajectory(DATA / "qe" / "md.out", cell=np.eye(3))
    # None means "not given" for every reader
    assert read_trajectory(DATA / "qe" / "md.out", dt_fs=None, stride=None).n_frames == 5


@pytest.mark.parametrize("src,extra", [
    (DATA / "cp2k_nvt" / "li2s-md-pos-1.xyz", DATA / "cp2k_nvt" / "cp2k.inp"),
    (DATA / "cp2k_npt" / "li2s-npt-1.cell", DATA / "cp2k_npt" / "li2s-npt-pos-1.xyz"),
    (DATA / "qe" / "md.out", None),
    (DATA / "qe" / "vcmd.out", None),
    (ASE_VASP / "vasprun_pstress.xml", None),
], ids=lambda p: p.name if isinstance(p, Path) else "")
def test_any_cut_or_garbled_file_gives_a_trajectory_or_a_trajectory_error(tmp_path, src, extra):
    """Cut, or with one byte changed, at 40 places: the reader returns a trajectory or raises
    TrajectoryError naming the file, never another exception from deep inside."""
    data = src.read_bytes()
    rng = np.random.default_rng(11)
    for k, where in enumerate(np.linspace(0, len(data) - 1, 20).astype(int)):
        for kind in ("cut", "byte"):
            work = tmp_path / f"{k}-{kind}"
            work.mkdir()
            damaged = data[:where] if kind == "cut" else data[:where] + bytes([int(rng.integers(33, 127))]) + data[where + 1:]
            (work / src.name).write_bytes(damaged)
            if extra is not None:
                shutil.copy(extra, work / extra.name)
            target = work / ("li2s-npt-pos-1.xyz" if src.suffix == ".cell" else src.name)
            try:
                read_trajectory(target)
            except TrajectoryError as e:
                assert str(work) in str(e)


# ---- barriers -----------------------------------------------------------------------------------------

def _outcar(energies: list[tuple[float, float, float]], converged: bool = True) -> str:
    """The lines of an OUTCAR the barrier reader uses, as VASP prints them: per electronic
    iteration an energy block (decoys: not converged), and after each ionic step the
    FREE ENERGIE block with TOTEN, energy without entropy and energy(sigma->0)."""
    out = [" vasp.6.3.0 20Jan22 complex\n"]
    for toten, wo, s0 in energies:
        out.append("  Free energy of the ion-electron system (eV)\n  ---------------------------------------------------\n"
                   f"  free energy    TOTEN  =      {toten + 3.0:.8f} eV\n\n"
                   f"  energy without entropy =      {wo + 3.0:.8f}  energy(sigma->0) =      {s0 + 3.0:.8f}\n\n")
        out.append("  FREE ENERGIE OF THE ION-ELECTRON SYSTEM (eV)\n  ---------------------------------------------------\n"
                   f"  free  energy   TOTEN  =      {toten:.8f} eV\n\n"
                   f"  energy  without entropy=      {wo:.8f}  energy(sigma->0) =      {s0:.8f}\n\n")
    if converged:
        out.append(" reached required accuracy - stopping structural energy minimisation\n")
    return "".join(out)


def _neb_geometries(n_images: int = 5, step: float = 0.5):
    """Li hopping along x in a 6 Å cubic cell with two S: image k has Li at x = 5.0 + k*step (wrapped),
    so the hop crosses the cell boundary (minimum image needed); each step moves it `step` Å."""
    from ase import Atoms

    images = []
    for k in range(n_images):
        x = (5.0 + k * step) % 6.0
        images.append(Atoms("LiS2", positions=[[x, 1, 1], [3, 3, 3], [1, 4, 4]], cell=np.eye(3) * 6.0, pbc=True))
    return images


def _write_neb(root: Path, energies: list[float | None], step: float = 0.5, climb: bool = True) -> Path:
    import ase.io

    root.mkdir(parents=True, exist_ok=True)
    (root / "INCAR").write_text(f"IMAGES = {len(energies) - 2}\nSPRING = -5\nLCLIMB = {'.TRUE.' if climb else '.FALSE.'}\n"
                                "IBRION = 3 ; POTIM = 0\n")
    for k, (atoms, e) in enumerate(zip(_neb_geometries(len(energies), step), energies)):
        d = root / f"{k:02d}"
        d.mkdir()
        ase.io.write(d / "POSCAR", atoms, format="vasp", direct=True)
        if e is not None:
            # two ionic steps: the reader must take the last one; sigma0 / TOTEN offset by +0.01 / +0.02
            (d / "OUTCAR").write_text(_outcar([(e + 0.52, e + 0.5, e + 0.51), (e + 0.02, e, e + 0.01)]))
            if 0 < k < len(energies) - 1:
                ase.io.write(d / "CONTCAR", atoms, format="vasp", direct=True)
    return root


def test_vasp_neb_barrier_by_hand(tmp_path):
    e = [-10.0, -9.7, -9.45, -9.8, -10.1]
    res = read_vasp_neb(_write_neb(tmp_path / "neb", e))
    assert res.energies_eV == pytest.approx(e)
    assert res.relative_eV == pytest.approx([0.0, 0.3, 0.55, 0.2, -0.1])
    assert res.barrier_eV == pytest.approx(0.55)
    assert res.backward_barrier_eV == pytest.approx(0.65)
    assert res.reaction_energy_eV == pytest.approx(-0.1)
    assert res.highest_image == 2 and res.climbing is True and res.climbing_image == 2
    # Li moves 0.5 Å per image, across the cell boundary between images 2 and 3
    assert res.reaction_coordinate_A == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0], abs=1e-6)
    # the other OUTCAR energies: energy(sigma->0) and TOTEN
    assert read_vasp_neb(tmp_path / "neb", energy="sigma0").energies_eV == pytest.approx([x + 0.01 for x in e])
    assert read_vasp_neb(tmp_path / "neb", energy="toten").barrier_eV == pytest.approx(0.55)
    d = res.to_dict()
    assert d["barrier_eV"] == pytest.approx(0.55) and len(d["images"]) == 5
    assert outcar_final_energy(tmp_path / "neb" / "01" / "OUTCAR").ionic_steps == 2


def test_vasp_neb_endpoints_from_relaxations_beside_it(tmp_path):
    import ase.io

    e = [None, -9.7, -9.45, -9.8, None]
    neb = _write_neb(tmp_path / "neb", e)
    res = read_vasp_neb(neb)
    assert res.energies_eV[0] is None and res.barrier_eV is None and res.backward_barrier_eV is None
    assert any("initial state's energy is unknown" in n for n in res.notes)
    geoms = _neb_geometries(5)
    for name, atoms, energy in (("initial", geoms[0], -10.0), ("final", geoms[-1], -10.1)):
        d = tmp_path / name
        d.mkdir()
        ase.io.write(d / "CONTCAR", atoms, format="vasp", direct=True)
        (d / "OUTCAR").write_text(_outcar([(energy + 0.3, energy + 0.3, energy + 0.3), (energy, energy, energy)]))
    res = read_vasp_neb(neb)
    assert res.barrier_eV == pytest.approx(0.55) and res.backward_barrier_eV == pytest.approx(0.65)
    assert res.images[0].energy_from.endswith("initial/OUTCAR")
    # a relaxation of another geometry is not taken for the end point
    moved = geoms[-1].copy()
    moved.positions[0, 1] += 0.3
    ase.io.write(tmp_path / "final" / "CONTCAR", moved, format="vasp", direct=True)
    assert read_vasp_neb(neb).images[-1].energy_eV is None
    # given explicitly
    assert read_vasp_neb(neb, final=-10.1).backward_barrier_eV == pytest.approx(0.65)


def test_vasp_neb_errors(tmp_path):
    neb = _write_neb(tmp_path / "neb", [-10.0, -9.7, -9.45, -9.8, -10.1])
    (neb / "02" / "OUTCAR").unlink()
    with pytest.raises(BarrierError, match=r"02: no OUTCAR"):
        read_vasp_neb(neb)
    (neb / "02" / "OUTCAR").write_text(" vasp.6.3.0\n  free energy    TOTEN  =   -9.1 eV\n")  # cut in its first SCF
    with pytest.raises(BarrierError, match=r"02/OUTCAR: no finished ionic step"):
        read_vasp_neb(neb)
    shutil.rmtree(neb / "03")
    with pytest.raises(BarrierError, match="image folder 03 is missing"):
        read_vasp_neb(neb)
    with pytest.raises(BarrierError, match="not a folder"):
        read_vasp_neb(tmp_path / "nothing")
    with pytest.raises(BarrierError, match="energy must be one of"):
        read_vasp_neb(neb, energy="free")


def test_neb_deck_written_by_sselang_reads_back(tmp_path):
    """The VASP NEB folder compile writes (00..04/POSCAR, INCAR with LCLIMB), with OUTCARs
    added as a finished run leaves them: the reaction coordinate is checked against pymatgen's
    periodic shortest vectors between the deck's own POSCARs."""
    from pymatgen.io.vasp import Poscar
    from pymatgen.util.coord import pbc_shortest_vectors

    from sselang.decks import DeckRequest, vasp
    from sselang.neb import find_hop
    from test_cp2k_decks import li2s

    hop = find_hop(li2s(), "Li", "a", images=3)
    files = vasp.render(DeckRequest("neb", hop.initial, {
        "images": 3, "climb": True, "image_structures": hop.images, "final_structure": hop.final,
        "species": "Li", "hop_distance": hop.distance, "direction": "a"}, "li2s-hop"))
    neb = tmp_path / "neb-li2s"
    for name, text in files.items():
        (neb / name).parent.mkdir(parents=True, exist_ok=True)
        (neb / name).write_text(text)
    energies = [-60.25, -60.01, -59.87, -60.02, -60.24]
    for k, e in enumerate(energies):
        (neb / f"{k:02d}" / "OUTCAR").write_text(_outcar([(e + 0.4, e + 0.4, e + 0.4), (e, e, e)]))
    res = read_vasp_neb(neb)
    assert res.climbing is True and res.climbing_image == 2
    assert res.barrier_eV == pytest.approx(0.38) and res.backward_barrier_eV == pytest.approx(0.37)
    path = [Poscar.from_str((neb / f"{k:02d}" / "POSCAR").read_text()).structure for k in range(5)]
    expected = [0.0]
    for a, b in zip(path, path[1:]):
        vecs = np.array([pbc_shortest_vectors(a.lattice, fa, fb)[0, 0] for fa, fb in zip(a.frac_coords, b.frac_coords)])
        expected.append(expected[-1] + float(np.sqrt((vecs ** 2).sum())))
    assert res.reaction_coordinate_A == pytest.approx(expected, abs=1e-9)
    assert res.reaction_coordinate_A[-1] >= hop.distance - 1e-9


def test_ase_neb_matches_nebtools(tmp_path):
    from ase.build import add_adsorbate, fcc100
    from ase.calculators.emt import EMT
    from ase.constraints import FixAtoms
    from ase.mep import NEB, NEBTools
    from ase.optimize import BFGS
    from ase.utils.forcecurve import fit_images

    import ase.io

    # ase's own tutorial system: an Au adatom hopping between hollow sites on Al(100)
    slab = fcc100("Al", size=(2, 2, 3))
    add_adsorbate(slab, "Au", 1.7, "hollow")
    slab.center(axis=2, vacuum=4.0)
    slab.set_constraint(FixAtoms(mask=[a.tag > 1 for a in slab]))
    slab.calc = EMT()
    BFGS(slab, logfile=None).run(fmax=0.05)
    final = slab.copy()
    final[-1].x += slab.get_cell()[0, 0] / 2
    final.calc = EMT()
    BFGS(final, logfile=None).run(fmax=0.05)
    images = [slab] + [slab.copy() for _ in range(3)] + [final]
    for im in images[1:-1]:
        im.calc = EMT()
    neb = NEB(images, climb=True, method="improvedtangent")
    neb.interpolate()
    BFGS(neb, trajectory=str(tmp_path / "neb.traj"), logfile=None).run(fmax=0.1, steps=30)

    res = read_ase_neb(tmp_path / "neb.traj")
    band = ase.io.read(tmp_path / "neb.traj", index="-5:")
    barrier, delta = NEBTools(band).get_barrier(fit=False)
    assert res.barrier_eV == pytest.approx(barrier, abs=1e-12)
    assert res.reaction_energy_eV == pytest.approx(delta, abs=1e-12)
    assert res.reaction_coordinate_A == pytest.approx(list(fit_images(band).path), abs=1e-9)
    assert len(res.images) == 5 and res.highest_image == 2  # the symmetric hop peaks in the middle
    assert read_neb(tmp_path / "neb.traj", nimages=5).barrier_eV == pytest.approx(barrier)
    with pytest.raises(BarrierError, match="whole bands of 4"):
        read_ase_neb(tmp_path / "neb.traj", nimages=4)


# ---- command line ---------------------------------------------------------------------------------------

def test_cli_analyze_diffusion_refuses_a_run_too_short_to_fit(tmp_path):
    # five frames of pw.x md: read fine, but no diffusive window fits in them
    r = CliRunner().invoke(cli, ["analyze", "diffusion", str(DATA / "qe" / "md.out"), "--species", "Si",
                                 "--charge", "4", "--temperature", "300", "--json"])
    assert r.exit_code == 1
    assert "md.out: 5 frames are too few for a diffusion fit" in r.stderr and "Traceback" not in r.output


@needs_shared
def test_cli_analyze_diffusion_on_shared_runs():
    r = CliRunner().invoke(cli, ["analyze", "diffusion", str(LGPS_JSON), str(CL_XDATCAR), "--timestep", "20",
                                 "--timestep", "100", "--temperature", "600", "--temperature", "500"])
    assert r.exit_code == 0, r.output
    assert "1000 frames x 50 atoms, 20 fs apart" in r.stdout and "140 frames x 416 atoms, 100 fs apart" in r.stdout
    assert re.search(r"Li: D = [\d.e+-]+ \+- [\d.e+-]+ cm\^2/s", r.stdout)


def test_cli_user_errors_have_no_traceback(tmp_path):
    runner = CliRunner()
    r = runner.invoke(cli, ["analyze", "diffusion", str(tmp_path / "missing.xyz")])
    assert r.exit_code == 1 and "missing.xyz: no such file" in r.stderr and "Traceback" not in r.output
    r = runner.invoke(cli, ["analyze", "diffusion", str(DATA / "qe" / "md.out"), str(DATA / "qe" / "vcmd.out"),
                            "--timestep", "1", "--timestep", "2", "--timestep", "3"])
    assert r.exit_code == 2 and "once per file" in r.output
    r = runner.invoke(cli, ["analyze", "barrier", str(tmp_path)])
    assert r.exit_code == 1 and "0 image folders" in r.stderr and "Traceback" not in r.output
    assert isinstance(r.exception, SystemExit)  # a clean exit, not an exception escaping the command


def test_cli_analyze_barrier(tmp_path):
    neb = _write_neb(tmp_path / "neb", [-10.0, -9.7, -9.45, -9.8, -10.1])
    r = CliRunner().invoke(cli, ["analyze", "barrier", str(neb)])
    assert r.exit_code == 0, r.output
    assert "forward barrier 0.550 eV (image 2, climbing image); backward barrier 0.650 eV" in r.stdout
    r = CliRunner().invoke(cli, ["analyze", "barrier", str(neb), "--json"])
    assert json.loads(r.stdout)["barrier_eV"] == pytest.approx(0.55)
    neb2 = _write_neb(tmp_path / "neb2", [None, -9.7, -9.45, -9.8, -10.1])
    r = CliRunner().invoke(cli, ["analyze", "barrier", str(neb2)])
    assert r.exit_code == 1 and "forward barrier unknown" in r.stdout
    r = CliRunner().invoke(cli, ["analyze", "barrier", str(neb2), "--initial", "-10.0"])
    assert r.exit_code == 0 and "forward barrier 0.550 eV" in r.stdout
