"""What the web application keeps for its whole life, as one typed object.

``create_app`` builds it and keeps it on the Starlette app; routes and
dependencies reach it through ``state_of(request)``, so every shared object
has a name and a type (no untyped ``app.state`` bag, nothing passed between
modules on ``request.state``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi.templating import Jinja2Templates
from starlette.requests import HTTPConnection

from survey.db import Database
from survey.formtokens import FormTokens
from survey.ratelimit import IPNetwork, RateLimit
from survey.settings import Settings
from survey.web.cache import PageCache, ResultsCache, SurveyCache
from survey.web.writes import ResponseWriter


@dataclass
class AppState:
    settings: Settings
    database: Database
    templates: Jinja2Templates
    surveys: SurveyCache  # the surveys this process serves, checked every few seconds
    pages: PageCache  # rendered form pages, per survey version
    writer: ResponseWriter  # group commit of new responses
    rate_limit: RateLimit | None  # SURVEY_RATE_LIMIT, parsed; None when off
    trusted_proxies: tuple[IPNetwork, ...]  # SURVEY_TRUSTED_PROXIES, parsed
    # Made at start-up (they need the database): the key that signs form
    # tokens, staff cookies and rate-limit keys, and the form tokens.
    results: ResultsCache = field(default_factory=ResultsCache)  # public results, briefly
    signing_secret: str = ""
    form_tokens: FormTokens | None = None

    @property
    def tokens(self) -> FormTokens:
        assert self.form_tokens is not None, "the app has not started"
        return self.form_tokens


def state_of(connection: HTTPConnection) -> AppState:
    state: AppState = connection.app.state.survey
    return state
