"""What the hot paths keep in memory between requests.

A form page is read far more often than a survey file changes, so each
process keeps the surveys it serves (checked against the database at most
every ``definition_cache_seconds``) and the rendered form page of each survey
version, into which only the per-request parts (the form token, the post's
address) are filled.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote

from sqlmodel import Session

from survey import store
from survey.definitions import SurveyDefinition
from survey.models import SurveyVersion
from survey.questions import Column
from survey.questions.cells import question_columns, render_cells
from survey.store.responses import NewResponse

_FAILED = object()  # what waiters of a failed load_once see
TOKEN_MARK = "@@form-token@@"  # noqa: S105 - a placeholder, not a secret
SOURCE_MARK = "@@source@@"
# The same mark as it comes out of urlencode() in a link.
SOURCE_MARK_IN_URL = quote(SOURCE_MARK, safe="")


@dataclass(frozen=True)
class LiveSurvey:
    """A survey as the form and the API need it: plain values only, usable
    after the session that read it has closed."""

    id: int
    version: int
    version_id: int
    updated_at: datetime
    definition: SurveyDefinition
    # The current version's export columns, for writing Response.csv_cells.
    columns: list[Column]
    _localized: dict[str, SurveyDefinition] = field(default_factory=dict, compare=False)

    def is_open(self, now: datetime) -> bool:
        return self.definition.is_open(now)

    def response(
        self,
        answers: dict[str, Any],
        *,
        submission_key: str | None,
        source: str | None = None,
        language: str | None = None,
        submitted_at: datetime | None = None,
    ) -> NewResponse:
        """Checked answers as a response of this version, with its CSV cells.

        Every response gets a key: the client's, or one made here when it sent
        none, so that the writer retrying a batch whose commit had an unknown
        outcome can never store it twice.
        """
        return NewResponse(
            survey_id=self.id,
            survey_version_id=self.version_id,
            answers=answers,
            source=source,
            csv_cells=render_cells(self.columns, answers),
            submission_key=submission_key or f"server:{secrets.token_urlsafe(16)}",
            language=language,
            submitted_at=submitted_at,
        )

    def at_version(self, version: SurveyVersion) -> LiveSurvey:
        """This survey as a reader saw it at an earlier version: that version's
        questions, everything else (title, texts, dates) as it is now."""
        assert version.id is not None
        document = self.definition.model_dump(mode="json") | {"questions": version.questions}
        return LiveSurvey(
            id=self.id,
            version=version.version,
            version_id=version.id,
            updated_at=self.updated_at,
            definition=SurveyDefinition.model_validate(document),
            columns=question_columns([version.questions]),
        )

    def in_language(self, lang: str) -> SurveyDefinition:
        """The definition with its texts in ``lang`` (made once per process)."""
        found = self._localized.get(lang)
        if found is None:
            found = self._localized[lang] = self.definition.localized(lang)
        return found


@dataclass
class _Entry:
    live: LiveSurvey | None
    checked_at: float
    refreshing: bool = False


class SurveyCache:
    def __init__(self, max_age_seconds: float) -> None:
        self.max_age_seconds = max_age_seconds
        self._by_slug: dict[str, _Entry] = {}
        self._loading: dict[str, asyncio.Future[object]] = {}

    def cached(self, slug: str) -> LiveSurvey | None:
        """What this process holds for ``slug``, however old (no database)."""
        entry = self._by_slug.get(slug)
        return entry.live if entry is not None else None

    def fresh(self, slug: str) -> LiveSurvey | None:
        """The cached survey if it was checked recently enough, else None.

        When it is due for a check, the first request to notice does the check
        and the ones arriving meanwhile are served what is cached, so that a
        busy process sends one query per period, not one per request.
        """
        entry = self._by_slug.get(slug)
        if entry is None:
            return None
        if time.monotonic() - entry.checked_at < self.max_age_seconds:
            return entry.live
        if entry.refreshing:
            return entry.live
        entry.refreshing = True
        return None

    def keep_serving(self, slug: str) -> LiveSurvey | None:
        """After a failed check: the copy held, checked again only after the
        usual period (not on every request while the database is away)."""
        entry = self._by_slug.get(slug)
        if entry is None or entry.live is None:
            self._by_slug.pop(slug, None)
            return None
        entry.checked_at = time.monotonic()
        entry.refreshing = False
        return entry.live

    def forget(self, slug: str) -> None:
        self._by_slug.pop(slug, None)

    async def load_once(
        self, slug: str, load: Callable[[], Awaitable[LiveSurvey | None]]
    ) -> LiveSurvey | None:
        """``load`` for a survey, once for all the requests that want it now.

        A process that has just started (or a survey nobody asked for yet)
        gets its first requests all at once; without this, each of them would
        read and parse the survey, one after another on SQLite's one thread,
        and the last would wait for all the others (the form page's p99 tail
        in the benchmark).  If the load fails, each waiter tries on its own.
        """
        pending = self._loading.get(slug)
        if pending is not None:
            result = await asyncio.shield(pending)
            if result is not _FAILED:
                return result  # type: ignore[return-value]
            return await load()
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._loading[slug] = future
        try:
            live = await load()
        except BaseException:
            future.set_result(_FAILED)
            raise
        else:
            future.set_result(live)
            return live
        finally:
            del self._loading[slug]

    def load(self, session: Session, slug: str) -> LiveSurvey | None:
        """Read the survey from the database (blocking) and remember it."""
        row = store.get_survey(session, slug=slug)
        live = None
        if row is not None:
            assert row.id is not None
            old = self._by_slug.get(slug)
            if (
                old is not None
                and old.live is not None
                and (old.live.version, old.live.updated_at) == (row.current_version, row.updated_at)
            ):
                live = old.live  # unchanged: keep the parsed definition
            else:
                version = store.current_version(session, survey=row)
                assert version.id is not None
                live = LiveSurvey(
                    id=row.id,
                    version=row.current_version,
                    version_id=version.id,
                    updated_at=row.updated_at,
                    definition=SurveyDefinition.model_validate(row.definition),
                    columns=question_columns([version.questions]),
                )
        if live is not None:
            self._by_slug[slug] = _Entry(live, time.monotonic())
        else:
            self._by_slug.pop(slug, None)
        return live


@dataclass
class RenderedPage:
    """A form page rendered (and encoded) once, with marks where the
    per-request parts go."""

    html: bytes

    def fill(self, *, token: str, source: str | None) -> bytes:
        page = self.html.replace(TOKEN_MARK.encode(), token.encode())
        if source is not None:
            page = page.replace(SOURCE_MARK.encode(), escape(source).encode()).replace(
                SOURCE_MARK_IN_URL.encode(), escape(quote(source, safe="")).encode()
            )
        return page


@dataclass
class PageCache:
    """Rendered form pages, keyed by survey version, mode, language and the
    product's own address.  That address comes from the request's Host header
    when SURVEY_PUBLIC_URL is not set, which any client chooses: only the first
    few addresses get cached pages, so that made-up hosts can neither fill the
    cache nor push the real pages out of it (theirs are rendered each time)."""

    limit: int = 512
    max_bases: int = 8
    _pages: dict[tuple[object, ...], RenderedPage] = field(default_factory=dict)
    _bases: set[str] = field(default_factory=set)

    def get(self, key: tuple[object, ...], render: Callable[[], str], *, base: str) -> RenderedPage:
        page = self._pages.get(key)
        if page is None:
            if base not in self._bases:
                if len(self._bases) >= self.max_bases:
                    return RenderedPage(render().encode())
                self._bases.add(base)
            if len(self._pages) >= self.limit:
                self._pages.clear()  # old versions pile up only on busy edits; start over
            page = self._pages[key] = RenderedPage(render().encode())
        return page


@dataclass
class ResultsCache:
    """Public results pages, each kept a few seconds: a popular follow-up post
    costs one count per period, not one per reader.  The key holds the
    survey's version and update time, so unpublishing shows at once."""

    seconds: float = 10.0
    limit: int = 256
    _kept: dict[tuple[object, ...], tuple[float, Any]] = field(default_factory=dict)

    def get(self, key: tuple[object, ...], compute: Callable[[], Any]) -> Any:
        now = time.monotonic()
        found = self._kept.get(key)
        if found is not None and now - found[0] < self.seconds:
            return found[1]
        value = compute()
        if len(self._kept) >= self.limit:
            self._kept.clear()
        self._kept[key] = (now, value)
        return value
