"""sselang: a study language and compiler for sulfide solid-state batteries.

    >>> import sselang
    >>> study = sselang.load("examples/baseline.cell")
    >>> diagnostics = sselang.check("examples/baseline.cell")
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "load", "check", "StudyError"]


def __getattr__(name):  # keep `import sselang` cheap: stages load on first use
    if name in ("load", "check", "StudyError"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
