"""Every phase of the structure library: builds, has its formula, is charge
balanced, has no overlapping or too-close atoms, has the stated space group
(spglib), and appears in the bundled dataset with its ML relaxation record."""

import pytest

from sselang.data.library import phases
from sselang.data.validate import problems

PHASES = sorted(phases())


@pytest.mark.parametrize("name", PHASES)
def test_phase_is_sound(name):
    assert problems(phases()[name]) == []


def test_a_mistyped_coordinate_is_caught():
    # rock-salt LiCl with Cl typed at x = 0.25 instead of 0.5: Li-Cl 1.28 Å, far above the
    # absolute 1.1 Å floor but only 0.56 of the covalent radii's sum (1.28 + 1.02 Å)
    from sselang.data.library import _phase

    rec = {"name": "LiCl-typo", "formula": "LiCl", "spacegroup": 225, "lattice": {"a": 5.13},
           "reference": "a deliberately mistyped rock-salt record",
           "sites": [{"label": "Li1", "species": "Li", "wyckoff": "4a", "xyz": [0, 0, 0]},
                     {"label": "Cl1", "species": "Cl", "wyckoff": "24e", "xyz": [0.25, 0, 0]}]}
    found = problems(_phase(rec, "test"))
    assert any("covalent radii" in p for p in found), found


def test_quick_names_agree_with_the_parsed_library():
    from sselang.data.library import quick_names

    assert quick_names() == set(PHASES)


def test_every_record_names_its_reference():
    for p in phases().values():
        assert len(p.reference) > 15, p.name


@pytest.fixture(scope="module")
def dataset():
    from sselang.data.thermo import bundled_document

    return bundled_document()


def test_dataset_covers_the_library(dataset):
    names = {r["name"] for r in dataset["entries"]}
    assert names == set(PHASES), f"rebuild the dataset (python -m sselang.data.build): {set(PHASES) ^ names}"


def test_dataset_records_the_relaxation_volume_change(dataset):
    meta = dataset["metadata"]
    for r in dataset["entries"]:
        assert r["flagged"] == (abs(r["volume_change"]) > meta["volume_flag"]), r["name"]
        if r["flagged"]:
            assert r["name"] in meta["flagged"]


def test_dataset_metadata_names_model_scheme_and_validation(dataset):
    meta = dataset["metadata"]
    assert meta["model"].startswith("CHGNet 0.3")
    assert "MP2020" in meta["scheme"]
    v = meta["validation"]
    assert v["compared"] >= 5 and v["mae_eV_atom"] is not None
    # CHGNet's published MAE on MP energies is ~30 meV/atom; formation energies of
    # well-known binaries should not be far off
    assert v["mae_eV_atom"] < 0.15
