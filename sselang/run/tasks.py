"""The interface both fidelities implement, and the state bookkeeping around it.

    run_calculation(calc: Calculation, calc_dir: Path, options: RunOptions) -> dict

writes the engine's own output files into calc_dir (the names compile's readers
look for: cp2k.out and <project>-pos-1.xyz, pw.out, OUTCAR/XDATCAR) and returns a
summary: {"energies_eV": [...], "frames": int, "seconds": float, ...}.  It raises
RunError for a failure worth a message (engine missing, engine stopped early).
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..plan import holds_results
from . import state

FIDELITIES = ("preview", "dft")
# what `sselang run` carries out; a VASP NEB runs from its job.sh (image folders, VTST build)
KINDS = {"preview": ("relax", "md", "neb"), "dft": ("relax", "static", "md")}


class RunError(Exception):
    """A calculation that could not run or did not finish; the message is for the user."""


@dataclass(frozen=True)
class RunOptions:
    fidelity: str = "preview"
    duration_ps: float | None = None  # overrides the MD length of the plan
    steps: int | None = None  # overrides MD steps / relaxation or NEB optimiser iterations (smoke tests)
    quiet: bool = False
    engine_command: str | None = None  # e.g. "mpirun -n 4 cp2k.psmp"; None: the engine's default or env
    progress: Callable[[int, int], None] | None = None  # (done steps, total steps), where the fidelity reports it
    extra: dict = field(default_factory=dict)


def _dispatch(fidelity: str):
    if fidelity == "preview":
        from .preview import run_calculation
    elif fidelity == "dft":
        from .dft import run_calculation
    else:
        raise RunError(f"unknown fidelity '{fidelity}' ({' or '.join(FIDELITIES)})")
    return run_calculation


def _user_errors() -> tuple[type[Exception], ...]:
    """Exceptions whose message is meant for the user (no exception type shown)."""
    try:
        from .preview import PreviewUnavailable, PreviewUnsupported
    except ImportError:
        return (RunError,)
    return (RunError, PreviewUnavailable, PreviewUnsupported)


def action(calc_dir: Path, fidelity: str) -> tuple[str, str]:
    """("run" | "skip", why) for one calculation folder."""
    st = state.read_state(calc_dir)
    if st is None:
        if holds_results(calc_dir):
            # results the user produced (job.sh, by hand): never overwritten
            return "skip", "holds results that sselang run did not write"
        return "run", "new"
    if st["status"] == "done":
        if st.get("fidelity") == fidelity:
            return "skip", "done"
        return "skip", f"holds {st.get('fidelity')} results; move them aside to rerun at {fidelity} fidelity"
    if st["status"] == "running":
        return "run", "interrupted earlier: restarted"
    if st["status"] == "failed":
        return "run", "failed earlier: retried"
    return "run", "pending"


def run_task(calc, calc_dir: Path, options: RunOptions) -> dict:
    """One calculation with its state: running, then done (with the summary) or failed.
    Returns {"id", "status", "message", "summary"}; never raises for a failed calculation."""
    calc_dir = Path(calc_dir)
    state.mark_running(calc_dir, options.fidelity)
    start = time.monotonic()
    try:
        summary = dict(_dispatch(options.fidelity)(calc, calc_dir, options) or {})
    except _user_errors() as e:
        state.mark_failed(calc_dir, str(e))
        return {"id": calc.id, "status": "failed", "message": str(e), "summary": None}
    except Exception as e:  # noqa: BLE001 - one broken calculation must not stop the others
        msg = f"{type(e).__name__}: {e}"
        state.mark_failed(calc_dir, msg + "\n" + traceback.format_exc(limit=5))
        return {"id": calc.id, "status": "failed", "message": msg, "summary": None}
    summary.setdefault("seconds", round(time.monotonic() - start, 2))
    state.mark_done(calc_dir, summary)
    return {"id": calc.id, "status": "done", "message": "", "summary": summary}
