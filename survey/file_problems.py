"""What the author of a survey file is told when it cannot be used: YAML
errors with their line and a caret, and Pydantic's errors in terms of the
file (which question, which field, what to write instead)."""

from __future__ import annotations

import difflib
from typing import Any

import yaml
from pydantic import ValidationError

from survey.questions import KINDS, kind_names


def yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    """A YAML error as a person reads it: where, what, and the line with a caret."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    if mark is None:
        return f"not valid YAML: {problem}"
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    where = f"line {mark.line + 1}, column {mark.column + 1}"
    said = f"{context}: {problem}" if context else problem
    hint = ""
    if "expected <block end>" in str(problem) or "mapping values" in str(problem):
        hint = " (check the indentation: every field of a question lines up under its key)"
    return f"not valid YAML at {where}: {said}{hint}\n    {line}\n    {' ' * mark.column}^"


def _unknown_type(tag: str) -> str:
    names = [name.strip() for name in kind_names().split(",")]
    close = difflib.get_close_matches(tag, names, n=1, cutoff=0.5)
    suggestion = f"; did you mean {close[0]}?" if close else ""
    return f"unknown question type {tag!r}{suggestion} Use one of {', '.join(names)}"


def _unknown_field(name: str, item: Any) -> str:
    """A misspelt field, or one that this kind of question does not have."""
    kind = item.get("type") if isinstance(item, dict) else None
    owners = [
        kind_name
        for kind_name, model in KINDS.items()
        if name in model.model_fields and kind_name != kind
    ]
    if kind and owners:
        return (
            f"a {kind} question has no {name} (it is a field of {', '.join(owners[:4])}); "
            "remove it or change the type"
        )
    return "is not a known field (check the spelling)"


def describe(exc: ValidationError, raw: dict[str, Any]) -> list[str]:
    """Pydantic's errors, told in terms of the file: which question, which field."""
    problems = []
    questions = raw.get("questions")
    for error in exc.errors(include_url=False):
        loc = list(error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        where = "survey"
        item: Any = None
        if len(loc) >= 2 and loc[0] == "questions" and isinstance(loc[1], int):
            index = loc[1]
            item = questions[index] if isinstance(questions, list) else None
            key = item.get("key") if isinstance(item, dict) else None
            where = f"question {key!r}" if key else f"question #{index + 1}"
            loc = loc[2:]
            if loc and isinstance(item, dict) and loc[0] == item.get("type"):
                loc = loc[1:]  # the discriminator's tag adds nothing for a reader
        field = ".".join(str(part) for part in loc)
        if error["type"] == "extra_forbidden":
            message = _unknown_field(str(loc[-1]) if loc else "", item)
        elif error["type"] == "union_tag_invalid":
            message = _unknown_type(str(error.get("ctx", {}).get("tag", "")))
        problems.append(f"{where}: {field}: {message}" if field else f"{where}: {message}")
    return problems
