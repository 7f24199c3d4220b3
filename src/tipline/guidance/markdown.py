"""Safe Markdown for guidance pages.

The pages are data files that non-programmers edit, and a hotline may accept contributions: the
renderer must not be a way to put script or third-party resources on a public page. So: raw HTML
is off (``html: False``: it is shown as text), images are off (an image would load from wherever
its address points), and a link is kept only when it points to http(s) or to a relative path on
this site; anything else (``javascript:``, ``data:``, ``vbscript:``, ``file:``…) stays as plain
text. Links to other sites get ``rel="noreferrer noopener"`` so the address of the page a reporter
was reading never leaves with them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict


def link_allowed(url: str) -> bool:
    candidate = url.strip()
    if not candidate or any(ord(ch) < 0x20 for ch in candidate):
        return False
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return False
    if parts.scheme:
        return parts.scheme.lower() in {"http", "https"} and bool(parts.netloc)
    # Relative: a path, a fragment or a query on this site; never protocol-relative (//host).
    return not candidate.startswith("//") and not candidate.startswith("\\")


def is_external(url: str) -> bool:
    return urlsplit(url.strip()).scheme.lower() in {"http", "https"}


def _link_open(
    renderer: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    href = str(token.attrGet("href") or "")
    if is_external(href):
        token.attrSet("rel", "noreferrer noopener")
    return renderer.renderToken(tokens, idx, options, env)


def _build() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")
    md.validateLink = link_allowed  # type: ignore[method-assign]
    md.add_render_rule("link_open", _link_open)
    return md


_MD = _build()


def render(text: str) -> str:
    """Markdown to HTML that is safe to mark safe (see the module docstring)."""
    html: Any = _MD.render(text)
    return str(html)
