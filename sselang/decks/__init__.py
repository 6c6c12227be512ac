"""Input decks: one jinja2 template per engine x calculation under templates/.

Each engine module exposes

    render(calc: DeckRequest) -> dict[str, str]      # file name -> file text

and never needs pseudopotential files themselves (VASP: POTCAR.spec only).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True)
class DeckRequest:
    """What a deck is written from: an ordered structure and the settings.

    kind: "relax" | "static" | "md"
    settings: the user's engine settings (they always win over defaults),
      e.g. {"encut": 520.0, "functional": "PBE", ...}; md also has
      temperature_K, timestep_fs, steps, ensemble ("nvt" | "npt").
    """

    kind: str
    structure: object  # pymatgen Structure (ordered)
    settings: dict = field(default_factory=dict)
    title: str = "sselang"


@lru_cache(maxsize=1)
def environment():
    """The jinja2 environment over templates/: StrictUndefined, so a template
    never silently writes an empty value."""
    import jinja2

    from ..resources import templates_dir

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
