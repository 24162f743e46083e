"""Jinja2 set-up: one environment, autoescaping always on."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from survey.countries import country_choices
from survey.export import format_time
from survey.resources import templates_dir


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
    env.filters["iso_time"] = format_time
    return Jinja2Templates(env=env)


def _as_list(values: Any) -> list[str]:
    if values is None:
        return []
    return list(values) if isinstance(values, list | tuple) else [values]


def render(
    request: Request, name: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def render_string(request: Request, name: str, context: dict[str, Any]) -> str:
    templates: Jinja2Templates = request.app.state.templates
    return templates.get_template(name).render(context)
