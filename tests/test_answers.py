from __future__ import annotations

from typing import Any

import pytest

from survey.answers import InvalidAnswers, clean_form, clean_json
from survey.definitions import SurveyDefinition, load_file
from tests.helpers import BUNDLED, definition_from

TYPES = definition_from(
    """
slug: types
title: Types
questions:
  - {key: short, type: short_text, label: Short, max_length: 5}
  - {key: mail, type: email, label: Mail}
  - {key: num, type: number, label: Num, min: 1, max: 10}
  - {key: whole, type: number, label: Whole, integer: true}
  - {key: when, type: date, label: When}
  - {key: one, type: single_choice, label: One, options: [Red, Blue]}
  - {key: many, type: multiple_choice, label: Many, options: [a, b, c], allow_other: true,
     max_choices: 2}
  - {key: yn, type: yes_no, label: YN}
  - {key: stars, type: rating, label: Stars}
  - {key: land, type: country, label: Land}
  - {key: ok, type: consent, label: OK}
"""
)


def json_error(definition: SurveyDefinition, answers: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidAnswers) as caught:
        clean_json(definition, answers)
    return caught.value.errors


def form_error(definition: SurveyDefinition, fields: dict[str, list[str]]) -> dict[str, str]:
    with pytest.raises(InvalidAnswers) as caught:
        clean_form(definition, fields)
    return caught.value.errors


def test_valid_json_answers_come_back_clean_and_typed() -> None:
    answers = clean_json(
        TYPES,
        {
            "short": "hi",
            "mail": " reader@example.org ",
            "num": 2.5,
            "whole": 7,
            "when": "2027-03-15",
            "one": "blue",
            "many": ["a", "a", "c"],
            "yn": "no",
            "stars": 4,
            "land": "sa",
            "ok": True,
        },
    )
    assert answers == {
        "short": "hi",
        "mail": "reader@example.org",
        "num": 2.5,
        "whole": 7,
        "when": "2027-03-15",
        "one": "blue",
        "many": ["a", "c"],
        "yn": "no",
        "stars": 4,
        "land": "SA",
        "ok": True,
    }


def test_form_strings_become_the_same_answers_as_json() -> None:
    form = clean_form(
        TYPES,
        {
            "num": ["2.5"],
            "whole": ["7"],
            "stars": ["4"],
            "many": ["a", "c"],
            "ok": ["yes"],
            "yn": ["no"],
            "csrf": ["ignored"],
        },
    )
    api = clean_json(
        TYPES, {"num": 2.5, "whole": 7, "stars": 4, "many": ["a", "c"], "ok": True, "yn": "no"}
    )
    assert form == api


@pytest.mark.parametrize(
    ("answers", "key", "message"),
    [
        ({"short": "toolong"}, "short", "Use 5 characters or fewer (you used 7)"),
        ({"short": 5}, "short", "Enter text"),
        ({"short": "a\x00b"}, "short", "Remove the invisible control characters"),
        ({"short": "\ud800"}, "short", "Remove the invisible control characters"),
        ({"mail": "not-an-email"}, "mail", "Enter an email address in the correct format"),
        ({"mail": "a@b"}, "mail", "Enter an email address in the correct format"),
        ({"num": 11}, "num", "Enter a number between 1 and 10"),
        ({"num": "3"}, "num", "Enter a number"),
        ({"num": True}, "num", "Enter a number"),
        ({"whole": 2.5}, "whole", "Enter a whole number"),
        ({"when": "15/03/2027"}, "when", "Enter a real date as YYYY-MM-DD"),
        ({"when": "2027-02-30"}, "when", "Enter a real date as YYYY-MM-DD"),
        ({"one": "green"}, "one", "Choose one of the options"),
        ({"many": ["a", "z"]}, "many", "'z' is not one of the options"),
        ({"many": "a"}, "many", "Send the chosen options as a list"),
        ({"many": ["a", "b", "c"]}, "many", "Choose at most 2 options"),
        ({"many": ["other"]}, "many_other", "Describe your answer for 'Other'"),
        ({"yn": "maybe"}, "yn", "Answer yes or no"),
        ({"stars": 6}, "stars", "Choose a rating from 1 to 5"),
        ({"stars": True}, "stars", "Choose a rating from 1 to 5"),
        ({"land": "XX"}, "land", "Choose a country from the list"),
        ({"land": "EU"}, "land", "Choose a country from the list"),
        ({"ok": "yes"}, "ok", "Send true to give consent"),
        ({"nonsense": 1}, "nonsense", "This is not a question of this survey"),
    ],
)
def test_each_bad_answer_gets_its_own_clear_message(
    answers: dict[str, Any], key: str, message: str
) -> None:
    errors = json_error(TYPES, answers)
    assert list(errors) == [key]
    assert errors[key].startswith(message)


def test_every_problem_is_reported_at_once() -> None:
    errors = json_error(TYPES, {"num": 0, "when": "soon", "extra": "x"})
    assert set(errors) == {"num", "when", "extra"}


def test_other_text_is_kept_and_implies_choosing_other() -> None:
    answers = clean_form(TYPES, {"many": ["a"], "many_other": ["Zines"]})
    assert answers == {"many": ["a", "other"], "many_other": "Zines"}


def test_form_textarea_line_breaks_are_stored_as_typed() -> None:
    answers = clean_form(TYPES, {"short": ["a\r\nb"]})
    assert answers == {"short": "a\nb"}


def test_blank_answers_are_unanswered() -> None:
    assert clean_form(TYPES, {"short": ["   "], "mail": [""], "num": [""]}) == {}
    assert clean_json(TYPES, {"short": None, "mail": "", "ok": False}) == {}


def test_required_questions_need_an_answer() -> None:
    definition = definition_from(
        """
slug: req
title: Req
questions:
  - {key: a, type: short_text, label: A, required: true}
  - {key: b, type: multiple_choice, label: B, options: [x], required: true}
  - {key: c, type: consent, label: C, required: true}
"""
    )
    assert form_error(definition, {}) == {
        "a": "Enter your answer",
        "b": "Choose at least one option",
        "c": "Tick the box to agree",
    }


def test_a_hidden_question_is_never_required_and_its_answer_is_dropped() -> None:
    definition = load_file(BUNDLED)
    answers = clean_json(
        definition,
        {
            "visits_libraries": "not_yet",
            "lessons": "this question was hidden",
            "international_member": "no",
            "based_in": "CA",
        },
    )
    assert answers == {"visits_libraries": "not_yet", "international_member": "no"}


def test_a_shown_question_keeps_its_answer() -> None:
    definition = load_file(BUNDLED)
    answers = clean_json(
        definition,
        {
            "visits_libraries": "often",
            "lessons": "Makerspaces",
            "international_member": "yes",
            "based_in": "CA",
        },
    )
    assert answers["lessons"] == "Makerspaces"
    assert answers["based_in"] == "CA"


def test_show_if_follows_a_chain_of_hidden_questions() -> None:
    definition = definition_from(
        """
slug: chain
title: Chain
questions:
  - {key: a, type: yes_no, label: A}
  - {key: b, type: single_choice, label: B, options: [x, y], show_if: {a: [yes]}}
  - {key: c, type: short_text, label: C, required: true, show_if: {b: [x]}}
"""
    )
    # b is hidden because a is "no", so c is hidden too, even though b says x.
    assert clean_json(definition, {"a": "no", "b": "x"}) == {"a": "no"}
    assert json_error(definition, {"a": "yes", "b": "x"}) == {"c": "Enter your answer"}
