"""Jinja2 set-up: one environment, autoescaping always on."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime
from typing import Any

from babel.dates import format_datetime
from babel.numbers import format_decimal, format_percent
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from markupsafe import Markup

from survey.countries import country_choices
from survey.definitions import DEFAULT_THANK_YOU
from survey.export import format_time
from survey.i18n import DEFAULT, NAMES, direction, translate, translations
from survey.resources import templates_dir
from survey.web.state import state_of


def make_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(templates_dir()),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["country_choices"] = country_choices
    env.filters["as_list"] = _as_list
    env.filters["text_direction"] = text_direction
    env.filters["isolated"] = _isolated
    env.filters["iso_time"] = format_time
    env.filters["number"] = _number
    env.filters["percent"] = _percent
    env.filters["when"] = _when
    env.globals["language_names"] = NAMES
    env.globals["default_thank_you"] = DEFAULT_THANK_YOU
    return Jinja2Templates(env=env)


# Numbers and times on staff pages, in the page's language (Babel, CLDR data).
@pass_context
def _number(context: Context, value: int | float) -> str:
    return str(format_decimal(value, locale=context.get("lang", DEFAULT)))


@pass_context
def _percent(context: Context, value: float) -> str:
    return str(format_percent(value / 100, format="#,##0.0%", locale=context.get("lang", DEFAULT)))


@pass_context
def _when(context: Context, value: datetime) -> str:
    """A moment as the reader's locale writes it, in UTC (said so)."""
    lang = context.get("lang", DEFAULT)
    return f"{format_datetime(value, 'medium', tzinfo=UTC, locale=lang)} UTC"


def _isolated(value: object) -> Markup:
    """A value set into a sentence as its own direction (an email address or a
    slug inside Arabic text): ``{{ _("For %(email)s") | e | format(email=x | isolated) }}``."""
    return Markup("<bdi>{}</bdi>").format(value)


def text_direction(text: str) -> str:
    """ "rtl" or "ltr": the direction of a text's first letter of a script with
    one (as dir="auto" decides), for where HTML's isolation does not reach (SVG)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def _as_list(values: Any) -> list[str]:
    if values is None:
        return []
    return list(values) if isinstance(values, list | tuple) else [values]


def render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    templates = state_of(request).templates
    return templates.TemplateResponse(request, name, _in_language(context), status_code=status_code)


def render_string(request: Request, name: str, context: dict[str, Any]) -> str:
    templates = state_of(request).templates
    return templates.get_template(name).render(_in_language(context))


def _in_language(context: dict[str, Any]) -> dict[str, Any]:
    """What every template gets to speak the page's language: ``_`` for the
    interface's own text, ``translate`` for messages made without a language."""
    lang = str(context.get("lang") or DEFAULT)
    catalogue = translations(lang)
    return {
        "lang": lang,
        "dir": direction(lang),
        "_": catalogue.gettext,
        "ngettext": catalogue.ngettext,
        "translate": lambda text: translate(text, lang),
        **context,
    }
