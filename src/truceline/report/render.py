"""HTML of the bulletin (Jinja2, from the package's templates) and its PDF (WeasyPrint, from the same HTML)."""

from __future__ import annotations

import base64
import re
from functools import lru_cache
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from truceline import __version__
from truceline.report.model import Bulletin

__all__ = ["data_uri", "render_html", "write_pdf"]


#: A token this long gets break opportunities (``<wbr>``) after ``_ . - / :`` (ids, rule names).
_LONG = re.compile(r"\S{16,}")
_BREAK_AFTER = re.compile(r"([_.\-/:])")


def _text(value: object) -> str:
    """A table cell as text: thousands separators for integers, 1-2 decimals for floats, ``-`` for none."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def _cell(value: object) -> Markup:
    """A table cell as escaped HTML, long tokens breakable at ``_ . - / :`` (the text itself is unchanged)."""
    escaped = str(escape(_text(value)))
    return Markup(_LONG.sub(lambda m: _BREAK_AFTER.sub(r"\1<wbr>", m.group(0)), escaped))


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("truceline.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"], default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["cell"] = _cell
    return env


def render_html(bulletin: Bulletin) -> str:
    """The bulletin as one self-contained HTML document (CSS inline, images as data URIs)."""
    return _env().get_template("bulletin.html.j2").render(b=bulletin, generator=f"truceline {__version__}")


def data_uri(png: Path) -> str:
    """A PNG file as a ``data:image/png;base64,...`` URI."""
    return "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode("ascii")


def write_pdf(html: str, path: Path, base_url: Path | None = None) -> Path:
    """Render the HTML to PDF with WeasyPrint (A4, the stylesheet's ``@page`` rules)."""
    import weasyprint  # slow to import: only when a PDF is asked for

    weasyprint.HTML(string=html, base_url=str(base_url or path.parent)).write_pdf(str(path))
    return path
