"""What a post author pastes: the script snippet, the plain iframe, the link.

Shared by `survey embed`, oEmbed and (later) the staff pages.  Every address is
built from the configured public URL, never from a request's Host header.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote, urlencode

from survey.definitions import SurveyDefinition

IFRAME_HEIGHT = 700


@dataclass(frozen=True)
class Snippets:
    link: str
    script: str
    iframe: str


def form_url(base_url: str, slug: str) -> str:
    return f"{base_url.rstrip('/')}/s/{quote(slug)}"


def iframe_html(
    base_url: str, slug: str, title: str, lang: str | None = None, *, results: bool = False
) -> str:
    page = "/results" if results else ""
    src = form_url(base_url, slug) + page + "?embed=1" + (f"&lang={lang}" if lang else "")
    return (
        f'<iframe src="{escape(src)}" title="{escape(title)}" width="100%" '
        f'height="{IFRAME_HEIGHT}" loading="lazy" style="border:0;max-width:100%"></iframe>'
    )


def results_snippet(base_url: str, slug: str, title: str) -> str:
    """The public results in a follow-up post: the same script, auto-height."""
    url = f"{form_url(base_url, slug)}/results"
    return (
        f'<div data-survey-results="{escape(slug)}" data-survey-title="{escape(title)}">'
        f'<a href="{escape(url)}">{escape(title)}: what readers told us</a></div>'
        f'<script src="{escape(base_url.rstrip("/"))}/embed.js" async></script>'
    )


def snippets(base_url: str, slug: str, title: str) -> Snippets:
    url = form_url(base_url, slug)
    link = f'<a href="{escape(url)}">{escape(title)}: answer the survey</a>'
    script = (
        f'<div data-survey="{escape(slug)}" data-survey-title="{escape(title)}">{link}</div>'
        f'<script src="{escape(base_url.rstrip("/"))}/embed.js" async></script>'
    )  # without JavaScript the box's own link is the way in (no <noscript> copy of it)
    return Snippets(link=link, script=script, iframe=iframe_html(base_url, slug, title))


# The kinds a newsletter can ask with one link per answer.
ONE_CLICK_KINDS = ("single_choice", "yes_no", "rating")
_BUTTON = (
    "display:inline-block;margin:0 8px 8px 0;padding:10px 16px;border-radius:4px;"
    "background:#1d4f91;color:#ffffff;font-weight:bold;text-decoration:none"
)


@dataclass(frozen=True)
class EmailBlock:
    html: str
    text: str


def email_block(
    base_url: str, definition: SurveyDefinition, key: str, lang: str | None = None
) -> EmailBlock:
    """A question for an email newsletter: its text and one link per answer,
    each opening the form with that answer filled in (a link stores nothing:
    mail scanners follow links; the reader sends the form).  Inline styles
    only, which email clients keep; a plain-text version beside it.

    Raises ValueError when ``key`` is not a one-choice question of the survey."""
    shown = definition.localized(lang) if lang else definition
    question = next((q for q in shown.questions if q.key == key), None)
    if question is None:
        raise ValueError(f"the survey has no question {key!r}")
    if question.type not in ONE_CLICK_KINDS:
        raise ValueError(
            f"{key!r} is {question.type}: a newsletter link per answer needs a "
            f"{', '.join(ONE_CLICK_KINDS[:-1])} or {ONE_CLICK_KINDS[-1]} question"
        )
    extra = {"lang": lang} if lang and lang != definition.lang else {}
    links = [
        (label, f"{form_url(base_url, definition.slug)}?{urlencode({key: value, **extra})}")
        for value, label in question.choices(lang or definition.lang)
    ]
    direction = "rtl" if (lang or definition.lang) == "ar" else "ltr"
    buttons = "".join(
        f'<a href="{escape(url)}" style="{_BUTTON}">{escape(label)}</a>' for label, url in links
    )
    html = (
        f'<table role="presentation" dir="{direction}" cellpadding="0" cellspacing="0" '
        'style="border-collapse:collapse;margin:16px 0"><tr><td '
        'style="font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.4;'
        'color:#1a1a1a">'
        f'<p style="margin:0 0 12px;font-weight:bold">{escape(question.label)}</p>'
        f'<p style="margin:0">{buttons}</p>'
        "</td></tr></table>"
    )
    text = "\n".join([question.label, *(f"- {label}: {url}" for label, url in links)])
    return EmailBlock(html=html, text=text)
