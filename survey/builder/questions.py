"""The builder's questions: a question form's fields for each kind, the
question a form describes, its options (values never change once made),
``show_if`` choices, and moving or removing a question."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from survey.builder.documents import (
    Document,
    Fields,
    Refusal,
    first,
    question_in_order,
    text_in,
    texts_from,
)
from survey.drafts import make_key
from survey.i18n import N_, Message
from survey.questions import KINDS, BaseQuestion
from survey.questions.base import KEY_PATTERN, slugify_value

# The common fields every question has; the others are its kind's own.
_COMMON = frozenset(BaseQuestion.model_fields)
NEW_OPTION_ROWS = 3  # blank option rows a question form offers


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
    "hidden": N_("Hidden (filled from the form's address)"),
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
    return question_in_order(question)


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
