"""Per-calculation run state, kept in <calc_dir>/.sselang-run.json.

    {"status": "pending" | "running" | "done" | "failed", "fidelity": "preview" | "dft",
     "started": ISO time, "finished": ISO time, "message": str, "attempts": int, ...}

The file is hidden, so compile's manifest leaves it out, and it is written
atomically: a run killed at any moment leaves either the old or the new state.
A state left at "running" means the process that wrote it died (nothing else
writes it), so the next run treats it as interrupted and starts the calculation
again.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from ..util.atomic import write_text_atomic

STATE_FILE = ".sselang-run.json"
STATUSES = ("pending", "running", "done", "failed")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read_state(calc_dir: Path) -> dict | None:
    """The recorded state, or None when the calculation was never run by sselang
    (an unreadable file counts as never run: the calculation is simply redone)."""
    p = Path(calc_dir) / STATE_FILE
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return doc if isinstance(doc, dict) and doc.get("status") in STATUSES else None


def write_state(calc_dir: Path, **fields) -> dict:
    """Merge fields into the recorded state and write it back."""
    doc = read_state(calc_dir) or {"status": "pending", "attempts": 0}
    doc.update(fields)
    write_text_atomic(Path(calc_dir) / STATE_FILE, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return doc


def mark_running(calc_dir: Path, fidelity: str, **extra) -> dict:
    attempts = int((read_state(calc_dir) or {}).get("attempts", 0)) + 1
    return write_state(calc_dir, status="running", fidelity=fidelity, started=now(), finished=None, message="",
                       attempts=attempts, **extra)


def mark_done(calc_dir: Path, summary: dict) -> dict:
    return write_state(calc_dir, status="done", finished=now(), message="", summary=summary)


def mark_failed(calc_dir: Path, message: str) -> dict:
    return write_state(calc_dir, status="failed", finished=now(), message=message)
