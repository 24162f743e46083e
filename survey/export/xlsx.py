"""Responses -> an Excel workbook, the same columns as the spread-out CSV."""

from __future__ import annotations

from datetime import UTC

from survey import store
from survey.db import Database
from survey.export.common import FIXED_COLUMNS, CsvOptions
from survey.export.csvfile import expanded_cells, expanded_header
from survey.questions.cells import csv_safe, question_columns, text_cell


def xlsx_from_database(
    database: Database, *, survey_id: int, options: CsvOptions, path: str
) -> int:
    """Write an Excel workbook to ``path``; returns the number of responses.

    XlsxWriter's constant-memory mode writes each row to disk as it goes, so a
    large survey does not grow the process.  Strings are never read as
    formulas or links, and text is defused as in the CSV export besides, so a
    copy pasted back into a sheet stays harmless too.
    """
    import xlsxwriter  # type: ignore[import-untyped]

    with database.session() as session:
        versions = store.survey_versions(session, survey_id=survey_id)
        columns = question_columns(v.questions for v in versions)
        workbook = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
                "remove_timezone": True,
            },
        )
        try:
            sheet = workbook.add_worksheet("Responses")
            when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
            bold = workbook.add_format({"bold": True})
            names = expanded_header(columns, labels=options.header == "labels")
            sheet.write_row(0, 0, [*FIXED_COLUMNS, *(csv_safe(n) for n in names)], bold)
            sheet.freeze_panes(1, 0)
            count = 0
            for count, row in enumerate(
                store.iter_answer_rows(
                    session.connection(), survey_id=survey_id, where=options.filter
                ),
                start=1,
            ):
                sheet.write_number(count, 0, row.id)
                sheet.write_datetime(count, 1, row.submitted_at.astimezone(UTC), when)
                sheet.write_number(count, 2, row.version)
                sheet.write_row(
                    count,
                    3,
                    [
                        text_cell(row.source),
                        row.language or "",
                        *expanded_cells(columns, row.answers),
                    ],
                )
        finally:
            workbook.close()
    return count
