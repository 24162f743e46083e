"""Which responses a staff page, a download or ``survey export`` is about.

One ``ResponseFilter`` is read from a page's query string (or the CLI's
options) and handed to every query, so the table, the summary and each
download always agree on which responses they show.  Parsing is pure; the SQL
for a filter is built in ``store``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from survey.questions import BaseQuestion, FilterSpec

ANSWER_PREFIX = "f."
MAX_SEARCH_LENGTH = 200


class FilterError(ValueError):
    """A filter value that cannot be used; ``name`` is the parameter at fault."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass(frozen=True)
class ResponseFilter:
    since: datetime | None = None
    until: datetime | None = None  # exclusive
    source: str | None = None
    search: str | None = None
    answers: tuple[tuple[str, str], ...] = ()  # (filter name, chosen value)
    # What the database compares for each of ``answers``: (path, match, value).
    conditions: tuple[tuple[tuple[str | int, ...], str, str], ...] = ()
    # The answer keys (of every version) a search looks through.
    search_keys: tuple[str, ...] = ()
    # What the staff member typed, to show it back in the filter form.
    since_text: str = ""
    until_text: str = ""

    @property
    def is_empty(self) -> bool:
        return not (self.since or self.until or self.source or self.search or self.answers)

    def query_items(self) -> list[tuple[str, str]]:
        """The filter as query parameters, to carry it into links and downloads."""
        items = [
            (name, value)
            for name, value in (
                ("since", self.since_text),
                ("until", self.until_text),
                ("source", self.source or ""),
                ("q", self.search or ""),
            )
            if value
        ]
        items += [(ANSWER_PREFIX + key, value) for key, value in self.answers]
        return items

    def describe(self) -> dict[str, Any]:
        """The filter as the audit trail records it."""
        return dict(self.query_items())


def parse_bound(text: str | None, *, name: str, upper: bool) -> datetime | None:
    """An ISO date (a whole day, inclusive) or date-time (UTC unless it says
    otherwise) as a UTC datetime; for ``until`` the first instant excluded."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return start + timedelta(days=1) if upper else start
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FilterError(
            name,
            f"{name} must be a date like 2027-01-31 or a date and time like 2027-01-31T18:00:00Z",
        ) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment + timedelta(microseconds=1) if upper else moment


def filter_specs(questions: Iterable[BaseQuestion], lang: str = "en") -> list[FilterSpec]:
    """Every "answered X" filter the survey's current questions offer."""
    return [spec for question in questions for spec in question.filters(lang)]


def search_keys(versions: Iterable[Iterable[BaseQuestion]]) -> tuple[str, ...]:
    """The answer keys a search looks through: text answers of every version."""
    keys: dict[str, None] = {}
    for questions in versions:
        for question in questions:
            keys.update(dict.fromkeys(question.search_keys()))
    return tuple(keys)


def parse_filter(
    params: Iterable[tuple[str, str]],
    *,
    specs: Iterable[FilterSpec] = (),
    searched: tuple[str, ...] = (),
) -> ResponseFilter:
    """A filter from query parameters: since, until (dates), source, q (search
    text) and ``f.<name>=<value>`` for one of ``specs`` (a choice question's
    answer, a matrix row's...).  ``searched`` are the keys a search looks in.

    Raises FilterError naming the parameter and saying what is wrong.
    """
    by_name = {spec.name: spec for spec in specs}
    values: dict[str, str] = {}
    answers: list[tuple[str, str]] = []
    conditions: list[tuple[tuple[str | int, ...], str, str]] = []
    for name, value in params:
        if "\x00" in value:
            raise FilterError(name, "holds a NUL character, which cannot be searched for")
        if name.startswith(ANSWER_PREFIX):
            key = name.removeprefix(ANSWER_PREFIX)
            if not value:
                continue  # "any answer" in the filter form
            spec = by_name.get(key)
            if spec is None:
                raise FilterError(name, f"{key} is not a choice question of this survey")
            # A spec without choices (a hidden field) takes any value.
            if spec.choices and value not in dict(spec.choices):
                raise FilterError(name, f"{value!r} is not an answer to {key}")
            if len(value) > MAX_SEARCH_LENGTH:
                raise FilterError(name, f"Filter on at most {MAX_SEARCH_LENGTH} characters")
            answers.append((key, value))
            conditions.append((spec.path, spec.match, value))
        else:
            values[name] = value.strip()
    search = values.get("q") or None
    if search is not None and len(search) > MAX_SEARCH_LENGTH:
        raise FilterError("q", f"Search for at most {MAX_SEARCH_LENGTH} characters")
    since = parse_bound(values.get("since"), name="since", upper=False)
    until = parse_bound(values.get("until"), name="until", upper=True)
    if since and until and until <= since:
        raise FilterError("until", "until must be after since")
    return ResponseFilter(
        since=since,
        until=until,
        source=values.get("source") or None,
        search=search,
        answers=tuple(answers),
        conditions=tuple(conditions),
        search_keys=searched,
        since_text=values.get("since", ""),
        until_text=values.get("until", ""),
    )


def export_filter(
    since: str | None, until: str | None, source: str | None = None
) -> ResponseFilter:
    """The filter of the token export and ``survey export`` (dates and source)."""
    return parse_filter([("since", since or ""), ("until", until or ""), ("source", source or "")])
