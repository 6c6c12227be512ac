"""Kill `sselang compile` (or `sselang run`) at many points and look at what it left.

    python tests/faults_helper.py CONFIG.json

A process that imports sselang once and then forks one child per kill point: each child
runs the command line (`sselang.cli.main`, the code behind the `sselang` command) on a
fresh copy of the old build; the parent SIGKILLs it after a delay (mode "time") or the
child SIGKILLs itself at its k-th rename (mode "rename": every file compile moves into
place is a rename, so these points cover each step of writing and of the commit).  The
fork spares each kill point the second or two of imports, so a test can afford dozens.

For every point one JSON line: the state of the build after the kill (old, new, or
mid-commit with the commit record present), the hidden left-overs, and (when anything is
left over) the state after the next compile.  tests/test_faults.py asserts on them;
bench/faults.py prints them for the dedicated run.

CONFIG: {"mode": "time" | "rename", "points": N, "old": study.cell, "new": study.cell,
         "build": folder, "ref": folder holding old/ and new/ reference builds, "study": id,
         "command": "compile" | "run", "args": [extra arguments], "env": {...}}
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path

JOURNAL = ".sselang-commit.json"


def snapshot(out: Path) -> dict[str, str]:
    """sha256 of every visible file of a build folder (hidden names are temporaries)."""
    files = {}
    if not out.is_dir():
        return files
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts):
            files[rel.as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return files


def hidden(out: Path) -> list[str]:
    """Hidden names left in a build folder, outside the calculation folders' own files."""
    if not out.is_dir():
        return []
    found = []
    for p in out.rglob(".*"):
        rel = p.relative_to(out)
        # state files of `sselang run` (.sselang-run.json) belong to the calculations
        if rel.parts[0] == "calcs" and len(rel.parts) > 2 and not rel.name.endswith(".tmp"):
            continue
        found.append(rel.as_posix())
    return sorted(found)


def manifest_problem(out: Path) -> str | None:
    """A file manifest.json lists that is missing or differs from its sha256."""
    m = out / "manifest.json"
    if not m.is_file():
        return None if not out.exists() or not any(out.iterdir()) else "no manifest.json"
    for rel, sha in json.loads(m.read_text(encoding="utf-8"))["files"].items():
        p = out / rel
        if not p.is_file():
            return f"{rel} is listed but missing"
        if hashlib.sha256(p.read_bytes()).hexdigest() != sha:
            return f"{rel} differs from manifest.json"
    return None


def _child(argv: list[str], cwd: Path, log: Path, kill_at_rename: int | None, count_file: Path | None,
           env: dict) -> None:
    """In the forked child: the command line, then _exit (never back into the parent's code)."""
    code = 0
    try:
        os.setpgid(0, 0)  # the engines `run` starts die with it
        os.environ.update(env)
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.chdir(cwd)
        if kill_at_rename is not None or count_file is not None:
            n = [0]
            real_rename, real_replace = os.rename, os.replace

            def counted(real):
                def f(*a, **k):
                    n[0] += 1
                    if kill_at_rename is not None and n[0] == kill_at_rename:
                        os.kill(os.getpid(), signal.SIGKILL)
                    r = real(*a, **k)
                    if count_file is not None:
                        count_file.write_text(str(n[0]))
                    return r
                return f

            os.rename, os.replace = counted(real_rename), counted(real_replace)
        sys.argv = ["sselang", *argv]
        from sselang.cli import main

        main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        code = 99
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def bad_state_files(out: Path) -> list[str]:
    """`sselang run` state files that are not whole JSON documents."""
    bad = []
    for p in sorted(out.glob("calcs/*/.sselang-run.json")):
        try:
            json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            bad.append(p.relative_to(out).as_posix())
    return bad


def run_child(argv, cwd, log, delay_s=None, kill_at_rename=None, count_file=None, env=None) -> tuple[int, float]:
    """Fork a child for the command line; kill its process group after delay_s.  (status, seconds)."""
    Path(log).touch()  # the log exists even when the kill lands before the child opens it
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        _child(argv, Path(cwd), Path(log), kill_at_rename, count_file, env or {})
    try:  # the child does the same; whichever runs first, killpg below finds the group
        os.setpgid(pid, pid)
    except (PermissionError, ProcessLookupError):
        pass
    if delay_s is not None:
        while time.monotonic() - t0 < delay_s:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status, time.monotonic() - t0
            time.sleep(min(0.002, max(0.0, delay_s - (time.monotonic() - t0))))
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    try:  # whatever the child started (an engine) goes with it
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    return status, time.monotonic() - t0


def main() -> None:
    conf = json.loads(Path(sys.argv[1]).read_text())
    mode, points = conf["mode"], int(conf["points"])
    build, ref = Path(conf["build"]), Path(conf["ref"])
    sid, command = conf["study"], conf.get("command", "compile")
    extra = conf.get("args", [])
    env = conf.get("env", {})
    cwd = Path(conf["new"]).parent
    logs = build.parent / "logs"
    logs.mkdir(parents=True, exist_ok=True)

    def argv(study):
        return [command, study, "--build-dir", str(build), *extra]

    def restore():
        shutil.rmtree(build, ignore_errors=True)
        if (ref / "old").is_dir():
            shutil.copytree(ref / "old", build, symlinks=True)

    # warm this process (the children inherit every import), then the reference builds
    import sselang.cli  # noqa: F401
    from sselang.compile import prepare_build, resolve_data, write_build
    from sselang.pipeline import front_end

    scratch = build.parent / "warm"
    fe = front_end(conf["new"])
    data = resolve_data(fe, Path(conf["new"]))
    write_build(fe.study, fe.sources, scratch, data, prepared=prepare_build(fe, data, scratch))
    shutil.rmtree(scratch, ignore_errors=True)
    if not (ref / "new").is_dir():
        shutil.rmtree(build, ignore_errors=True)
        if conf.get("old"):
            run_child(argv(conf["old"]), cwd, logs / "ref-old.log", env=env)
            shutil.copytree(build, ref / "old", symlinks=True)
        run_child(argv(conf["new"]), cwd, logs / "ref-new.log", env=env)
        shutil.copytree(build, ref / "new", symlinks=True)
        # the same once more: plan.json then says "keep" where the first said "add"
        run_child(argv(conf["new"]), cwd, logs / "ref-new2.log", env=env)
        shutil.copytree(build, ref / "new2", symlinks=True)
    old_snap = snapshot(ref / "old" / sid) if (ref / "old").is_dir() else {}
    new_snap = snapshot(ref / "new" / sid)
    again_snap = snapshot(ref / "new2" / sid)

    # calibration: one uninterrupted run, its duration and its number of renames
    restore()
    counter = logs / "renames"
    status, seconds = run_child(argv(conf["new"]), cwd, logs / "calibrate.log", count_file=counter, env=env)
    renames = int(counter.read_text()) if counter.is_file() else 0
    print(json.dumps({"calibration": True, "seconds": seconds, "renames": renames, "status": status}), flush=True)

    for i in range(points):
        restore()
        log = logs / f"point-{i}.log"
        if mode == "time":
            delay = seconds * (i + 0.5) / points
            status, took = run_child(argv(conf["new"]), cwd, log, delay_s=delay, env=env)
            where = {"delay_ms": round(delay * 1000, 1)}
        else:
            k = max(1, round(renames * (i + 0.5) / points))
            status, took = run_child(argv(conf["new"]), cwd, log, kill_at_rename=k, env=env)
            where = {"rename": k, "of": renames}
        out = build / sid
        snap = snapshot(out)
        left = hidden(out)
        journal = (out / JOURNAL).is_file()
        state = "old" if snap == old_snap else "new" if snap == new_snap else "mid-commit" if journal else "half"
        text = log.read_text(errors="replace")
        rec = {"point": i, **where, "killed": os.WIFSIGNALED(status), "exit": os.waitstatus_to_exitcode(status),
               "state": state, "hidden": left, "manifest": None if journal else manifest_problem(out),
               "traceback": "Traceback" in text or "internal error" in text,
               "bad_state_files": bad_state_files(out)}
        if state == "half":
            rec["differs"] = sorted(k for k in set(snap) | set(old_snap) | set(new_snap)
                                    if snap.get(k) not in (old_snap.get(k), new_snap.get(k)))[:10]
        if journal:  # finishing the commit alone gives the new build
            from sselang.util.transaction import recover

            recover(out)
            rec["recovered"] = "new" if snapshot(out) == new_snap else "other"
        if left or state != "new":
            # the next command: it finishes or clears what the kill left, and compiles (again)
            status, _ = run_child(argv(conf["new"]), cwd, logs / f"after-{i}.log", env=env)
            rec["after_exit"] = os.waitstatus_to_exitcode(status)
            snap = snapshot(out)
            rec["after"] = "new" if snap in (new_snap, again_snap) else "other"
            rec["after_hidden"] = hidden(out)
            rec["after_manifest"] = manifest_problem(out)
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
