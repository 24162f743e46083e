"""What a post author pastes: the script snippet, the plain iframe, the link.

Shared by `survey embed`, oEmbed and (later) the staff pages.  Every address is
built from the configured public URL, never from a request's Host header.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote

IFRAME_HEIGHT = 700


@dataclass(frozen=True)
class Snippets:
    link: str
    script: str
    iframe: str


def form_url(base_url: str, slug: str) -> str:
    return f"{base_url.rstrip('/')}/s/{quote(slug)}"


def iframe_html(base_url: str, slug: str, title: str, lang: str | None = None) -> str:
    src = form_url(base_url, slug) + "?embed=1" + (f"&lang={lang}" if lang else "")
    return (
        f'<iframe src="{escape(src)}" title="{escape(title)}" width="100%" '
        f'height="{IFRAME_HEIGHT}" loading="lazy" style="border:0;max-width:100%"></iframe>'
    )


def snippets(base_url: str, slug: str, title: str) -> Snippets:
    url = form_url(base_url, slug)
    link = f'<a href="{escape(url)}">{escape(title)}: answer the survey</a>'
    script = (
        f'<div data-survey="{escape(slug)}" data-survey-title="{escape(title)}">{link}</div>'
        f'<script src="{escape(base_url.rstrip("/"))}/embed.js" async></script>'
    )  # without JavaScript the box's own link is the way in (no <noscript> copy of it)
    return Snippets(link=link, script=script, iframe=iframe_html(base_url, slug, title))
