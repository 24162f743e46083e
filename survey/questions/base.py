"""What every question kind shares: the common fields, options, and the
hooks a kind fills in (cleaning, cells, words, summary, filters, partial).

A kind is one Pydantic model in its own module; the model *is* the question,
so the form, the JSON API, the exports and the staff pages all hold the same
object.  Nothing here knows HTTP or SQL beyond naming which cell format and
which JSON path an answer has (``survey.export.cells`` turns those into SQL).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
)

from survey.i18n import Message

KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
OTHER = "other"
# How a stored answer becomes a CSV/Excel cell (survey.export.cells).
TEXT, NUMBER, BOOLEAN, CHOICES = "text", "number", "boolean", "choices"
# How a question shows on the summary page (templates/admin/_summary_<shape>.html).
# BARS, MATRIX and RANKING are counted in the grouped pass; LATEST lists answers.
BARS, MATRIX, RANKING, LATEST = "bars", "matrix", "ranking", "latest"


class Missing:
    """No answer was given (distinct from an answer of None or "")."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = Missing()


class Refused(Exception):
    """One answer that cannot be accepted; the message is for the person.

    ``key`` is the form field the message belongs to, when it is not the
    question's own key (a multiple choice's "Other" box)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


def slugify_value(label: str) -> str:
    """The option value for an option given as a plain label."""
    ascii_label = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    value = re.sub(r"[^a-z0-9]+", "_", ascii_label.lower()).strip("_")
    if not value:  # a label with no Latin letters keeps its own letters
        value = re.sub(r"[^\w]+", "_", label.casefold()).strip("_")
    return value


def scalar_text(value: Any) -> Any:
    """YAML scalars as the text a person wrote (true -> yes, 3 -> "3")."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    return value


def options_from_labels(raw: Any) -> Any:
    """Plain strings in an option list are labels; their values are made from them."""
    if not isinstance(raw, list):
        return raw
    return [
        {"value": slugify_value(str(scalar_text(item))), "label": str(scalar_text(item))}
        if isinstance(item, str | int | float | bool)
        else item
        for item in raw
    ]


def json_list(text: Any) -> list[Any]:
    """A list stored as JSON, as the database gives it (text, or already a list)."""
    if isinstance(text, list):
        return text
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return []
    return value if isinstance(value, list) else []


def unique_values(options: list[Option]) -> list[Option]:
    seen: set[str] = set()
    for option in options:
        if option.value in seen:
            raise ValueError(f"option value {option.value!r} is used twice")
        seen.add(option.value)
    return options


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(min_length=1, max_length=100, pattern=r"^\S(.*\S)?$")
    label: str = Field(min_length=1)


# A list of {value, label} (or plain labels), each value once: options, a
# matrix's rows and columns.
OptionList = Annotated[
    list[Option], BeforeValidator(options_from_labels), AfterValidator(unique_values)
]


@dataclass(frozen=True)
class Column:
    """One column of the CSV and Excel exports.

    ``path`` is where the value sits in a response's answers (the key, or the
    key and a matrix row); ``kind`` is the cell format (TEXT, NUMBER, BOOLEAN
    or CHOICES), whose Python rule and SQL twin live in ``survey.export.cells``.
    """

    key: str
    label: str
    kind: str = TEXT
    question_type: str = "short_text"
    # A multiple choice's (value, label) options and whether it has "Other":
    # the export can spread them into one 0/1 column each.
    options: tuple[tuple[str, str], ...] = ()
    other: bool = False
    path: tuple[str, ...] = ()

    @property
    def json_path(self) -> tuple[str, ...]:
        return self.path or (self.key,)


@dataclass(frozen=True)
class Bar:
    value: str
    label: str
    count: int
    percent: float  # of the responses that answered the question


def percent(count: int, base: int) -> float:
    return round(100 * count / base, 1) if base else 0.0


@dataclass(frozen=True)
class FilterSpec:
    """One "answered X" filter a staff member can pick: ``f.<name>=<value>``.

    ``match`` says how the stored answer at ``path`` is compared: ``equals``
    (the value itself), ``contains`` (a list holding it) or ``first`` (a list
    whose first item it is).
    """

    name: str
    label: str
    choices: list[tuple[str, str]]
    path: tuple[str, ...]
    match: str = "equals"


class BaseQuestion(BaseModel):
    """The fields every question has, and the defaults of each hook."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Filled in by each kind ----------------------------------------------
    partial: ClassVar[str] = ""  # its template, templates/questions/_q_<kind>.html
    # A script of its own in survey/static/, loaded only by forms that ask it.
    script: ClassVar[str | None] = None
    required_message: ClassVar[Message]
    texts: ClassVar[tuple[str, ...]] = ("label", "help")  # translatable fields
    option_lists: ClassVar[tuple[str, ...]] = ()  # lists of {value, label}, translatable
    cell_kind: ClassVar[str] = TEXT
    summary_shape: ClassVar[str] = LATEST
    several_answers: ClassVar[bool] = False  # a summary's percentages may add up past 100
    # Leaving it blank is itself an answer (an unticked consent box): the
    # summary's percentages are of every response, not of those that answered.
    blank_is_an_answer: ClassVar[bool] = False
    # How the "answered X" filter compares (FilterSpec.match); None: no such filter.
    filter_match: ClassVar[str | None] = None
    searchable: ClassVar[bool] = False  # the staff search looks through its answers
    holds_email: ClassVar[bool] = False  # erasure by email address looks at its answers
    # ``/s/SLUG?<key>=<value>`` may fill it in before the reader sees the form.
    prefillable: ClassVar[bool] = False
    # Never shown to readers (a hidden field): no box, no label, no hint.
    hidden_field: ClassVar[bool] = False

    type: str
    key: str = Field(pattern=KEY_PATTERN, max_length=64)
    label: str = Field(min_length=1)
    help: str | None = None
    required: bool = False
    show_if: dict[str, list[str]] | None = None

    @field_validator("show_if", mode="before")
    @classmethod
    def _show_if_values_as_strings(cls, raw: Any) -> Any:
        if isinstance(raw, dict):
            return {
                key: [scalar_text(v) for v in (values if isinstance(values, list) else [values])]
                for key, values in raw.items()
            }
        return raw

    # Answers ---------------------------------------------------------------

    def answer_keys(self) -> list[str]:
        """The top-level answer keys this question fills (JSON API, storage)."""
        return [self.key]

    def clean(self, get: Callable[[str], Any], *, from_form: bool) -> dict[str, Any]:
        """This question's answers from what was sent: {} when unanswered.

        ``get(name)`` is what was sent under a field name: a list of strings
        from the form, a JSON value from the API, or MISSING.  Raises Refused.
        """
        raw = get(self.key)
        if raw is MISSING or raw is None:
            return {}
        value = self.clean_value(raw[0] if from_form else raw, from_form=from_form)
        return {} if value is MISSING else {self.key: value}

    def clean_value(self, raw: Any, *, from_form: bool) -> Any:
        """One sent value -> the stored value, MISSING, or Refused."""
        raise NotImplementedError

    def choice_values(self) -> list[str] | None:
        """The values a ``show_if`` may test, or None where it cannot test this kind."""
        return None

    # Exports ---------------------------------------------------------------

    def export_columns(self) -> list[Column]:
        return [Column(self.key, self.label, self.cell_kind, question_type=self.type)]

    # Staff pages -----------------------------------------------------------

    def limits(self) -> Message | None:
        """What the answer must be, said before the reader gets it wrong (shown
        with the question's help): a number's range, how many choices."""
        return None

    def words(self, answers: dict[str, Any], lang: str) -> str:
        """The answer as a person reads it; "" when unanswered."""
        value = answers.get(self.key)
        if value is None or value == "":
            return ""
        return self.value_words(value, answers, lang)

    def value_words(self, value: Any, answers: dict[str, Any], lang: str) -> str:
        return str(value)

    def filters(self, lang: str) -> list[FilterSpec]:
        if self.filter_match is None:
            return []
        return [
            FilterSpec(self.key, self.label, self.choices(lang), (self.key,), self.filter_match)
        ]

    def choices(self, lang: str) -> list[tuple[str, str]]:
        """Every (stored value as text, label) an answer can be: shown in the
        form, counted in a BARS summary, offered by the filter."""
        return []

    def summary_paths(self) -> list[tuple[str, ...]]:
        """Where the grouped pass of the summary reads this question's answers."""
        return [(self.key,)]

    def summary_items(self, text: str) -> list[str]:
        """A stored answer as the database gives it as text -> the values counted."""
        return [text]

    def summary(self, counts: list[Counter[str]], answered: int, lang: str) -> Any:
        """What the summary partial shows, from the counts per summary path
        (responses per value); for BARS, one bar per choice."""
        return [
            Bar(value, label, counts[0][value], percent(counts[0][value], answered))
            for value, label in self.choices(lang)
        ]

    def written_key(self) -> str | None:
        """The answer key whose latest texts the summary lists under this
        question: a text question's own, a choice's "Other" text; None: none."""
        return self.key if self.summary_shape == LATEST else None

    def search_keys(self) -> list[str]:
        """Answer keys the staff search looks through."""
        return [self.key] if self.searchable else []


def dump_question(question: BaseQuestion) -> dict[str, Any]:
    """The one way a question is written down (stored versions, the API, the
    builder): what the file said, without defaults, and always its type."""
    return question.model_dump(mode="json", exclude_defaults=True) | {"type": question.type}
