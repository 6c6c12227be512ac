"""Units against hand conversions (CODATA constants, offset temperatures)."""

import pytest

from sselang.model.units import UnitError, convert, kind_of


@pytest.mark.parametrize(
    "value, unit, kind, expected",
    [
        (25, "degC", "temperature", 298.15),  # offset, not 25 K
        (-40, "degF", "temperature", 233.15),  # -40 F == -40 C
        (77, "degF", "temperature", 298.15),
        (600, "K", "temperature", 600.0),
        (2, "fs", "time", 0.002),  # canonical ps
        (1, "ns", "time", 1000.0),
        (5, "nm", "length", 50.0),  # canonical Å
        (10, "Å", "length", 10.0),
        (25, "meV/atom", "energy_per_atom", 0.025),
        (1, "Ry", "energy", 13.605693122994),  # CODATA 2018 Rydberg energy in eV
        (1, "Ha", "energy", 27.211386245988),
        (50, "MPa", "pressure", 50.0),
        (1, "GPa", "pressure", 1000.0),
        (10, "bar", "pressure", 1.0),
        (70, "wt%", "fraction", 0.70),
        (60, "%", "fraction", 0.60),
        (0.1, "C", "c_rate", 0.1),
        (4300, "mV", "potential", 4.3),
        (151.9, "mAh/g", "specific_capacity", 151.9),
        (1, "Ah/kg", "specific_capacity", 1.0),
        (2.8, "mS/cm", "conductivity", 2.8),
        (0.01, "S/cm", "conductivity", 10.0),
        (1, "mA/cm^2", "current_density", 1.0),
        (1, "A/m^2", "current_density", 0.1),
        (400, "Å^2", "area", 400.0),
        (1e-6, "cm^2/s", "diffusivity", 1e-6),
        (450, "cycles", "cycles", 450.0),
    ],
)
def test_convert(value, unit, kind, expected):
    assert convert(value, unit, kind) == pytest.approx(expected, rel=1e-9)


def test_c_is_the_c_rate_not_the_coulomb():
    assert kind_of("C") == ["c_rate"]
    with pytest.raises(UnitError):
        convert(1, "C", "potential")


@pytest.mark.parametrize("unit, kind", [("K", "potential"), ("eV", "energy_per_atom"), ("V", "temperature"),
                                        ("ps", "length")])
def test_wrong_dimension(unit, kind):
    with pytest.raises(UnitError, match="is not a unit of"):
        convert(1, unit, kind)


@pytest.mark.parametrize("unit", ["MPaa", "foo", "V/", "meV//atom", "", "**", "K^K"])
def test_unknown_or_malformed_unit(unit):
    with pytest.raises(UnitError):
        convert(1, unit, "potential")


def test_overflow_is_refused():
    with pytest.raises(UnitError):
        convert(1e308, "GPa", "pressure")
