"""The ``survey`` command: serve, migrate, load, export, draft, embed, purge, spam,
token, user."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from survey.accounts import ROLES
from survey.cli import webhooks
from survey.cli.common import CommandError
from survey.cli.staff import (
    _token_create,
    _user_create,
    _user_disable,
    _user_list,
    _user_set_password,
)
from survey.cli.surveys import _draft, _embed, _export, _load, _migrate, _purge, _serve, _spam
from survey.definitions import DefinitionError
from survey.settings import Settings

__all__ = ["CommandError", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        settings = Settings()
    except ValidationError as exc:
        # One line per bad setting, in the words of its check, not a traceback.
        for error in exc.errors():
            field = "_".join(str(part) for part in error["loc"]).upper()
            name = field if field.startswith("SURVEY_") else f"SURVEY_{field}"
            message = str(error["msg"]).removeprefix("Value error, ")
            print(
                f"survey: {message if message.startswith(name) else f'{name}: {message}'}",
                file=sys.stderr,
            )
        return 2
    try:
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
    embed.add_argument(
        "--email",
        metavar="KEY",
        help="print an HTML block for an email newsletter instead: question KEY (one choice, "
        "yes/no or rating) with one link per answer, each opening the form with it filled in",
    )
    embed.add_argument("--lang", help="with --email: the language of the block and the form")
    embed.add_argument(
        "--results",
        action="store_true",
        help="print the snippet of the survey's public results, for the follow-up post",
    )
    embed.set_defaults(func=_embed)

    commands.add_parser(
        "purge", help="delete responses older than each survey's retention_days"
    ).set_defaults(func=_purge)
    webhooks.add_commands(commands)

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


if __name__ == "__main__":
    sys.exit(main())
