"""A draft as a survey file's document: reading and writing the file, its
texts in several languages, its settings, and what the last change was."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import yaml
from pydantic import ValidationError

from survey.definitions import DEFAULT_THANK_YOU, MAX_FILE_BYTES, SLUG_PATTERN, SurveyDefinition
from survey.file_problems import describe
from survey.i18n import LANGUAGES, N_, Message
from survey.questions.base import slugify_value

Document = dict[str, Any]
Fields = Mapping[str, list[str]]
_SETTINGS_ORDER = (
    "slug",
    "title",
    "lang",
    "intro",
    "status",
    "closes_at",
    "thank_you",
    "embed_origins",
    "retention_days",
    "max_responses",
    "notify_with_answers",
    "results",
)
_TEXTS = ("title", "intro", "thank_you")


class Refusal(ValueError):
    """A change the builder will not make; ``problems`` are (field, message)."""

    def __init__(self, problems: list[tuple[str, Message | str]]) -> None:
        super().__init__("; ".join(str(m) for _, m in problems))
        self.problems = problems


# Reading and writing files ---------------------------------------------------


def file_document(definition: SurveyDefinition) -> Document:
    """A survey as its file says it: texts with translations as ``{lang: text}``,
    defaults left out, in the README's order."""
    stored = definition.document()
    translations: dict[str, dict[str, str]] = stored.pop("translations")
    main = definition.lang

    def merged(path: str, text: str) -> Any:
        others = {lang: texts[path] for lang, texts in translations.items() if path in texts}
        return {main: text, **others} if others else text

    document: Document = {}
    translated = {path for texts in translations.values() for path in texts}
    for name in _SETTINGS_ORDER:
        value = stored.get(name)
        default = (name, value) in (
            ("intro", ""),
            ("status", "open"),
            ("thank_you", DEFAULT_THANK_YOU),
        )
        if value is None or (default and name not in translated):
            continue
        document[name] = merged(name, value) if name in _TEXTS else value
    questions = []
    for raw, parsed in zip(stored["questions"], definition.questions, strict=True):
        question = dict(raw)
        prefix = f"questions.{parsed.key}"
        for name in parsed.texts:
            path = f"{prefix}.{name}"
            if name in question or any(path in t for t in translations.values()):
                value = question.get(name, getattr(parsed, name))
                if value is not None:
                    question[name] = merged(path, value)
        for items in parsed.option_lists:
            question[items] = [
                {**option, "label": merged(f"{prefix}.{items}.{option['value']}", option["label"])}
                for option in question.get(items, [])
            ]
        questions.append(question_in_order(question))
    document["questions"] = questions
    return document


def question_in_order(question: Document) -> Document:
    first = ("key", "type", "label", "help", "required")
    return {k: question[k] for k in first if k in question} | {
        k: v for k, v in question.items() if k not in first
    }


def to_yaml(document: Document) -> str:
    """The survey file: ``survey load`` reads it back to the same survey."""
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)
    assert len(text.encode()) <= MAX_FILE_BYTES
    return text


def check(document: Document) -> SurveyDefinition:
    """The draft as a survey, or Refusal with each problem (publishing needs this)."""
    if not document.get("questions"):
        raise Refusal([("questions", N_("Add at least one question before publishing."))])
    try:
        return SurveyDefinition.model_validate(document)
    except ValidationError as exc:
        raise Refusal([("questions", line) for line in describe(exc, document)]) from None
    except ValueError as exc:
        raise Refusal([("questions", str(exc))]) from None


def changed_types(definition: SurveyDefinition, answered: Mapping[str, str]) -> list[str]:
    """Keys that have answers as one type and would now be another."""
    return [q.key for q in definition.questions if q.key in answered and answered[q.key] != q.type]


# Texts in several languages --------------------------------------------------


def text_in(value: Any, lang: str, main: str) -> str:
    """One language's text of a file text (plain: the survey's language only)."""
    if isinstance(value, dict):
        return str(value.get(lang, ""))
    if value is None:
        return ""
    return str(value) if lang == main else ""


def texts_from(fields: Fields, name: str, languages: list[str]) -> Any:
    """A text from its per-language inputs (``<name>.<lang>``), as a file writes it."""
    texts = {
        lang: " ".join(text.split()) if "\n" not in text else text.strip()
        for lang in languages
        if (text := first(fields, f"{name}.{lang}"))
    }
    if not texts:
        return None
    if list(texts) == [languages[0]]:
        return texts[languages[0]]
    return texts


def first(fields: Fields, name: str) -> str:
    values = fields.get(name) or [""]
    return values[0].replace("\r\n", "\n").strip()


# Settings ---------------------------------------------------------------------


def new_document(slug: str, title: str, lang: str) -> Document:
    return {"slug": slug, "title": title, "lang": lang, "questions": []}


def check_slug(slug: str) -> Message | None:
    if not re.fullmatch(SLUG_PATTERN, slug) or len(slug) > 100:
        return N_("Use lower-case letters, digits and hyphens only, like book-club-2027.")
    return None


def slug_from(title: str) -> str:
    ascii_title = slugify_value(title).replace("_", "-")
    return re.sub(r"[^a-z0-9-]+", "", ascii_title)[:60].strip("-") or "survey"


def apply_settings(document: Document, fields: Fields, languages: list[str]) -> Document:
    """The settings form applied to a draft; Refusal names each bad field."""
    problems: list[tuple[str, Message | str]] = []
    new = dict(document)
    for name in ("title", "intro", "thank_you"):
        new[name] = texts_from(fields, name, languages)
        if new[name] is None:
            new.pop(name)
    if text_in(new.get("title"), languages[0], languages[0]) == "":
        problems.append((f"title.{languages[0]}", N_("Enter the survey's title.")))
    closes = first(fields, "closes_at")
    new.pop("closes_at", None)
    if closes:
        try:
            new["closes_at"] = (
                datetime.fromisoformat(closes)
                .replace(tzinfo=UTC)
                .isoformat()
                .replace("+00:00", "Z")
            )
        except ValueError:
            problems.append(("closes_at", N_("Enter a date and time, like 2027-06-30 23:59.")))
    origins = first(fields, "embed_origins").split()
    new.pop("embed_origins", None)
    if origins:
        new["embed_origins"] = origins
        try:
            SurveyDefinition._origins(origins)
        except ValueError:
            problems.append(
                (
                    "embed_origins",
                    N_(
                        "Write each site as its address without a path, like "
                        "https://blog.example.org, one per line."
                    ),
                )
            )
    for name, message in (
        ("retention_days", N_("Enter a whole number of days, 1 or more, or leave it empty.")),
        ("max_responses", N_("Enter a whole number, 1 or more, or leave it empty.")),
    ):
        new.pop(name, None)
        given = first(fields, name)
        if given:
            if given.isdigit() and 1 <= int(given) <= 10_000_000:
                new[name] = int(given)
            else:
                problems.append((name, message))
    if "results_shown" in fields:  # the form had the results section
        problems += _apply_results(new, fields)
    new.pop("notify_with_answers", None)
    if fields.get("notify_with_answers"):
        new["notify_with_answers"] = True
    if problems:
        raise Refusal(problems)
    return new


def _apply_results(document: Document, fields: Fields) -> list[tuple[str, Message | str]]:
    """The "Public results" part of the settings form -> ``results:``."""
    document.pop("results", None)
    chosen = fields.get("results_questions", [])
    public = bool(fields.get("results_public"))
    if not public and not chosen:
        return []
    results: Document = {"public": public, "questions": list(chosen)}
    given = first(fields, "results_min")
    if given:
        if not given.isdigit() or int(given) < 1:
            return [("results_min", N_("Enter a whole number, 1 or more, or leave it empty."))]
        results["min_responses"] = int(given)
    consent = first(fields, "results_consent")
    quoted = fields.get("results_from", [])
    if consent and quoted:
        results["quotes"] = {"consent": consent, "from": list(quoted)}
    document["results"] = results
    return []


def chosen_languages(fields: Fields, main: str) -> list[str]:
    extra = [lang for lang in LANGUAGES if lang != main and lang in fields.get("languages", [])]
    return [main, *extra]


# What the last save did, kept with the draft (and shown in each staff member's language).


def change_record(message: Message) -> str:
    import json

    return json.dumps({"msgid": message.msgid, "values": message.values}, ensure_ascii=False)


def change_message(record: str) -> Message:
    import json

    try:
        found = json.loads(record)
        return Message(str(found["msgid"]), **dict(found.get("values") or {}))
    except (ValueError, KeyError, TypeError):
        return Message(record)
