"""The dedicated kill run: compile and run killed at many points, with counts.

    python bench/faults.py                 # 40 timed kills of compile, 40 at its renames, 40 of run
    python bench/faults.py --points 10

The same kills as tests/test_faults.py (tests/faults_helper.py forks the command line and
SIGKILLs it), with more points.  For each series it prints how many kills left the old
build, how many the new one, how many stopped inside the commit (the commit record then
finishes it), and how many broke a promise: a build that is neither, a traceback, a
state file cut short, a left-over the next compile did not clear.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))


def series(base: Path, name: str, conf: dict) -> tuple[dict, list[dict]]:
    d = base / name
    (d / "ref").mkdir(parents=True)
    work = d / "work"
    work.mkdir()
    (work / "new.cell").write_text(conf.pop("new_text"))
    if conf.get("old_text") is not None:
        (work / "old.cell").write_text(conf.pop("old_text"))
        conf["old"] = str(work / "old.cell")
    else:
        conf.pop("old_text", None)
        conf["old"] = None
    if conf.get("ref_old"):
        shutil.copytree(conf.pop("ref_old"), d / "ref" / "old", symlinks=True)
    conf.update(new=str(work / "new.cell"), build=str(d / "build"), ref=str(d / "ref"))
    (d / "conf.json").write_text(json.dumps(conf))
    r = subprocess.run([sys.executable, str(ROOT / "tests" / "faults_helper.py"), str(d / "conf.json")],
                       capture_output=True, text=True, cwd=work)
    if r.returncode:
        raise SystemExit(r.stderr[-3000:])
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    return lines[0], lines[1:]


def broken(p: dict, run: bool) -> list[str]:
    bad = []
    if p["traceback"]:
        bad.append("traceback")
    if p["bad_state_files"]:
        bad.append("state file cut short")
    if not run and p["state"] not in ("old", "new", "mid-commit"):
        bad.append(f"state {p['state']}")
    if p["state"] == "mid-commit" and p.get("recovered") != "new":
        bad.append("commit record did not finish the build")
    if p["state"] != "mid-commit" and p["manifest"]:
        bad.append(p["manifest"])
    if "after" in p:
        left = [h for h in p["after_hidden"] if not h.startswith(".runinfo")]
        if p["after"] != "new" or left or p["after_manifest"] or p.get("after_exit"):
            bad.append("the next command did not end in the new build")
    return bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, default=40)
    ap.add_argument("--json", type=Path, help="write the counts here too")
    args = ap.parse_args()
    import test_faults as T

    base = Path(tempfile.mkdtemp(prefix="sselang-faults-"))
    try:
        fake = base / "fake-cp2k"
        fake.write_text(T.FAKE_CP2K)
        fake.chmod(0o755)
        (base / "s.cell").write_text(T.RUN_STUDY)
        subprocess.run([sys.executable, "-m", "sselang.cli", "compile", "s.cell", "--build-dir", "old-build"],
                       cwd=base, check=True, capture_output=True)
        plans = {
            "compile, timed": dict(mode="time", points=args.points, study="faults", command="compile",
                                   old_text=T.OLD, new_text=T.NEW),
            "compile, at its renames": dict(mode="rename", points=args.points, study="faults", command="compile",
                                            old_text=T.OLD, new_text=T.NEW),
            "run, timed": dict(mode="time", points=args.points, study="li2s-run", command="run", old_text=None,
                               new_text=T.RUN_STUDY, ref_old=str(base / "old-build"),
                               args=["--fidelity", "dft", "--engine", "cp2k", "--steps", "3", "--quiet", "--workers", "1"],
                               env={"SSELANG_CP2K_COMMAND": str(fake), "FAKE_SLEEP": "0.3"}),
        }
        report = {}
        for k, (name, conf) in enumerate(plans.items()):
            calib, points = series(base, f"s{k}", conf)
            states = Counter(p["state"] for p in points)
            bad = [(p["point"], broken(p, conf["command"] == "run")) for p in points]
            bad = [b for b in bad if b[1]]
            report[name] = {"points": len(points), "seconds": round(calib["seconds"], 2), "renames": calib["renames"],
                            "states": dict(states), "broken": bad}
            print(f"{name}: {len(points)} kill points over {calib['seconds']:.2f} s ({calib['renames']} renames): "
                  + ", ".join(f"{s} {n}" for s, n in sorted(states.items())) + f"; broken promises: {len(bad)}",
                  flush=True)
            for b in bad:
                print(f"  point {b[0]}: {'; '.join(b[1])}")
        if args.json:
            args.json.write_text(json.dumps(report, indent=2) + "\n")
        sys.exit(1 if any(r["broken"] for r in report.values()) else 0)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
