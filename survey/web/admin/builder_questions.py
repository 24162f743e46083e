"""The builder's question pages: a new question of a kind, editing one
(switching its kind without JavaScript), moving and removing it.  Each save
goes through ``builder.save_change`` like every other change to a draft."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from survey import builder
from survey.builder import Refusal
from survey.i18n import N_, Message
from survey.models import SurveyDraft
from survey.questions import KINDS
from survey.web.admin.builder import (
    FieldsDep,
    Revision,
    answered_keys,
    draft_or_404,
    draft_questions,
    save_change,
)
from survey.web.admin.common import RowId, not_found, page, router, staff_lang
from survey.web.deps import SessionDep
from survey.web.staff import AdminDep, Staff


def _question_page(
    request: Request,
    staff: Staff,
    session: Session,
    draft: SurveyDraft,
    *,
    index: int | None,
    question: dict[str, Any],
    sent: dict[str, list[str]] | None = None,
    problems: list[tuple[str, Message | str]] | None = None,
    status_code: int = 200,
) -> Response:
    lang = staff_lang(request)
    main = draft.languages[0]
    kind = KINDS[str(question["type"])]
    answered = answered_keys(session, draft)
    old_key = draft_questions(draft)[index].get("key") if index is not None else None
    return page(
        request,
        "admin/builder_question.html",
        staff,
        {
            "draft": draft,
            "main": main,
            "index": index,
            "q": question,
            "type": question["type"],
            "values": builder.QuestionValues(question, main, sent),
            "kinds": builder.KIND_NAMES,
            "specs": builder.kind_fields(kind),
            "text_in": builder.text_in,
            "show_if_choices": builder.show_if_choices(draft_questions(draft), index, lang, main),
            "locked": old_key is not None and old_key in answered,
            "new_rows": builder.NEW_OPTION_ROWS,
            "problems": dict(problems or []),
        },
        status_code=status_code,
    )


@router.get("/surveys/{slug}/edit/questions/new", response_class=HTMLResponse)
def new_question(
    request: Request,
    staff: AdminDep,
    session: SessionDep,
    slug: str,
    type: Annotated[str, Query(max_length=40)] = "short_text",
) -> Response:
    draft = draft_or_404(session, slug)
    if type not in KINDS:
        type = "short_text"
    return _question_page(
        request, staff, session, draft, index=None, question={"type": type, "label": ""}
    )


@router.get("/surveys/{slug}/edit/questions/{number}", response_class=HTMLResponse)
def edit_question(
    request: Request, staff: AdminDep, session: SessionDep, slug: str, number: RowId
) -> Response:
    draft = draft_or_404(session, slug)
    index = _index(draft, number)
    question = dict(draft_questions(draft)[index])
    changed = request.query_params.get("type")
    if changed in KINDS:  # the kind switched without JavaScript: same texts, new fields
        question["type"] = changed
    return _question_page(request, staff, session, draft, index=index, question=question)


def _index(draft: SurveyDraft, number: int) -> int:
    if not 1 <= number <= len(draft_questions(draft)):
        raise not_found(N_("The draft has no question at this place (it may have moved)."))
    return number - 1


def _save_question(
    request: Request,
    staff: Staff,
    slug: str,
    revision: int,
    fields: dict[str, list[str]],
    number: int | None,
) -> Response:
    def edit(draft: SurveyDraft, session: Session) -> tuple[dict[str, Any], list[str], Message]:
        index = None if number is None else _index(draft, number)
        questions = draft_questions(draft)
        question = builder.question_from_form(
            fields,
            languages=draft.languages,
            questions=questions,
            index=index,
            answered=answered_keys(session, draft),
        )
        key = str(question["key"])
        if index is None:
            questions.append(question)
            change = N_("question %(key)s added", key=key)
        else:
            questions[index] = question
            change = N_("question %(key)s changed", key=key)
        return {**draft.document, "questions": questions}, draft.languages, change

    def refused(session: Session, draft: SurveyDraft, exc: Refusal) -> Response:
        """The question form again, with what was sent and each problem."""
        index = None if number is None else _index(draft, number)
        shown = dict(draft_questions(draft)[index]) if index is not None else {}
        kind = builder.first(fields, "type")
        shown["type"] = kind if kind in KINDS else "short_text"
        return _question_page(
            request,
            staff,
            session,
            draft,
            index=index,
            question=shown,
            sent=fields,
            problems=exc.problems,
            status_code=422,
        )

    return save_change(request, staff, slug, revision, edit, refused)


@router.post("/surveys/{slug}/edit/questions", response_class=HTMLResponse)
def add_question(
    request: Request, staff: AdminDep, slug: str, revision: Revision, fields: FieldsDep
) -> Response:
    return _save_question(request, staff, slug, revision, fields, None)


@router.post("/surveys/{slug}/edit/questions/{number}", response_class=HTMLResponse)
def save_question(
    request: Request,
    staff: AdminDep,
    slug: str,
    number: RowId,
    revision: Revision,
    fields: FieldsDep,
) -> Response:
    return _save_question(request, staff, slug, revision, fields, number)


@router.post("/surveys/{slug}/edit/questions/{number}/move", response_class=HTMLResponse)
def move_question(
    request: Request,
    staff: AdminDep,
    slug: str,
    number: RowId,
    revision: Revision,
    direction: Annotated[str, Form(pattern="^(up|down)$")],
) -> Response:
    def edit(draft: SurveyDraft, session: Session) -> tuple[dict[str, Any], list[str], Message]:
        step = -1 if direction == "up" else 1
        questions = builder.move(draft_questions(draft), _index(draft, number), step)
        moved = N_("question %(number)s moved", number=number)
        return {**draft.document, "questions": questions}, draft.languages, moved

    return save_change(request, staff, slug, revision, edit)


@router.post("/surveys/{slug}/edit/questions/{number}/remove", response_class=HTMLResponse)
def remove_question(
    request: Request, staff: AdminDep, slug: str, number: RowId, revision: Revision
) -> Response:
    def edit(draft: SurveyDraft, session: Session) -> tuple[dict[str, Any], list[str], Message]:
        questions = builder.remove(draft_questions(draft), _index(draft, number))
        removed = N_("question %(number)s removed", number=number)
        return {**draft.document, "questions": questions}, draft.languages, removed

    return save_change(request, staff, slug, revision, edit)
