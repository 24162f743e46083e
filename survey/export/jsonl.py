"""Responses -> JSON Lines: one object per response, answers exactly as stored."""

from __future__ import annotations

import json
from collections.abc import Iterator

from survey import store
from survey.db import Database
from survey.export.common import BATCH_ROWS, format_time
from survey.filters import ResponseFilter


def jsonl_from_database(
    database: Database, *, survey_id: int, where: ResponseFilter
) -> Iterator[bytes]:
    """JSON Lines: one object per response, answers exactly as stored.

    JSON is data, not a spreadsheet: no cell is altered (the formula rule is
    for CSV and Excel, whose programs run what looks like a formula).
    """
    with database.session() as session:
        lines: list[str] = []
        for row in store.iter_answer_rows(session.connection(), survey_id=survey_id, where=where):
            document = {
                "response_id": row.id,
                "submitted_at": format_time(row.submitted_at),
                "survey_version": row.version,
                "source": row.source,
                "language": row.language,
                "answers": row.answers,
            }
            lines.append(json.dumps(document, ensure_ascii=False) + "\n")
            if len(lines) >= BATCH_ROWS:
                yield "".join(lines).encode("utf-8")
                lines.clear()
        yield "".join(lines).encode("utf-8")
