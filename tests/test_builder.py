"""The builder's document work (survey.builder), without HTTP or SQL: the
file written back, settings from a form, questions, options, moves."""

from __future__ import annotations

import pytest

from survey.builder import (
    Refusal,
    apply_settings,
    file_document,
    move,
    options_from_form,
    question_from_form,
    remove,
    to_yaml,
)
from survey.definitions import load_file, parse_definition
from tests.helpers import BUNDLED

DOC = {"slug": "s", "title": "T", "lang": "en", "questions": []}


def test_a_survey_written_back_as_a_file_loads_as_the_same_survey() -> None:
    bundled = load_file(BUNDLED)
    again = parse_definition(to_yaml(file_document(bundled)), "written")
    assert again == bundled
    assert file_document(bundled)["title"]["ar"] == "مكتبات في الخارج"


def test_settings_from_the_form() -> None:
    fields = {
        "title.en": ["  Book   club "],
        "title.ar": ["نادي الكتاب"],
        "embed_origins": ["https://blog.example.org/\nhttp://x.org:8080"],
        "closes_at": ["2027-06-30 23:59"],
        "max_responses": ["200"],
    }
    new = apply_settings(DOC, fields, ["en", "ar"])
    assert new["title"] == {"en": "Book club", "ar": "نادي الكتاب"}
    assert new["embed_origins"] == ["https://blog.example.org/", "http://x.org:8080"]
    assert new["closes_at"] == "2027-06-30T23:59:00Z"
    assert new["max_responses"] == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("embed_origins", "https://blog.example.org/a/path"),
        ("closes_at", "next week"),
        ("max_responses", "0"),
        ("retention_days", "-3"),
        ("title.en", ""),
    ],
)
def test_a_bad_setting_is_named(field: str, value: str) -> None:
    fields = {"title.en": ["T"], field: [value]}
    with pytest.raises(Refusal) as refused:
        apply_settings(DOC, fields, ["en"])
    assert [name for name, _ in refused.value.problems] == [field]


def test_options_keep_their_values_move_by_number_and_go_when_ticked() -> None:
    old = [{"value": "often", "label": "Often"}, {"value": "never", "label": "Never"}]
    fields = {
        "options.0.value": ["often"],
        "options.0.label.en": ["Yes, often"],  # relabelled: the value stays
        "options.0.position": ["2"],
        "options.1.value": ["never"],
        "options.1.label.en": ["Never"],
        "options.1.position": ["1"],
        "options.new.0.label.en": ["Often"],  # a new option may not take a used value
        "options.new.1.label.en": ["Sometimes"],
    }
    assert options_from_form(fields, "options", ["en"], old) == [
        {"value": "never", "label": "Never"},
        {"value": "often", "label": "Yes, often"},
        {"value": "often_2", "label": "Often"},
        {"value": "sometimes", "label": "Sometimes"},
    ]
    fields["options.1.remove"] = ["yes"]
    assert [o["value"] for o in options_from_form(fields, "options", ["en"], old)][:1] == ["often"]


def test_a_question_with_answers_keeps_its_key_and_kind() -> None:
    questions = [{"key": "visits", "type": "yes_no", "label": "Do you visit?"}]
    fields = {"type": ["short_text"], "key": ["renamed"], "label.en": ["Do you visit?"]}
    with pytest.raises(Refusal) as refused:
        question_from_form(
            fields, languages=["en"], questions=questions, index=0, answered={"visits": "yes_no"}
        )
    assert [name for name, _ in refused.value.problems] == ["type"]
    fields["type"] = ["yes_no"]
    kept = question_from_form(
        fields, languages=["en"], questions=questions, index=0, answered={"visits": "yes_no"}
    )
    assert kept["key"] == "visits"


def test_a_follow_up_stays_below_its_question() -> None:
    questions = [
        {"key": "a", "type": "yes_no", "label": "A?"},
        {"key": "b", "type": "long_text", "label": "B?", "show_if": {"a": ["yes"]}},
        {"key": "c", "type": "short_text", "label": "C"},
    ]
    with pytest.raises(Refusal):
        move(questions, 1, -1)
    with pytest.raises(Refusal):
        remove(questions, 0)
    assert [q["key"] for q in move(questions, 1, 1)] == ["a", "c", "b"]
    assert [q["key"] for q in remove(questions, 2)] == ["a", "b"]
