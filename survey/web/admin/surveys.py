"""A survey's own page (its state, its draft, the accepting switch, its file),
and the ways a new survey starts: blank, from a post, as a copy, from a file.

Each new survey starts as a draft in the builder (``builder.py`` next to this
module).  Pasting a survey file still publishes it at once, as before.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from survey import builder, store
from survey.definitions import DefinitionError, SurveyDefinition, parse_definition
from survey.drafts import MAX_POST_BYTES, DraftError, draft, read_post
from survey.fetch import FetchError, fetch
from survey.i18n import LANGUAGES, N_, Message
from survey.models import utcnow
from survey.web.admin.common import (
    NO_SURVEY,
    audit,
    not_found,
    notice,
    page,
    router,
    see_other,
    see_other_with_notice,
    staff_lang,
)
from survey.web.deps import SessionDep, database_of
from survey.web.staff import AdminDep, Staff, StaffDep
from survey.web.state import state_of

Slug = Annotated[str, Form(max_length=100)]
RESERVED_SLUGS = frozenset({"new"})


def _new_page(
    request: Request,
    staff: Staff,
    session: Session,
    *,
    problems: dict[str, Message | str] | None = None,
    sent: dict[str, str] | None = None,
    text: str = "",
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return page(
        request,
        "admin/survey_new.html",
        staff,
        {
            "surveys": store.list_surveys(session),
            "problems": problems or {},
            "sent": sent or {},
            "text": text,
            "error": error,
            "languages": LANGUAGES,
            "staff_language": staff_lang(request),
        },
        status_code=status_code,
    )


def _refused(
    request: Request, staff: Staff, problems: dict[str, Message | str], sent: dict[str, str]
) -> Response:
    """The new-survey page again, 422, with what was sent and why not."""
    with database_of(request).session() as session:
        return _new_page(request, staff, session, problems=problems, sent=sent, status_code=422)


@router.get("/surveys/new", response_class=HTMLResponse)
def new_survey(request: Request, staff: AdminDep, session: SessionDep) -> Response:
    return _new_page(request, staff, session)


@router.post("/surveys", response_class=HTMLResponse)
def load_survey(
    request: Request,
    staff: AdminDep,
    session: SessionDep,
    definition: Annotated[str, Form(max_length=60_000)] = "",
) -> Response:
    """A pasted survey file, published at once (new questions: a new version)."""
    try:
        parsed = parse_definition(definition, "the survey file")
    except DefinitionError as exc:
        return _new_page(request, staff, session, text=definition, error=str(exc), status_code=422)
    with database_of(request).begin(write=True) as writing:
        result = store.load_definition(writing, definition=parsed)
        survey = store.get_survey(writing, slug=result.slug)
        assert survey is not None
        store.mark_edited_in_browser(writing, survey=survey)
        audit(
            writing,
            request,
            staff,
            "survey_load",
            survey_slug=result.slug,
            outcome=result.outcome,
            version=result.version,
        )
    return see_other_with_notice(request, "/admin", "loaded", result.slug)


def _taken(session: Session, slug: str) -> Message | None:
    problem = builder.check_slug(slug)
    if problem is not None:
        return problem
    if (
        slug in RESERVED_SLUGS
        or store.get_survey(session, slug=slug)
        or store.get_draft(session, slug=slug)
    ):
        return N_("A survey or draft already has this address. Choose another.")
    return None


def _start(
    request: Request,
    staff: Staff,
    document: dict[str, Any],
    field: str,
    sent: dict[str, str],
) -> Response:
    """A new survey's draft, opened in the builder; or the page again with why not."""
    slug = str(document["slug"])
    lang = str(document.get("lang") or "en")
    with database_of(request).begin(write=True) as session:
        problem = _taken(session, slug)
        if problem is not None:
            return _new_page(
                request,
                staff,
                session,
                problems={field: problem},
                sent=sent | {field: slug},
                status_code=422,
            )
        store.create_draft(
            session,
            slug=slug,
            survey_id=None,
            document=document,
            languages=[lang, *_translated(document, lang)],
            change=builder.change_record(N_("draft created")),
            actor=staff.email,
        )
        audit(session, request, staff, "draft_create", survey_slug=slug)
    return see_other(f"/admin/surveys/{slug}/edit")


def _translated(document: dict[str, Any], main: str) -> list[str]:
    """The languages a file's texts are given in, besides its own."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if (
                value
                and set(value) <= set(LANGUAGES)
                and all(isinstance(v, str) for v in value.values())
            ):
                found.update(value)
            else:
                for item in value.values():
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(document)
    return [lang for lang in LANGUAGES if lang in found and lang != main]


@router.post("/surveys/new/blank", response_class=HTMLResponse)
def new_blank(
    request: Request,
    staff: AdminDep,
    title: Annotated[str, Form(max_length=300)] = "",
    slug: Slug = "",
    lang: Annotated[str, Form(max_length=5)] = "en",
) -> Response:
    title = " ".join(title.split())
    sent = {"title": title, "blank_slug": slug}
    if not title:
        return _refused(request, staff, {"title": N_("Enter the survey's title.")}, sent)
    document = builder.new_document(
        slug.strip() or builder.slug_from(title), title, lang if lang in LANGUAGES else "en"
    )
    return _start(request, staff, document, "blank_slug", sent)


@router.post("/surveys/new/post", response_class=HTMLResponse)
def new_from_post(
    request: Request,
    staff: AdminDep,
    post: Annotated[str, Form(max_length=MAX_POST_BYTES)] = "",
    address: Annotated[str, Form(max_length=2000)] = "",
    slug: Slug = "",
) -> Response:
    """A draft of the post's closing questions (``survey draft`` in the browser)."""
    sent = {"post": post, "address": address.strip(), "post_slug": slug}
    field = "address" if address.strip() else "post"
    try:
        if address.strip():
            if not address.strip().startswith(("http://", "https://")):
                raise FetchError("the address must start with https:// or http://")
            content, content_type = fetch(
                address.strip(), allow_private=state_of(request).settings.fetch_allow_private
            )
            html: bool | None = "html" in content_type.lower() or None
        elif post.strip():
            content, html = post.encode(), None
        else:
            raise DraftError("paste the post's text or HTML, or give its address")
        document = draft(read_post(content, html=html), slug=slug.strip() or None)
    except (DraftError, FetchError) as exc:
        problem = N_("The post could not be used: %(reason)s.", reason=str(exc))
        return _refused(request, staff, {field: problem}, sent)
    return _start(request, staff, document, "post_slug", sent)


@router.post("/surveys/new/copy", response_class=HTMLResponse)
def new_copy(
    request: Request,
    staff: AdminDep,
    session: SessionDep,
    source: Slug = "",
    slug: Slug = "",
) -> Response:
    original = store.get_survey(session, slug=source)
    sent = {"source": source, "copy_slug": slug}
    if original is None:
        return _refused(request, staff, {"source": N_("Choose the survey to copy.")}, sent)
    definition = SurveyDefinition.model_validate(original.definition)
    document = builder.file_document(definition)
    document["slug"] = slug.strip() or f"{original.slug}-copy"
    document.pop("status", None)
    return _start(request, staff, document, "copy_slug", sent)


@router.post("/surveys/new/file", response_class=HTMLResponse)
async def new_from_file(
    request: Request,
    staff: AdminDep,
    upload: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """An uploaded survey file, opened as a draft (published only when you say so)."""
    problem: Message | str | None = None
    document: dict[str, Any] = {}
    content = await upload.read(256 * 1024 + 1) if upload is not None else b""
    if not content:
        problem = N_("Choose a survey file (.yaml) to upload.")
    else:
        try:
            parsed = parse_definition(content.decode("utf-8"), upload.filename or "the file")  # type: ignore[union-attr]
        except UnicodeDecodeError:
            problem = N_("This file is not a text file in UTF-8: upload the survey's .yaml file.")
        except DefinitionError as exc:
            problem = str(exc)
        else:
            document = builder.file_document(parsed)
    if problem is not None:
        problems = {"upload": problem}
        return await database_of(request).run(lambda: _refused(request, staff, problems, {}))
    return await database_of(request).run(lambda: _start(request, staff, document, "upload", {}))


@router.get("/surveys/{slug}", response_class=HTMLResponse)
def survey_page(request: Request, staff: StaffDep, session: SessionDep, slug: str) -> Response:
    survey = store.get_survey(session, slug=slug)
    draft = store.get_draft(session, slug=slug)
    if survey is None:
        if draft is None:
            raise not_found(NO_SURVEY)
        return see_other(f"/admin/surveys/{slug}/edit")
    assert survey.id is not None
    definition = SurveyDefinition.model_validate(survey.definition)
    lang = staff_lang(request)
    stored = store.stored_count(session.connection(), survey_id=survey.id)
    now = utcnow()
    full = definition.max_responses is not None and stored >= definition.max_responses
    return page(
        request,
        "admin/survey.html",
        staff,
        {
            "survey": survey,
            "definition": definition.localized(lang)
            if lang in definition.languages
            else definition,
            "stored": stored,
            "accepting": definition.is_open(now) and not full,
            "switched_off": definition.status == "closed",
            "full": full,
            "past_close": definition.closes_at is not None and now >= definition.closes_at,
            "draft": draft,
            "published": notice(request, "published"),
            "switched": notice(request, "switched"),
            "loads_files": state_of(request).settings.definitions_dir is not None
            or state_of(request).settings.load_bundled_surveys,
        },
    )


@router.get("/surveys/{slug}/survey.yaml")
def download_yaml(staff: StaffDep, session: SessionDep, slug: str) -> Response:
    """The published survey as its file: ``survey load`` gives back the same survey."""
    survey = store.get_survey(session, slug=slug)
    if survey is None:
        raise not_found(NO_SURVEY)
    text = builder.to_yaml(
        builder.file_document(SurveyDefinition.model_validate(survey.definition))
    )
    return Response(
        text,
        media_type="application/yaml; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{slug}.yaml"'},
    )


@router.post("/surveys/{slug}/accepting")
def switch_accepting(
    request: Request,
    staff: AdminDep,
    slug: str,
    accepting: Annotated[str, Form(pattern="^(yes|no)$")],
) -> Response:
    """The "accepting responses" switch: the survey's status, with no new version."""
    with database_of(request).begin(write=True) as session:
        survey = store.get_survey(session, slug=slug)
        if survey is None:
            raise not_found(NO_SURVEY)
        document = dict(survey.definition) | {"status": "open" if accepting == "yes" else "closed"}
        store.load_definition(session, definition=SurveyDefinition.model_validate(document))
        store.mark_edited_in_browser(session, survey=survey)
        audit(session, request, staff, "survey_accepting", survey_slug=slug, accepting=accepting)
    # The form page reads the status from its cache: this process forgets it now.
    state_of(request).surveys.forget(slug)
    return see_other_with_notice(request, f"/admin/surveys/{slug}", "switched", accepting)
