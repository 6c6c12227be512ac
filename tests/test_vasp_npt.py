"""VASP NpT (Langevin) AIMD decks and how the plan asks for them.

Expected values are taken from outside the code under test: the VASP wiki's
NpT recipe (IBRION 0, ISIF 3, MDALGO 3, one LANGEVIN_GAMMA per POSCAR
species, LANGEVIN_GAMMA_L, PMASS, PSTRESS in kBar), hand unit conversions
(50 MPa = 500 bar = 0.5 kBar) and the Materials Project relaxation cutoff
(520 eV).
"""

from __future__ import annotations

import json

import pytest
from pymatgen.core import Lattice, Structure
from pymatgen.io.vasp import Incar, Kpoints, Poscar

from sselang.compile import resolve_data, write_build
from sselang.decks import DeckRequest
from sselang.decks.vasp import render
from sselang.pipeline import front_end


def _li3ps4_like() -> Structure:
    # three species, already in the electronegativity order the plan's structures have
    return Structure(Lattice.cubic(7.0), ["Li", "Li", "Li", "P", "S", "S", "S", "S"],
                     [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0.25, 0.25, 0.25],
                      [0.4, 0.25, 0.25], [0.25, 0.4, 0.25], [0.25, 0.25, 0.4], [0.1, 0.1, 0.1]])


def _npt(settings=None) -> dict[str, str]:
    base = {"temperature_K": 900.0, "timestep_fs": 1.5, "steps": 4000, "ensemble": "npt", "pressure_MPa": 50.0}
    return render(DeckRequest("md", _li3ps4_like(), {**base, **(settings or {})}, "LPS"), "md-test")


def test_npt_incar_has_the_vasp_wiki_npt_tags():
    files = _npt()
    incar = Incar.from_str(files["INCAR"])
    poscar = Poscar.from_str(files["POSCAR"])
    assert (incar["IBRION"], incar["ISIF"], incar["MDALGO"], incar["ISYM"]) == (0, 3, 3, 0)
    # one friction per species on the POSCAR species line (Li P S), 10 ps^-1 each
    species_line = files["POSCAR"].splitlines()[5].split()
    assert species_line == ["Li", "P", "S"] == poscar.site_symbols
    assert incar["LANGEVIN_GAMMA"] == [10, 10, 10]
    assert incar["LANGEVIN_GAMMA_L"] == pytest.approx(10.0)
    assert incar["PMASS"] == pytest.approx(10.0)
    # 50 MPa = 500 bar = 0.5 kBar
    assert incar["PSTRESS"] == pytest.approx(0.5)
    assert incar["TEBEG"] == incar["TEEND"] == 900
    assert (incar["NSW"], incar["POTIM"]) == (4000, pytest.approx(1.5))
    # the per-atom criterion, as in the NVT deck: 8 atoms x 1e-5 eV
    assert incar["EDIFF"] == pytest.approx(8e-5)
    assert "EDIFF_PER_ATOM" not in incar
    # the Materials Project relaxation cutoff, not MPMDSet's ENMAX default
    assert incar["ENCUT"] == pytest.approx(520.0)
    # Nose-Hoover's mass has no meaning under the Langevin thermostat
    assert "SMASS" not in incar
    assert Kpoints.from_str(files["KPOINTS"]).kpts == [(1, 1, 1)]
    assert "NpT" in files["README.md"] and "0.5 kBar" in files["README.md"]


def test_every_npt_tag_has_a_reason():
    text = _npt()["INCAR"]
    tags = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert tags and all("    # " in ln and ln.split("    # ", 1)[1].strip() for ln in tags)
    for tag in ("LANGEVIN_GAMMA", "LANGEVIN_GAMMA_L", "PMASS", "PSTRESS", "MDALGO", "ENCUT"):
        (line,) = [ln for ln in tags if ln.split("=")[0].strip() == tag]
        assert "Materials Project input set" not in line  # a reason of its own


def test_the_study_values_win_over_the_npt_defaults():
    incar = Incar.from_str(_npt({"encut": 650.0, "ediff": 1e-6})["INCAR"])
    assert incar["ENCUT"] == pytest.approx(650.0)
    assert incar["EDIFF"] == pytest.approx(1e-6)
    assert "ENCUT      = 650    # study" in _npt({"encut": 650.0})["INCAR"]


def test_no_pressure_means_pstress_zero_and_nvt_stays_nvt():
    incar = Incar.from_str(_npt({"pressure_MPa": None})["INCAR"])
    assert incar["PSTRESS"] == 0
    nvt = render(DeckRequest("md", _li3ps4_like(), {"temperature_K": 900.0, "steps": 10}))
    incar = Incar.from_str(nvt["INCAR"])
    assert (incar["ISIF"], incar["SMASS"]) == (0, 0)
    assert not {"MDALGO", "LANGEVIN_GAMMA", "PSTRESS", "PMASS"} & set(incar)


STUDY = """study "npt" {{ title = "NpT" }}

material Li2S {{
  formula   = Li2S
  structure = library("Li2S")
}}

cell stack {{
  cathode     = LiCoO2
  electrolyte = Li2S
  anode       = Li
  conditions {{ pressure = 50 MPa }}
}}

analyze {target} {{
  diffusion {role} {{
    temperatures = [600, 900] K
    duration     = 2 ps
    supercell    = min 5 Å
    ensemble     = {ensemble}
  }}
}}

engine vasp {{ preset = mp }}
engine qe {{ for = diffusion }}
engine cp2k {{ for = diffusion }}
"""


def _compile(tmp_path, target="stack", role="electrolyte", ensemble="npt"):
    path = tmp_path / f"{ensemble}-{target}.cell"
    path.write_text(STUDY.format(target=target, role=role, ensemble=ensemble), encoding="utf-8")
    fe = front_end(path)
    data = resolve_data(fe, path)
    assert fe.ok and data is not None, [d.message for d in fe.diagnostics if d.is_error]
    out = write_build(fe.study, fe.sources, tmp_path / f"build-{ensemble}-{target}", data)
    return out, json.loads((out / "plan.json").read_text())


def test_plan_writes_npt_for_vasp_and_says_qe_and_cp2k_cannot(tmp_path):
    out, plan = _compile(tmp_path)
    md = [c for c in plan["calculations"] if c["kind"] == "md"]
    assert sorted(c["id"].split("-")[2] for c in md) == ["600K", "900K"]
    assert all(c["engine"] == "vasp" and "-npt-vasp-" in c["id"] for c in md)
    for c in md:
        incar = Incar.from_str((out / "calcs" / c["id"] / "INCAR").read_text())
        assert (incar["ISIF"], incar["MDALGO"], incar["PSTRESS"]) == (3, 3, pytest.approx(0.5))
    skipped = plan["not_planned"]
    for engine in ("qe", "cp2k"):
        assert any(s.startswith(f"md Li2S with {engine}:") and "npt" in s for s in skipped), skipped
    assert (out / "jobs" / "md-Li2S-npt-vasp.sh").exists()
    assert not (out / "jobs" / "md-Li2S-qe.sh").exists() and not (out / "jobs" / "md-Li2S-cp2k.sh").exists()


def test_npt_and_nvt_runs_have_different_ids_and_nvt_ids_do_not_name_the_ensemble(tmp_path):
    _, npt = _compile(tmp_path, ensemble="npt")
    _, nvt = _compile(tmp_path, ensemble="nvt")
    npt_ids = {c["id"] for c in npt["calculations"] if c["kind"] == "md"}
    nvt_ids = {c["id"] for c in nvt["calculations"] if c["kind"] == "md"}
    assert npt_ids and nvt_ids and not npt_ids & nvt_ids
    assert not any("npt" in i for i in nvt_ids)
    # NVT runs go to every engine with md decks
    assert {c["engine"] for c in nvt["calculations"] if c["kind"] == "md"} == {"vasp", "qe", "cp2k"}


def test_a_material_analysed_alone_runs_at_zero_pressure(tmp_path):
    out, plan = _compile(tmp_path, target="Li2S", role="")
    (c, *_) = [c for c in plan["calculations"] if c["kind"] == "md"]
    assert Incar.from_str((out / "calcs" / c["id"] / "INCAR").read_text())["PSTRESS"] == 0
