"""The commands about telling people of new responses: webhook
add/list/remove, notify (a staff member's email), and worker (delivering
webhook events and emails in a process of its own)."""

from __future__ import annotations

import argparse

from survey import store
from survey.cli.common import CommandError, database_for, log, require_survey
from survey.settings import Settings

FORMATS = ("standard", "slack")


def _webhook_add(args: argparse.Namespace, settings: Settings) -> int:
    from survey.delivery import url_problem

    problem = url_problem(args.url, settings)
    if problem:
        raise CommandError(f"{args.url}: {problem[0].lower()}{problem[1:]}")
    with database_for(settings) as database, database.begin(write=True) as session:
        survey = require_survey(session, args.slug)
        assert survey.id is not None
        webhook = store.add_webhook(session, survey_id=survey.id, url=args.url, format=args.format)
        store.audit(
            session,
            action="webhook_add",
            actor="command line",
            client=None,
            survey_slug=survey.slug,
            webhook_id=webhook.id,
        )
    print(f"webhook {webhook.id}: {args.format} events of {survey.slug} to {args.url}")
    print("Its signing secret, shown this once (verify webhook-signature with it):")
    print(webhook.secret)
    return 0


def _webhook_list(args: argparse.Namespace, settings: Settings) -> int:
    with database_for(settings) as database, database.session() as session:
        hooks = store.list_webhooks(session)
        if not hooks:
            print("no webhooks")
        for webhook, slug in hooks:
            assert webhook.id is not None
            counts = store.delivery_counts(session, webhook_id=webhook.id)
            state = "paused" if webhook.paused_at else "active"
            summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none"
            print(f"{webhook.id}\t{slug}\t{webhook.format}\t{state}\t{webhook.url}\t{summary}")
    return 0


def _webhook_remove(args: argparse.Namespace, settings: Settings) -> int:
    with database_for(settings) as database, database.begin(write=True) as session:
        if not store.remove_webhook(session, webhook_id=args.id):
            raise CommandError(f"there is no webhook {args.id}")
        store.audit(
            session, action="webhook_remove", actor="command line", client=None, webhook_id=args.id
        )
    print(f"webhook {args.id} removed, with its deliveries")
    return 0


def _worker(args: argparse.Namespace, settings: Settings) -> int:
    from survey.db import migrate
    from survey.delivery import work_forever

    migrate(settings)
    log.warning("delivering webhook events and emails (stop with Ctrl-C)")
    with database_for(settings) as database:
        try:
            work_forever(database, settings)
        except KeyboardInterrupt:
            return 0
    return 0


def _notify(args: argparse.Namespace, settings: Settings) -> int:
    mode = args.mode or "each"
    with database_for(settings) as database, database.begin(write=True) as session:
        user = store.find_user(session, email=args.email.strip().lower())
        if user is None or user.id is None:
            raise CommandError(f"there is no staff user {args.email}")
        survey = require_survey(session, args.slug)
        assert survey.id is not None
        store.set_choice(session, user_id=user.id, survey_id=survey.id, mode=mode)
        store.audit(
            session,
            action="notify",
            actor="command line",
            client=None,
            survey_slug=survey.slug,
            user=user.email,
            mode=mode,
        )
    said = {
        "each": "an email for each response",
        "daily": "a daily digest",
        "off": "no email",
    }[mode]
    print(f"{user.email} gets {said} about {survey.slug}")
    if not settings.mail_on:
        log.warning("email is off: set SURVEY_SMTP_URL and SURVEY_MAIL_FROM to send it")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    webhook = commands.add_parser("webhook", help="post new responses to other systems")
    actions = webhook.add_subparsers(dest="webhook_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a webhook; prints its signing secret once")
    add.add_argument("slug")
    add.add_argument("url")
    add.add_argument("--format", choices=FORMATS, default="standard")
    add.set_defaults(func=_webhook_add)
    actions.add_parser("list", help="list webhooks and their deliveries").set_defaults(
        func=_webhook_list
    )
    remove = actions.add_parser("remove", help="remove a webhook and its deliveries")
    remove.add_argument("id", type=int)
    remove.set_defaults(func=_webhook_remove)
    notify = commands.add_parser(
        "notify", help="choose a staff member's email about a survey's new responses"
    )
    notify.add_argument("email")
    notify.add_argument("slug")
    modes = notify.add_mutually_exclusive_group(required=True)
    for mode, what in (
        ("each", "an email for each response"),
        ("daily", "one digest a day"),
        ("off", "no email"),
    ):
        modes.add_argument(f"--{mode}", dest="mode", action="store_const", const=mode, help=what)
    notify.set_defaults(func=_notify)
    commands.add_parser(
        "worker", help="deliver webhook events (beside servers run with SURVEY_DELIVERY=off)"
    ).set_defaults(func=_worker)
