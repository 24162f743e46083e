"""Responses -> an Excel workbook, the same columns as the spread-out CSV.

Text is written as text: a cell that starts like a formula gets Excel's own
"this is text" mark (quote prefix), not a visible apostrophe.  The columns
are sized to their headers, the header row is frozen and filterable, and the
time column says its zone."""

from __future__ import annotations

from datetime import UTC

from survey import store
from survey.db import Database
from survey.export.common import FIXED_COLUMNS, CsvOptions
from survey.export.csvfile import expanded_cells, expanded_header
from survey.questions.cells import FORMULA_STARTS, answer_labels, question_columns


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
            bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
            as_text = workbook.add_format({"quote_prefix": True})
            labels = (
                answer_labels((v.questions for v in versions), options.lang)
                if options.values == "labels"
                else None
            )
            names = [
                *FIXED_COLUMNS,
                *expanded_header(columns, labels=options.header == "labels"),
            ]
            names[1] = "submitted_at (UTC)"
            for number, name in enumerate(names):
                sheet.write_string(0, number, name, bold)
                sheet.set_column(number, number, min(max(len(name), 12), 50))
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
                cells = [
                    row.source or "",
                    row.language or "",
                    *expanded_cells(columns, row.answers, labels=labels, defuse=False),
                ]
                for number, value in enumerate(cells, start=3):
                    if isinstance(value, str):
                        if value:
                            style = as_text if value.startswith(FORMULA_STARTS) else None
                            sheet.write_string(count, number, value, style)
                    else:
                        sheet.write(count, number, value)
            sheet.autofilter(0, 0, count, len(names) - 1)
        finally:
            workbook.close()
    return count
