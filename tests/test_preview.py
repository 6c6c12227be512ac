"""ML-potential previews (sselang/run/preview.py): relaxation against the bundled
dataset, MD trajectories read back by sselang's and pymatgen's XDATCAR readers with
the time between frames taken from preview-md.json, determinism and resuming."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from sselang.plan import Calculation
from sselang.run import preview
from sselang.run.preview import PreviewUnavailable, PreviewUnsupported, run_calculation
from sselang.transport.readers import read_xdatcar

needs_chgnet = pytest.mark.skipif(not preview.available(), reason="needs torch and chgnet")


def _opts(**kw):
    return SimpleNamespace(**{"duration_ps": None, "steps": None, "quiet": True, **kw})


def _doc(s):
    from sselang.data.ml import structure_doc

    return structure_doc(s)


def _li2s():
    from sselang.data.library import build, phases

    return build(phases()["Li2S"])


def _md_calc(steps=100):
    return Calculation("md-Li2S-1000K-vasp-test", "md", "Li2S", "vasp",
                       {"temperature_K": 1000.0, "timestep_fs": 2.0, "steps": steps, "supercell": [1, 1, 1],
                        "equilibrate_ps": 0.0}, _doc(_li2s()), "test")


@pytest.fixture(scope="module")
def md_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("md")
    calls = []
    res = run_calculation(_md_calc(), d, _opts(progress=lambda done, total: calls.append((done, total))))
    return d, res, calls


@needs_chgnet
def test_relax_reproduces_the_bundled_li2s_energy(tmp_path):
    from pymatgen.io.vasp import Poscar

    from sselang.data.thermo import bundled_document

    ref = next(e for e in bundled_document()["entries"] if e["name"] == "Li2S")
    prim = _li2s().get_primitive_structure(tolerance=0.01).get_sorted_structure()
    strained = prim.copy()
    strained.scale_lattice(prim.volume * 1.08)  # the relaxation has to do work to get back
    calc = Calculation("relax-Li2S-vasp-test", "relax", "Li2S", "vasp", {}, _doc(strained), "test")
    res = run_calculation(calc, tmp_path, _opts())
    assert res["converged"] and res["steps"] > 3
    assert res["energy_per_atom_eV"] == pytest.approx(ref["energy_per_atom_eV"], abs=0.005)
    assert res["energy_eV"] == pytest.approx(res["energy_per_atom_eV"] * 3, abs=1e-5)
    assert res["volume_change"] < -0.04  # back from +8 % towards the bundled cell
    final = Poscar.from_file(tmp_path / "CONTCAR").structure
    assert final.volume == pytest.approx(res["volume_A3"], rel=1e-4)
    assert final.composition.reduced_formula == "Li2S"
    assert json.loads((tmp_path / "preview-relax.json").read_text())["energy_eV"] == res["energy_eV"]


@needs_chgnet
def test_static_energy_of_the_relaxed_cell(tmp_path):
    from sselang.data.thermo import _structure, bundled_document

    ref = next(e for e in bundled_document()["entries"] if e["name"] == "Li2S")
    calc = Calculation("static-Li2S-vasp-test", "static", "Li2S", "vasp", {}, _doc(_structure(ref["structure"])), "t")
    res = run_calculation(calc, tmp_path, _opts())
    assert res["energy_per_atom_eV"] == pytest.approx(ref["energy_per_atom_eV"], abs=1e-3)
    assert (tmp_path / "preview-static.json").is_file()


@needs_chgnet
def test_md_xdatcar_read_by_both_readers_with_its_timestep(md_run):
    from pymatgen.io.vasp import Xdatcar

    d, res, calls = md_run
    # a compiled VASP INCAR (NBLOCK 1) beside it must not decide the time between the preview's frames
    (d / "INCAR").write_text("IBRION = 0\nPOTIM = 2.0\nTEBEG = 1000\nNSW = 5000\n")
    traj = read_xdatcar(d / "XDATCAR")
    assert traj.dt_fs == pytest.approx(20.0)  # POTIM 2 fs x NBLOCK 10, from preview-md.json
    assert traj.temperature_K == pytest.approx(1000.0)
    assert traj.frac.shape == (10, 12, 3) and res["frames"] == 10 and res["steps"] == 100
    assert traj.species == ["S"] * 4 + ["Li"] * 8
    pmg = Xdatcar(str(d / "XDATCAR"))
    assert len(pmg.structures) == 10
    np.testing.assert_allclose(np.array([s.frac_coords for s in pmg.structures]), traj.frac, atol=1e-12)
    assert calls[-1] == (100, 100) and (50, 100) in calls


@needs_chgnet
def test_md_frames_are_the_dynamics_frames_and_the_temperature_is_sane(md_run):
    """The energy CHGNet gives each stored frame is the potential energy the dynamics
    recorded at that step: the XDATCAR holds the trajectory's own positions."""
    from ase import Atoms

    d, res, _ = md_run
    traj = read_xdatcar(d / "XDATCAR")
    calc = preview._calculator()
    for i in (0, 4, 9):
        atoms = Atoms(traj.species, scaled_positions=traj.frac[i], cell=traj.lattice, pbc=True)
        atoms.calc = calc
        assert atoms.get_potential_energy() == pytest.approx(res["energies"]["potential_eV"][i], abs=2e-3)
    temps = res["energies"]["temperature_K"][2:]  # equipartition halves the initial kinetic energy at first
    assert 600 < np.mean(temps) < 1400
    assert all(t > e for t, e in zip(res["energies"]["total_eV"], res["energies"]["potential_eV"]))


@needs_chgnet
def test_md_is_deterministic(md_run, tmp_path):
    d, _, _ = md_run
    run_calculation(_md_calc(), tmp_path, _opts())
    # CHGNet on CPU gives bit-identical forces for the same input, so the same seed gives the same file
    assert (tmp_path / "XDATCAR").read_bytes() == (d / "XDATCAR").read_bytes()


@needs_chgnet
def test_md_resumes_after_a_killed_run(md_run, tmp_path):
    d, full, _ = md_run
    lines = (d / "XDATCAR").read_text().splitlines(keepends=True)
    per = 13  # configuration line + 12 atoms
    # a run killed inside frame 6, whose json was last saved after frame 4
    (tmp_path / "XDATCAR").write_text("".join(lines[: 7 + 5 * per + 4]) + "  0.1234")
    meta = dict(full, finished=False, steps=40, frames=4,
                energies={k: v[:4] for k, v in full["energies"].items()})
    (tmp_path / "preview-md.json").write_text(json.dumps(meta))
    res = run_calculation(_md_calc(), tmp_path, _opts())
    assert res["finished"] and res["frames"] == 10 and res["resumed"][0]["at_step"] == 40
    traj = read_xdatcar(tmp_path / "XDATCAR")
    assert traj.frac.shape == (10, 12, 3)
    ref = read_xdatcar(d / "XDATCAR")
    np.testing.assert_array_equal(traj.frac[:4], ref.frac[:4])  # the kept frames are untouched
    assert res["energies"]["potential_eV"][:4] == full["energies"]["potential_eV"][:4]
    # a finished run is not run again
    again = run_calculation(_md_calc(), tmp_path, _opts())
    assert again["seconds"] == res["seconds"]


@needs_chgnet
def test_md_refuses_a_foreign_xdatcar(tmp_path):
    (tmp_path / "XDATCAR").write_text("from VASP\n")
    with pytest.raises(FileExistsError, match="not a preview"):
        run_calculation(_md_calc(), tmp_path, _opts())


def test_xdatcar_not_written_by_the_preview_keeps_the_incar_timestep(tmp_path):
    """A preview-md.json describes only the XDATCAR whose comment line it records:
    a VASP XDATCAR written later in the same folder is read with the INCAR's POTIM."""
    frame = "Direct configuration=     1\n  0.0 0.0 0.0\n  0.5 0.5 0.5\n"
    head = "           1\n 4.0 0 0\n 0 4.0 0\n 0 0 4.0\n   Li\n    2\n"
    (tmp_path / "INCAR").write_text("IBRION = 0\nPOTIM = 1.5\nNBLOCK = 2\n")
    (tmp_path / "preview-md.json").write_text(json.dumps({"comment": "calc sselang preview", "timestep_fs": 2.0,
                                                          "nblock": 10, "temperature_K": 900.0}))
    (tmp_path / "XDATCAR").write_text("calc sselang preview\n" + head + frame)
    assert read_xdatcar(tmp_path / "XDATCAR").dt_fs == pytest.approx(20.0)
    (tmp_path / "XDATCAR").write_text("Li2 from VASP\n" + head + frame)
    assert read_xdatcar(tmp_path / "XDATCAR").dt_fs == pytest.approx(3.0)


def test_interface_and_npt_are_not_previewed(tmp_path):
    doc = {"lattice": [[4, 0, 0], [0, 4, 0], [0, 0, 4]], "species": ["Li"], "frac_coords": [[0, 0, 0]]}
    with pytest.raises(PreviewUnsupported, match="interface"):
        run_calculation(Calculation("interface-x", "interface", "Li", "vasp", {}, doc, "t"), tmp_path, _opts())
    with pytest.raises(PreviewUnsupported, match="no final state"):  # NEBs are previewed (test_preview_neb.py)
        run_calculation(Calculation("neb-x", "neb", "Li", "vasp", {}, doc, "t"), tmp_path, _opts())
    npt = Calculation("md-x", "md", "Li", "vasp", {"temperature_K": 600, "ensemble": "npt"}, doc, "t")
    with pytest.raises(PreviewUnsupported, match="NVT"):
        run_calculation(npt, tmp_path, _opts())
    assert not any(tmp_path.iterdir())


def test_missing_chgnet_names_the_install(tmp_path, monkeypatch):
    import sselang.data.ml as ml

    monkeypatch.setattr(ml, "available", lambda: False)
    calc = Calculation("static-x", "static", "Li", "vasp", {},
                       {"lattice": [[4, 0, 0], [0, 4, 0], [0, 0, 4]], "species": ["Li"], "frac_coords": [[0, 0, 0]]},
                       "t")
    with pytest.raises(PreviewUnavailable, match="pip install torch==2.13.0 chgnet"):
        run_calculation(calc, tmp_path, _opts())
