from __future__ import annotations

import re
from pathlib import Path

import pytest

from survey.definitions import DefinitionError, load_file
from tests.helpers import BUNDLED, definition_from

MINIMAL = """
slug: demo
title: Demo
questions:
  - key: q1
    type: short_text
    label: First
"""


def test_bundled_survey_turns_the_post_into_questions() -> None:
    definition = load_file(BUNDLED)
    by_key = {q.key: q for q in definition.questions}
    assert definition.slug == "libraries-abroad"
    assert by_key["visits_libraries"].label == (
        "Are you visiting other libraries when you go on vacation?"
    )
    assert by_key["visits_libraries"].required is True
    assert by_key["lessons"].show_if == {"visits_libraries": ["often", "sometimes"]}
    assert by_key["based_in"].type == "country"
    assert by_key["based_in"].show_if == {"international_member": ["yes"]}
    resources = by_key["resources"]
    assert resources.type == "multiple_choice"
    assert resources.allow_other is True  # type: ignore[union-attr]
    assert by_key["quote_consent"].type == "consent"
    assert by_key["email"].type == "email"


def test_every_question_type_loads_with_its_limits() -> None:
    definition = definition_from(
        """
slug: all-types
title: All types
closes_at: 2027-06-30T23:59:00Z
questions:
  - {key: a, type: short_text, label: A, max_length: 10}
  - {key: b, type: long_text, label: B}
  - {key: c, type: email, label: C}
  - {key: d, type: number, label: D, min: 0, max: 10, integer: true}
  - {key: e, type: date, label: E}
  - {key: f, type: single_choice, label: F, options: [Red, Dark blue]}
  - {key: g, type: multiple_choice, label: G, options: [x, y], allow_other: true, max_choices: 2}
  - {key: h, type: yes_no, label: H}
  - {key: i, type: rating, label: I, scale: 7}
  - {key: j, type: country, label: J}
  - {key: k, type: consent, label: K, required: true}
"""
    )
    q = {question.key: question for question in definition.questions}
    assert q["a"].max_length == 10  # type: ignore[union-attr]
    assert q["b"].max_length == 5000  # type: ignore[union-attr]
    assert [(o.value, o.label) for o in q["f"].options] == [  # type: ignore[union-attr]
        ("red", "Red"),
        ("dark_blue", "Dark blue"),
    ]
    assert q["i"].scale == 7  # type: ignore[union-attr]
    assert definition.closes_at is not None
    assert definition.closes_at.isoformat() == "2027-06-30T23:59:00+00:00"


def test_yes_and_no_stay_text_in_options_and_show_if() -> None:
    # YAML 1.1 would read Yes/No as booleans; survey files use YAML 1.2 rules.
    definition = definition_from(
        """
slug: yn
title: YN
questions:
  - {key: pick, type: single_choice, label: Pick, options: [Yes, No, Maybe]}
  - {key: more, type: short_text, label: More, show_if: {pick: [yes]}}
"""
    )
    pick = definition.questions[0]
    assert pick.choice_values() == ["yes", "no", "maybe"]
    assert [o.label for o in pick.options] == ["Yes", "No", "Maybe"]  # type: ignore[union-attr]
    assert definition.questions[1].show_if == {"pick": ["yes"]}


def test_options_whose_values_collide_are_refused() -> None:
    with pytest.raises(DefinitionError, match="option value 'no' is used twice"):
        definition_from(
            MINIMAL + "  - {key: p, type: single_choice, label: P, options: [No, NO]}\n"
        )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "  - {key: q2, type: essay, label: Two}",
            "question 'q2': unknown question type",
        ),
        ("  - {key: q1, type: short_text, label: Again}", "question 'q1': the key is used twice"),
        (
            "  - {key: q2, type: short_text, label: Two, show_if: {q9: [a]}}",
            "question 'q2': show_if refers to 'q9', which is not an earlier question",
        ),
        (
            "  - {key: q2, type: short_text, label: Two, show_if: {q1: [a]}}",
            "show_if can only test choice and yes/no questions",
        ),
        (
            "  - {key: q2, type: single_choice, label: Two, options: []}",
            "question 'q2': options: List should have at least 1 item",
        ),
        (
            "  - {key: q2, type: short_text, label: Two, maxlength: 3}",
            "question 'q2': maxlength: is not a known field (check the spelling)",
        ),
        ("  - {key: Bad-Key, type: short_text, label: Two}", "question 'Bad-Key': key:"),
        (
            "  - {key: q2, type: multiple_choice, label: M, allow_other: true, options: [other]}",
            "option value 'other' is reserved",
        ),
        (
            "  - {key: q2, type: multiple_choice, label: M, allow_other: true, options: [a]}\n"
            "  - {key: q2_other, type: short_text, label: Clash}",
            "question 'q2_other': the key is taken by the 'Other' answer of 'q2'",
        ),
        (
            "  - {key: q2, type: number, label: N, min: 5, max: 1}",
            "question 'q2': min must not be greater than max",
        ),
        ("  - {key: q2, type: rating, label: R, scale: 50}", "question 'q2': scale:"),
    ],
)
def test_a_bad_file_is_refused_naming_file_key_and_problem(
    tmp_path: Path, body: str, expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(MINIMAL + body + "\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    message = str(caught.value)
    assert str(path) in message
    assert expected in message
    assert "Traceback" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("slug: [unclosed", "not valid YAML"),
        ("- just\n- a list", "must be a YAML mapping"),
        (MINIMAL.replace("slug: demo", "slug: Not A Slug"), "survey: slug:"),
        (MINIMAL.replace("title: Demo", "titel: Demo"), "titel: is not a known field"),
        (MINIMAL + "status: paused\n", "survey: status:"),
        ("slug: demo\ntitle: Demo\nquestions: []\n", "questions: List should have at least 1"),
    ],
)
def test_survey_level_problems_are_named(text: str, expected: str) -> None:
    with pytest.raises(DefinitionError) as caught:
        definition_from(text)
    assert "test.yaml" in str(caught.value)
    assert expected in str(caught.value)


def test_a_file_that_cannot_be_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"slug: caf\xe9\n")
    with pytest.raises(DefinitionError, match="cannot be read"):
        load_file(path)


def test_questions_fingerprint_ignores_everything_but_the_questions() -> None:
    one = definition_from(MINIMAL)
    retitled = definition_from(MINIMAL.replace("title: Demo", "title: Another title"))
    relabelled = definition_from(MINIMAL.replace("label: First", "label: Changed"))
    assert one.questions_fingerprint() == retitled.questions_fingerprint()
    assert one.questions_fingerprint() != relabelled.questions_fingerprint()


BILLION_LAUGHS = """slug: lol
title: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
intro: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
thank_you: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
questions: [*c, *c, *c, *c, *c, *c, *c, *c, *c]
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (BILLION_LAUGHS, "aliases (*name) are not allowed"),
        ("slug: deep\ntitle: " + "[" * 5000 + "]" * 5000, "nested more than 20 levels deep"),
        ("slug: big\ntitle: Big\n" + "# padding\n" * 30_000, "larger than 256 KB"),
    ],
)
def test_files_built_to_hurt_the_server_are_refused_with_a_message(
    text: str, expected: str
) -> None:
    with pytest.raises(DefinitionError, match=re.escape(expected)):
        definition_from(text)


def test_a_large_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"slug: x\n" + b"#" * (300 * 1024))
    with pytest.raises(DefinitionError, match="larger than 256 KB"):
        load_file(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "slug: x\ntitle: X\nquestions: [{key: a, type: singel_choice, label: A}]\n",
            "unknown question type 'singel_choice'; did you mean single_choice?",
        ),
        (
            "slug: x\ntitle: X\nquestions: [{key: a, type: yes_no, label: A, options: [a, b]}]\n",
            "a yes_no question has no options (it is a field of single_choice",
        ),
        (
            "slug: x\ntitle: X\nquestions:\n  - key: a\n   type: yes_no\n",
            "not valid YAML at line 5, column 4:",
        ),
    ],
)
def test_authors_are_told_what_to_change(text: str, expected: str) -> None:
    with pytest.raises(DefinitionError) as refused:
        definition_from(text)
    assert expected in str(refused.value)
    if "YAML" in expected:  # the line itself, and a caret under the problem
        assert "\n       type: yes_no\n       ^" in str(refused.value)
