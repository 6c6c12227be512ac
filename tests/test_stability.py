"""Window, Li-uptake staircase and reactivity: conventions pinned on a hand-made
Li-Ge-S system, then checked on real Materials Project entries and a peer tool."""

import json

import pytest

from sselang.analyses.hull import AnalysisError, Hulls, entry
from sselang.analyses.reactivity import minimum, reaction_curve
from sselang.analyses.window import plateaus, window

from conftest import SHARED

# ---- a synthetic Li-Ge-S system whose answers are worked out by hand ------------------------
# energies per atom of the elements: Li -2, Ge -4, S -3 (eV); Li2S and GeS2 have -11.5 eV per
# formula unit; Li4GeS4 = 2 Li2S + GeS2 + delta.
E_LI = -2.0


def _records(delta: float) -> list[dict]:
    rows = [("Li", {"Li": 1}, -2.0), ("Ge", {"Ge": 1}, -4.0), ("S", {"S": 1}, -3.0),
            ("Li2S", {"Li": 2, "S": 1}, -11.5), ("GeS2", {"Ge": 1, "S": 2}, -11.5),
            ("Li4GeS4", {"Li": 4, "Ge": 1, "S": 4}, 3 * -11.5 + delta)]
    return [{"id": f"hand:{f}", "formula": f, "composition": c, "energy_eV": e} for f, c, e in rows]


def _pd(delta):
    h = Hulls({"Ge-Li-S": {"entries": _records(delta), "sources": ["hand"]}})
    return h.diagram("Ge-Li-S")


def _comp(f):
    from pymatgen.core import Composition

    return Composition(f)


def test_window_of_a_stable_phase_by_hand():
    # delta = -0.9: Li4GeS4 on the hull.  Oxidation: Li4GeS4 -> GeS2 + 2 S + 4 Li,
    # V = -[(E(GeS2) + 2 E(S) - E(Li4GeS4))/(-4) - E(Li)] = -[(-17.5 + 35.4)/(-4) + 2] = 2.475 V.
    # Reduction: Li4GeS4 + 4 Li -> 4 Li2S + Ge, V = -[(-50 + 35.4)/4 + 2] = 1.65 V.
    pd = _pd(-0.9)
    w = window(pd, _comp("Li4GeS4"), -35.4)
    assert w.e_above_hull == pytest.approx(0, abs=1e-9) and w.kink_at_zero
    assert w.oxidation.voltage_V == pytest.approx(2.475, abs=1e-6)
    assert w.reduction.voltage_V == pytest.approx(1.65, abs=1e-6)
    assert {(p.formula, p.amount) for p in w.oxidation.products} == {("GeS2", 1.0), ("S", 2.0)}
    assert {(p.formula, p.amount) for p in w.reduction.products} == {("Li2S", 4.0), ("Ge", 1.0)}
    assert w.oxidation.li_per_fu == pytest.approx(-4) and w.reduction.li_per_fu == pytest.approx(4)
    # grand-potential decomposition energy per atom (9 atoms), min over the kinks of G(x) - mu x:
    # 0 V (mu = -2): 4 Li2S + Ge - 4 Li: -50 + 8 = -42 -> (-42 + 35.4)/9
    # 5 V (mu = -7): GeS2 + 2 S + 4 Li: -17.5 - 28 = -45.5 -> (-45.5 + 35.4)/9
    assert w.decomposition_energy["0 V"] == pytest.approx(-6.6 / 9, abs=1e-9)
    assert w.decomposition_energy["5 V"] == pytest.approx(-10.1 / 9, abs=1e-9)


def test_staircase_by_hand():
    steps, mu = plateaus(_pd(-0.9), _comp("Li4GeS4"))
    assert mu == pytest.approx(E_LI)
    assert [(s.x_from, s.x_to) for s in steps] == [(-4, 0), (0, 4)]
    assert [s.voltage_V for s in steps] == pytest.approx([2.475, 1.65], abs=1e-6)
    # middle of the first step, x = -2: 0.5 Li4GeS4 + 0.5 GeS2 + S
    assert {(p.formula, p.amount) for p in steps[0].phases} == {("Li4GeS4", 0.5), ("GeS2", 0.5), ("S", 1.0)}


def test_metastable_phase_gives_its_decomposition_range_by_hand():
    # delta = +0.9: 0.1 eV/atom above 2 Li2S + GeS2, which lies on the Li2S-GeS2 tie line, so
    # x = 0 is still a kink: no Li exchanged between
    # -[(-34.5 + 50)/4 ... ] i.e. reduction -[(-50 + 34.5)/4 + 2] = 1.875 V and
    # oxidation -[(-34.5 + 17.5)/4 + 2] = 2.25 V.
    w = window(_pd(0.9), _comp("Li4GeS4"), -33.6)
    assert w.e_above_hull == pytest.approx(0.1, abs=1e-9)
    assert {(p.formula, p.amount) for p in w.neutral} == {("Li2S", 2.0), ("GeS2", 1.0)}
    assert w.kink_at_zero
    assert w.reduction.voltage_V == pytest.approx(1.875, abs=1e-6)
    assert w.oxidation.voltage_V == pytest.approx(2.25, abs=1e-6)


def test_reaction_minimum_and_mixing_ratio_by_hand():
    # 2 Li2S + GeS2 -> Li4GeS4, -0.9 eV per 9 atoms; Li2S brings 6 of the 9 atoms: x = 2/3
    pd = _pd(-0.9)
    recs = {r["formula"]: r for r in _records(-0.9)}
    curve = reaction_curve(pd, entry(recs["Li2S"]), entry(recs["GeS2"]))
    low = minimum(curve)
    assert low.x == pytest.approx(2 / 3, abs=1e-6)
    assert low.energy == pytest.approx(-0.1, abs=1e-6)
    assert low.products == ("Li4GeS4",)
    assert curve[0].x == 0 and curve[-1].x == 1 and curve[0].energy == 0 and curve[-1].energy == 0


def test_same_composition_cannot_react():
    recs = {r["formula"]: r for r in _records(-0.9)}
    with pytest.raises(AnalysisError, match="same composition"):
        reaction_curve(_pd(-0.9), entry(recs["Li2S"]), entry(recs["Li2S"]))


# ---- real Materials Project entries (legacy MP scheme, consistent within the file) ----------
def _li_p_o():
    path = SHARED / "data" / "entries" / "Li-P-O.json"
    if not path.exists():
        pytest.skip("shared reference data not present")
    records = []
    for e in json.loads(path.read_text())["entries"]:
        comp = e["composition"]
        # the file's notes: a few O compounds were never processed by the correction scheme
        # (correction 0); on an otherwise corrected hull they would be wrong, as in MP itself
        if "O" in comp and len(comp) > 1 and e["correction_eV_total"] == 0:
            continue
        records.append({"id": e["entry_id"], "formula": _comp(e["formula"]).reduced_formula, "composition": comp,
                        "energy_eV": e["energy_eV_total_uncorrected"] + e["correction_eV_total"]})
    return Hulls({"Li-O-P": {"entries": records, "sources": ["mp (legacy scheme)"]}})


def _lowest(h, formula):
    rs = [r for r in h.records("Li-O-P") if r["formula"] == formula]
    r = min(rs, key=lambda r: r["energy_eV"] / sum(r["composition"].values()))
    c = _comp(formula)
    return c, r["energy_eV"] / sum(r["composition"].values()) * c.num_atoms


def test_li3po4_window_is_zhu_he_mo_2015():
    # Zhu, He, Mo, ACS Appl. Mater. Interfaces 7 (2015) 23685, Table 1: Li3PO4 0.69-4.21 V,
    # reduced to Li3P + Li2O, oxidised to Li4P2O7 + O2
    h = _li_p_o()
    c, e = _lowest(h, "Li3PO4")
    w = window(h.diagram("Li-O-P"), c, e)
    assert w.reduction.voltage_V == pytest.approx(0.69, abs=0.05)
    assert w.oxidation.voltage_V == pytest.approx(4.21, abs=0.05)
    assert {p.formula for p in w.reduction.products} == {"Li3P", "Li2O"}
    assert {p.formula for p in w.oxidation.products} == {"Li4P2O7", "O2"}


@pytest.mark.parametrize("formula", ["Li3PO4", "LiPO3", "Li4P2O7"])
def test_windows_agree_with_pymatgens_element_profile(formula):
    # peer tool side by side: pymatgen's get_element_profile walks the same line; its
    # chemical potentials at the steps next to x = 0 are the window's edges
    h = _li_p_o()
    pd = h.diagram("Li-O-P")
    c, e = _lowest(h, formula)
    w = window(pd, c, e)
    from pymatgen.core import Element

    mu0 = pd.el_refs[Element("Li")].energy_per_atom
    prof = pd.get_element_profile(Element("Li"), c)
    # each step: 'chempot' at the step's critical composition, 'evolution' Li uptake there
    volts = sorted({round(-(p["chempot"] - mu0), 4) for p in prof})
    assert round(w.reduction.voltage_V, 4) in volts
    assert round(w.oxidation.voltage_V, 4) in volts
    assert 0 < w.reduction.voltage_V < w.oxidation.voltage_V < 5.5


# ---- the examples on the bundled data --------------------------------------------------------
def test_compile_writes_the_stability_results(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    r = subprocess.run([sys.executable, "-m", "sselang.cli", "compile", str(ROOT / "examples" / "baseline.cell"),
                        "--build-dir", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    (out,) = tmp_path.iterdir()
    doc = json.loads((out / "analyses.json").read_text())
    kinds = [x["kind"] for x in doc["results"]]
    assert kinds.count("window") == 2 and kinds.count("reactivity") == 4
    by = {(x["kind"], x.get("material") or x.get("label"), x.get("open_element")): x for x in doc["results"]}
    lpscl = by[("window", "LPSCl", None)]
    # the argyrodite lies above the hull of the bundled data: metastable, with a range
    assert lpscl["status"] == "metastable" and lpscl["e_above_hull_meV_atom"] > 0
    assert 1.4 < lpscl["reduction"]["voltage_V"] < lpscl["oxidation"]["voltage_V"] < 2.6
    closed = by[("reactivity", "cathode | electrolyte", None)]
    # Richards et al. 2016 / the science notes: LiCoO2 | Li6PS5Cl about -0.34 eV/atom
    assert -450 < closed["minimum_meV_atom"] < -250
    assert "Li3PO4" in closed["products"] and any(p.startswith("Co") and "S" in p for p in closed["products"])
    oxide = by[("reactivity", "cathode | coating", None)]
    assert oxide["minimum_meV_atom"] > -30  # LiNbO3 | LiCoO2: near zero
    assert "bundled" in lpscl["provenance"]["sources"] and lpscl["provenance"]["entries_used"]
    # the terminal summary repeats the same numbers, with the data's fidelity
    assert "window LPSCl: " in r.stdout and "meV/atom above the hull" in r.stdout
    assert f"reactivity cathode | electrolyte: {closed['minimum_meV_atom']:.0f} meV/atom" in r.stdout
    assert "energies: bundled preview (CHGNet 0.3.0)" in r.stdout
