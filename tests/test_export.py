from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from survey.export import (
    Column,
    CsvOptions,
    csv_chunks,
    csv_safe,
    question_columns,
    render_cells,
)
from survey.filters import FilterError, parse_bound


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+33 1 23", "'+33 1 23"),
        ("-minus", "'-minus"),
        ("@user", "'@user"),
        ("\tTab", "'\tTab"),
        ("\rCR", "'\rCR"),
        ("\nLF", "'\nLF"),
        ("plain = text", "plain = text"),
        ("", ""),
    ],
)
def test_csv_safe(text: str, expected: str) -> None:
    assert csv_safe(text) == expected


def test_bounds_are_whole_days_or_exact_times() -> None:
    assert parse_bound("2027-01-31", name="since", upper=False) == datetime(2027, 1, 31, tzinfo=UTC)
    assert parse_bound("2027-01-31", name="until", upper=True) == datetime(2027, 2, 1, tzinfo=UTC)
    moment = parse_bound("2027-01-31T18:00:00+03:00", name="since", upper=False)
    assert moment == datetime(2027, 1, 31, 15, tzinfo=UTC)
    assert parse_bound("", name="since", upper=False) is None
    with pytest.raises(FilterError) as caught:
        parse_bound("31/01/2027", name="until", upper=True)
    assert caught.value.name == "until"


def test_columns_put_the_current_version_first_then_old_keys() -> None:
    newest = [
        {"key": "b", "label": "B2", "type": "multiple_choice", "allow_other": True},
        {"key": "c", "label": "C", "type": "consent"},
    ]
    oldest = [{"key": "a", "label": "A", "type": "rating"}, {"key": "b", "label": "B1"}]
    assert [
        (c.key, c.label, c.kind, c.question_type) for c in question_columns([newest, oldest])
    ] == [
        ("b", "B2", "choices", "multiple_choice"),
        ("c", "C", "boolean", "consent"),
        ("a", "A", "number", "rating"),
    ]
    assert question_columns([newest])[0].other


def test_chunks_parse_back_to_the_answers() -> None:
    # Rows as the database hands them over: SQLite gives numbers and 1/0 for
    # booleans, PostgreSQL gives text ("3", "true"); both come out the same.
    # A multiple choice arrives joined by the database.
    columns = [
        Column("t", "Text"),
        Column("m", "Multi", "choices"),
        Column("n", "Number", "number"),
        Column("ok", "Consent", "boolean"),
    ]
    rows = [
        (
            i,
            "2027-05-06T07:08:09Z",
            3,
            None,
            "ar",
            None,
            f'line "{i}"\nnext, comma',
            "x; other: =o",
            7,
            1,
        )
        for i in range(1, 1201)
    ]
    rows.append(
        (
            1201,
            "2027-05-06T07:08:09Z",
            3,
            "https://b.example/p",
            None,
            None,
            "-x",
            "=other",
            "-3",
            "true",
        )
    )
    chunks = list(csv_chunks(rows, columns=columns, current_columns=4, options=CsvOptions()))
    assert len(chunks) > 2  # streamed in batches, not built whole
    parsed = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert parsed[0] == [
        "response_id",
        "submitted_at",
        "survey_version",
        "source",
        "language",
        "t",
        "m",
        "n",
        "ok",
    ]
    assert parsed[1] == [
        "1",
        "2027-05-06T07:08:09Z",
        "3",
        "",
        "ar",
        'line "1"\nnext, comma',
        "x; other: =o",
        "7",
        "yes",
    ]
    assert parsed[-1] == [
        "1201",
        "2027-05-06T07:08:09Z",
        "3",
        "https://b.example/p",
        "",
        "'-x",
        "'=other",
        "-3",
        "yes",
    ]
    assert len(parsed) == 1202


def test_stored_cells_are_copied_and_padded_for_older_columns() -> None:
    columns = [Column("t", "Text"), Column("old", "Old")]  # "old": an older version's key
    cells = render_cells(columns[:1], {"t": '=sum, "quoted"'})
    assert cells == '"\'=sum, ""quoted"""'
    rows = [(7, "2027-05-06T07:08:09Z", 2, "https://b.example/a,b", "fr", cells, None, None)]
    text = b"".join(
        csv_chunks(rows, columns=columns, current_columns=1, options=CsvOptions())
    ).decode()
    assert list(csv.reader(io.StringIO(text)))[1] == [
        "7",
        "2027-05-06T07:08:09Z",
        "2",
        "https://b.example/a,b",
        "fr",
        '\'=sum, "quoted"',
        "",
    ]
