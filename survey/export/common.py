"""What every export format shares: its options, the fixed columns, the time format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from survey.filters import ResponseFilter

# Metadata columns sit between these and the question columns.
FIXED_COLUMNS = ("response_id", "submitted_at", "survey_version", "source", "language")
BATCH_ROWS = 500


@dataclass(frozen=True)
class CsvOptions:
    header: Literal["keys", "labels"] = "keys"
    bom: bool = False
    # One 0/1 column per option of a multiple choice (and its "Other" text)
    # beside the joined cell, as statistics packages want them.
    multi_columns: bool = False
    filter: ResponseFilter = field(default_factory=ResponseFilter)
    # "labels": a choice's cell is its label ("Canada") in ``lang``, not its code ("CA").
    values: Literal["codes", "labels"] = "codes"
    lang: str = "en"


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def download_filename(slug: str, moment: datetime, extension: str) -> str:
    return f"{slug}-responses-{moment.astimezone(UTC):%Y%m%d-%H%M%S}.{extension}"


def csv_filename(slug: str, moment: datetime) -> str:
    return download_filename(slug, moment, "csv")
