"""Ordering partial occupancies and applying structure edits."""

import pytest
from pymatgen.core import Lattice, Structure

from sselang.data import ordering
from sselang.data.ordering import OrderingError, apply_edits, order
from sselang.model.study import StructureEdit


def half_filled_rocksalt():
    # Li on every octahedral site at occupancy 1/2, O- (to stay neutral) on the anion sites
    s = Structure.from_spacegroup(225, Lattice.cubic(4.2), [{"Li": 0.5}, "F"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    return s


def test_exact_ranking_and_annealing_find_the_same_minimum(monkeypatch):
    s = half_filled_rocksalt()
    s.make_supercell([2, 1, 1])  # 8 Li sites, 4 Li: C(8,4) = 70 arrangements
    ox = {"Li": 1, "F": -1}
    # F- fully occupied with Li at half: the cell carries a uniform background; ranking is unaffected
    exact = order(s, ox, seed=0, cell="conventional")[0]
    assert exact.method == "ewald-exact" and 1 < exact.arrangements <= ordering.EXACT_LIMIT
    monkeypatch.setattr(ordering, "EXACT_LIMIT", 10)
    annealed = order(s, ox, seed=0, cell="conventional")[0]
    assert annealed.method == "ewald-anneal"
    e_exact = _ewald(exact.structure, ox)
    e_anneal = _ewald(annealed.structure, ox)
    assert e_anneal == pytest.approx(e_exact, abs=1e-6)


def _ewald(s, ox):
    from pymatgen.analysis.ewald import EwaldSummation

    t = s.copy()
    t.add_oxidation_state_by_element(ox)
    return EwaldSummation(t).total_energy


def test_annealing_is_deterministic_for_a_seed_and_keeps_composition(monkeypatch):
    monkeypatch.setattr(ordering, "EXACT_LIMIT", 10)
    s = half_filled_rocksalt()
    s.make_supercell(2)
    a = order(s, {"Li": 1, "F": -1}, seed=5, cell="conventional")[0].structure
    b = order(s, {"Li": 1, "F": -1}, seed=5, cell="conventional")[0].structure
    assert a == b
    assert a.composition.reduced_formula == "LiF2"
    assert a.is_ordered


def test_smallest_supercell_makes_occupancies_whole():
    # one site at 1/2 in a 1-site cell needs a doubled cell
    s = Structure(Lattice.cubic(3.0), [{"Li": 0.5}, "F"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    o = order(s, {"Li": 1, "F": -1})[0]
    assert sorted(o.supercell) == [1, 1, 2] and len(o.structure) == 3


def test_too_large_cells_are_refused_with_the_size():
    s = Structure(Lattice.cubic(3.0), [{"Li": 1 / 3}, "F"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(OrderingError, match="atoms"):
        order(s, {"Li": 1, "F": -1}, max_atoms=2)


def test_argyrodite_edits_give_the_doped_formula():
    from sselang.data.library import phases, structure

    if "Li6PS5Cl" not in phases():
        pytest.skip("no argyrodite in the library")
    s = structure("Li6PS5Cl")
    edits = [StructureEdit(op="substitute", species="S", new_species="O", amount=1.25),
             StructureEdit(op="substitute", species="Cl", new_species="S", amount=0.25),
             StructureEdit(op="add", species="Li", amount=0.25)]
    t = apply_edits(s, edits)
    # hand calculation: Li 6+0.25, P 1, S 5-1.25+0.25 = 4, O 1.25, Cl 1-0.25 = 0.75 per formula unit
    z = s.composition.get_reduced_composition_and_factor()[1]
    per_fu = {el.symbol: round(n / z, 6) for el, n in t.composition.items()}
    assert per_fu == {"Li": 6.25, "P": 1.0, "S": 4.0, "O": 1.25, "Cl": 0.75}


def test_edits_that_take_too_much_are_refused():
    s = Structure(Lattice.cubic(3.0), ["Li", "F"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(OrderingError, match="cannot remove"):
        apply_edits(s, [StructureEdit(op="remove", species="Li", amount=2)])
    with pytest.raises(OrderingError, match="no room"):
        apply_edits(s, [StructureEdit(op="add", species="Li", amount=0.5)])
