"""Our element table is pymatgen's, value for value."""

import math

from pymatgen.core.periodic_table import Element

from sselang.model.elements import table


def test_every_element_matches_pymatgen():
    ours = table()
    assert len(ours) == 103
    for sym, e in ours.items():
        pm = Element(sym)
        assert e.Z == pm.Z
        assert tuple(pm.common_oxidation_states) == e.common_oxidation_states
        assert tuple(pm.icsd_oxidation_states) == e.icsd_oxidation_states
        assert tuple(pm.oxidation_states) == e.oxidation_states
        assert e.is_transition_metal == pm.is_transition_metal
        assert e.is_lanthanoid == pm.is_lanthanoid
        assert e.is_actinoid == pm.is_actinoid
        if not math.isnan(e.X):
            assert e.X == pm.X
