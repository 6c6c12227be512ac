"""Report -> HTML and Markdown through the templates under templates/report/."""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=2)
def _env(html: bool):
    import jinja2

    from ..resources import templates_dir

    # autoescape in HTML: titles, material names and warnings are user text
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir() / "report")),
                              autoescape=html, undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=False, lstrip_blocks=False)


def render_html(report, figures: dict[str, str]) -> str:
    return _env(True).get_template("index.html.j2").render(r=report, figures=figures)


def render_markdown(report) -> str:
    text = _env(False).get_template("report.md.j2").render(r=report)
    # blank-line runs left by the template's conditionals: at most one blank line
    lines, out = text.splitlines(), []
    for line in lines:
        if line.strip() == "" and out and out[-1].strip() == "":
            continue
        out.append(line.rstrip())
    return "\n".join(out).strip() + "\n"
