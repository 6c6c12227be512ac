"""`sselang compile`: the build folder of a study.

For now the build holds the resolved study (study.json); the plan, decks,
analyses and report are added to the same folder by later stages.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from .util.atomic import write_text_atomic


@lru_cache(maxsize=1)
def tool_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from . import __version__

    out = {"sselang": __version__}
    for dist in ("lark", "pydantic", "pint", "pymatgen", "pymatgen-core"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def study_document(study, sources) -> dict:
    return {
        "generator": tool_versions(),
        "inputs": {
            path: {"sha256": hashlib.sha256(src.text.encode("utf-8")).hexdigest()} for path, src in sorted(sources.items())
        },
        "study": json.loads(study.model_dump_json()),
    }


def write_build(study, sources, build_dir: Path) -> Path:
    out = Path(build_dir) / study.id
    doc = study_document(study, sources)
    write_text_atomic(out / "study.json", json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    return out
