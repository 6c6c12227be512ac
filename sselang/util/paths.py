"""Paths a study names must stay inside the study's folder, links included."""

from __future__ import annotations

import os
from pathlib import Path


def escapes(base: Path, rel: str | Path) -> Path | None:
    """Where `base / rel` really leads when that is outside `base` (a symbolic link,
    or a link among its parents, pointing out of the folder), else None.

    A path that does not exist yet does not escape: the caller reports it as missing."""
    base = Path(base)
    target = base / rel
    if not os.path.lexists(target):
        # a parent may still be a link that leads out (a link to a folder, then a missing file)
        parent = target.parent
        while not os.path.lexists(parent) and parent != parent.parent:
            parent = parent.parent
        target = parent
    try:
        real = target.resolve(strict=False)
        root = base.resolve(strict=False)
    except (OSError, RuntimeError):  # a loop of links
        return target
    if real == root or root in real.parents:
        return None
    return real
