"""Same input, same bytes: every example compiled in fresh processes under two different
environments (hash seed, locale, time zone) gives identical build folders, file by file."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from conftest import EXAMPLES, ROOT

ENVIRONMENTS = {
    "a": {"PYTHONHASHSEED": "1", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "TZ": "UTC"},
    "b": {"PYTHONHASHSEED": "4242", "LC_ALL": None, "LANG": "en_US.UTF-8", "LC_NUMERIC": "de_DE.UTF-8",
          "TZ": "Pacific/Chatham"},
}


def _env(changes: dict) -> dict:
    env = dict(os.environ)
    for k, v in changes.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_examples_compile_to_the_same_bytes_in_any_environment(tmp_path):
    results: dict[str, list] = {}

    def build(name: str) -> None:
        out = []
        for study in EXAMPLES:  # relative paths: the study's path is written into the build
            r = subprocess.run([sys.executable, "-m", "sselang.cli", "compile", str(study.relative_to(ROOT)),
                                "--build-dir", str(tmp_path / name)], cwd=ROOT, env=_env(ENVIRONMENTS[name]),
                               capture_output=True, text=True, timeout=1200)
            out.append((study.name, r.returncode, r.stderr))
        results[name] = out

    threads = [threading.Thread(target=build, args=(n,)) for n in ENVIRONMENTS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for name, runs in results.items():
        for study, code, err in runs:
            assert code == 0, f"{study} in environment {name}:\n{err}"
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert sorted(a) == sorted(b)
    differ = [k for k in a if a[k] != b[k]]
    assert not differ, f"{len(differ)} of {len(a)} files differ: {differ[:10]}"
    assert len(a) > 300 and not any(part.startswith(".") for k in a for part in Path(k).parts)
    print(f"{len(a)} files of {len(EXAMPLES)} builds, byte for byte the same")
