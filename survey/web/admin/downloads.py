"""Downloading a survey's answers (CSV, JSON Lines, Excel), filtered as the page was."""

from __future__ import annotations

import os
import tempfile
from typing import Literal

from fastapi import Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from starlette.background import BackgroundTask

from survey import store
from survey.export import (
    CsvOptions,
    csv_from_database,
    download_filename,
    jsonl_from_database,
    xlsx_from_database,
)
from survey.models import utcnow
from survey.web.admin.common import audit, response_filter, router, survey_view
from survey.web.deps import SessionDep, database_of
from survey.web.staff import StaffDep

Format = Literal["csv", "jsonl", "xlsx"]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/jsonl; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/surveys/{slug}/download")
def download(
    request: Request,
    staff: StaffDep,
    session: SessionDep,
    slug: str,
    format: Format = "csv",
    header: Literal["keys", "labels"] = "keys",
    bom: bool = False,
    multi: Literal["joined", "columns"] = "joined",
    values: Literal["codes", "labels"] = "codes",
) -> Response:
    view = survey_view(session, slug)
    where = response_filter(request, view)
    # Counted outside the write: on SQLite a write transaction holds the one
    # write lock, and readers' answers must not wait for a count.
    rows = store.count_responses(session.connection(), survey_id=view.id, where=where)
    database = database_of(request)
    with database.begin(write=True) as writing:
        audit(
            writing,
            request,
            staff,
            "export",
            survey_slug=slug,
            format=format,
            filters=where.describe(),
            rows=rows,
        )
    options = CsvOptions(
        header=header,
        bom=bom,
        multi_columns=multi == "columns",
        filter=where,
        values=values,
        # Labels in the survey's own language, as its question texts are.
        lang=str(view.survey.definition.get("lang", "en")),
    )
    filename = download_filename(slug, utcnow(), format)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if format == "xlsx":
        handle, path = tempfile.mkstemp(prefix="survey-", suffix=".xlsx")
        os.close(handle)
        try:
            xlsx_from_database(database, survey_id=view.id, options=options, path=path)
        except BaseException:
            os.unlink(path)
            raise
        return FileResponse(
            path,
            media_type=MEDIA_TYPES["xlsx"],
            headers=headers,
            background=BackgroundTask(os.unlink, path),
        )
    chunks = (
        csv_from_database(database, survey_id=view.id, options=options)
        if format == "csv"
        else jsonl_from_database(database, survey_id=view.id, where=where)
    )
    return StreamingResponse(chunks, media_type=MEDIA_TYPES[format], headers=headers)
