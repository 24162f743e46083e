"""Which responses a staff page, a download or ``survey export`` is about.

One ``ResponseFilter`` is read from a page's query string (or the CLI's
options) and handed to every query, so the table, the summary and each
download always agree on which responses they show.  Parsing is pure; the SQL
for a filter is built in ``store``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

# Question types a staff member can filter by ("answered X to this question").
CHOICE_TYPES = ("single_choice", "multiple_choice", "yes_no", "rating", "country")
# Question types whose answers the search looks through (and "Other" texts).
TEXT_TYPES = ("short_text", "long_text", "email")
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
    answers: tuple[tuple[str, str], ...] = ()  # (question key, chosen value)
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


def choice_values(question: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(value, label) of every answer a choice question can have."""
    from survey.countries import country_choices

    kind = question["type"]
    if kind == "yes_no":
        return [("yes", "Yes"), ("no", "No")]
    if kind == "rating":
        return [(str(n), str(n)) for n in range(1, int(question.get("scale", 5)) + 1)]
    if kind == "country":
        return list(country_choices())
    values = [(o["value"], o["label"]) for o in question.get("options", [])]
    if question.get("allow_other"):
        values.append(("other", question.get("other_label") or "Other"))
    return values


def parse_filter(
    params: Iterable[tuple[str, str]], *, questions: list[dict[str, Any]]
) -> ResponseFilter:
    """A filter from query parameters: since, until (dates), source, q (search
    text) and ``f.<key>=<value>`` for a choice question's answer.

    Raises FilterError naming the parameter and saying what is wrong.
    """
    by_key = {q["key"]: q for q in questions if q["type"] in CHOICE_TYPES}
    values: dict[str, str] = {}
    answers: list[tuple[str, str]] = []
    for name, value in params:
        if name.startswith(ANSWER_PREFIX):
            key = name.removeprefix(ANSWER_PREFIX)
            if not value:
                continue  # "any answer" in the filter form
            question = by_key.get(key)
            if question is None:
                raise FilterError(name, f"{key} is not a choice question of this survey")
            if value not in dict(choice_values(question)):
                raise FilterError(name, f"{value!r} is not an answer to {key}")
            answers.append((key, value))
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
        since_text=values.get("since", ""),
        until_text=values.get("until", ""),
    )


def export_filter(
    since: str | None, until: str | None, source: str | None = None
) -> ResponseFilter:
    """The filter of the token export and ``survey export`` (dates and source)."""
    return parse_filter(
        [("since", since or ""), ("until", until or ""), ("source", source or "")], questions=[]
    )
