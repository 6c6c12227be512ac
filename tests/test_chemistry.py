"""Formula parsing and charge balance, side by side with pymatgen."""

import pytest
from pymatgen.core import Composition

from sselang.checks.chemistry import charge_balance
from sselang.model.formula import FormulaError, parse_formula

FIELD_PHASES = """Li6PS5Cl Li6PS5Br Li6PS5I Li3PS4 Li7P3S11 Li10GeP2S12 Li10SiP2S12 Li10SnP2S12 Li4P2S6 Li7PS6
Li2S LiCl Li3P P2S5 PCl3 LiCoO2 LiNiO2 LiFePO4 LiMn2O4 LiNbO3 Li3NbO4 LiNb3O8 Nb2O5 LiTaO3 Li3TaO4 Ta2O5 Li2ZrO3
Li6Zr2O7 Li8ZrO6 ZrO2 Li3PO4 Li4P2O7 LiPO3 P2O5 Li2O Li4Ti5O12 Li2TiO3 TiO2 Li2SiO3 Li4SiO4 Li2Si2O5 SiO2 Li3BO3
Li2SO4 CoS2 NiS MnS CoO Co3O4 GeS2 Li4GeS4 Li2GeS3 Li3InCl6 LiH2PO4""".split()


@pytest.mark.parametrize("formula", FIELD_PHASES)
def test_composition_matches_pymatgen(formula):
    ours = parse_formula(formula)
    theirs = {el.symbol: amt for el, amt in Composition(formula).items()}
    assert ours == pytest.approx(theirs)


@pytest.mark.parametrize("formula", ["LiTi2(PO4)3", "Li9.54Si1.74P1.44S11.7Cl0.3", "LiNi0.8Mn0.1Co0.1O2",
                                     "Li6.25PS4O1.25Cl0.75", "Ca3(PO4)2", "Li2Fe(SO4)2"])
def test_fractional_and_grouped_formulas(formula):
    ours = parse_formula(formula)
    theirs = {el.symbol: amt for el, amt in Composition(formula).items()}
    assert ours == pytest.approx(theirs)


@pytest.mark.parametrize("formula", FIELD_PHASES)
def test_field_phases_balance_like_pymatgen(formula):
    # every phase of the field's hulls is charge balanced, and pymatgen's own
    # guesser (integer formulas only) agrees that it can be
    assert Composition(formula).oxi_state_guesses(all_oxi_states=True, max_sites=-1)
    assert charge_balance(parse_formula(formula)).balanced


@pytest.mark.parametrize("formula, residual", [
    ("Li6PS6Cl", -2.0),   # one S too many: Li+6 P+5 S-2*6 Cl-1
    ("Li5PS5Cl", -1.0),   # one Li too few
    ("LiCoO3", -1.0),     # no Co5+ in any oxide table
    ("Li3PS5", 1.0),      # closest: Li+3 P+3 S-1*5 (ICSD states), still +1
])
def test_typos_are_unbalanced(formula, residual):
    b = charge_balance(parse_formula(formula))
    assert not b.balanced
    assert b.residual == pytest.approx(residual)
    assert sum(parse_formula(formula)[el] * s for el, s in b.states.items()) == pytest.approx(residual)


@pytest.mark.parametrize("formula", ["Li6PS6Cl", "Li5PS5Cl", "LiCoO3", "Li3PS5"])
def test_pymatgen_agrees_typos_need_unusual_states(formula):
    # pymatgen balances these only with mixed or exotic states; with the
    # common states of each element it cannot (the peer check of our 'no')
    guesses = Composition(formula).oxi_state_guesses(all_oxi_states=False, max_sites=-1)
    anion = max(Composition(formula).elements, key=lambda e: e.X).symbol
    plain = [g for g in guesses if g[anion] < 0 and all(float(v).is_integer() for v in g.values())]
    assert not plain


def test_transition_metals_may_mix_main_group_may_not():
    assert charge_balance(parse_formula("LiMn2O4")).states["Mn"] == pytest.approx(3.5)
    assert charge_balance(parse_formula("Fe3O4")).states["Fe"] == pytest.approx(8 / 3, abs=1e-4)
    assert charge_balance(parse_formula("LiNi0.8Mn0.1Co0.1O2")).balanced
    assert not charge_balance(parse_formula("Li2O2")).balanced  # peroxide O-1: needs mixed_valence = true


@pytest.mark.parametrize("formula, why", [("LiIn", "alloy"), ("Li15Ge4", "alloy"), ("Li", "element")])
def test_alloys_and_elements_are_skipped(formula, why):
    b = charge_balance(parse_formula(formula))
    assert b.balanced and b.skipped == why


@pytest.mark.parametrize("text, offset, message, help_", [
    ("LjCoO2", 0, "'Lj' is not an element", "did you mean 'Li'?"),
    ("LiCoOx2", 4, "'Ox' is not an element", "did you mean 'O'?"),
    ("LiCoO2x", 6, "cannot start an element symbol", None),
    ("Li6PS5Cl)", 8, "unmatched ')'", None),
    ("LiTi2(PO4", 5, "unclosed '('", None),
    ("Li0S", 2, "must be positive", None),
])
def test_formula_errors_point_inside_the_formula(text, offset, message, help_):
    with pytest.raises(FormulaError) as ei:
        parse_formula(text)
    assert ei.value.offset == offset
    assert message in ei.value.message
    if help_:
        assert ei.value.help == help_
