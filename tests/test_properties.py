"""Property tests (hypothesis) for the pieces every answer passes through."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from survey.export import FORMULA_STARTS, Column, CsvOptions, csv_chunks, render_cells
from survey.formtokens import BadFormToken, FormTokens

# What the answer checker lets through: any text but NUL and lone surrogates.
answers_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=200,
)


def parse_back(rows: list[tuple[object, ...]], columns: list[Column]) -> list[list[str]]:
    text = b"".join(
        csv_chunks(rows, columns=columns, current_columns=len(columns), options=CsvOptions())
    ).decode()
    return list(csv.reader(io.StringIO(text, newline="")))[1:]


def unprefixed(cell: str, original: str) -> str:
    if original.startswith(FORMULA_STARTS):
        assert cell.startswith("'")
        return cell[1:]
    return cell


@given(answers_text, answers_text)
def test_every_text_answer_comes_back_exactly_after_removing_the_formula_prefix(
    first: str, second: str
) -> None:
    columns = [Column("a", "A"), Column("b", "B")]
    answers = {"a": first, "b": second}
    stored = (1, "2027-01-01T00:00:00Z", 1, None, None, render_cells(columns, answers), None, None)
    formatted = (1, "2027-01-01T00:00:00Z", 1, None, None, None, first, second)
    for row in parse_back([stored], columns) + parse_back([formatted], columns):
        assert unprefixed(row[5], first) == first
        assert unprefixed(row[6], second) == second
        assert not row[5].startswith(FORMULA_STARTS)
        assert not row[6].startswith(FORMULA_STARTS)


@given(st.from_regex(r"[a-z0-9-]{1,40}", fullmatch=True))
def test_a_form_token_checks_out_for_its_survey_only(slug: str) -> None:
    tokens = FormTokens("k" * 40, max_age_seconds=60)
    token = tokens.issue(slug)
    assert tokens.check(token, slug=slug).slug == slug
    # Change a character inside the signature (the last one may only carry
    # base64 padding bits, which decode to the same bytes).
    inner = -5
    changed = "A" if token[inner] != "A" else "B"
    for forged in (token[:inner] + changed + token[inner + 1 :], token + "x", slug):
        try:
            tokens.check(forged, slug=slug)
        except BadFormToken:
            continue
        raise AssertionError(f"accepted {forged!r}")
    try:
        tokens.check(token, slug=slug + "-other")
    except BadFormToken:
        pass
    else:
        raise AssertionError("a token for another survey was accepted")
    other_key = FormTokens("z" * 40, max_age_seconds=60)
    try:
        other_key.check(token, slug=slug)
    except BadFormToken:
        pass
    else:
        raise AssertionError("a token signed with another key was accepted")
