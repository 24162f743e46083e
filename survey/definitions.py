"""The survey file format: question types, loading and checking.

A survey is a YAML file validated with Pydantic.  This module knows nothing of
HTTP or SQL: the form, the JSON API, the CLI and the exports all read the same
``SurveyDefinition``.  A bad file is refused with a ``DefinitionError`` whose
lines name the file, the question key and the problem.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from survey.file_problems import describe, yaml_problem
from survey.i18n import LANGUAGES, Language
from survey.questions import KINDS, BaseQuestion, Question, dump_question
from survey.questions.base import slugify_value

SLUG_PATTERN = r"^[a-z0-9-]+$"
DEFAULT_THANK_YOU = "Thank you for your answers."
_SURVEY_TEXTS = ("title", "intro", "thank_you")


class DefinitionError(Exception):
    """A survey file that cannot be used; ``problems`` are human-readable lines."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {problem}" for problem in problems))


class ResultQuotes(BaseModel):
    """Which answers may be quoted on the public results page: text answers
    (``from``) of responses whose ``consent`` question is ticked and that a
    staff member featured."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True
    )

    consent: str
    from_: list[str] = Field(alias="from", min_length=1)


class ResultsSettings(BaseModel):
    """The public results page (``/s/SLUG/results``) for the follow-up post."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    public: bool = False
    questions: list[str] = Field(default_factory=list)
    # A question's breakdown shows only once it has this many answers.
    min_responses: int = Field(default=10, ge=1)
    quotes: ResultQuotes | None = None


class SurveyDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str = Field(pattern=SLUG_PATTERN, max_length=100)
    title: str = Field(min_length=1)
    intro: str = ""
    status: Literal["open", "closed"] = "open"
    closes_at: datetime | None = None
    thank_you: str = DEFAULT_THANK_YOU
    # Sites allowed to frame the form and call the JSON API from a browser;
    # None (the default) means any site.
    embed_origins: list[str] | None = None
    # Responses older than this many days are deleted (survey purge, and the
    # server once an hour); None keeps them until deleted by hand.
    retention_days: int | None = Field(default=None, ge=1)
    # The form closes itself once this many responses are stored (counted in
    # the transaction that stores each one, so no two servers overshoot).
    max_responses: int | None = Field(default=None, ge=1, le=10_000_000)
    # Emails about each new response carry its answers only when this is set
    # (by default they name the survey and link to the response).
    notify_with_answers: bool = False
    results: ResultsSettings | None = None
    # The language the plain texts are in, and what a reader gets when their
    # language has no translation of a text.
    lang: Language = "en"
    questions: list[Question] = Field(min_length=1)
    # Filled from the file's ``{en: ..., es: ...}`` texts: language -> text path
    # ("title", "questions.<key>.label", "questions.<key>.options.<value>") -> text.
    translations: dict[str, dict[str, str]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _split_translations(cls, raw: Any) -> Any:
        """Texts given per language become the default language's text here,
        and the other languages go into ``translations``; every other part of
        the product keeps reading plain strings."""
        if not isinstance(raw, dict) or "translations" in raw:
            return raw  # a stored definition: already split
        default = raw.get("lang", "en")
        translations: dict[str, dict[str, str]] = {}
        raw = dict(raw)

        def split(value: Any, path: str) -> Any:
            if not isinstance(value, dict):
                return value
            unknown = [lang for lang in value if lang not in LANGUAGES]
            if unknown:
                raise ValueError(
                    f"{path}: {', '.join(map(str, unknown))} is not one of the languages "
                    f"({', '.join(LANGUAGES)})"
                )
            if default not in value:
                raise ValueError(
                    f"{path}: the text in the survey's language ({default}) is missing"
                )
            for lang, text in value.items():
                if lang != default:
                    translations.setdefault(lang, {})[path] = str(text)
            return str(value[default])

        for name in _SURVEY_TEXTS:
            if name in raw:
                raw[name] = split(raw[name], name)
        questions = raw.get("questions")
        if isinstance(questions, list):
            raw["questions"] = [_split_question(q, split, default) for q in questions]
        raw["translations"] = translations
        return raw

    @field_validator("embed_origins")
    @classmethod
    def _origins(cls, values: list[str] | None) -> list[str] | None:
        if values is None:
            return None
        cleaned = []
        for value in values:
            origin = value.strip().rstrip("/").lower()
            if not re.fullmatch(r"https?://[a-z0-9.-]+(:\d{1,5})?", origin):
                raise ValueError(
                    f"{value!r} is not an origin; write it like https://blog.example.org "
                    "(scheme, host and optional port, no path)"
                )
            cleaned.append(origin)
        return cleaned

    def allows_origin(self, origin: str) -> bool:
        """Whether a page on ``origin`` may call the JSON API from a reader's
        browser (CORS): only the survey's own ``embed_origins``.  A survey that
        names none may be framed anywhere, but no other site's script may post
        its answers."""
        return self.embed_origins is not None and origin.lower() in self.embed_origins

    @field_validator("closes_at")
    @classmethod
    def _closes_at_is_utc(cls, value: datetime | None) -> datetime | None:
        # A time without a zone in a survey file means UTC.
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @model_validator(mode="after")
    def _cross_question_rules(self) -> SurveyDefinition:
        problems: list[str] = []
        seen: dict[str, BaseQuestion] = {}
        other_keys: dict[str, str] = {}
        for question in self.questions:
            if question.key in seen or question.key in other_keys:
                problems.append(f"question {question.key!r}: the key is used twice")
            for ref, values in (question.show_if or {}).items():
                earlier = seen.get(ref)
                if earlier is None:
                    problems.append(
                        f"question {question.key!r}: show_if refers to {ref!r}, "
                        "which is not an earlier question"
                    )
                    continue
                allowed = earlier.choice_values()
                if allowed is None:
                    problems.append(
                        f"question {question.key!r}: show_if can only test choice and yes/no "
                        f"questions, and {ref!r} is {earlier.type}"
                    )
                    continue
                for value in values:
                    if value not in allowed:
                        problems.append(
                            f"question {question.key!r}: show_if value {value!r} is not an "
                            f"option of {ref!r} (options: {', '.join(allowed)})"
                        )
            seen[question.key] = question
            for extra in question.answer_keys()[1:]:
                other_keys[extra] = question.key
        for other_key, owner in other_keys.items():
            if other_key in seen:
                problems.append(
                    f"question {other_key!r}: the key is taken by the 'Other' answer of {owner!r}"
                )
        problems += _results_problems(self.results, seen)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def languages(self) -> list[str]:
        """The survey's own language first, then those it has translations for."""
        return [self.lang, *(lang for lang in LANGUAGES if lang in self.translations)]

    def localized(self, lang: str) -> SurveyDefinition:
        """This survey with its texts in ``lang``; a text without a
        translation stays in the survey's language."""
        texts = self.translations.get(lang)
        if not texts or lang == self.lang:
            return self
        document = self.model_dump(mode="json")
        for name in _SURVEY_TEXTS:
            document[name] = texts.get(name, document[name])
        for question, parsed in zip(document["questions"], self.questions, strict=True):
            prefix = f"questions.{parsed.key}"
            for name in parsed.texts:
                if question.get(name) is not None:
                    question[name] = texts.get(f"{prefix}.{name}", question[name])
            for items in parsed.option_lists:
                for option in question.get(items, []):
                    path = f"{prefix}.{items}.{option['value']}"
                    option["label"] = texts.get(path, option["label"])
        return SurveyDefinition.model_validate(document)

    def missing_translations(self) -> dict[str, list[str]]:
        """Per translated language, the texts that fall back to the survey's language."""
        texts = ["title", *(["intro"] if self.intro else [])]
        if self.thank_you != DEFAULT_THANK_YOU:  # the default is in the interface's catalogues
            texts.append("thank_you")
        for question in self.questions:
            prefix = f"questions.{question.key}"
            texts += [
                f"{prefix}.{name}"
                for name in question.texts
                if getattr(question, name, None) is not None
                and not (name == "other_label" and not getattr(question, "allow_other", False))
            ]
            for items in question.option_lists:
                texts += [f"{prefix}.{items}.{o.value}" for o in getattr(question, items)]
        return {
            lang: missing
            for lang, given in self.translations.items()
            if (missing := [text for text in texts if text not in given])
        }

    @property
    def scripts(self) -> list[str]:
        """The scripts its question kinds bring (survey/static/), once each."""
        return list(dict.fromkeys(q.script for q in self.questions if q.script))

    def is_open(self, now: datetime) -> bool:
        return self.status == "open" and (self.closes_at is None or now < self.closes_at)

    def questions_fingerprint(self) -> str:
        """Equal for two definitions exactly when they ask the same questions."""
        return json.dumps(self.questions_json(), sort_keys=True, ensure_ascii=False)

    def questions_json(self) -> list[dict[str, Any]]:
        return [dump_question(q) for q in self.questions]

    def document(self) -> dict[str, Any]:
        """The survey as stored: its fields, and its questions written the one way."""
        return self.model_dump(mode="json") | {"questions": self.questions_json()}


def _results_problems(
    results: ResultsSettings | None, questions: dict[str, BaseQuestion]
) -> list[str]:
    if results is None:
        return []
    problems = []
    for key in results.questions:
        question = questions.get(key)
        if question is None or question.choice_values() is None:
            problems.append(
                f"results.questions: {key!r} is not a choice, yes/no, rating or country "
                "question of the survey (only those are counted on the results page)"
            )
    if results.quotes is not None:
        consent = questions.get(results.quotes.consent)
        if consent is None or consent.type != "consent":
            problems.append(
                f"results.quotes.consent: {results.quotes.consent!r} is not a consent question"
            )
        for key in results.quotes.from_:
            question = questions.get(key)
            if question is None or question.type not in ("short_text", "long_text"):
                problems.append(f"results.quotes.from: {key!r} is not a text question")
    return problems


def _split_question(question: Any, split: Any, default: str) -> Any:
    if not isinstance(question, dict):
        return question
    question = dict(question)
    kind = KINDS.get(str(question.get("type")))
    if kind is None:
        return question  # refused by validation, with the list of kinds
    prefix = f"questions.{question.get('key')}"
    for name in kind.texts:
        if name in question:
            question[name] = split(question[name], f"{prefix}.{name}")
    for items in kind.option_lists:
        options = question.get(items)
        if not isinstance(options, list):
            continue
        split_options = []
        for option in options:
            if isinstance(option, dict) and isinstance(option.get("label"), dict):
                option = dict(option)
                label = option["label"]
                if "value" not in option and default in label:
                    option["value"] = slugify_value(str(label[default]))
                option["label"] = split(label, f"{prefix}.{items}.{option.get('value')}")
            split_options.append(option)
        question[items] = split_options
    return question


# A survey file is a few KB; these bounds are far above any real one and far
# below what could hurt a server (a "billion laughs" file of 490 bytes once
# expanded to 102 MB through aliases; deep nesting exhausts the stack).
MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 20


class _Yaml12Loader(yaml.SafeLoader):
    """YAML with only true/false as booleans (YAML 1.2), so options like Yes and
    No, or a country code like NO, stay text.  Aliases (``*name``) are refused
    (a survey never needs them, and they are how small files expand to huge
    ones), and so is nesting deeper than ``MAX_DEPTH``."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None,
                None,
                "aliases (*name) are not allowed in a survey file: write the text out",
                event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nested more than {MAX_DEPTH} levels deep",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def parse_definition(text: str, source: str) -> SurveyDefinition:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise DefinitionError(
            source, [f"the file is larger than {MAX_FILE_BYTES // 1024} KB; a survey is a few KB"]
        )
    try:
        raw = yaml.load(text, Loader=_Yaml12Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise DefinitionError(source, [yaml_problem(exc, text)]) from exc
    if not isinstance(raw, dict):
        raise DefinitionError(source, ["the file must be a YAML mapping (slug:, title:, ...)"])
    try:
        return SurveyDefinition.model_validate(raw)
    except ValidationError as exc:
        raise DefinitionError(source, describe(exc, raw)) from exc


def load_file(path: Path) -> SurveyDefinition:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise DefinitionError(
                str(path),
                [f"the file is larger than {MAX_FILE_BYTES // 1024} KB; a survey is a few KB"],
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(str(path), [f"cannot be read: {exc}"]) from exc
    return parse_definition(text, str(path))
