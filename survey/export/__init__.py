"""Responses out of the product: CSV, JSON Lines and Excel.

Each format has its module; the columns and cells they share come from the
question kinds (``survey.questions.cells``), so the stored cells, the fast
CSV export, the spread-out CSV and the workbook always agree.
"""

from survey.export.common import (
    FIXED_COLUMNS,
    CsvOptions,
    csv_filename,
    download_filename,
    format_time,
)
from survey.export.csvfile import csv_chunks, csv_from_database, expanded_cells, expanded_header
from survey.export.jsonl import jsonl_from_database
from survey.export.xlsx import xlsx_from_database
from survey.questions import Column
from survey.questions.cells import FORMULA_STARTS, csv_safe, question_columns, render_cells

__all__ = [
    "FIXED_COLUMNS",
    "FORMULA_STARTS",
    "Column",
    "CsvOptions",
    "csv_chunks",
    "csv_filename",
    "csv_from_database",
    "csv_safe",
    "download_filename",
    "expanded_cells",
    "expanded_header",
    "format_time",
    "jsonl_from_database",
    "question_columns",
    "render_cells",
    "xlsx_from_database",
]
