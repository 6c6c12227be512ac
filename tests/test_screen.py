"""Coating screening: a hand-made Li-Ge-O-S dataset whose survivors are known by
hand, then the coating_screen example on the bundled data."""

import json
import subprocess
import sys

import pytest

from sselang.analyses.screen import Side, SubHulls, screen
from sselang.model.study import Ranking, Requirement

from conftest import ROOT

# energies (eV): elements per atom Li -2, Ge -4, O -4, S -3; binaries per formula unit
ROWS = [("Li", {"Li": 1}, -2.0), ("Ge", {"Ge": 1}, -4.0), ("O2", {"O": 2}, -8.0), ("S", {"S": 1}, -3.0),
        ("Li2O", {"Li": 2, "O": 1}, -14.0), ("GeO2", {"Ge": 1, "O": 2}, -16.5),
        ("Li2S", {"Li": 2, "S": 1}, -11.5), ("GeS2", {"Ge": 1, "S": 2}, -11.5),
        # Li2GeO3 = Li2O + GeO2 - 0.6 eV; Li4GeO4 = 2 Li2O + GeO2 - 0.9 eV (0.3 eV below Li2GeO3 + Li2O)
        ("Li2GeO3", {"Li": 2, "Ge": 1, "O": 3}, -31.1), ("Li4GeO4", {"Li": 4, "Ge": 1, "O": 4}, -45.4),
        # Li6GeO5: 50 meV/atom (12 atoms: 0.6 eV) above Li4GeO4 + Li2O = -59.4 eV
        ("Li6GeO5", {"Li": 6, "Ge": 1, "O": 5}, -58.8)]
RECORDS = [{"id": f"hand:{f}", "formula": f, "composition": c, "energy_eV": e} for f, c, e in ROWS]
BY = {r["formula"]: r for r in RECORDS}


def side(f):
    return Side(f, BY[f]["composition"], BY[f])


def req(metric, op=None, meV=None, role=None, rng=None):
    if metric == "window":
        return Requirement(metric="window", op="covers", range_V=rng)
    return Requirement(metric=metric, with_role=role, op=op, value=meV / 1000, unit="eV/atom")


def test_hand_made_screen_keeps_exactly_the_inert_stable_candidate():
    # by hand: Li6GeO5 fails e_hull (50 > 25 meV/atom); Li2GeO3 + Li2O -> Li4GeO4 releases 0.3 eV
    # per 9 atoms (-33.3 meV/atom at x = 2/3) and fails reactivity with the cathode (Li2O);
    # Li4GeO4 reacts with neither side and its window, 1.65 V (Li4GeO4 + 4 Li -> 4 Li2O + Ge,
    # -(-14.6/4 + 2)) to 3.15 V (Li4GeO4 -> Li2GeO3 + 1/2 O2 + 2 Li, -(-10.3/2 + 2)), covers 2-3 V
    sides = {"cathode": side("Li2O"), "electrolyte": side("Li2S")}
    cands = [side("Li2GeO3"), side("Li4GeO4"), side("Li6GeO5"), ("LiXO", "LiBO2")]
    reqs = [req("reactivity", ">=", -20, "cathode"), req("reactivity", ">=", -20, "electrolyte"),
            req("window", rng=(2.0, 3.0)), req("e_hull", "<=", 25)]
    listed, funnel, ranking = screen(cands, sides, reqs, Ranking(metric="e_hull", order="ascending"),
                                     SubHulls(RECORDS))
    by = {c.name: c for c in listed}
    assert ranking == ["Li4GeO4"]
    assert by["Li6GeO5"].removed_by == "e_hull <= 25 meV/atom"
    assert by["Li6GeO5"].failed_value == pytest.approx(50, abs=1e-6)
    assert by["Li2GeO3"].removed_by == "reactivity with cathode >= -20 meV/atom"
    assert by["Li2GeO3"].failed_value == pytest.approx(-1000 * 0.3 / 9, abs=1e-4)
    assert by["Li4GeO4"].metrics["window reduction V"] == pytest.approx(1.65, abs=1e-4)
    assert by["Li4GeO4"].metrics["window oxidation V"] == pytest.approx(3.15, abs=1e-4)
    assert by["Li4GeO4"].metrics["reactivity with electrolyte"] == pytest.approx(0, abs=1e-6)
    assert by["LiXO"].status == "no data"
    # cheapest first: e_hull, then the window, then the two reactions
    assert [(f.stage, f.remaining) for f in funnel] == [
        ("candidates with data", 3), ("e_hull <= 25 meV/atom", 2), ("window covers 2 V .. 3 V", 2),
        ("reactivity with cathode >= -20 meV/atom", 1), ("reactivity with electrolyte >= -20 meV/atom", 1)]


def test_ranking_orders_survivors():
    sides = {"cathode": side("Li2O"), "electrolyte": side("Li2S")}
    listed, _, ranking = screen([side("Li2GeO3"), side("Li4GeO4"), side("Li6GeO5")], sides, [],
                                Ranking(metric="e_hull", order="descending"), SubHulls(RECORDS))
    assert ranking[0] == "Li6GeO5"  # the only one above the hull, ranked first when descending
    assert sorted(ranking[1:]) == ["Li2GeO3", "Li4GeO4"]


def test_coating_screen_example_on_the_bundled_data(tmp_path):
    r = subprocess.run([sys.executable, "-m", "sselang.cli", "compile", str(ROOT / "examples" / "coating_screen.cell"),
                        "--build-dir", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    (out,) = tmp_path.iterdir()
    (res,) = [x for x in json.loads((out / "analyses.json").read_text())["results"] if x["kind"] == "screen"]
    by = {c["name"]: c for c in res["candidates"]}
    # Li3PO4 passes the reactivity filters (Xiao et al. 2019)
    assert by["Li3PO4"]["status"] == "survivor"
    assert by["Li3PO4"]["metrics"]["reactivity with electrolyte"] > -100
    assert by["Li3PO4"]["metrics"]["reactivity with cathode"] > -100
    # the funnel never grows and ends with the survivors
    counts = [f["remaining"] for f in res["funnel"]]
    assert counts == sorted(counts, reverse=True) and counts[-1] == len(res["ranking"])
    assert all(c["status"] in ("survivor", "removed", "no data") for c in res["candidates"])
    # the bundled data hold no P-O or Ti-P-O phase: taking all Li out of LiTi2(PO4)3 must make
    # elemental P and O2 there, an edge far beyond any real one; the candidate says so
    assert by["LiTi2(PO4)3"]["metrics"]["window oxidation V"] > 10
    assert any("is not physical" in n and "Li-O-P-Ti" in n for n in by["LiTi2(PO4)3"]["notes"])
    assert not any("is not physical" in n for n in by["Li3PO4"]["notes"] + by["LiTaO3"]["notes"])
    assert "-0.0" not in (out / "analyses.json").read_text()


@pytest.mark.parametrize("a,b", [("LiNbO3", "Li3PS4"), ("LiCoO2", "Li6PS5Cl"), ("Li2ZrO3", "Li3PS4"),
                                 ("NMC811", "Li3PS4"), ("LiNbO3", "LiCoO2")])
def test_the_screens_envelope_finds_pymatgens_minimum(a, b):
    # peer side by side: the minimum from the hull's facet planes against the minimum over
    # pymatgen's InterfacialReactivity kinks: energy, mixing ratio and products
    from pymatgen.core import Composition

    from sselang.analyses.reactivity import minimum, minimum_on_tie_line, reaction_curve
    from sselang.data.thermo import BundledSource

    src = BundledSource()
    els = frozenset(Composition(src_formula(a)).as_dict()) | frozenset(Composition(src_formula(b)).as_dict())
    hulls = SubHulls(src.records(els))
    pd = hulls.diagram(els)
    ea, eb = hulls.entry(hulls.pool[f"bundled:{a}"]), hulls.entry(hulls.pool[f"bundled:{b}"])
    fast = minimum_on_tie_line(pd, ea, eb)
    walk = minimum(reaction_curve(pd, ea, eb))
    assert fast.energy == pytest.approx(walk.energy, abs=1e-6)
    if walk.energy < -1e-6:
        assert fast.x == pytest.approx(walk.x, abs=1e-6) and fast.products == walk.products


def test_the_envelope_agrees_with_pymatgen_on_every_bundled_oxide_against_two_electrolytes():
    # every Li-containing or binary oxide of the bundled data against Li3PS4 and Li6PS5Cl
    # (and a metastable phase entering at its own energy): the same minimum as the kink walk
    from pymatgen.core import Composition

    from sselang.analyses.reactivity import minimum, minimum_on_tie_line, reaction_curve
    from sselang.data.thermo import BundledSource

    src = BundledSource()
    everything = SubHulls(src.records(frozenset(el for r in src.records_all() for el in r["composition"])))
    oxides = [r for r in everything.pool.values()
              if "O" in r["composition"] and len(r["composition"]) > 1 and not {"S", "P", "Cl"} & set(r["composition"])]
    assert len(oxides) >= 20
    n = 0
    for side in ("Li3PS4", "Li6PS5Cl"):
        b = everything.pool[f"bundled:{side}"]
        for a in oxides:
            els = set(a["composition"]) | set(b["composition"])
            pd = everything.diagram(els)
            ea, eb = everything.entry(a), everything.entry(b)
            fast, walk = minimum_on_tie_line(pd, ea, eb), minimum(reaction_curve(pd, ea, eb))
            assert fast.energy == pytest.approx(walk.energy, abs=1e-6), (a["formula"], side)
            if walk.energy < -1e-6:
                assert fast.products == walk.products, (a["formula"], side)
            n += 1
    assert n == 2 * len(oxides)


def src_formula(name):
    from sselang.data.library import phases

    return phases()[name].formula


def _every_bundled_compound():
    from sselang.data.thermo import BundledSource

    src = BundledSource()
    hulls = SubHulls(src.records(frozenset(el for r in src.records_all() for el in r["composition"])))
    return hulls, [r for r in hulls.pool.values() if len(r["composition"]) > 1 and "Li" in r["composition"]]


def test_screen_e_hull_from_facet_planes_is_pymatgens():
    # peer: PhaseDiagram.get_e_above_hull, on every Li compound of the bundled data
    from sselang.analyses.screen import Side, e_hull_meV

    hulls, recs = _every_bundled_compound()
    assert len(recs) >= 30
    for r in recs:
        pd = hulls.diagram(set(r["composition"]) | {"Li"})
        ref = 1000 * pd.get_e_above_hull(hulls.entry(r), allow_negative=True)
        assert e_hull_meV(hulls, Side(r["id"], r["composition"], r)) == pytest.approx(ref, abs=1e-6), r["formula"]


def test_screen_window_edges_from_facet_planes_are_the_full_windows():
    # the two edges the screen reads, against window() (tested against published windows and
    # pymatgen's get_element_profile in test_stability), on every Li compound of the bundled data
    import math

    from pymatgen.core import Composition

    from sselang.analyses.window import window, window_edges

    hulls, recs = _every_bundled_compound()
    for r in recs:
        pd = hulls.diagram(set(r["composition"]) | {"Li"})
        comp = Composition(r["composition"])
        w = window(pd, comp, r["energy_eV"])
        fast = window_edges(pd, comp)
        assert fast[0] == pytest.approx(w.reduction.voltage_V, abs=1e-4), r["formula"]
        if w.oxidation is None:
            assert math.isnan(fast[1])
        else:
            assert fast[1] == pytest.approx(w.oxidation.voltage_V, abs=1e-4), r["formula"]


def test_the_filters_in_forked_workers_give_the_one_process_result(monkeypatch):
    # 150 Li-M-O candidates over several chemical systems (formation energies shifted by a
    # seeded generator: which survive differs from stage to stage), screened in one process
    # and in two forked workers: the same candidates, metrics, notes, funnel and ranking
    import random

    from pymatgen.core import Composition

    import sselang.analyses.screen as S
    from sselang.data.thermo import BundledSource
    from sselang.model.study import Ranking, Requirement

    src = BundledSource()
    recs = src.records(frozenset(el for r in src.records_all() for el in r["composition"]))
    per_atom = {}
    for r in recs:
        c = Composition(r["composition"])
        per_atom[c.reduced_formula] = min(per_atom.get(c.reduced_formula, 1e9), r["energy_eV"] / c.num_atoms)
    oxides = sorted(f for f in per_atom if len(Composition(f)) == 2 and "O" in Composition(f) and "Li" not in Composition(f))
    rng = random.Random(7)
    cands = []
    for i in range(150):
        ox = oxides[i % len(oxides)]
        c = Composition("Li2O") * (1 + i % 3) + Composition(ox) * (1 + i % 2)
        e = sum(per_atom[f] * Composition(f).num_atoms * n for f, n in (("Li2O", 1 + i % 3), (ox, 1 + i % 2)))
        rec = {"id": f"gen:{i}", "formula": c.reduced_formula, "energy_eV": e + rng.uniform(-0.08, 0.02) * c.num_atoms,
               "composition": {el.symbol: float(a) for el, a in c.items()}}
        cands.append(S.Side(f"cand-{i:03d}", rec["composition"], rec))
    by = {r["id"]: r for r in recs}
    sides = {"cathode": S.Side("NMC811", by["bundled:NMC811"]["composition"], by["bundled:NMC811"]),
             "electrolyte": S.Side("Li3PS4", by["bundled:Li3PS4"]["composition"], by["bundled:Li3PS4"])}
    reqs = [Requirement(metric="e_hull", op="<=", value=0.03, unit="eV/atom"),
            Requirement(metric="window", op="covers", range_V=(1.0, 3.0)),
            Requirement(metric="reactivity", with_role="electrolyte", op=">=", value=-0.15, unit="eV/atom")]
    rank = Ranking(metric="reactivity", with_role="electrolyte", order="descending")

    monkeypatch.setattr(S, "_workers", lambda: 1)
    one = S.screen(cands, sides, reqs, rank, S.SubHulls(recs + [c.record for c in cands]))
    calls = []
    real = S._filters

    def counted(*a):
        calls.append(len(a[0]))
        return real(*a)

    monkeypatch.setattr(S, "_workers", lambda: 2)
    monkeypatch.setattr(S, "_filters", counted)  # seen in this process only if the workers were skipped
    two = S.screen(cands, sides, reqs, rank, S.SubHulls(recs + [c.record for c in cands]))
    assert calls == []  # the filters ran in the workers
    assert [c.model_dump() for c in one[0]] == [c.model_dump() for c in two[0]]
    assert one[1] == two[1] and one[2] == two[2]
    counts = [f.remaining for f in one[1]]
    assert counts[0] == 150 and counts[0] > counts[1] > counts[2] > counts[3] > 0  # every stage removes some
