"""The commands about surveys and their answers: serve, migrate, load,
export, embed, purge, spam, draft."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

from survey import store
from survey.cli.common import CommandError, database_for, log, require_survey
from survey.db import migrate
from survey.definitions import SLUG_PATTERN, DefinitionError, SurveyDefinition, load_file
from survey.export import CsvOptions, csv_from_database
from survey.filters import FilterError, export_filter
from survey.models import utcnow
from survey.resources import BUNDLED_SURVEYS_DIR
from survey.settings import Settings
from survey.snippets import email_block, results_snippet, snippets


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from survey.web.server import HTTP_PROTOCOL, event_loop

    migrate(settings)
    _load_all(settings, _startup_files(settings), at_start=True)
    with database_for(settings) as database:
        for warning in database.durability_warnings():
            log.warning("warning: %s", warning)
    uvicorn.run(
        "survey.web.app:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers if args.workers > 1 else None,
        loop=event_loop(args.loop, args.workers),
        http=HTTP_PROTOCOL,
        proxy_headers=False,
        server_header=False,
        timeout_keep_alive=settings.keep_alive_seconds,
        limit_concurrency=settings.max_connections,
        log_level="info",
        access_log=not args.no_access_log,
    )
    return 0


def _startup_files(settings: Settings) -> list[Path]:
    files: list[Path] = []
    if settings.load_bundled_surveys:
        files += sorted(BUNDLED_SURVEYS_DIR.glob("*.yaml"))
    if settings.definitions_dir is not None:
        if not settings.definitions_dir.is_dir():
            raise CommandError(f"SURVEY_DEFINITIONS_DIR {settings.definitions_dir} is not a folder")
        files += sorted(settings.definitions_dir.glob("*.yaml"))
    return files


def _migrate(args: argparse.Namespace, settings: Settings) -> int:
    migrate(settings)
    print("database is up to date")
    return 0


def _load(args: argparse.Namespace, settings: Settings) -> int:
    _load_all(settings, args.files)
    return 0


def _load_all(settings: Settings, files: Iterable[Path], *, at_start: bool = False) -> None:
    """Check every file first, then load them all in one transaction: a bad
    file loads nothing, so a half-updated set of surveys never goes live.

    A survey changed in the staff workspace is not loaded from its file when
    the server starts (the file would undo the change); ``survey load FILE``
    is an explicit choice and loads it, and from then on the file counts again.
    """
    definitions: list[SurveyDefinition] = []
    problems: list[str] = []
    for path in files:
        try:
            definitions.append(load_file(path))
        except DefinitionError as exc:
            problems.append(str(exc))
    if problems:
        raise CommandError("nothing was loaded:\n" + "\n".join(problems))
    results: list[store.LoadResult] = []
    with database_for(settings) as database, database.begin(write=True) as session:
        for definition in definitions:
            survey = store.get_survey(session, slug=definition.slug)
            if survey is not None and survey.edited_in_browser_at is not None:
                if at_start:
                    log.warning(
                        "%s: changed in the staff workspace on %s; its survey file is not "
                        "loaded (survey load FILE would replace it with the file)",
                        definition.slug,
                        survey.edited_in_browser_at.strftime("%Y-%m-%d %H:%M UTC"),
                    )
                    continue
                print(
                    f"survey: note: {definition.slug} had been changed in the staff workspace; "
                    "this file replaces it, and is loaded at start again",
                    file=sys.stderr,
                )
                survey.edited_in_browser_at = None
                session.add(survey)
            results.append(store.load_definition(session, definition=definition))
    for result in results:
        print(f"{result.slug}: {result.outcome} (version {result.version})")
    for definition in definitions:
        for lang, missing in definition.missing_translations().items():
            print(
                f"survey: warning: {definition.slug}: {len(missing)} texts have no {lang} "
                f"translation and show in {definition.lang}: {', '.join(missing)}",
                file=sys.stderr,
            )


def _export(args: argparse.Namespace, settings: Settings) -> int:
    try:
        options = CsvOptions(
            header=args.header,
            bom=args.bom,
            filter=export_filter(args.since, args.until, args.source),
        )
    except FilterError as exc:
        raise CommandError(str(exc)) from None
    with database_for(settings) as database:
        with database.session() as session:
            survey_id = require_survey(session, args.slug).id
        assert survey_id is not None
        chunks = csv_from_database(database, survey_id=survey_id, options=options)
        if args.output is None:
            for chunk in chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
        else:
            partial = args.output.with_name(args.output.name + ".partial")
            with partial.open("wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
            partial.replace(args.output)  # a reader never sees half a file
    return 0


def _embed(args: argparse.Namespace, settings: Settings) -> int:
    with database_for(settings) as database, database.session() as session:
        survey = require_survey(session, args.slug)
    base = args.base_url or settings.public_url or "http://127.0.0.1:8000"
    if args.email is not None:
        definition = SurveyDefinition.model_validate(survey.definition)
        if args.lang is not None and args.lang not in definition.languages:
            raise CommandError(
                f"--lang: the survey is in {', '.join(definition.languages)}, not {args.lang}"
            )
        try:
            block = email_block(base, definition, args.email, args.lang)
        except ValueError as exc:
            raise CommandError(f"--email: {exc}") from None
        print("<!-- Paste into the newsletter's HTML; each link opens the form with that answer")
        print("     filled in, and nothing is stored until the reader sends it. -->")
        print(block.html)
        print()
        print("Text version (for the plain-text part of the email):")
        print(block.text)
        return 0
    if args.results:
        definition = SurveyDefinition.model_validate(survey.definition)
        if definition.results is None or not definition.results.public:
            raise CommandError(
                f"{survey.slug} does not publish its results: add results: {{public: true, "
                "questions: [...]}} to its file"
            )
        print("Paste into the follow-up post (the results, sized to their content):")
        print(results_snippet(base, survey.slug, definition.title))
        return 0
    codes = snippets(base, survey.slug, str(survey.definition["title"]))
    print("Paste into the post (WordPress: a Custom HTML block; Blogger: the HTML view):")
    print(codes.script)
    print()
    print("Or, where scripts are not allowed, a plain iframe (fixed height):")
    print(codes.iframe)
    print()
    print("Or a plain link (in WordPress, pasting the address alone embeds the form by oEmbed):")
    print(codes.link)
    return 0


def _purge(args: argparse.Namespace, settings: Settings) -> int:
    with database_for(settings) as database, database.begin(write=True) as session:
        now = utcnow()
        deleted = store.purge_expired(session, now=now)
        spam = store.purge_spam(session, before=now - timedelta(days=settings.spam_retention_days))
        store.purge_audit(session, before=now - timedelta(days=settings.audit_retention_days))
    if spam:
        print(f"deleted {spam} spam submissions older than {settings.spam_retention_days} days")
    if not deleted:
        print("no survey sets retention_days; nothing to purge")
    for slug, count in sorted(deleted.items()):
        print(f"{slug}: deleted {count} responses past retention")
    return 0


def _spam(args: argparse.Namespace, settings: Settings) -> int:
    with database_for(settings) as database, database.session() as session:
        survey_id = require_survey(session, args.slug).id
        assert survey_id is not None
        counts = store.count_spam(session, survey_id=survey_id)
    print(f"{args.slug}: {sum(counts.values())} in the spam folder")
    for reason, count in sorted(counts.items()):
        print(f"  {reason}: {count}")
    return 0


def _draft(args: argparse.Namespace, settings: Settings) -> int:
    from survey.drafts import MAX_POST_BYTES, DraftError, draft, draft_yaml, read_post
    from survey.fetch import FetchError, fetch

    source: str = args.source
    html: bool | None = None
    try:
        if source.startswith(("http://", "https://")):
            content, content_type = fetch(source, allow_private=settings.fetch_allow_private)
            html = "html" in content_type.lower() or None
        elif source == "-":
            content = sys.stdin.buffer.read(MAX_POST_BYTES + 1)
        else:
            path = Path(source)
            if not path.is_file():
                raise CommandError(f"{source}: no such file")
            if path.stat().st_size > MAX_POST_BYTES:
                raise CommandError(f"{source}: the post is larger than 2 MB")
            content = path.read_bytes()
            html = path.suffix.lower() in (".html", ".htm") or None
        if args.slug is not None and not re.fullmatch(SLUG_PATTERN, args.slug):
            raise CommandError("--slug: use lower-case letters, digits and hyphens")
        document = draft(read_post(content, html=html), slug=args.slug)
    except (DraftError, FetchError) as exc:
        raise CommandError(f"{source}: {exc}") from None
    sys.stdout.write(draft_yaml(document))
    return 0
