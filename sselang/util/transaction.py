"""A build folder changes in one step: a kill at any moment leaves the old build or the new one.

build/<study>/ holds results that took weeks on a cluster, beside the files compile writes,
so the folder itself is never replaced.  Instead `compile` writes everything new into a
hidden staging folder inside it and then moves it into place:

    build/<study>/.stage-XXXXXXXX/           the new study.json, data.json, structures/, ...
    build/<study>/.stage-XXXXXXXX/calcs  ->  ../calcs   (a link: readers see the finished runs
                                                         where they are)
    build/<study>/.stage-XXXXXXXX/.new-calcs/<id>/       new calculation folders

1. The commit record `.sselang-commit.json` (written atomically, like every file) lists the
   renames to do.  Writing it is the commit point.
2. The renames: hand-edited calculation folders moved aside (`--force`), new calculation
   folders moved in, every other file renamed over the old one, folders that are made
   whole (report/) swapped, manifest.json last.
3. The staging folder and then the commit record are removed.

A process killed before 1 leaves the old build untouched, plus a hidden staging folder
that the next compile removes.  Killed after 1, the commit record stays, and the next
command that opens the build (`recover`, run first by every compile) finishes the renames
before anything else: the new build.  Only inside step 2, a few milliseconds of renames,
can the visible files be a mix of both, and only while a commit record says so.
Every rename is done only if still needed, so finishing twice is harmless.

Two compiles of one study never overlap: the folder is locked (flock) for the whole
transaction; the lock goes with the process, so a killed compile never leaves it held.
Nothing is written through a symbolic link: a link in place of the folder or of one of
the things compile writes is refused (UnsafeBuildFolder) before anything is written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from .atomic import write_text_atomic

JOURNAL = ".sselang-commit.json"
STAGE_PREFIX = ".stage-"
NEW_CALCS = ".new-calcs"
CALCS = "calcs"
# what compile writes at the top of build/<study>/ (a link in their place is refused)
TOP_LEVEL = ("study.json", "data.json", "analyses.json", "plan.json", "manifest.json", "structures", "thermo",
             "jobs", CALCS, "report")
# folders compile makes whole each time: swapped as one, so no stale file survives in them
WHOLE_DIRS = ("report",)

try:  # files are moved in with the mode an ordinary write would give them
    _UMASK = os.umask(0o022)
    os.umask(_UMASK)
except OSError:  # pragma: no cover
    _UMASK = 0o022


class UnsafeBuildFolder(Exception):
    """A symbolic link where compile would write: following it could write outside the build."""

    def __init__(self, path: Path, target: str) -> None:
        self.path, self.target = Path(path), target
        super().__init__(f"{path} is a symbolic link (to {target}); sselang writes only inside the build folder")


class BuildWriteError(OSError):
    """Writing the build failed; `committed` says whether the commit point was passed
    (then the next compile finishes the renames) or the old build is untouched."""

    def __init__(self, e: OSError, committed: bool) -> None:
        super().__init__(e.errno, e.strerror or str(e), e.filename)
        self.committed = committed


def unsafe_links(out: Path) -> list[tuple[Path, str]]:
    """Symbolic links where compile would write: the build folder of the study itself and
    the files and folders at its top level (links inside calculation folders are the user's)."""
    found = []
    for p in (out, *(out / n for n in TOP_LEVEL)):
        if os.path.islink(p):
            found.append((p, os.readlink(p)))
    return found


def _lock(out: Path) -> int:
    fd = os.open(out, os.O_RDONLY)
    try:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX)
    except ImportError:  # pragma: no cover - not POSIX: no lock, as before
        pass
    except OSError:
        os.close(fd)
        raise
    return fd


def recover(out: Path) -> bool:
    """Finish a commit a killed compile left (see the module's docstring) and remove the
    hidden leftovers of killed ones.  True if a commit was finished.  Call with the lock held."""
    out = Path(out)
    done = False
    journal = out / JOURNAL
    if journal.is_file():
        doc = json.loads(journal.read_text(encoding="utf-8"))
        _apply(out, doc)
        done = True
    for p in out.glob(f"{STAGE_PREFIX}*"):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
    for name in WHOLE_DIRS:
        old = out / f".{name}.replaced"
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
    # temporaries of atomic writes (".study.json.x1y2.tmp") in what compile writes
    for folder in (out, *(out / n for n in ("structures", "thermo", "jobs"))):
        if folder.is_dir() and not folder.is_symlink():
            for p in folder.glob(".*.tmp"):
                if p.is_file() and not p.is_symlink():
                    p.unlink(missing_ok=True)
                elif p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p, ignore_errors=True)
    calcs = out / CALCS
    if calcs.is_dir() and not calcs.is_symlink():
        for p in calcs.glob(".*.tmp"):  # write_dir_atomic's folders of a killed compile
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
    return done


def _apply(out: Path, doc: dict) -> None:
    """The renames of a commit record, each only if it is still to do."""
    stage = out / doc["stage"]
    for kind, src, dst in doc["ops"]:
        d = out / dst
        if kind == "aside":  # a hand-edited calculation folder, moved to <id>.old-N
            s = out / src
            if not os.path.lexists(d) and os.path.lexists(s):
                os.rename(s, d)
            continue
        s = stage / src
        if not os.path.lexists(s):
            continue  # done before the kill
        d.parent.mkdir(parents=True, exist_ok=True)
        if kind == "calc":
            os.rename(s, d)
        elif kind == "file":
            os.chmod(s, 0o666 & ~_UMASK)
            os.replace(s, d)
        elif kind == "dir":
            old = out / f".{dst}.replaced"
            if os.path.lexists(d):
                if os.path.lexists(old):
                    shutil.rmtree(old)  # left by an earlier commit
                os.rename(d, old)
            os.rename(s, d)
            shutil.rmtree(old, ignore_errors=True)
        else:
            raise ValueError(f"unknown step {kind!r} in {out / JOURNAL}")
    shutil.rmtree(stage, ignore_errors=True)
    (out / JOURNAL).unlink(missing_ok=True)


class BuildTransaction:
    """`with BuildTransaction(out) as tx:` write into tx.stage as if it were `out`; the
    new calculation folders go through tx.stage_calc, folders moved aside through
    tx.move_aside.  Leaving the block normally commits, an exception discards the stage."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.stage: Path | None = None
        self.new_calcs: dict[str, Path] = {}
        self.aside: dict[str, str] = {}
        self.recovered = False
        self._fd: int | None = None
        self._committing = False

    # ---- the block ------------------------------------------------------------------------
    def __enter__(self) -> "BuildTransaction":
        links = unsafe_links(self.out)
        if links:
            raise UnsafeBuildFolder(*links[0])
        self.out.mkdir(parents=True, exist_ok=True)
        self._fd = _lock(self.out)
        try:
            self.recovered = recover(self.out)
            self.stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=self.out))
            os.chmod(self.stage, 0o755)
            os.symlink(os.path.join(os.pardir, CALCS), self.stage / CALCS)
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                try:
                    self._commit()
                except OSError as e:
                    raise BuildWriteError(e, self._committing) from e
        finally:
            if not self._committing and self.stage is not None:
                shutil.rmtree(self.stage, ignore_errors=True)
            self._release()

    def _release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases the flock
            self._fd = None

    # ---- calculation folders --------------------------------------------------------------
    def stage_calc(self, cid: str, files: dict[str, str]) -> None:
        """A new calculation folder, moved into calcs/<cid> at the commit."""
        root = self.stage / NEW_CALCS / cid
        for name, text in sorted(files.items()):
            f = root / name
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_bytes(text.encode("utf-8"))
        self.new_calcs[cid] = root

    def move_aside(self, cid: str) -> str:
        """calcs/<cid> goes to calcs/<cid>.old-N at the commit (never deleted); its new name."""
        calcs = self.out / CALCS
        n = 1
        while os.path.lexists(calcs / f"{cid}.old-{n}"):
            n += 1
        self.aside[cid] = f"{cid}.old-{n}"
        return self.aside[cid]

    # ---- what the build will hold ---------------------------------------------------------
    def view(self) -> dict[str, Path]:
        """Every non-hidden path the build will hold after the commit (relative name ->
        where its bytes are now), for the manifest."""
        out, stage = self.out, self.stage
        files: dict[str, Path] = {}
        for p in out.rglob("*"):
            rel = p.relative_to(out)
            if any(part.startswith(".") for part in rel.parts):
                continue
            files[rel.as_posix()] = p
        for d in WHOLE_DIRS:
            if (stage / d).is_dir():
                files = {k: v for k, v in files.items() if not (k == d or k.startswith(d + "/"))}
        for cid, name in self.aside.items():
            pre = f"{CALCS}/{cid}"
            moved = {k: v for k, v in files.items() if k == pre or k.startswith(pre + "/")}
            for k in moved:
                del files[k]
                files[f"{CALCS}/{name}" + k[len(pre):]] = moved[k]
        for p in stage.rglob("*"):
            rel = p.relative_to(stage)
            if rel.parts[0] in (CALCS, NEW_CALCS) or any(part.startswith(".") for part in rel.parts):
                continue
            files[rel.as_posix()] = p
        for cid, root in self.new_calcs.items():
            for p in root.rglob("*"):
                files[f"{CALCS}/{cid}/{p.relative_to(root).as_posix()}"] = p
        return dict(sorted(files.items()))

    # ---- commit -------------------------------------------------------------------------------
    def _commit(self) -> None:
        out, stage = self.out, self.stage
        ops: list[list[str]] = []
        for cid, name in sorted(self.aside.items()):
            ops.append(["aside", f"{CALCS}/{cid}", f"{CALCS}/{name}"])
        for cid in sorted(self.new_calcs):
            ops.append(["calc", f"{NEW_CALCS}/{cid}", f"{CALCS}/{cid}"])
        files, dirs = [], []
        for p in sorted(stage.rglob("*")):
            rel = p.relative_to(stage)
            top = rel.parts[0]
            if top in (CALCS, NEW_CALCS) or any(part.startswith(".") for part in rel.parts):
                continue
            if top in WHOLE_DIRS:
                if len(rel.parts) == 1 and p.is_dir():
                    dirs.append(top)
                continue
            if p.is_file() and not p.is_symlink() and rel.as_posix() != "manifest.json":
                files.append(rel.as_posix())
        ops += [["file", f, f] for f in files]
        ops += [["dir", d, d] for d in dirs]
        if (stage / "manifest.json").is_file():
            ops.append(["file", "manifest.json", "manifest.json"])  # last: it vouches for the rest
        doc = {"stage": stage.name, "ops": ops}
        write_text_atomic(out / JOURNAL, json.dumps(doc, indent=1) + "\n")
        self._committing = True  # the commit point: from here on the new build is the build
        _apply(out, doc)
