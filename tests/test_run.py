"""`sselang run`: calculations through Parsl, state files and resuming after a kill,
the SLURM configuration (built, never submitted) and CP2K really run on a compiled deck."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sselang.plan import Calculation
from sselang.run import state, tasks
from sselang.run.executor import have_parsl, run_tasks, slurm_config

needs_parsl = pytest.mark.skipif(not have_parsl(), reason="parsl is not installed (pip install 'sselang[parsl]')")
needs_cp2k = pytest.mark.skipif(shutil.which("cp2k.psmp") is None,
                                reason="no cp2k.psmp on PATH (apt-get install cp2k cp2k-data)")

STUDY = '''study "li2s-run" {{ title = "Li2S AIMD smoke run" }}

material Li2S {{
  formula   = Li2S
  structure = library("Li2S")
}}

analyze Li2S {{
  diffusion {{
    temperatures = [800] K
    duration     = 1 ps
    timestep     = 2 fs
    supercell    = 5 Å
  }}
}}

{engine}
data {{ thermo = bundled }}
{run}
'''
# small numerics so the run stays well under a minute (a smoke test of the deck, as in
# test_cp2k_decks); `for = [diffusion]`: the MD run only, no relaxation in the plan
CP2K_MD_ONLY = "engine cp2k { for = [diffusion]  cutoff = 250 Ry  rel_cutoff = 40 Ry }"
CP2K_ALL = "engine cp2k { cutoff = 250 Ry  rel_cutoff = 40 Ry }"


def _study(tmp_path: Path, engine: str = CP2K_ALL, run: str = "run { executor = local { workers = 2 } }") -> Path:
    p = tmp_path / "li2s.cell"
    p.write_text(STUDY.format(engine=engine, run=run), encoding="utf-8")
    return p


def _calc(cid: str, kind: str = "md") -> Calculation:
    doc = {"lattice": [[3.0, 0, 0], [0, 3.0, 0], [0, 0, 3.0]], "species": ["Li"], "frac_coords": [[0, 0, 0]]}
    return Calculation(cid, kind, "Li", "cp2k", {"temperature_K": 600.0, "timestep_fs": 2.0, "steps": 10}, doc, "test")


def _sselang(*args, env=None, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sselang.cli", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


# ---- the executor -----------------------------------------------------------------------
@needs_parsl
def test_two_tasks_through_parsl(tmp_path, monkeypatch):
    import threading

    import sselang.run.dft as dft

    threads = {}

    def fake(calc, calc_dir, options):  # stands in for the engine: writes an output file
        threads[calc.id] = threading.current_thread().name
        (calc_dir / "cp2k.out").write_text(f"{calc.id} PROGRAM ENDED\n")
        return {"energies_eV": [-1.0], "frames": 1}

    monkeypatch.setattr(dft, "run_calculation", fake)
    pairs = []
    for cid in ("md-a", "md-b"):
        (tmp_path / cid).mkdir()
        pairs.append((_calc(cid), tmp_path / cid))
    lines = []
    results = run_tasks(pairs, tasks.RunOptions(fidelity="dft", quiet=True), 2, tmp_path / ".runinfo",
                        echo=lines.append, use_parsl=True)
    assert [r["id"] for r in results] == ["md-a", "md-b"] and all(r["status"] == "done" for r in results)
    for cid in ("md-a", "md-b"):
        assert (tmp_path / cid / "cp2k.out").read_text() == f"{cid} PROGRAM ENDED\n"
        st = state.read_state(tmp_path / cid)
        assert st["status"] == "done" and st["fidelity"] == "dft" and st["attempts"] == 1
        assert st["summary"]["energies_eV"] == [-1.0] and st["finished"] >= st["started"]
    # Parsl ran them (its log is in the run folder), not the caller's thread
    assert list((tmp_path / ".runinfo").rglob("parsl.log"))
    assert threading.current_thread().name not in threads.values()
    assert sum(line.startswith("[") for line in lines) == 2


def test_a_failure_is_recorded_and_does_not_stop_the_others(tmp_path, monkeypatch):
    import sselang.run.dft as dft

    def fake(calc, calc_dir, options):
        if calc.id == "md-bad":
            raise tasks.RunError("cp2k.psmp stopped (exit code 1) without finishing")
        (calc_dir / "cp2k.out").write_text("PROGRAM ENDED\n")
        return {}

    monkeypatch.setattr(dft, "run_calculation", fake)
    pairs = [(_calc(c), tmp_path / c) for c in ("md-bad", "md-good")]
    for _, d in pairs:
        d.mkdir()
    results = run_tasks(pairs, tasks.RunOptions(fidelity="dft", quiet=True), 1, tmp_path / ".runinfo",
                        echo=lambda _: None, use_parsl=False)
    assert [r["status"] for r in results] == ["failed", "done"]
    bad = state.read_state(tmp_path / "md-bad")
    assert bad["status"] == "failed" and "exit code 1" in bad["message"]
    assert tasks.action(tmp_path / "md-bad", "dft") == ("run", "failed earlier: retried")
    assert tasks.action(tmp_path / "md-good", "dft") == ("skip", "done")
    assert tasks.action(tmp_path / "md-good", "preview")[0] == "skip"  # never overwritten by the other fidelity
    user = tmp_path / "by-hand"
    user.mkdir()
    (user / "OUTCAR").write_text("")
    assert tasks.action(user, "dft") == ("skip", "holds results that sselang run did not write")


# ---- resuming after a kill -------------------------------------------------------------------
FAKE_CP2K = """#!/bin/sh
# stands in for cp2k.psmp -i IN -o OUT: optionally hangs, then writes a finished output
echo "$(basename "$PWD")" >> "$FAKE_LOG"
if [ -n "$FAKE_SLEEP" ]; then sleep "$FAKE_SLEEP"; fi
grep -q -e "STEPS 3" -e "MAX_ITER 3" "$2" || exit 3
echo " PROGRAM ENDED AT now" > "$4"
"""


def test_a_killed_run_resumes(tmp_path):
    study = _study(tmp_path, run="run { executor = local { workers = 1 } }")
    fake = tmp_path / "fake-cp2k"
    fake.write_text(FAKE_CP2K)
    fake.chmod(0o755)
    log = tmp_path / "engine.log"
    env = {"SSELANG_CP2K_COMMAND": str(fake), "FAKE_LOG": str(log)}
    args = ["run", study, "--build-dir", tmp_path / "build", "--fidelity", "dft", "--steps", "3", "--quiet",
            "--workers", "1"]
    # first run: the engine hangs in the first calculation, and the whole process group is killed
    proc = subprocess.Popen([sys.executable, "-m", "sselang.cli", *map(str, args)], env={**os.environ, **env,
                            "FAKE_SLEEP": "60"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    calcs = tmp_path / "build" / "li2s-run" / "calcs"
    deadline = time.monotonic() + 120
    while not (log.exists() and log.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    first = log.read_text().split()
    assert len(first) == 1
    killed = calcs / first[0]
    st = state.read_state(killed)
    assert st["status"] == "running" and st["attempts"] == 1
    other = next(d for d in calcs.iterdir() if d.name != first[0])
    assert state.read_state(other) is None  # never started

    # second run: the interrupted calculation restarts, the other runs for the first time
    r = _sselang(*args, env=env)
    assert r.returncode == 0, r.stderr
    assert "interrupted earlier: restarted" in r.stderr
    assert state.read_state(killed)["attempts"] == 2 and state.read_state(killed)["status"] == "done"
    assert state.read_state(other)["attempts"] == 1 and state.read_state(other)["status"] == "done"
    mtimes = {d.name: (d / "cp2k.out").stat().st_mtime_ns for d in calcs.iterdir()}
    assert "2 done, 0 failed, 0 skipped" in r.stdout

    # third run: everything is done, nothing is started
    r = _sselang(*args, env=env)
    assert r.returncode == 0, r.stderr
    assert "0 done, 0 failed, 2 skipped" in r.stdout
    assert log.read_text().split().count(first[0]) == 2 and len(log.read_text().split()) == 3
    assert {d.name: (d / "cp2k.out").stat().st_mtime_ns for d in calcs.iterdir()} == mtimes
    for d in calcs.iterdir():
        st = state.read_state(d)
        assert st["input"] == "cp2k.run.inp" and st["steps_override"] == 3
        # the compiled deck is unchanged; the override went into the copy
        assert "STEPS 3" not in (d / "cp2k.inp").read_text()
    # the state file is no file compile wrote: it stays out of the manifest
    manifest = json.loads((tmp_path / "build" / "li2s-run" / "manifest.json").read_text())["files"]
    assert not any(".sselang-run" in f for f in manifest)


def test_user_errors_are_messages(tmp_path):
    study = _study(tmp_path)
    build = tmp_path / "build"
    r = _sselang("run", study, "--build-dir", build, "--fidelity", "dft", env={"SSELANG_CP2K_COMMAND": "no-such-cp2k"})
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "no-such-cp2k was not found on PATH" in r.stderr
    r = _sselang("run", study, "--build-dir", build, "--fidelity", "dft", "--engine", "qe")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "no relax/static/md calculations for engine qe (it has some for cp2k)" in r.stderr
    # nothing ran: no state files
    assert not list(build.rglob(".sselang-run.json"))


@pytest.mark.parametrize("written, ps", [("1ps", 1.0), ("500 fs", 0.5), ("0.002ns", 2.0), ("0.25", 0.25)])
def test_duration_is_a_time_with_its_unit(written, ps):
    from sselang.cli import _TIME

    assert _TIME.convert(written, None, None) == pytest.approx(ps)


@pytest.mark.parametrize("written, said", [("1K", "'K' is not a unit of time"), ("-1ps", "not a positive time"),
                                           ("soon", "is not a time"), ("1e999 ps", "not a finite number")])
def test_a_duration_that_is_no_time_is_a_message(tmp_path, written, said):
    r = _sselang("run", _study(tmp_path), "--build-dir", tmp_path / "build", "--duration", written)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert said in r.stderr and not (tmp_path / "build").exists()


# ---- SLURM ------------------------------------------------------------------------------------
@needs_parsl
def test_slurm_config_from_the_study(tmp_path):
    from sselang.pipeline import front_end

    fe = front_end(_study(tmp_path, run='run {\n  executor = slurm { partition = "batch"  account = "proj-7"  '
                                       'walltime = 12 h  nodes = 2 }\n}'))
    assert fe.ok, fe.diagnostics
    config = slurm_config(fe.study, "cp2k", worker_init="module load cp2k/2024.1")
    (ex,) = config.executors
    p = ex.provider
    assert type(p).__name__ == "SlurmProvider"
    assert (p.partition, p.account, p.nodes_per_block, p.walltime) == ("batch", "proj-7", 2, "12:00:00")
    assert p.worker_init.splitlines() == ["module load cp2k/2024.1", "export OMP_NUM_THREADS=1",
                                          "export SSELANG_CP2K_COMMAND='srun cp2k.psmp'"]
    assert p.init_blocks == 0 and not p.resources  # built, nothing submitted
    # a study without a slurm executor has no SLURM configuration
    fe_local = front_end(_study(tmp_path))
    with pytest.raises(tasks.RunError, match="no `executor = slurm"):
        slurm_config(fe_local.study, "cp2k")


# ---- CP2K, really -------------------------------------------------------------------------------
@needs_cp2k
def test_cp2k_md_end_to_end(tmp_path):
    from sselang.transport.readers import read_trajectory

    study = _study(tmp_path, engine=CP2K_MD_ONLY, run="run { executor = local { workers = 1 } }")
    start = time.monotonic()
    r = _sselang("run", study, "--build-dir", tmp_path / "build", "--fidelity", "dft", "--engine", "cp2k",
                 "--steps", "3", "--quiet", env={"OMP_NUM_THREADS": "2"})
    seconds = time.monotonic() - start
    assert r.returncode == 0, r.stderr + r.stdout
    out = tmp_path / "build" / "li2s-run"
    (d,) = list((out / "calcs").iterdir())
    assert d.name.startswith("md-Li2S-800K-cp2k-")
    assert (d / "Li2S-pos-1.xyz").is_file() and "PROGRAM ENDED" in (d / "cp2k.out").read_text()
    st = state.read_state(d)
    assert st["status"] == "done" and st["fidelity"] == "dft" and st["summary"]["frames"] == 4
    assert len(st["summary"]["energies_eV"]) == 4  # the start and 3 steps
    assert all(-2760 < e < -2740 for e in st["summary"]["energies_eV"])  # 12-atom Li2S, eV
    assert "STEPS 500" in (d / "cp2k.inp").read_text()  # 1 ps / 2 fs, as compiled
    traj = read_trajectory(d / "Li2S-pos-1.xyz")
    assert (traj.n_frames, traj.n_atoms, traj.dt_fs, traj.temperature_K) == (4, 12, 2.0, 800.0)
    # compile ran again after the run: the analysis found the trajectory (too short to fit)
    (res,) = [x for x in json.loads((out / "analyses.json").read_text())["results"] if x["kind"] == "diffusion"]
    assert res["waiting"] == [] and "4 frames are too few" in res["errors"][0]
    print(f"sselang run with cp2k.psmp, 3 MD steps: {seconds:.1f} s")


def test_selection_and_summary():
    from types import SimpleNamespace

    from sselang.run import runner

    nvt, npt, relax, neb = _calc("md-nvt"), _calc("md-npt"), _calc("relax-x", "relax"), _calc("neb-x", "neb")
    npt = Calculation(npt.id, "md", npt.material, "cp2k", {**npt.settings, "ensemble": "npt"}, npt.structure, "t")
    plan = SimpleNamespace(calculations=[relax, nvt, npt, neb])
    todo, left = runner.select(plan, "preview", "cp2k")
    assert [c.id for c in todo] == ["relax-x", "md-nvt", "neb-x"] and [c.id for c in left] == ["md-npt"]
    todo, left = runner.select(plan, "dft", "cp2k")
    assert [c.id for c in todo] == ["relax-x", "md-nvt", "md-npt"] and [c.id for c in left] == ["neb-x"]
    study = SimpleNamespace(engines=[SimpleNamespace(name="qe"), SimpleNamespace(name="cp2k")])
    assert runner.pick_engine(study, plan, "dft", None) == "cp2k"
    with pytest.raises(tasks.RunError, match="for engine vasp"):
        runner.pick_engine(study, plan, "dft", "vasp")

    doc = {"results": [{"kind": "diffusion", "engine": "cp2k", "material": "Li2S", "species": "Li", "waiting": [],
                        "errors": [], "runs": [{"temperature_K": 1000.0, "D_cm2_s": 2e-5, "sigma_mS_cm": 50.0,
                                                "D_err_cm2_s": 1e-6, "sigma_err_mS_cm": 2.5, "n_frames": 400},
                                               {"temperature_K": 800.0, "D_cm2_s": 5e-6, "sigma_mS_cm": 15.0,
                                                "n_frames": 400, "warnings": ["short"]}],
                        "arrhenius": {"Ea_eV": 0.251, "Ea_err_eV": 0.02, "T_target_K": 300.0,
                                      "sigma_target_mS_cm": 0.42, "sigma_target_err_mS_cm": 0.1}},
                       {"kind": "diffusion", "engine": "vasp", "material": "Li2S", "runs": []}]}
    assert runner.summary_lines(doc, "cp2k") == [
        "diffusion of Li in Li2S (cp2k):",
        "  800 K: D = 5e-06 cm^2/s, sigma = 15 mS/cm (400 frames, 1 warning(s))",
        "  1000 K: D = 2e-05 +- 1e-06 cm^2/s, sigma = 50 +- 2.5 mS/cm (400 frames)",
        "  Ea = 0.251 +- 0.020 eV; sigma(300 K) = 0.42 +- 0.1 mS/cm",
    ]
