"""Did-you-mean suggestions."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    cands = sorted(set(candidates))
    if not cands:
        return None
    exact_ci = [c for c in cands if c.lower() == word.lower()]
    if exact_ci:
        return exact_ci[0]
    found = difflib.get_close_matches(word, cands, n=1, cutoff=cutoff)
    if not found:
        found = difflib.get_close_matches(word.lower(), cands, n=1, cutoff=cutoff)
    return found[0] if found else None


def did_you_mean(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str | None:
    c = closest(word, candidates, cutoff)
    return f"did you mean '{c}'?" if c else None
