"""The ML-potential preview of an NEB (sselang/run/preview.py, kind "neb"): a Li vacancy hop
in Li2S through `sselang run --fidelity preview`, checked against the band read back with
ase and against CHGNet single points of its end structures; the analysis and the report
read it (analyses/diffusion.py barrier_results); a rerun skips it.  Resuming a stopped NEB,
refusing a foreign band and the IDPP path run with a cheap stand-in potential instead of
CHGNet, so they cost no model evaluations."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from sselang.plan import Calculation
from sselang.run import preview
from sselang.run.preview import PreviewUnavailable, run_calculation

needs_chgnet = pytest.mark.skipif(not preview.available(), reason="needs torch and chgnet")

STUDY = '''# A Li vacancy hop in Li2S: climbing-image NEB, previewed with CHGNet
study "li2s-neb-preview" { title = "Li vacancy hop in Li2S" }

material Li2S {
  formula   = Li2S
  structure = library("Li2S")
}

analyze Li2S {
  barrier {
    hop    = Li
    images = 3
    climb  = true
  }
}

engine vasp { preset = mp  for = barrier }
data { thermo = bundled }
'''
STEPS = 40  # the NEB converges in ~30 FIRE steps here; the cap keeps a slow machine bounded


@pytest.fixture
def small_cells(monkeypatch):
    """NEB cells of at least 5 Å instead of the plan's 10 Å: Li2S's 12-atom conventional cell
    (11 atoms with the vacancy) instead of 80 atoms, which take minutes of CHGNet on a busy
    machine.  The hop, the images and everything after them are the plan's own code."""
    import sselang.plan as plan

    orig = plan.supercell_for
    monkeypatch.setattr(plan, "supercell_for", lambda abc, length: orig(abc, min(length, 5.0)))


@pytest.fixture
def one_thread():
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)  # the machine's other cores belong to other work
    yield
    torch.set_num_threads(n)


def _run(study: Path, *args):
    from click.testing import CliRunner

    from sselang.cli import cli

    # in this process, so the smaller cells above apply to the plan
    return CliRunner().invoke(cli, ["run", str(study), "--fidelity", "preview", "--quiet", *map(str, args)])


def _mic(a, b) -> np.ndarray:
    """Each atom's shortest displacement from image a to image b."""
    from ase.geometry import find_mic

    dr, _ = find_mic(b.get_positions() - a.get_positions(), a.cell, a.pbc)
    return dr


def _mic_path(band) -> list[float]:
    s = [0.0]
    for a, b in zip(band, band[1:]):
        s.append(s[-1] + float(np.sqrt((_mic(a, b) ** 2).sum())))
    return s


@needs_chgnet
def test_li_vacancy_hop_in_li2s_through_sselang_run(tmp_path, monkeypatch, small_cells, one_thread):
    import ase.io
    from chgnet.model import CHGNet
    from chgnet.model.dynamics import CHGNetCalculator

    monkeypatch.chdir(tmp_path)
    study = tmp_path / "li2s_neb.cell"
    study.write_text(STUDY, encoding="utf-8")
    t0 = time.perf_counter()
    r = _run(study, "--steps", STEPS)
    seconds = time.perf_counter() - t0
    assert r.exit_code == 0, r.output
    out = tmp_path / "build" / "li2s-neb-preview"
    (d,) = (out / "calcs").glob("neb-Li2S-*")
    meta = json.loads((d / "preview-neb.json").read_text(encoding="utf-8"))
    assert meta["finished"] and meta["converged"] and 0 < meta["steps"] <= STEPS
    assert meta["max_force_eV_per_A"] < 0.05 and meta["images"] == 3 and meta["climb"] is True
    assert meta["natoms"] == 11 and meta["model"].startswith("CHGNet ")
    assert all(meta["endpoints"][w]["converged"] for w in ("initial", "final"))

    # the band, read with ase alone
    band = ase.io.read(str(d / "neb.traj"), index=":")
    assert len(band) == 5 and all(len(a) == 11 for a in band)
    energies = [a.get_potential_energy() for a in band]
    top = int(np.argmax(energies))
    barrier = max(energies) - energies[0]
    assert 0 < top < 4 and 0.0 < barrier < 1.5
    assert meta["barrier_eV"] == pytest.approx(barrier, abs=1e-6)
    # the hopping Li moves by the hop distance (the rest relax by far less)
    assert np.sqrt((_mic(band[0], band[-1]) ** 2).sum(axis=1)).max() == pytest.approx(meta["hop_distance_A"], abs=0.3)

    # what compile made of it: the barrier, the profile the report plots, and where it came from
    analyses = json.loads((out / "analyses.json").read_text(encoding="utf-8"))
    (res,) = [x for x in analyses["results"] if x["kind"] == "barrier"]
    assert res["fidelity"] == f"ML-potential preview ({meta['model']})" and res["calculation"] == d.name
    doc = res["result"]
    assert doc["barrier_eV"] == pytest.approx(barrier, abs=1e-6)
    assert doc["climbing"] is True and doc["climbing_image"] == top
    assert [im["energy_eV"] for im in doc["images"]] == pytest.approx(energies, abs=1e-6)
    assert [im["reaction_coordinate_A"] for im in doc["images"]] == pytest.approx(_mic_path(band), abs=1e-6)
    assert str(tmp_path) not in json.dumps(doc)  # relative paths: the same bytes wherever the build is
    report = json.loads((out / "report" / "report.json").read_text(encoding="utf-8"))
    (sec,) = [s for s in report["sections"] if s["kind"] == "barrier"]
    assert sec["numbers"][0]["value"] == pytest.approx(barrier) and sec["figures"]

    # the end points: CHGNet single points of the end structures, computed here afresh
    model = CHGNet.load(verbose=False)
    for i in (0, -1):
        a = band[i].copy()
        a.calc = CHGNetCalculator(model=model)
        assert a.get_potential_energy() == pytest.approx(energies[i], abs=1e-4)
        assert np.sqrt((a.get_forces() ** 2).sum(axis=1)).max() < 0.05  # relaxed before the NEB

    # a rerun leaves the finished NEB alone
    before = {f: (d / f).read_bytes() for f in ("neb.traj", "preview-neb.json")}
    r2 = _run(study, "--steps", STEPS)
    assert r2.exit_code == 0, r2.output
    assert f"skip {d.name}: done" in r2.output and "0 done, 0 failed" in r2.output
    assert before == {f: (d / f).read_bytes() for f in before}
    # `sselang analyze barrier` on the folder reads the same band
    from click.testing import CliRunner

    from sselang.cli import cli

    a = CliRunner().invoke(cli, ["analyze", "barrier", str(d), "--json"])
    assert a.exit_code == 0, a.output
    assert json.loads(a.output)["barrier_eV"] == pytest.approx(barrier, abs=1e-6)
    print(f"preview NEB, Li vacancy hop in 11-atom Li2S: barrier {barrier:.3f} eV, {meta['steps']} steps "
          f"(end points {meta['endpoints']['initial']['steps']} + {meta['endpoints']['final']['steps']}), "
          f"NEB {meta['seconds']:.1f} s, sselang run {seconds:.1f} s")


# ---- the mechanics, with a stand-in potential ----------------------------------------------

class _Stop(Exception):
    pass


@pytest.fixture
def stand_in(monkeypatch):
    """A Lennard-Jones potential in place of CHGNet: the band's bookkeeping, not its physics."""
    from ase.calculators.lj import LennardJones

    monkeypatch.setattr(preview, "_model", lambda: None)
    monkeypatch.setattr(preview, "_model_info", lambda: {"model": "LJ stand-in", "package": "ase"})
    monkeypatch.setattr(preview, "_calculator", lambda: LennardJones(sigma=2.2, epsilon=0.05, rc=5.0, smooth=True))


def _neb_calc(with_images: bool = True) -> Calculation:
    from sselang.data.library import build, phases
    from sselang.data.ml import structure_doc
    from sselang.neb import find_hop

    hop = find_hop(build(phases()["Li2S"]), "Li", None, 3)  # the 12-atom conventional cell
    st = {"images": 3, "climb": True, "species": "Li", "direction": None, "hop_distance": round(hop.distance, 4),
          "final_doc": structure_doc(hop.final)}
    if with_images:
        st["image_docs"] = [structure_doc(x) for x in hop.images]
    return Calculation("neb-Li2S-Li-any-test", "neb", "Li2S", "vasp", st, structure_doc(hop.initial), "test")


def test_a_stopped_neb_resumes_from_its_saved_band(tmp_path, monkeypatch, stand_in):
    import ase.io

    from sselang.analyses.diffusion import barrier_results

    monkeypatch.setattr(preview, "SAVE_EVERY_S", -1.0)  # save the band at every step
    calc = _neb_calc()
    d = tmp_path / "calcs" / calc.id

    def stop_at_3(done, total):
        if done >= 3:
            raise _Stop

    with pytest.raises(_Stop):
        run_calculation(calc, d, SimpleNamespace(steps=50, quiet=True, progress=stop_at_3))
    stopped = json.loads((d / "preview-neb.json").read_text(encoding="utf-8"))
    assert not stopped["finished"] and stopped["steps"] == 2 and stopped["resumed"] == []
    ends = [ase.io.read(str(d / "neb.traj"), index=i).get_positions() for i in (0, -1)]
    # an unfinished band is no result yet
    plan = SimpleNamespace(calculations=[calc])
    (waiting,) = barrier_results(None, plan, tmp_path)
    assert waiting.result is None and not waiting.errors

    res = run_calculation(calc, d, SimpleNamespace(steps=50, quiet=True))
    assert res["finished"] and res["resumed"][0]["at_step"] == 2 and res["steps"] > 2
    assert res["endpoints"] == stopped["endpoints"]  # not relaxed again
    band = ase.io.read(str(d / "neb.traj"), index=":")
    assert np.array_equal(band[0].get_positions(), ends[0]) and np.array_equal(band[-1].get_positions(), ends[1])
    assert res["barrier_eV"] == pytest.approx(max(a.get_potential_energy() for a in band)
                                              - band[0].get_potential_energy(), abs=1e-6)
    (done,) = barrier_results(None, plan, tmp_path)
    assert done.fidelity == "ML-potential preview (LJ stand-in)"
    assert done.result["barrier_eV"] == pytest.approx(res["barrier_eV"], abs=1e-6)
    assert done.result["source"] == f"calcs/{calc.id}"

    # finished: called again, it returns the summary and writes nothing
    before = {f: (d / f).read_bytes() for f in ("neb.traj", "preview-neb.json")}
    assert run_calculation(calc, d, SimpleNamespace(steps=50, quiet=True)) == res
    assert before == {f: (d / f).read_bytes() for f in before}


def test_end_points_only_get_an_idpp_band_between_the_relaxed_end_points(tmp_path, stand_in):
    import ase.io

    res = run_calculation(_neb_calc(with_images=False), tmp_path, SimpleNamespace(steps=2, quiet=True))
    assert res["path"].startswith("IDPP") and res["steps"] == 2 and res["finished"] and not res["converged"]
    band = ase.io.read(str(tmp_path / "neb.traj"), index=":")
    assert len(band) == 5 and all(a.get_potential_energy() is not None for a in band)
    assert res["endpoints"]["initial"]["steps"] <= 2  # --steps caps the end points' relaxation too


def test_a_band_not_written_by_the_preview_is_refused(tmp_path, stand_in):
    import ase.io
    from ase import Atoms

    ase.io.write(str(tmp_path / "neb.traj"), [Atoms("Li", cell=[3, 3, 3], pbc=True)] * 3, format="traj")
    with pytest.raises(FileExistsError, match="not a preview of this calculation"):
        run_calculation(_neb_calc(), tmp_path, SimpleNamespace(steps=2, quiet=True))


def test_missing_chgnet_names_the_install(tmp_path, monkeypatch):
    import sselang.data.ml as ml

    monkeypatch.setattr(ml, "available", lambda: False)
    with pytest.raises(PreviewUnavailable, match="pip install torch==2.13.0 chgnet"):
        run_calculation(_neb_calc(), tmp_path, SimpleNamespace(steps=2, quiet=True))
    assert not any(tmp_path.iterdir())


def test_analyze_barrier_on_an_unfinished_preview_folder_says_so(tmp_path):
    from click.testing import CliRunner

    from sselang.cli import cli

    d = tmp_path / "neb-Li2S-Li-any-test"
    d.mkdir()
    (d / "preview-neb.json").write_text('{"kind": "neb", "finished": false, "images": 3}', encoding="utf-8")
    r = CliRunner().invoke(cli, ["analyze", "barrier", str(d)])
    assert r.exit_code == 1 and r.exception is None or isinstance(r.exception, SystemExit)
    assert "the preview NEB has not finished" in r.output and "Traceback" not in r.output
