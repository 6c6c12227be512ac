"""Wall time of `sselang check` on the bundled example, in fresh processes.

    python bench/check_time.py [--runs 5] [FILE]

Reports the median and spread of the whole command (interpreter start
included), peak memory, and what each stage's imports cost, side by side with
the cost of importing the libraries it deliberately avoids (pymatgen.core,
pint's default registry) so the ratio is visible.  Acceptance: median <= 0.5 s
on a 2-core machine; goal 0.3 s.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wall(cmd: list[str], runs: int) -> tuple[list[float], int]:
    times, peak = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
        times.append(time.perf_counter() - t0)
        if r.returncode not in (0, 1):
            sys.exit(f"command failed: {' '.join(cmd)}\n{r.stderr}")
        peak = max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return times, peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?", default="examples/baseline.cell")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    py = sys.executable
    rows = [
        ("sselang check " + args.file, [py, "-m", "sselang.cli", "check", args.file]),
        ("python -c pass (interpreter start)", [py, "-c", "pass"]),
        ("import pymatgen.core (avoided)", [py, "-c", "import pymatgen.core"]),
        ("pint default registry (avoided)", [py, "-c", "import pint; pint.UnitRegistry()"]),
        ("pint with sselang's registry", [py, "-c", "from sselang.model.units import registry; registry()"]),
        ("import lark, pydantic", [py, "-c", "import lark, pydantic"]),
    ]
    print(f"{'command':45s} {'median s':>9s} {'min':>6s} {'max':>6s}")
    results = {}
    for label, cmd in rows:
        times, peak = wall(cmd, args.runs)
        results[label] = statistics.median(times)
        print(f"{label:45s} {statistics.median(times):9.3f} {min(times):6.3f} {max(times):6.3f}")
    check = results[rows[0][0]]
    print(f"\npeak RSS of the slowest child: {peak / 1024:.0f} MB")
    print(f"check / interpreter start: {check / results[rows[1][0]]:.1f}x")
    print(f"acceptance (<= 0.5 s): {'PASS' if check <= 0.5 else 'FAIL'}; goal 0.3 s: {'met' if check <= 0.3 else 'not met'}")


if __name__ == "__main__":
    main()
