"""Lattice-matched interface models (`interface A | B`) and their VASP decks.

The test case is Li2S (antifluorite, a = 5.708 Å) as substrate and LiCl (rock
salt, a = 5.1295 Å) as film: both face-centred cubic, so every surface cell
of a plane has the same area ratio, (5.708 / 5.1295)^2 = 1.238, and a match
within 5 % strain needs supercells of n_s and n_f surface cells with
n_s / n_f x 1.238 in [0.95^2, 1.05^2], i.e. n_s / n_f in [0.729, 0.890].
The smallest is 3 : 4.  On (111) both supercells (sqrt3 x sqrt3 and 2 x 2 of
the hexagonal surface cell) are hexagonal, so they match in shape too; the
(111) surface cell is the smallest of the planes searched, so the model is
LiCl(111) 2x2 on Li2S(111) sqrt3 x sqrt3, 3 x (sqrt3 / 4) a^2 = 42.32 Å^2,
with an isotropic film strain of sqrt(1.5) x 5.708 / (sqrt(2) x 5.1295) - 1.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from pymatgen.io.vasp import Incar, Kpoints, Poscar

A_LI2S = 5.708  # Å, the library's Li2S (antifluorite)
A_LICL = 5.1295  # Å, the library's LiCl (rock salt)
VACUUM = 15.0

STUDY = f"""study "interfaces" {{ title = "Li2S on LiCl" }}

analyze Li2S {{
  interface Li2S | LiCl {{ vacuum = {VACUUM:g} Å }}
  interface Li2S | LiCl {{ thickness = 10 Å }}
  interface Li2S | LiCl {{ max_area = 10 Å^2 }}
}}

engine vasp {{ ediffg = -0.03 eV/Å }}
engine qe {{ for = interface }}
"""


def _compile(tmp, name, seed):
    study = tmp / "interfaces.cell"
    study.write_text(STUDY, encoding="utf-8")
    env = dict(os.environ, PYTHONHASHSEED=str(seed))
    r = subprocess.run([sys.executable, "-m", "sselang.cli", "compile", str(study), "--build-dir", str(tmp / name)],
                       capture_output=True, text=True, timeout=600, env=env)
    return r, tmp / name / "interfaces"


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("iface")
    r, out = _compile(tmp, "b1", 0)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    return tmp, out


@pytest.fixture(scope="module")
def calcs(build):
    """The two interface calculations: (with vacuum, periodic)."""
    _, out = build
    plan = json.loads((out / "plan.json").read_text())
    ifaces = [c for c in plan["calculations"] if c["kind"] == "interface"]
    assert len(ifaces) == 2 and all(c["engine"] == "vasp" for c in ifaces)
    by_vacuum = {("vacuum" in c["why"]): out / "calcs" / c["id"] for c in ifaces}
    return by_vacuum[True], by_vacuum[False]


@pytest.fixture(scope="module")
def model():
    from sselang.data.library import build as build_phase
    from sselang.data.library import phases
    from sselang.interfaces import build_interface

    return build_interface(build_phase(phases()["Li2S"]), build_phase(phases()["LiCl"]), vacuum=VACUUM)


def _gram(v):
    v = np.asarray(v, dtype=float)
    return v @ v.T


def _fcc_translations_in_plane(frac, hkl):
    """Fractions of a cubic cell that are translations of its fcc lattice
    (halves, even sum) and lie in the (hkl) plane (cubic: the normal is hkl)."""
    twice = np.asarray(frac) * 2
    assert np.allclose(twice, np.rint(twice), atol=1e-6)
    assert all(int(round(x)) % 2 == 0 for x in twice.sum(axis=1))
    assert np.allclose(np.asarray(frac) @ np.asarray(hkl), 0, atol=1e-6)


def test_the_smallest_match_is_licl_111_on_li2s_111(model):
    info = model.summary()
    assert (info["film_miller"], info["substrate_miller"]) == ([1, 1, 1], [1, 1, 1])
    assert info["area_A2"] == pytest.approx(3 * math.sqrt(3) / 4 * A_LI2S**2, abs=1e-3)
    assert info["area_A2"] <= 400
    assert info["strained"] == "film"
    e = math.sqrt(1.5) * A_LI2S / (math.sqrt(2) * A_LICL) - 1  # -3.63 %
    assert info["strain_principal"] == pytest.approx([e, e], abs=1e-6)


def test_in_plane_lattice_is_the_substrates_matched_supercell(model):
    info = model.summary()
    sub = np.asarray(info["substrate_vectors"])
    _fcc_translations_in_plane(sub, info["substrate_miller"])
    _fcc_translations_in_plane(info["film_vectors"], info["film_miller"])
    want = _gram(sub * A_LI2S)  # the matched substrate supercell, from the cubic cell alone
    got = _gram(model.structure.lattice.matrix[:2])
    assert np.allclose(got, want, atol=1e-6, rtol=0)
    assert np.linalg.norm(np.cross(*model.structure.lattice.matrix[:2])) == pytest.approx(info["area_A2"], abs=1e-4)
    # the normal is perpendicular to the interface plane
    a, b, c = model.structure.lattice.matrix
    assert abs(c @ a) < 1e-8 and abs(c @ b) < 1e-8


def test_film_strain_from_the_two_supercells_by_hand(model):
    info = model.summary()
    gf = _gram(np.asarray(info["film_vectors"]) * A_LICL)
    gs = _gram(np.asarray(info["substrate_vectors"]) * A_LI2S)
    # right Cauchy-Green tensor of the film -> substrate map: the eigenvalues of gf^-1 gs,
    # written out for 2x2 matrices: lambda^2 - tr(M) lambda + det(M) = 0
    m = np.linalg.inv(gf) @ gs
    tr, det = m[0, 0] + m[1, 1], m[0, 0] * m[1, 1] - m[0, 1] * m[1, 0]
    disc = math.sqrt(max(tr * tr / 4 - det, 0.0))
    lam = sorted([tr / 2 - disc, tr / 2 + disc])
    assert info["strain_principal"] == pytest.approx([math.sqrt(x) - 1 for x in lam], abs=2e-6)
    # von Mises of the Green-Lagrange strain (principal values (lambda - 1) / 2 and 0 along the normal)
    e = np.array([(lam[0] - 1) / 2, (lam[1] - 1) / 2, 0.0])
    dev = e - e.mean()
    assert info["von_mises_strain"] == pytest.approx(math.sqrt(2 / 3 * (dev**2).sum()), abs=2e-6)
    assert max(abs(x) for x in info["strain_principal"]) <= 0.05


def test_slabs_are_stoichiometric_and_thick_enough(model):
    s = model.structure
    sub = [s[i].species_string for i in s.substrate_indices]
    film = [s[i].species_string for i in s.film_indices]
    assert sub.count("Li") == 2 * sub.count("S") and set(sub) == {"Li", "S"}
    assert film.count("Li") == film.count("Cl") and set(film) == {"Li", "Cl"}
    info = model.summary()
    assert (info["substrate_units"], info["film_units"]) == (sub.count("S"), film.count("Cl"))
    for idx in (s.substrate_indices, s.film_indices):
        z = s.cart_coords[idx, 2]
        assert z.max() - z.min() >= 12.0  # the default thickness
    assert info["natoms"] == len(s) <= 400


def test_poscar_is_the_model_with_the_vacuum(calcs, model):
    vac, _ = calcs
    got = Poscar.from_str((vac / "POSCAR").read_text()).structure
    want = model.structure
    assert np.allclose(got.lattice.matrix, want.lattice.matrix, atol=1e-5)
    assert [x.species_string for x in got] == [x.species_string for x in want]
    d = got.frac_coords - want.frac_coords
    assert np.allclose(d - np.rint(d), 0, atol=1e-5)
    # composition: multiples of Li2S and of LiCl, nothing else
    n = got.composition
    assert n["Li"] == 2 * n["S"] + n["Cl"] and n["S"] > 0 and n["Cl"] > 0
    # the widest empty slab along the normal is the vacuum
    z = np.sort(got.cart_coords[:, 2] % got.lattice.c)
    gaps = np.append(np.diff(z), z[0] + got.lattice.c - z[-1])
    assert gaps.max() >= VACUUM - 1e-4
    assert (vac / "POTCAR.spec").read_text().split() == ["Li_sv", "S", "Cl"]


def test_periodic_model_has_both_interfaces_at_the_gap(calcs):
    _, per = calcs
    s = Poscar.from_str((per / "POSCAR").read_text()).structure
    z = np.sort(s.cart_coords[:, 2] % s.lattice.c)
    gaps = np.append(np.diff(z), z[0] + s.lattice.c - z[-1])
    # film on substrate and, through the boundary, substrate on film: both 2 Å apart
    # (every spacing inside the (111) slabs is smaller: 1.48 Å in LiCl, 1.65 Å in Li2S)
    assert np.sum(np.isclose(gaps, 2.0, atol=1e-4)) == 2
    assert gaps.max() == pytest.approx(2.0, abs=1e-4)


def test_incar_relaxes_ions_in_a_fixed_cell(calcs):
    vac, per = calcs
    for d in calcs:
        incar = Incar.from_str((d / "INCAR").read_text())
        assert (incar["ISIF"], incar["IBRION"], incar["ISYM"]) == (2, 2, 0)
        assert incar["EDIFFG"] == pytest.approx(-0.03)  # the study's ediffg wins over the -0.05 default
        assert "| EDIFFG | -0.03 | study |" in (d / "README.md").read_text()
        assert "KSPACING" not in incar
    incar = Incar.from_str((vac / "INCAR").read_text())
    assert incar["LDIPOL"] is True and incar["IDIPOL"] == 3
    assert 0.3 < incar["DIPOL"][2] < 0.7  # the slab sits in the middle, the correction in the vacuum
    assert "LDIPOL" not in Incar.from_str((per / "INCAR").read_text())


def test_kpoints_one_along_the_normal_with_vacuum(calcs):
    from pymatgen.io.vasp.sets import MPRelaxSet

    vac, per = calcs
    kp = Kpoints.from_str((vac / "KPOINTS").read_text())
    assert kp.style.name == "Gamma"
    # the in-plane cell is a hexagon of side L: |b1*| = |b2*| = 4 pi / (sqrt3 L), at 0.25 1/Å spacing
    side = math.sqrt(1.5) * A_LI2S
    n = math.ceil(4 * math.pi / (math.sqrt(3) * side) / 0.25)
    assert tuple(kp.kpts[0]) == (n, n, 1)
    # periodic: the Materials Project density of the relax set
    s = Poscar.from_str((per / "POSCAR").read_text()).structure
    kp = Kpoints.from_str((per / "KPOINTS").read_text())
    assert tuple(kp.kpts[0]) == tuple(MPRelaxSet(s).kpoints.kpts[0])


def test_readme_states_the_match(calcs):
    text = (calcs[0] / "README.md").read_text()
    assert "film (111) on substrate (111)" in text
    assert "area: 42.32 Å^2" in text
    assert "principal strains -3.63 % and -3.63 %" in text


def test_impossible_and_non_vasp_requests_are_reported(build):
    _, out = build
    skipped = json.loads((out / "plan.json").read_text())["not_planned"]
    assert "interface Li2S | LiCl: no lattice match within 10 Å^2 and 5 % strain over the planes " \
           "(001) (110) (111) (film) and (001) (110) (111) (substrate)" in skipped
    assert "interface Li2S | LiCl with qe: interface decks are written for VASP only" in skipped


def test_too_many_atoms_is_a_clear_error():
    from sselang.data.library import build as build_phase
    from sselang.data.library import phases
    from sselang.interfaces import InterfaceError, build_interface

    with pytest.raises(InterfaceError, match=r"needs \d+ atoms at 75 Å per slab, more than 400"):
        build_interface(build_phase(phases()["Li2S"]), build_phase(phases()["LiCl"]), thickness=75)


def test_out_of_range_values_are_diagnosed(tmp_path):
    import sselang

    p = tmp_path / "bad.cell"
    p.write_text('study "bad" { title = "t" }\nanalyze Li2S {\n  interface Li2S | LiCl { vacuum = -3 Å  '
                 "max_strain = 150 % }\n}\n", encoding="utf-8")
    errors = sorted((d.code, d.message) for d in sselang.check(p) if d.is_error)
    assert errors == [("SSE043", "interface max_strain must be between 0 and 100 %"),
                      ("SSE043", "interface vacuum must not be negative")]


def test_same_study_gives_the_same_bytes(build):
    tmp, out = build
    r, again = _compile(tmp, "b2", 12345)
    assert r.returncode == 0, r.stderr
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert any(str(f).startswith("calcs/interface-") for f in files)
    for f in files:
        assert (out / f).read_bytes() == (again / f).read_bytes(), f
