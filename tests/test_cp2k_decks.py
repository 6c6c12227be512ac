"""CP2K decks: rendered text checked structurally, and -- when a cp2k binary is installed
(Debian: apt-get install cp2k cp2k-data) -- actually run for a few MD / GEO_OPT steps."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from sselang.decks import DeckRequest
from sselang.decks import cp2k

A_LI2S = 5.708  # Å, antifluorite Li2S


def li2s(conventional: bool = True) -> Structure:
    s = Structure.from_spacegroup("Fm-3m", Lattice.cubic(A_LI2S), ["Li", "S"], [[0.25, 0.25, 0.25], [0, 0, 0]])
    assert len(s) == 12 and s.composition.reduced_formula == "Li2S"
    return s if conventional else s.get_primitive_structure()


def deck(kind="relax", structure=None, settings=None, title="li2s") -> str:
    files = cp2k.render(DeckRequest(kind, structure if structure is not None else li2s(), settings or {}, title))
    assert list(files) == ["cp2k.inp"]
    return files["cp2k.inp"]


MD = {"steps": 3, "temperature_K": 300}


# ---- a small reader of CP2K input: sections, keywords, comments -----------------------
def parse(text: str) -> dict:
    """{'name', 'param', 'keywords': [(KEY, rest)], 'sections': [...]} of the whole input;
    fails on an unbalanced &SECTION / &END."""
    root = {"name": "ROOT", "param": "", "keywords": [], "sections": []}
    stack = [root]
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        if line.upper().startswith("&END"):
            name = line[4:].strip().upper()
            assert len(stack) > 1, f"&END without a section: {raw!r}"
            assert not name or name == stack[-1]["name"], f"{raw!r} closes {stack[-1]['name']}"
            stack.pop()
        elif line.startswith("&"):
            name, _, param = line[1:].partition(" ")
            sec = {"name": name.upper(), "param": param.strip(), "keywords": [], "sections": []}
            stack[-1]["sections"].append(sec)
            stack.append(sec)
        else:
            key, _, rest = line.partition(" ")
            stack[-1]["keywords"].append((key.upper(), rest.strip()))
    assert len(stack) == 1, f"unclosed sections: {[s['name'] for s in stack[1:]]}"
    return root


def sections(node: dict, path: str) -> list[dict]:
    found = [node]
    for name in path.split("/"):
        found = [c for n in found for c in n["sections"] if c["name"] == name]
    return found


def section(node: dict, path: str) -> dict:
    (one,) = sections(node, path)
    return one


def keyword(sec: dict, key: str) -> str:
    values = [v for k, v in sec["keywords"] if k == key]
    assert len(values) == 1, f"{key} in &{sec['name']}: {values}"
    return values[0]


def header(text: str) -> str:
    """The comment block, wrapped lines joined with single spaces."""
    lines = [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")]
    return " ".join(line for line in lines if line)


# ---- (a) structure of the rendered decks ------------------------------------------------
@pytest.mark.parametrize("conventional", [True, False], ids=["12-atom", "3-atom"])
def test_relax_deck_structure(conventional):
    s = li2s(conventional)
    text = deck("relax", s)
    assert text.isascii()
    tree = parse(text)
    assert keyword(section(tree, "GLOBAL"), "RUN_TYPE") == "GEO_OPT"
    assert keyword(section(tree, "GLOBAL"), "PROJECT_NAME") == "li2s"
    assert section(tree, "FORCE_EVAL")["keywords"] == [("METHOD", "Quickstep")]
    dft = section(tree, "FORCE_EVAL/DFT")
    assert keyword(dft, "BASIS_SET_FILE_NAME") == "BASIS_MOLOPT"
    assert keyword(dft, "POTENTIAL_FILE_NAME") == "GTH_POTENTIALS"
    assert "UKS" not in dict(dft["keywords"])
    mgrid = section(dft, "MGRID")
    assert float(keyword(mgrid, "CUTOFF")) == 400 and float(keyword(mgrid, "REL_CUTOFF")) == 60
    assert section(dft, "SCF/OT")["param"] == "ON"
    assert keyword(section(dft, "XC/XC_FUNCTIONAL/PBE"), "PARAMETRIZATION") == "ORIG"
    assert not sections(dft, "KPOINTS")  # Gamma point
    geo = section(tree, "MOTION/GEO_OPT")
    assert keyword(geo, "OPTIMIZER") == "BFGS" and keyword(geo, "MAX_ITER") == "200"
    assert not sections(tree, "MOTION/MD")

    # one KIND per element, basis and potential of the same valence
    kinds = {k["param"]: k for k in sections(tree, "FORCE_EVAL/SUBSYS/KIND")}
    assert sorted(kinds) == ["Li", "S"]
    assert keyword(kinds["Li"], "BASIS_SET") == "DZVP-MOLOPT-SR-GTH-q3"
    assert keyword(kinds["Li"], "POTENTIAL") == "GTH-PBE-q3"
    assert keyword(kinds["S"], "BASIS_SET") == "DZVP-MOLOPT-SR-GTH-q6"
    assert keyword(kinds["S"], "POTENTIAL") == "GTH-PBE-q6"

    # the cell is the structure's, in Å
    cell = section(tree, "FORCE_EVAL/SUBSYS/CELL")
    vectors = np.array([[float(x) for x in keyword(cell, v).split()] for v in "ABC"])
    np.testing.assert_allclose(vectors, s.lattice.matrix, atol=1e-9)
    assert keyword(cell, "PERIODIC") == "XYZ"

    # Cartesian coordinates, one line per site, in the structure's order
    coord = section(tree, "FORCE_EVAL/SUBSYS/COORD")
    assert keyword(coord, "UNIT") == "angstrom" and keyword(coord, "SCALED") == "FALSE"
    atoms = [(k, v) for k, v in coord["keywords"] if k not in ("UNIT", "SCALED")]
    assert [k.capitalize() for k, _ in atoms] == [site.specie.symbol for site in s]
    xyz = np.array([[float(x) for x in v.split()] for _, v in atoms])
    np.testing.assert_allclose(xyz, s.cart_coords, atol=1e-9)

    # every default is in the comment block, with a reason, one line each (plan.py lists them)
    head = header(text)
    lines = text.splitlines()
    start = lines.index("# Defaults used, with their reasons, one per line (settings you gave are not listed):")
    listed = lines[start + 1:lines.index("#", start)]
    assert len(listed) >= 9 and all(re.fullmatch(r"#   \S.*: \S.*", line) for line in listed), listed
    assert any(line.startswith("#   CUTOFF 400 Ry: ") and line.endswith("check the convergence") for line in listed)
    for default in ("CUTOFF 400 Ry:", "REL_CUTOFF 60 Ry:", "functional PBE:", "potential GTH-PBE:",
                    "basis DZVP-MOLOPT-SR-GTH", "spin false", "EPS_DEFAULT 1e-10:", "GEO_OPT MAX_ITER 200:",
                    "Gamma point only"):
        assert default in head, default
    width = min(s.lattice.volume / np.linalg.norm(np.cross(*np.delete(s.lattice.matrix, i, 0))) for i in range(3))
    assert f"this cell is only {width:.2f} A across" in head  # flagged: too small for Gamma-only sampling


def test_md_deck_structure():
    text = deck("md", settings=MD)
    tree = parse(text)
    assert keyword(section(tree, "GLOBAL"), "RUN_TYPE") == "MD"
    md = section(tree, "MOTION/MD")
    assert keyword(md, "ENSEMBLE") == "NVT"
    assert int(keyword(md, "STEPS")) == 3
    assert float(keyword(md, "TIMESTEP")) == 2.0
    assert float(keyword(md, "TEMPERATURE")) == 300.0
    thermostat = section(md, "THERMOSTAT")
    assert keyword(thermostat, "TYPE") == "CSVR"
    assert float(keyword(section(thermostat, "CSVR"), "TIMECON")) == 100.0
    assert not sections(tree, "MOTION/GEO_OPT")
    assert keyword(section(tree, "FORCE_EVAL/DFT/QS"), "EPS_DEFAULT") == "1.0E-12"
    head = header(text)
    for default in ("TIMESTEP 2.0 fs:", "THERMOSTAT CSVR:", "EPS_DEFAULT 1e-12:"):
        assert default in head, default

    nose = parse(deck("md", settings={**MD, "thermostat": "nose", "timestep_fs": 1.0}))
    thermostat = section(nose, "MOTION/MD/THERMOSTAT")
    assert keyword(thermostat, "TYPE") == "NOSE"
    assert int(keyword(section(thermostat, "NOSE"), "LENGTH")) == 3
    assert float(keyword(section(nose, "MOTION/MD"), "TIMESTEP")) == 1.0


def test_user_settings_win_and_are_not_listed_as_defaults():
    text = deck("relax", settings={"cutoff_Ry": 250, "functional": "PBEsol", "max_steps": 2, "spin": True})
    tree = parse(text)
    assert float(keyword(section(tree, "FORCE_EVAL/DFT/MGRID"), "CUTOFF")) == 250
    assert keyword(section(tree, "FORCE_EVAL/DFT/XC/XC_FUNCTIONAL/PBE"), "PARAMETRIZATION") == "PBESOL"
    assert keyword(section(tree, "MOTION/GEO_OPT"), "MAX_ITER") == "2"
    dft = section(tree, "FORCE_EVAL/DFT")
    assert keyword(dft, "UKS") == "TRUE" and keyword(dft, "MULTIPLICITY") == "1"
    head = header(text)
    assert "CUTOFF 400" not in head and "functional PBE:" not in head and "MAX_ITER 200" not in head
    assert "PBEsol potentials for boron only" in head  # why GTH-PBE with PBEsol

    # the language's engine settings: cutoff in eV (canonical), basis / potential families
    tree = parse(deck("relax", settings={"cutoff": 400 * cp2k.RY_IN_EV, "cutoff_unit": "eV",
                                         "rel_cutoff": 50 * cp2k.RY_IN_EV, "rel_cutoff_unit": "eV",
                                         "basis": "DZVP-MOLOPT-SR-GTH", "potential": "GTH-PBE"}))
    mgrid = section(tree, "FORCE_EVAL/DFT/MGRID")
    assert float(keyword(mgrid, "CUTOFF")) == 400 and float(keyword(mgrid, "REL_CUTOFF")) == 50


def _mixed() -> Structure:
    """Not a real compound: one site each of Li, P, S, Cl plus a second Li (even electron count)."""
    return Structure(Lattice.cubic(10.5), ["Li", "Li", "P", "S", "Cl"],
                     [[0, 0, 0], [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], [0.25, 0.5, 0.25], [0.75, 0.75, 0.1]])


def test_valence_per_element():
    tree = parse(deck("relax", _mixed()))
    kinds = {k["param"]: (keyword(k, "BASIS_SET"), keyword(k, "POTENTIAL")) for k in
             sections(tree, "FORCE_EVAL/SUBSYS/KIND")}
    assert kinds == {
        "Li": ("DZVP-MOLOPT-SR-GTH-q3", "GTH-PBE-q3"),
        "P": ("DZVP-MOLOPT-SR-GTH-q5", "GTH-PBE-q5"),
        "S": ("DZVP-MOLOPT-SR-GTH-q6", "GTH-PBE-q6"),
        "Cl": ("DZVP-MOLOPT-SR-GTH-q7", "GTH-PBE-q7"),
    }
    assert "NOTE: this cell" not in deck("relax", _mixed())  # 10.5 Å across: no Gamma-point note


def test_la_comes_from_the_ucl_basis_file():
    s = Structure(Lattice.cubic(10.0), ["La", "Li", "O", "O"], [[0, 0, 0], [0.5, 0.5, 0.5], [0.25, 0, 0], [0, 0.25, 0]])
    tree = parse(deck("relax", s))
    files = [v for k, v in section(tree, "FORCE_EVAL/DFT")["keywords"] if k == "BASIS_SET_FILE_NAME"]
    assert files == ["BASIS_MOLOPT", "BASIS_MOLOPT_UCL"]
    la = next(k for k in sections(tree, "FORCE_EVAL/SUBSYS/KIND") if k["param"] == "La")
    assert keyword(la, "BASIS_SET") == "DZVP-MOLOPT-SR-GTH-q11" and keyword(la, "POTENTIAL") == "GTH-PBE-q11"


def test_odd_electron_count_needs_spin():
    s = Structure(Lattice.cubic(10.0), ["Li"], [[0, 0, 0]])
    with pytest.raises(ValueError, match="odd"):
        deck("relax", s)
    dft = section(parse(deck("relax", s, settings={"spin": True})), "FORCE_EVAL/DFT")
    assert keyword(dft, "UKS") == "TRUE" and keyword(dft, "MULTIPLICITY") == "2"


def test_installed_library_matches_the_built_in_table():
    if not (Path(cp2k.DEBIAN_DATA_DIR) / "BASIS_MOLOPT").is_file():
        pytest.skip("cp2k-data is not installed")
    assert cp2k._fallback_table(cp2k.DEBIAN_DATA_DIR) == cp2k._FALLBACK


def test_without_data_files_the_built_in_table_is_used(tmp_path, monkeypatch):
    monkeypatch.setenv("CP2K_DATA_DIR", str(tmp_path))
    text = deck("relax")
    assert "table of cp2k-data 2023.1" in header(text)
    kinds = {k["param"]: keyword(k, "POTENTIAL") for k in sections(parse(text), "FORCE_EVAL/SUBSYS/KIND")}
    assert kinds == {"Li": "GTH-PBE-q3", "S": "GTH-PBE-q6"}
    with pytest.raises(ValueError, match="data_dir"):
        deck("relax", settings={"data_dir": str(tmp_path)})


def test_explicit_data_dir_is_written_as_absolute_paths():
    if not (Path(cp2k.DEBIAN_DATA_DIR) / "BASIS_MOLOPT").is_file():
        pytest.skip("cp2k-data is not installed")
    dft = section(parse(deck("relax", settings={"data_dir": cp2k.DEBIAN_DATA_DIR})), "FORCE_EVAL/DFT")
    assert keyword(dft, "BASIS_SET_FILE_NAME") == f"{cp2k.DEBIAN_DATA_DIR}/BASIS_MOLOPT"
    assert keyword(dft, "POTENTIAL_FILE_NAME") == f"{cp2k.DEBIAN_DATA_DIR}/GTH_POTENTIALS"


# ---- (b) names from the user never inject lines -----------------------------------------
@pytest.mark.parametrize("title", ["li2s\n&END FORCE_EVAL", "li2s\r", "a b", "", "x" * 41, "li2s#", "&GLOBAL"])
def test_bad_title_raises(title):
    with pytest.raises(ValueError, match="title"):
        deck("relax", title=title)


@pytest.mark.parametrize("settings", [
    {"functional": "PBE\n&END DFT"},
    {"functional": "B3LYP"},
    {"basis": "DZVP-MOLOPT-SR-GTH\n  UKS TRUE"},
    {"potential": "GTH-PBE MULTIPLICITY"},
    {"data_dir": "/usr/share/cp2k\n&END"},
    {"cutoff_Ry": "400\n&END"},
    {"cutoff_Ry": -1},
    {"spin": "yes"},
    {"max_steps": 2.5},
])
def test_bad_settings_raise(settings):
    with pytest.raises(ValueError):
        deck("relax", settings=settings)


@pytest.mark.parametrize("settings", [{**MD, "thermostat": "berendsen"}, {"steps": 3}, {"temperature_K": 300},
                                      {**MD, "ensemble": "npt"}])
def test_bad_md_settings_raise(settings):
    with pytest.raises(ValueError):
        deck("md", settings=settings)


def test_non_elements_and_other_kinds_raise():
    from pymatgen.core.periodic_table import DummySpecies

    s = Structure(Lattice.cubic(5.0), [DummySpecies("X"), "Li"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(ValueError, match="not a chemical element"):
        deck("relax", s)
    with pytest.raises(ValueError, match="kind"):
        deck("static")


# ---- (c) run the decks ------------------------------------------------------------------
ENERGY = re.compile(r"^ ENERGY\| Total FORCE_EVAL \( QS \) energy \[a\.u\.\]:\s+(-?\d+\.\d+)", re.M)
# small numerics so that each run stays well under a minute on 2 cores: the grids for 250 Ry
# and 300 Ry are the same for this cell; REL_CUTOFF 40 and EPS_DEFAULT 1e-10 roughly halve
# the time spent on the grids (the run is a smoke test of the deck, not a converged result)
FAST = {"cutoff_Ry": 250, "rel_cutoff_Ry": 40, "eps_default": 1e-10}


def _binary() -> str | None:
    for name in ("cp2k.ssmp", "cp2k.psmp", "cp2k"):
        if shutil.which(name):
            return name
    return None


needs_cp2k = pytest.mark.skipif(_binary() is None, reason="no cp2k binary on PATH (apt-get install cp2k cp2k-data)")


def _run(text: str, where: Path) -> tuple[str, float]:
    (where / "cp2k.inp").write_text(text)
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    start = time.monotonic()
    proc = subprocess.run([_binary(), "-i", "cp2k.inp", "-o", "out"], cwd=where, env=env,
                          capture_output=True, text=True, timeout=600)
    seconds = time.monotonic() - start
    out = (where / "out").read_text() if (where / "out").is_file() else ""
    assert proc.returncode == 0, f"cp2k failed ({proc.returncode}):\n{proc.stderr[-2000:]}\n{out[-3000:]}"
    assert "PROGRAM ENDED" in out, out[-3000:]
    print(f"cp2k ({_binary()}, 2 threads): {seconds:.1f} s")
    return out, seconds


@needs_cp2k
def test_md_deck_runs(tmp_path):
    out, _ = _run(deck("md", settings={**MD, **FAST}, title="li2s-md"), tmp_path)
    energies = [float(e) for e in ENERGY.findall(out)]
    assert len(energies) == 4  # the start and 3 MD steps
    assert all(-102 < e < -100 for e in energies)  # hartree, 12-atom Li2S
    # the energy file has steps 0..3 with the same potential energies
    rows = [line.split() for line in (tmp_path / "li2s-md-1.ener").read_text().splitlines()
            if line.strip() and not line.startswith("#")]
    assert [int(r[0]) for r in rows] == [0, 1, 2, 3]
    np.testing.assert_allclose([float(r[4]) for r in rows], energies, atol=1e-8)
    assert (tmp_path / "li2s-md-pos-1.xyz").is_file()
    # the trajectory this CP2K wrote reads back: cell and temperature from the deck, 2 fs per frame
    from sselang.transport.readers import read_cp2k_xyz

    traj = read_cp2k_xyz(tmp_path / "li2s-md-pos-1.xyz")
    assert traj.n_frames == 4 and traj.dt_fs == pytest.approx(2.0) and traj.temperature_K == 300.0
    np.testing.assert_allclose(traj.frac[0], li2s().frac_coords, atol=1e-9)


@needs_cp2k
def test_geo_opt_deck_runs(tmp_path):
    # ideal antifluorite has no forces (BFGS would stop after one step): displace the atoms
    s = li2s()
    shifts = np.random.default_rng(7).uniform(-0.08, 0.08, size=(len(s), 3))
    for i, d in enumerate(shifts):
        s.translate_sites([i], d, frac_coords=False, to_unit_cell=True)
    out, _ = _run(deck("relax", s, settings={**FAST, "max_steps": 2}, title="li2s-opt"), tmp_path)
    energies = [float(e) for e in ENERGY.findall(out)]
    assert len(energies) >= 3 and all(-102 < e < -100 for e in energies)  # start + 2 steps (+ line searches)
    assert energies[-1] < energies[0]  # BFGS went downhill
    steps = [int(n) for n in re.findall(r"OPTIMIZATION STEP:\s+(\d+)", out)]
    assert steps == [1, 2]
    assert "MAXIMUM NUMBER OF OPTIMIZATION STEPS REACHED" in out
