"""The ``survey`` command: serve, migrate, load, export, embed, purge, spam,
token, user."""

from __future__ import annotations

import argparse
import getpass
import logging
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session

from survey import store
from survey.accounts import ROLES, check_new_account, hash_password, password_problem
from survey.db import Database, migrate
from survey.definitions import SLUG_PATTERN, DefinitionError, SurveyDefinition, load_file
from survey.export import CsvOptions, csv_from_database
from survey.filters import FilterError, export_filter
from survey.models import Survey, utcnow
from survey.resources import BUNDLED_SURVEYS_DIR
from survey.settings import Settings
from survey.snippets import snippets

log = logging.getLogger("survey")


class CommandError(Exception):
    """A problem to report in one line, with exit status 1 (never a traceback)."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        settings = Settings()
        result: int = args.func(args, settings)
    except CommandError as exc:
        print(f"survey: {exc}", file=sys.stderr)
        return 1
    except DefinitionError as exc:
        print(f"survey: {exc}", file=sys.stderr)
        return 1
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="survey", description="Reader-feedback surveys.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="migrate, load surveys, and serve the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument(
        "--loop",
        choices=["auto", "asyncio", "uvloop"],  # survey.web.server.LOOPS, which loads uvicorn
        default="auto",
        help="event loop (default: asyncio for 1 worker, uvloop for several; see the README)",
    )
    serve.add_argument(
        "--no-access-log",
        action="store_true",
        help="do not print a line per request (those lines include client addresses)",
    )
    serve.set_defaults(func=_serve)

    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(
        func=_migrate
    )

    load = commands.add_parser("load", help="load survey definition files (YAML)")
    load.add_argument("files", nargs="+", type=Path, metavar="FILE")
    load.set_defaults(func=_load)

    export = commands.add_parser("export", help="write a survey's responses as CSV")
    export.add_argument("slug")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    export.add_argument("--since", help="ISO date or date-time, inclusive")
    export.add_argument("--until", help="ISO date (inclusive) or date-time")
    export.add_argument("--source", help="only responses from this page (exact address)")
    export.add_argument("--header", choices=["keys", "labels"], default="keys")
    export.add_argument("--bom", action="store_true", help="start with a UTF-8 byte-order mark")
    export.set_defaults(func=_export)

    draft = commands.add_parser(
        "draft", help="print a draft survey file of a blog post's closing questions"
    )
    draft.add_argument(
        "source", help="a .html, .htm or text file, - for stdin, or an http(s) address"
    )
    draft.add_argument("--slug", help="the survey's slug (default: from the post's title)")
    draft.set_defaults(func=_draft)

    embed = commands.add_parser("embed", help="print the code that embeds a survey in a post")
    embed.add_argument("slug")
    embed.add_argument(
        "--base-url",
        help="the address readers reach this server at (default: SURVEY_PUBLIC_URL, "
        "else http://127.0.0.1:8000)",
    )
    embed.set_defaults(func=_embed)

    commands.add_parser(
        "purge", help="delete responses older than each survey's retention_days"
    ).set_defaults(func=_purge)

    spam = commands.add_parser("spam", help="count a survey's spam-folder submissions")
    spam.add_argument("slug")
    spam.set_defaults(func=_spam)

    token = commands.add_parser("token", help="API tokens for the CSV export")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser("create", help="create a token and print it once")
    create.add_argument("name")
    create.add_argument(
        "--owner", metavar="EMAIL", help="the staff account it belongs to (disabling it revokes it)"
    )
    create.add_argument("--survey", metavar="SLUG", help="the one survey it may read")
    create.add_argument(
        "--expires-in-days", type=int, metavar="DAYS", help="after this many days it stops working"
    )
    create.set_defaults(func=_token_create)

    user = commands.add_parser("user", help="staff accounts for the /admin pages")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    user_create = user_commands.add_parser(
        "create", help="create a staff account (asks for the password)"
    )
    user_create.add_argument("email")
    user_create.add_argument("--role", choices=ROLES, default="viewer")
    user_create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of asking",
    )
    user_create.set_defaults(func=_user_create)
    user_commands.add_parser("list", help="list staff accounts").set_defaults(func=_user_list)
    set_password = user_commands.add_parser(
        "set-password", help="give an account a new password and sign it out everywhere"
    )
    set_password.add_argument("email")
    set_password.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of asking",
    )
    set_password.set_defaults(func=_user_set_password)
    disable = user_commands.add_parser(
        "disable", help="disable an account and sign it out everywhere"
    )
    disable.add_argument("email")
    disable.set_defaults(func=_user_disable)
    return parser


@contextmanager
def _database(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    try:
        yield database
    finally:
        database.dispose()


def _require_survey(session: Session, slug: str) -> Survey:
    survey = store.get_survey(session, slug=slug)
    if survey is None or survey.id is None:
        raise CommandError(f"there is no survey {slug!r}")
    return survey


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from survey.web.server import HTTP_PROTOCOL, event_loop

    migrate(settings)
    _load_all(settings, _startup_files(settings))
    with _database(settings) as database:
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


def _load_all(settings: Settings, files: Iterable[Path]) -> None:
    """Check every file first, then load them all in one transaction: a bad
    file loads nothing, so a half-updated set of surveys never goes live."""
    definitions: list[SurveyDefinition] = []
    problems: list[str] = []
    for path in files:
        try:
            definitions.append(load_file(path))
        except DefinitionError as exc:
            problems.append(str(exc))
    if problems:
        raise CommandError("nothing was loaded:\n" + "\n".join(problems))
    with _database(settings) as database, database.begin(write=True) as session:
        results = [store.load_definition(session, definition=d) for d in definitions]
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
    with _database(settings) as database:
        with database.session() as session:
            survey_id = _require_survey(session, args.slug).id
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
    with _database(settings) as database, database.session() as session:
        survey = _require_survey(session, args.slug)
    base = args.base_url or settings.public_url or "http://127.0.0.1:8000"
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
    with _database(settings) as database, database.begin(write=True) as session:
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
    with _database(settings) as database, database.session() as session:
        survey_id = _require_survey(session, args.slug).id
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


def _token_create(args: argparse.Namespace, settings: Settings) -> int:
    if args.expires_in_days is not None and args.expires_in_days < 1:
        raise CommandError("--expires-in-days must be 1 or more")
    with _database(settings) as database, database.begin(write=True) as session:
        owner = store.find_user(session, email=args.owner) if args.owner else None
        if args.owner and (owner is None or owner.disabled_at is not None):
            raise CommandError(f"there is no active staff account {args.owner!r}")
        survey = _require_survey(session, args.survey) if args.survey else None
        expires_at = (
            utcnow() + timedelta(days=args.expires_in_days) if args.expires_in_days else None
        )
        token, plain = store.create_token(
            session,
            name=args.name,
            owner_id=owner.id if owner else None,
            survey_id=survey.id if survey else None,
            expires_at=expires_at,
        )
        store.audit(session, action="token_create", actor="cli", token_id=token.id, name=args.name)
    print(f"Created API token {token.name!r} (id {token.id}). It is shown only this once:")
    print(plain)
    return 0


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for the password: use --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        raise CommandError("the two passwords differ; nothing was created")
    return first


def _user_create(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password(args.password_stdin)
    email, problems = check_new_account(args.email, args.role, password)
    if problems:
        raise CommandError("; ".join(problems.values()))
    with _database(settings) as database, database.begin(write=True) as session:
        if store.find_user(session, email=email) is not None:
            raise CommandError(f"there is already an account for {email}")
        store.create_user(
            session, email=email, password_hash=hash_password(password), role=args.role
        )
        store.audit(session, action="user_create", actor="cli", user=email, role=args.role)
    print(f"Created {args.role} {email}; they can sign in at /admin/login")
    return 0


def _user_set_password(args: argparse.Namespace, settings: Settings) -> int:
    password = _read_password(args.password_stdin)
    email = args.email.strip().lower()
    problem = password_problem(password, email=email)
    if problem:
        raise CommandError(str(problem))
    with _database(settings) as database, database.begin(write=True) as session:
        user = store.find_user(session, email=email)
        if user is None:
            raise CommandError(f"there is no account for {email}")
        store.set_password(session, user=user, password_hash=hash_password(password))
        store.audit(session, action="password_reset", actor="cli", user=user.email)
    print(f"New password set for {user.email}; their sessions have ended")
    return 0


def _user_list(args: argparse.Namespace, settings: Settings) -> int:
    with _database(settings) as database, database.session() as session:
        users = store.list_users(session)
    if not users:
        print("no staff accounts yet: survey user create EMAIL --role admin")
    for user in users:
        state = "disabled" if user.disabled_at else "active"
        last = (
            user.last_sign_in_at.strftime("%Y-%m-%d %H:%M UTC") if user.last_sign_in_at else "never"
        )
        print(f"{user.email}\t{user.role}\t{state}\tlast sign-in: {last}")
    return 0


def _user_disable(args: argparse.Namespace, settings: Settings) -> int:
    with _database(settings) as database, database.begin(write=True) as session:
        user = store.find_user(session, email=args.email)
        if user is None:
            raise CommandError(f"there is no account for {args.email}")
        store.disable_user(session, user=user)
        store.audit(session, action="user_disable", actor="cli", user=user.email)
    print(f"Disabled {user.email}; their sessions have ended")
    return 0


if __name__ == "__main__":
    sys.exit(main())
