"""The builder's work on a survey, without HTTP or SQL.

A draft is a survey file's document (what ``survey load`` reads: texts as
plain strings or ``{lang: text}``), so that publishing a draft and loading a
file are one path, and a draft downloads as the file it would be.  The staff
pages turn form fields into changes of that document here; what a change
may not do (rename a key that has answers, change its type, drop an
option's value) is decided here too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml
from pydantic import ValidationError

from survey.definitions import DEFAULT_THANK_YOU, MAX_FILE_BYTES, SLUG_PATTERN, SurveyDefinition
from survey.drafts import make_key
from survey.file_problems import describe
from survey.i18n import LANGUAGES, N_, Message
from survey.questions import KINDS, BaseQuestion
from survey.questions.base import KEY_PATTERN, slugify_value

Document = dict[str, Any]
Fields = Mapping[str, list[str]]
# The common fields every question has; the others are its kind's own.
_COMMON = frozenset(BaseQuestion.model_fields)
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
)
_TEXTS = ("title", "intro", "thank_you")
NEW_OPTION_ROWS = 3  # blank option rows a question form offers


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
        questions.append(_question_in_order(question))
    document["questions"] = questions
    return document


def _question_in_order(question: Document) -> Document:
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
    if problems:
        raise Refusal(problems)
    return new


def chosen_languages(fields: Fields, main: str) -> list[str]:
    extra = [lang for lang in LANGUAGES if lang != main and lang in fields.get("languages", [])]
    return [main, *extra]


# Questions --------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One field of a kind's own, as the question form shows it."""

    name: str
    label: Message
    widget: str  # "text" (per language), "options", "checkbox", "number"
    integer: bool = True
    default: Any = None


_FIELD_LABELS: dict[str, Message] = {
    "max_length": N_("Longest answer (characters)"),
    "min": N_("Smallest number allowed"),
    "max": N_("Largest number allowed"),
    "integer": N_("Whole numbers only"),
    "options": N_("Options"),
    "allow_other": N_("Offer “Other”, with a box to write in"),
    "other_label": N_("Label of “Other”"),
    "other_max_length": N_("Longest “Other” text (characters)"),
    "max_choices": N_("Most options a reader may choose"),
    "scale": N_("Points on the scale (2 to 10)"),
    "low_label": N_("Label of the lowest point"),
    "high_label": N_("Label of the highest point"),
    "rows": N_("Rows (the statements)"),
    "columns": N_("Columns (the answers for each row)"),
    "max_ranked": N_("Most options a reader ranks"),
}

KIND_NAMES: dict[str, Message] = {
    "short_text": N_("Short text"),
    "long_text": N_("Long text (paragraph)"),
    "email": N_("Email address"),
    "number": N_("Number"),
    "date": N_("Date"),
    "single_choice": N_("One choice from a list"),
    "multiple_choice": N_("Several choices from a list"),
    "yes_no": N_("Yes or no"),
    "rating": N_("Rating scale"),
    "country": N_("Country"),
    "consent": N_("Consent (a box to tick)"),
    "matrix": N_("Grid (rows with the same answers)"),
    "ranking": N_("Ranking (put options in order)"),
}


def kind_fields(kind: type[BaseQuestion]) -> list[FieldSpec]:
    specs = []
    for name, info in kind.model_fields.items():
        if name in _COMMON:
            continue
        label = _FIELD_LABELS.get(name, N_(name))
        annotation = str(info.annotation)
        default = None if info.is_required() else info.default
        if name in kind.option_lists:
            specs.append(FieldSpec(name, label, "options"))
        elif name in kind.texts:
            specs.append(FieldSpec(name, label, "text"))
        elif "bool" in annotation:
            specs.append(FieldSpec(name, label, "checkbox"))
        else:
            specs.append(
                FieldSpec(name, label, "number", integer="float" not in annotation, default=default)
            )
    return specs


@dataclass(frozen=True)
class QuestionValues:
    """What a question form shows in each input: what was just sent (after a
    problem), else the draft's question."""

    question: Document
    main: str
    sent: Fields | None = None

    def text(self, name: str, lang: str) -> str:
        if self.sent is not None:
            return first(self.sent, f"{name}.{lang}")
        return text_in(self.question.get(name), lang, self.main)

    def get(self, name: str) -> str:
        if self.sent is not None:
            return first(self.sent, name)
        value = self.question.get(name)
        return "" if value is None else str(value)

    def checked(self, name: str) -> bool:
        if self.sent is not None:
            return bool(self.sent.get(name))
        return bool(self.question.get(name))

    def options(self, name: str) -> list[Document]:
        return [o for o in self.question.get(name) or [] if isinstance(o, dict)]

    def shown_if(self, ref: str, value: str) -> bool:
        if self.sent is not None:
            return f"{ref}={value}" in self.sent.get("show_if", [])
        return value in (self.question.get("show_if") or {}).get(ref, [])


def question_from_form(
    fields: Fields,
    *,
    languages: list[str],
    questions: list[Document],
    index: int | None,
    answered: Mapping[str, str],
) -> Document:
    """The question the form describes, to go at ``index`` (None: a new one at
    the end); Refusal names each field that is wrong."""
    main = languages[0]
    old = questions[index] if index is not None else None
    others = [q for i, q in enumerate(questions) if i != index]
    problems: list[tuple[str, Message | str]] = []
    kind_name = first(fields, "type")
    kind = KINDS.get(kind_name)
    if kind is None:
        raise Refusal([("type", N_("Choose what kind of question this is."))])
    question: Document = {"type": kind_name}
    label = texts_from(fields, "label", languages)
    if text_in(label, main, main) == "":
        problems.append((f"label.{main}", N_("Enter the question as readers will read it.")))
    old_key = str(old["key"]) if old else None
    locked = old_key is not None and old_key in answered
    key = old_key if locked else first(fields, "key")
    if not key:
        key = make_key(
            text_in(label, main, main), {str(q["key"]) for q in others}, len(questions) + 1
        )
    if locked and answered[str(old_key)] != kind_name:
        problems.append(("type", N_("This question has answers: its kind cannot change.")))
    if not re.fullmatch(KEY_PATTERN, key or "") or len(key or "") > 64:
        problems.append(
            ("key", N_("Use lower-case letters, digits and _ only, starting with a letter."))
        )
    elif any(q.get("key") == key for q in others):
        problems.append(("key", N_("Another question already has this key.")))
    question["key"] = key
    question["label"] = label or ""
    help_text = texts_from(fields, "help", languages)
    if help_text is not None:
        question["help"] = help_text
    if fields.get("required"):
        question["required"] = True
    for spec in kind_fields(kind):
        _read_field(spec, fields, languages, old, question, problems)
    show_if: dict[str, list[str]] = {}
    for item in fields.get("show_if", []):
        ref, _, value = item.partition("=")
        show_if.setdefault(ref, []).append(value)
    if show_if:
        question["show_if"] = show_if
    if problems:
        raise Refusal(problems)
    return _question_in_order(question)


def _read_field(
    spec: FieldSpec,
    fields: Fields,
    languages: list[str],
    old: Document | None,
    question: Document,
    problems: list[tuple[str, Message | str]],
) -> None:
    name = spec.name
    if spec.widget == "checkbox":
        if fields.get(name):
            question[name] = True
    elif spec.widget == "text":
        value = texts_from(fields, name, languages)
        if value is not None:
            question[name] = value
    elif spec.widget == "number":
        given = first(fields, name)
        if given:
            try:
                number = int(given) if spec.integer else float(given)
            except ValueError:
                problems.append(
                    (
                        name,
                        N_("Enter a whole number.") if spec.integer else N_("Enter a number."),
                    )
                )
            else:
                question[name] = number if spec.integer or number % 1 else int(number)
    else:
        options = options_from_form(fields, name, languages, (old or {}).get(name) or [])
        if not options:
            problems.append((f"{name}.new.0.label.{languages[0]}", N_("Add at least one option.")))
        question[name] = options


def options_from_form(
    fields: Fields, name: str, languages: list[str], old: list[Any]
) -> list[Document]:
    """Rows ``<name>.<n>.*`` (kept options, in the order of their position
    numbers, their values never changing) and ``<name>.new.<n>.*`` (added)."""
    main = languages[0]
    kept: list[tuple[float, int, Document]] = []
    values: set[str] = set()
    for n, option in enumerate(old):
        value = str(option["value"] if isinstance(option, dict) else slugify_value(str(option)))
        prefix = f"{name}.{n}"
        if fields.get(f"{prefix}.remove") or first(fields, f"{prefix}.value") != value:
            continue
        label = texts_from(fields, f"{prefix}.label", languages)
        if text_in(label, main, main) == "":
            continue  # a row emptied by hand is removed too
        try:
            position = float(first(fields, f"{prefix}.position") or n + 1)
        except ValueError:
            position = n + 1
        kept.append((position, n, {"value": value, "label": label}))
        values.add(value)
    added = []
    for n in range(NEW_OPTION_ROWS):
        label = texts_from(fields, f"{name}.new.{n}.label", languages)
        text = text_in(label, main, main)
        if not text:
            continue
        value = base = slugify_value(text)[:90] or f"option_{len(values) + 1}"
        suffix = 2
        while value in values:
            value, suffix = f"{base}_{suffix}", suffix + 1
        values.add(value)
        added.append({"value": value, "label": label})
    return [option for _, _, option in sorted(kept, key=lambda item: item[:2])] + added


def show_if_choices(
    questions: list[Document], index: int | None, lang: str, main: str
) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(key, label, [(value, label)]) of each earlier question a ``show_if`` can test."""
    earlier = questions if index is None else questions[:index]
    found = []
    for raw in earlier:
        parsed = parse_question(raw, main)
        if parsed is None or parsed.choice_values() is None:
            continue
        found.append(
            (
                parsed.key,
                text_in(raw.get("label"), lang, main) or parsed.label,
                parsed.choices(lang),
            )
        )
    return found


def parse_question(raw: Document, main: str) -> BaseQuestion | None:
    """One draft question as its kind's model (texts in the survey's language),
    or None while it is not valid on its own."""
    kind = KINDS.get(str(raw.get("type")))
    if kind is None:
        return None
    plain = {**raw}
    for name in kind.texts:
        if name in plain:
            plain[name] = text_in(plain[name], main, main) or None
            if plain[name] is None:
                plain.pop(name)
    for items in kind.option_lists:
        plain[items] = [
            {**o, "label": text_in(o.get("label"), main, main) or o.get("value")}
            for o in plain.get(items, [])
            if isinstance(o, dict)
        ]
    plain.pop("show_if", None)
    try:
        return kind.model_validate(plain)
    except ValidationError:
        return None


def move(questions: list[Document], index: int, step: int) -> list[Document]:
    """A question moved one place up (-1) or down (+1); a ``show_if`` must
    still point to an earlier question, else Refusal."""
    target = index + step
    if not 0 <= target < len(questions):
        return questions
    moved = list(questions)
    moved[index], moved[target] = moved[target], moved[index]
    upper, lower = moved[min(index, target)], moved[max(index, target)]
    if str(lower.get("key")) in (upper.get("show_if") or {}):
        raise Refusal(
            [
                (
                    "questions",
                    N_(
                        "%(key)s is shown only after an answer to %(other)s, so it must stay "
                        "below it.",
                        key=str(upper.get("key")),
                        other=str(lower.get("key")),
                    ),
                )
            ]
        )
    return moved


def remove(questions: list[Document], index: int) -> list[Document]:
    key = str(questions[index].get("key"))
    users = [str(q.get("key")) for q in questions if key in (q.get("show_if") or {})]
    if users:
        raise Refusal(
            [
                (
                    "questions",
                    N_(
                        "%(others)s is shown only after an answer to this question: change "
                        "that first.",
                        others=", ".join(users),
                    ),
                )
            ]
        )
    return questions[:index] + questions[index + 1 :]


def draft_from_post(source: Callable[[], tuple[bytes, bool | None]], slug: str | None) -> Document:
    """A draft document from a post (its bytes and whether they are HTML)."""
    from survey.drafts import draft, read_post

    content, html = source()
    return draft(read_post(content, html=html), slug=slug)


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
