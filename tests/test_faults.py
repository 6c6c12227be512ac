"""Faults mid-way: compile and run killed at many points, a read-only or full disk, damaged
inputs.  After any of them the build folder holds the old build or the new one, never a
mix; what a kill leaves is hidden and the next compile clears it; a full or read-only disk
and a damaged file are messages, not tracebacks.

The kill points come from tests/faults_helper.py (see there): SSELANG_KILL_POINTS sets how
many per test (CI: 20 timed kills of compile, 16 at renames, 8 of run; bench/faults.py runs
40 of each)."""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from faults_helper import hidden, manifest_problem, snapshot

HERE = Path(__file__).resolve().parent
POINTS = int(os.environ.get("SSELANG_KILL_POINTS", "0"))

STUDY = '''study "faults" {{ title = "{title}" }}

material Li2S {{
  formula   = Li2S
  structure = library("Li2S")
}}

analyze Li2S {{
  window
  diffusion {{
    temperatures = {temps} K
    duration     = 2 ps
    supercell    = 5 Å
  }}
}}

engine vasp {{ }}
engine cp2k {{ cutoff = 250 Ry  rel_cutoff = 40 Ry }}
data {{ thermo = bundled }}
'''
OLD = STUDY.format(title="Before", temps="[800, 1000, 1200]")
NEW = STUDY.format(title="After", temps="[700, 900, 1100, 1300]")
ALLOWED_HIDDEN = (".stage-", ".sselang-commit.json", ".report.replaced")


def _sselang(*args, cwd=None, env=None, timeout=600, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sselang.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env={**os.environ, **(env or {})}, **kw)


def _kill_points(tmp_path: Path, mode: str, points: int, command: str = "compile", study: str = "faults",
                 old: str | None = OLD, new: str = NEW, args=(), env=None, ref_old=None) -> tuple[dict, list[dict]]:
    work = tmp_path / "work"
    work.mkdir()
    (work / "new.cell").write_text(new)
    if old is not None:
        (work / "old.cell").write_text(old)
    ref = tmp_path / "ref"
    ref.mkdir()
    if ref_old is not None:
        shutil.copytree(ref_old, ref / "old", symlinks=True)
    conf = {"mode": mode, "points": points, "old": str(work / "old.cell") if old is not None else None,
            "new": str(work / "new.cell"), "build": str(tmp_path / "build"), "ref": str(ref), "study": study,
            "command": command, "args": list(args), "env": env or {}}
    (tmp_path / "conf.json").write_text(json.dumps(conf))
    r = subprocess.run([sys.executable, str(HERE / "faults_helper.py"), str(tmp_path / "conf.json")],
                       capture_output=True, text=True, timeout=3600, cwd=work)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    return lines[0], lines[1:]


def _assert_old_or_new(points: list[dict]) -> None:
    for p in points:
        assert not p["traceback"], p
        assert p["state"] in ("old", "new", "mid-commit"), p
        for name in p["hidden"]:
            assert name.startswith(ALLOWED_HIDDEN) or Path(name).name.startswith(".") and name.endswith(".tmp"), p
        if p["state"] != "mid-commit":
            assert p["manifest"] is None, p
        if p["state"] == "mid-commit":  # the commit record alone finishes the new build
            assert p["recovered"] == "new", p
        if "after" in p:  # the next compile finishes or clears what the kill left
            assert p["after"] == "new" and p["after_hidden"] == [] and p["after_manifest"] is None, p


# ---- kills -------------------------------------------------------------------------------------
def test_compile_killed_at_many_moments(tmp_path):
    calib, points = _kill_points(tmp_path, "time", POINTS or 20)
    assert calib["status"] == 0 and calib["renames"] > 20
    assert len(points) == (POINTS or 20)
    _assert_old_or_new(points)
    states = [p["state"] for p in points]
    assert states.count("old") >= 1, states
    print(f"{len(points)} kill points over {calib['seconds']:.2f} s: " + ", ".join(
        f"{s} {states.count(s)}" for s in ("old", "mid-commit", "new")))


def test_compile_killed_at_its_renames(tmp_path):
    # the k-th rename for k spread over all of them: every step of writing and of the commit
    calib, points = _kill_points(tmp_path, "rename", POINTS or 16)
    _assert_old_or_new(points)
    states = [p["state"] for p in points]
    assert "old" in states and ("mid-commit" in states or "new" in states), states
    late = [p for p in points if p["rename"] > calib["renames"] * 0.6]
    assert all(p["state"] in ("mid-commit", "new") for p in late if p["state"] != "old") and late


def test_compile_killed_as_a_subprocess(tmp_path):
    # the same from outside, three times: `python -m sselang.cli compile`, SIGKILL after a delay
    (tmp_path / "old.cell").write_text(OLD)
    (tmp_path / "new.cell").write_text(NEW)
    ref = tmp_path / "ref"
    assert _sselang("compile", "old.cell", "--build-dir", ref, cwd=tmp_path).returncode == 0
    old = snapshot(ref / "faults")
    shutil.copytree(ref, tmp_path / "ref-old")
    t0 = time.monotonic()
    assert _sselang("compile", "new.cell", "--build-dir", ref, cwd=tmp_path).returncode == 0
    full = time.monotonic() - t0
    new = snapshot(ref / "faults")
    assert _sselang("compile", "new.cell", "--build-dir", ref, cwd=tmp_path).returncode == 0
    again = snapshot(ref / "faults")  # plan.json says "keep" where the first said "add"
    build = tmp_path / "build"
    for frac in (0.5, 0.8, 0.95):
        shutil.rmtree(build, ignore_errors=True)
        shutil.copytree(tmp_path / "ref-old", build)
        proc = subprocess.Popen([sys.executable, "-m", "sselang.cli", "compile", "new.cell", "--build-dir", str(build)],
                                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        time.sleep(full * frac)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, err = proc.communicate(timeout=60)
        assert b"Traceback" not in out + err
        got = snapshot(build / "faults")
        assert got in (old, new) or (build / "faults" / ".sselang-commit.json").is_file()
        r = _sselang("compile", "new.cell", "--build-dir", build, cwd=tmp_path)
        assert r.returncode == 0 and snapshot(build / "faults") in (new, again) and hidden(build / "faults") == []


FAKE_CP2K = """#!/bin/sh
# stands in for cp2k.psmp -i IN -o OUT: takes a moment, then writes a finished output
sleep "${FAKE_SLEEP:-0.3}"
grep -q -e "STEPS 3" -e "MAX_ITER 3" "$2" || exit 3
echo " PROGRAM ENDED AT now" > "$4"
"""
RUN_STUDY = '''study "li2s-run" { title = "Li2S, killed while it runs" }

material Li2S {
  formula   = Li2S
  structure = library("Li2S")
}

analyze Li2S {
  diffusion {
    temperatures = [800, 1000] K
    duration     = 1 ps
    timestep     = 2 fs
    supercell    = 5 Å
  }
}

engine cp2k { cutoff = 250 Ry  rel_cutoff = 40 Ry }
data { thermo = bundled }
run { executor = local { workers = 1 } }
'''


def test_run_killed_at_many_moments(tmp_path):
    # `sselang run` compiles, runs the engine in each folder (here a stand-in that takes 0.3 s)
    # and compiles again; killed anywhere, the build's manifest holds, every state file is whole,
    # and the next run finishes the work
    fake = tmp_path / "fake-cp2k"
    fake.write_text(FAKE_CP2K)
    fake.chmod(0o755)
    old = tmp_path / "old-build"
    (tmp_path / "s.cell").write_text(RUN_STUDY)
    assert _sselang("compile", "s.cell", "--build-dir", old, cwd=tmp_path).returncode == 0
    env = {"SSELANG_CP2K_COMMAND": str(fake), "FAKE_SLEEP": "0.3"}
    calib, points = _kill_points(tmp_path, "time", POINTS or 8, command="run", study="li2s-run", old=None,
                                 new=RUN_STUDY, args=["--fidelity", "dft", "--engine", "cp2k", "--steps", "3",
                                                      "--quiet", "--workers", "1"], env=env, ref_old=old)
    assert calib["status"] == 0
    for p in points:
        assert not p["traceback"] and p["bad_state_files"] == [], p
        if p["state"] != "mid-commit":
            assert p["manifest"] is None, p
        if "after_exit" in p:
            # .runinfo is Parsl's log folder, which every run keeps
            left = [h for h in p["after_hidden"] if not h.startswith(".runinfo")]
            assert p["after_exit"] == 0 and p["after_manifest"] is None and left == [], p
            assert p["after"] == "new", p  # the same bytes as a run never interrupted


# ---- a disk that refuses -------------------------------------------------------------------------
def _compiled(tmp_path: Path) -> tuple[Path, dict]:
    (tmp_path / "old.cell").write_text(OLD)
    (tmp_path / "new.cell").write_text(NEW)
    r = _sselang("compile", "old.cell", "--build-dir", "build", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return tmp_path / "build" / "faults", snapshot(tmp_path / "build" / "faults")


def _unprivileged(argv: list[str]) -> list[str] | None:
    """argv run so that file permissions apply.  As root (CI and this container run as
    root) the capabilities that override them are dropped with capsh; None if that cannot be."""
    if os.geteuid() != 0:
        return argv
    capsh = shutil.which("capsh")
    if capsh is None:
        return None
    import shlex

    return [capsh, "--drop=cap_dac_override,cap_dac_read_search,cap_fowner", "--", "-c",
            "exec " + " ".join(shlex.quote(a) for a in argv)]


def test_a_read_only_build_folder_is_a_message(tmp_path):
    out, before = _compiled(tmp_path)
    argv = _unprivileged([sys.executable, "-m", "sselang.cli", "compile", "new.cell", "--build-dir", "build"])
    if argv is None:
        pytest.skip("running as root without capsh: permissions cannot be made to apply")
    dirs = [out, *[p for p in out.rglob("*") if p.is_dir()]]
    try:
        for d in dirs:
            d.chmod(0o555)
        r = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path, timeout=600)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "Traceback" not in r.stdout + r.stderr and "internal error" not in r.stderr
        assert "cannot write the build folder build: Permission denied" in r.stderr, r.stderr
        assert "nothing in it was changed" in r.stderr
        assert snapshot(out) == before and hidden(out) == []
    finally:
        for d in dirs:
            d.chmod(0o755)
    r = _sselang("compile", "new.cell", "--build-dir", "build", cwd=tmp_path)
    assert r.returncode == 0 and hidden(out) == [] and manifest_problem(out) is None


def _limit_file_size():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))


def test_a_full_disk_is_a_message(tmp_path):
    # RLIMIT_FSIZE: every file write beyond 3000 bytes fails (EFBIG), as on a full disk
    out, before = _compiled(tmp_path)
    r = _sselang("compile", "new.cell", "--build-dir", "build", cwd=tmp_path, preexec_fn=_limit_file_size)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Traceback" not in r.stdout + r.stderr and "internal error" not in r.stderr
    assert "cannot write the build folder build: File too large" in r.stderr and "nothing in it was changed" in r.stderr
    assert snapshot(out) == before and hidden(out) == []
    r = _sselang("compile", "new.cell", "--build-dir", "build", cwd=tmp_path)
    assert r.returncode == 0 and hidden(out) == [] and manifest_problem(out) is None


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS, errno.EDQUOT])
def test_a_write_that_fails_anywhere_leaves_the_old_build(tmp_path, monkeypatch, err):
    # in this process: the k-th file write fails, for k spread over every write of a compile
    import pathlib

    from sselang.compile import prepare_build, resolve_data, write_build
    from sselang.pipeline import front_end
    from sselang.util import atomic

    (tmp_path / "old.cell").write_text(OLD)
    (tmp_path / "new.cell").write_text(NEW)

    made = {}
    for name in ("old.cell", "new.cell"):  # the front end, data and decks once: the writes are what fail
        fe = front_end(tmp_path / name)
        data = resolve_data(fe, tmp_path / name)
        made[name] = (fe, data, prepare_build(fe, data, tmp_path / "build"))

    def build(name, where="build"):
        fe, data, prepared = made[name]
        return write_build(fe.study, fe.sources, tmp_path / where, data, prepared=prepared)

    out = build("old.cell")
    before = snapshot(out)
    count = {"n": 0, "fail_at": None}
    real_fdopen, real_write_bytes = os.fdopen, pathlib.Path.write_bytes

    def tick():
        count["n"] += 1
        if count["n"] == count["fail_at"]:
            raise OSError(err, os.strerror(err))

    def fdopen(fd, *a, **k):
        fh = real_fdopen(fd, *a, **k)
        tick()
        return fh

    def write_bytes(self, data):
        tick()
        return real_write_bytes(self, data)

    monkeypatch.setattr(atomic.os, "fdopen", fdopen)
    monkeypatch.setattr(pathlib.Path, "write_bytes", write_bytes)
    snapshots_new = None
    total = None
    for fail_at in [None, 1, 2, 5, 10, 20, 40, 60, 80, 100, 120, 140, -3, -2, -1]:
        if fail_at is not None and fail_at < 0:
            fail_at = total + 1 + fail_at
        count.update(n=0, fail_at=fail_at)
        if fail_at is None:  # the number of writes of a compile
            shutil.rmtree(tmp_path / "probe", ignore_errors=True)
            shutil.copytree(out, tmp_path / "probe" / "faults")
            p = build("new.cell", "probe")
            total = count["n"]
            snapshots_new = snapshot(p)
            continue
        if fail_at > total:
            continue
        with pytest.raises(OSError) as e:
            build("new.cell")
        assert e.value.errno == err
        assert snapshot(out) == before, fail_at
        assert hidden(out) == [], (fail_at, hidden(out))
    count.update(n=0, fail_at=None)
    build("new.cell")
    assert snapshot(out) == snapshots_new and hidden(out) == []


# ---- damaged inputs --------------------------------------------------------------------------------
def _study_dir(tmp_path: Path, data: str = "bundled", structure: str = 'library("Li2S")') -> Path:
    (tmp_path / "s.cell").write_text(
        f'study "damaged" {{ title = "t" }}\nmaterial X {{ formula = Li2S  structure = {structure} }}\n'
        f"analyze X {{ window }}\ndata {{ thermo = {data} }}\n")
    return tmp_path / "s.cell"


def _compile_fails(tmp_path: Path, *needles: str) -> str:
    r = _sselang("compile", "s.cell", "--build-dir", "build", cwd=tmp_path)
    text = r.stdout + r.stderr
    assert r.returncode == 1 and "Traceback" not in text and "internal error" not in text, text
    for n in needles:
        assert n in text, text
    return text


def test_a_damaged_lock_is_a_message(tmp_path):
    _study_dir(tmp_path)
    assert _sselang("lock", "s.cell", cwd=tmp_path).returncode == 0
    lock = tmp_path / "s.cell.lock"
    good = lock.read_text()
    doc = json.loads(good)
    x = doc["materials"]["X"]
    cases = {  # what the lock holds -> what the message says is wrong
        "truncated": (good[: len(good) // 2], "not a readable lock file (Expecting"),
        "empty": ("", "Expecting value"),
        "nested": ("[" * 100_000, "nested too deeply"),
        "not an object": ("[1, 2]", "not a lock of this sselang"),
        "NaN energy": (good.replace('"energy_eV": ' + repr(doc["systems"]["Li-S"]["entries"][0]["energy_eV"]),
                                    '"energy_eV": NaN', 1), "has no finite energy_eV"),
        "unknown element": (json.dumps({**doc, "materials": {"X": {**x, "structure": {
            **x["structure"], "species": x["structure"]["species"][:-1] + ["Xx"]}}}}), "not element symbols"),
        "moved atom": (json.dumps({**doc, "materials": {"X": {**x, "structure": {
            **x["structure"], "frac_coords": [[0.1, 0.1, 0.1]] + x["structure"]["frac_coords"][1:]}}}}),
                       "does not match its sha256"),
        "wrong type": (json.dumps({**doc, "systems": []}), "'systems' is not a JSON object"),
    }
    for name, (text, why) in cases.items():
        lock.write_text(text)
        _compile_fails(tmp_path, "error[SSE108]", "s.cell.lock", why)
        assert not (tmp_path / "build").exists(), name


def test_a_truncated_cif_is_a_message(tmp_path):
    from pymatgen.core import Lattice, Structure

    s = Structure(Lattice.cubic(5.7), ["Li"] * 8 + ["S"] * 4,
                  [[x, y, z] for x in (0.25, 0.75) for y in (0.25, 0.75) for z in (0.25, 0.75)]
                  + [[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    text = s.to(fmt="cif")
    _study_dir(tmp_path, structure='file("x.cif")')
    for cut in (0, 40, len(text) // 2, len(text) - 30):
        (tmp_path / "x.cif").write_text(text[:cut])
        _compile_fails(tmp_path, "error[SSE102]", "x.cif")
    (tmp_path / "x.cif").write_bytes(b"\x00\xff" * 100)
    _compile_fails(tmp_path, "error[SSE102]", "x.cif")


def test_an_entries_file_with_nan_energies_is_a_message(tmp_path):
    from pymatgen.entries.computed_entries import ComputedEntry

    entries = [ComputedEntry("Li", -1.9).as_dict(), ComputedEntry("S", -4.1).as_dict(),
               ComputedEntry("Li2S", -13.0).as_dict()]
    entries[2]["energy"] = float("nan")
    (tmp_path / "e.json").write_text(json.dumps(entries))  # json writes NaN, as numpy-made files do
    _study_dir(tmp_path, data='entries("e.json")')
    _compile_fails(tmp_path, "error[SSE104]", "e.json", "entry 2 (Li2S) has a non-finite energy")
    (tmp_path / "e.json").write_text(json.dumps(entries)[:100])
    _compile_fails(tmp_path, "error[SSE104]", "e.json is not JSON")


def test_damaged_run_outputs_in_the_build_are_reported_not_fatal(tmp_path):
    # a cut XDATCAR, vasprun.xml and CP2K trajectory in the calculation folders: compile
    # goes on, and analyses.json names each file and what is wrong with it
    (tmp_path / "s.cell").write_text(
        'study "cut" { title = "t" }\nmaterial Li2S { formula = Li2S  structure = library("Li2S") }\n'
        "analyze Li2S { diffusion { temperatures = [800, 1000, 1200] K  duration = 2 ps  supercell = 5 Å } }\n"
        "engine vasp { for = [diffusion] }\nengine cp2k { for = [diffusion]  cutoff = 250 Ry }\n"
        "data { thermo = bundled }\n")
    assert _sselang("compile", "s.cell", cwd=tmp_path).returncode == 0
    calcs = tmp_path / "build" / "cut" / "calcs"
    xyz = (HERE / "data" / "transport" / "cp2k_nvt" / "li2s-md-pos-1.xyz").read_text()
    md = {d.name.split("-")[2] + "-" + d.name.split("-")[3]: d for d in calcs.iterdir()}
    (md["800K-vasp"] / "XDATCAR").write_text("Li2S\n1.0\n5.7 0 0\n0 5.7 0\n0 0 5.7\nLi S\n8 4\nDirect configuration=  1\n"
                                             "0.1 0.1\n")
    (md["1000K-vasp"] / "vasprun.xml").write_text('<?xml version="1.0"?>\n<modeling><gener')
    (md["800K-cp2k"] / "Li2S-pos-1.xyz").write_text(xyz[: len(xyz) // 3])
    (md["800K-cp2k"] / "cp2k.out").write_text(" CP2K| version string\n")
    r = _sselang("compile", "s.cell", cwd=tmp_path)
    assert r.returncode == 0 and "Traceback" not in r.stdout + r.stderr, r.stderr
    doc = json.loads((tmp_path / "build" / "cut" / "analyses.json").read_text())
    errors = [e for res in doc["results"] for e in res.get("errors", [])]
    assert any("XDATCAR" in e and "calcs/" in e for e in errors), errors
    assert any("vasprun.xml" in e and "broken or cut short" in e for e in errors), errors
    assert any("Li2S-pos-1.xyz" in e for e in errors), errors
    assert not any(".stage-" in e for e in errors)
    assert manifest_problem(tmp_path / "build" / "cut") is None


@pytest.mark.parametrize("name", ["XDATCAR", "vasprun.xml", "li2s-md-pos-1.xyz", "pw.out"])
def test_analyze_names_a_damaged_trajectory(name, tmp_path):
    import gzip

    import ase

    sys.path.insert(0, str(HERE))
    src = {"XDATCAR": lambda: gzip.decompress((Path(__file__).resolve().parents[2] / "shared" / "data" / "trajectories"
                                               / "Li6PS5Cl_500K_XDATCAR.gz").read_bytes()),
           "vasprun.xml": lambda: (Path(ase.__file__).parent / "test" / "testdata" / "vasp"
                                   / "vasprun_pstress.xml").read_bytes(),
           "li2s-md-pos-1.xyz": lambda: (HERE / "data" / "transport" / "cp2k_nvt" / name).read_bytes(),
           "pw.out": lambda: (HERE / "data" / "transport" / "qe" / "md.out").read_bytes()}[name]
    try:
        data = src()
    except FileNotFoundError:
        pytest.skip("the shared trajectories are not here")
    if name == "li2s-md-pos-1.xyz":
        shutil.copy(HERE / "data" / "transport" / "cp2k_nvt" / "cp2k.inp", tmp_path / "cp2k.inp")
    p = tmp_path / name
    for cut in (len(data) // 3, len(data) - 7):
        p.write_bytes(data[:cut])
        r = _sselang("analyze", "diffusion", p, "--timestep", "1", "--temperature", "600")
        text = r.stdout + r.stderr
        assert "Traceback" not in text and "internal error" not in text, text
        assert r.returncode in (0, 1)
        if r.returncode == 1:
            assert str(p) in text, text
