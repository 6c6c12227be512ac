"""Where the grammar and templates live.

In a checkout they sit at the top of the repository (grammar/, templates/);
in an installed wheel they are shipped inside the package as sselang/_data/.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    for candidate in (_PKG / "_data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"sselang installation is missing its '{name}' directory")


def grammar_path() -> Path:
    return resource_dir("grammar") / "sselang.lark"


def templates_dir() -> Path:
    return resource_dir("templates")
