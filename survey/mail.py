"""Email: the SMTP address, the messages (multipart text and HTML, in the
staff member's language, with a one-click way to stop them) and sending.

The standard library does SMTP, STARTTLS, SMTPS and MIME well
(``smtplib``, ``email.message.EmailMessage``): no extra dependency.  What
each email says comes from ``templates/email/``; the outbox rows that ask
for them are in ``survey.store.notifications``.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_decimal
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from survey.i18n import DEFAULT, LANGUAGES, direction, translations
from survey.resources import templates_dir

TIMEOUT_SECONDS = 30.0
UNSUBSCRIBE_PURPOSE = "reader-survey.unsubscribe"


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: Literal["starttls", "tls", "off"]
    user: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpServer:
    """``smtp://user:password@host:587`` (STARTTLS), ``smtps://…:465`` (TLS
    from the start), ``smtp://host:25?tls=off`` (a local relay, plain)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError("write it as smtp://… or smtps://…")
    if not parts.hostname:
        raise ValueError("give the mail server's host name, as in smtp://mail.example.org:587")
    tls = parse_qs(parts.query).get("tls", ["on"])[0].lower()
    if tls not in ("on", "off", "true", "false", "yes", "no"):
        raise ValueError("tls= takes on or off")
    plain = tls in ("off", "false", "no")
    security: Literal["starttls", "tls", "off"]
    if parts.scheme == "smtps":
        security, default_port = "tls", 465
    elif plain:
        security, default_port = "off", 25
    else:
        security, default_port = "starttls", 587
    try:
        port = parts.port or default_port
    except ValueError:
        raise ValueError("the port must be a number") from None
    return SmtpServer(
        host=parts.hostname,
        port=port,
        security=security,
        user=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class MailError(Exception):
    """Sending failed; ``lasting`` when trying again will not help (a 5xx)."""

    def __init__(self, message: str, *, lasting: bool) -> None:
        super().__init__(message)
        self.lasting = lasting


class Mailer:
    """One SMTP connection for a pass's emails, opened on first use."""

    def __init__(self, url: str) -> None:
        self.server = parse_smtp_url(url)
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._smtp.close()
            self._smtp = None

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if server.security == "tls":
            smtp = smtplib.SMTP_SSL(
                server.host, server.port, timeout=TIMEOUT_SECONDS, context=context
            )
        else:
            smtp = smtplib.SMTP(server.host, server.port, timeout=TIMEOUT_SECONDS)
        try:
            smtp.ehlo()
            if server.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if server.user:
                smtp.login(server.user, server.password or "")
        except BaseException:
            smtp.close()  # a refused certificate or login leaves no socket behind
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            self._smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise MailError(f"refused: {exc.recipients}", lasting=min(codes) >= 500) from None
        except smtplib.SMTPResponseException as exc:
            self._drop()
            error = exc.smtp_error
            detail = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
            raise MailError(f"{exc.smtp_code} {detail}", lasting=exc.smtp_code >= 500) from None
        except (OSError, smtplib.SMTPException) as exc:
            self._drop()
            raise MailError(f"{type(exc).__name__}: {exc}", lasting=False) from None

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None


# What the emails say ---------------------------------------------------------------


def unsubscribe_token(secret: str, *, user_id: int, what: str) -> str:
    """Stops one kind of email for one person: ``what`` is a survey's id
    (its per-response emails) or "digest" (the daily digest)."""
    return str(URLSafeSerializer(secret, salt=UNSUBSCRIBE_PURPOSE).dumps([user_id, what]))


def read_unsubscribe_token(secret: str, token: str) -> tuple[int, str] | None:
    try:
        user_id, what = URLSafeSerializer(secret, salt=UNSUBSCRIBE_PURPOSE).loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or not isinstance(what, str):
        return None
    return user_id, what


_environment: Environment | None = None


def _templates() -> Environment:
    global _environment
    if _environment is None:
        _environment = Environment(
            loader=FileSystemLoader(templates_dir()),
            autoescape=select_autoescape(["html"], default_for_string=False, default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
    return _environment


@dataclass(frozen=True)
class Letter:
    """One email before it is addressed: subject, its two bodies' template
    (``templates/email/NAME.txt`` and ``.html``) and what they show."""

    subject: str
    template: str
    context: dict[str, Any]
    unsubscribe_url: str | None = None


def compose(letter: Letter, *, to: str, sender: str, lang: str) -> EmailMessage:
    lang = lang if lang in LANGUAGES else DEFAULT
    catalogue = translations(lang)
    context = {
        "lang": lang,
        "dir": direction(lang),
        "_": catalogue.gettext,
        "ngettext": catalogue.ngettext,
        "number": lambda value: format_decimal(value, locale=lang),
        "when": lambda value: f"{babel_datetime(value, 'medium', tzinfo=UTC, locale=lang)} UTC",
        "subject": letter.subject,
        "unsubscribe_url": letter.unsubscribe_url,
        **letter.context,
    }
    environment = _templates()
    message = EmailMessage()
    message["Subject"] = letter.subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    message["Auto-Submitted"] = "auto-generated"
    if letter.unsubscribe_url:
        # RFC 8058: a mail program's "Unsubscribe" posts to this address at once.
        message["List-Unsubscribe"] = f"<{letter.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(environment.get_template(f"email/{letter.template}.txt").render(context))
    message.add_alternative(
        environment.get_template(f"email/{letter.template}.html").render(context), subtype="html"
    )
    # After the bodies: setting content clears a message's Content-* headers.
    message["Content-Language"] = lang
    return message
