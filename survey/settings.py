"""The one place configuration comes from.

Every setting is read from the environment (prefix ``SURVEY_``) into one
``Settings`` object, built by the caller and passed to ``create_app`` and the
CLI commands.  Nothing else in the package reads ``os.environ``, so tests can
build an app with any settings they like.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from survey.ratelimit import parse_networks, parse_rate_limit

_PLACEHOLDERS = {"changeme", "change-me", "secret", "changethis", "dev", "development"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SURVEY_", extra="ignore", frozen=True, populate_by_name=True
    )

    database_url: str = Field(
        default="sqlite:///./survey.db",
        description="SQLAlchemy URL: sqlite:///PATH or postgresql+psycopg://USER@HOST/DB.",
    )
    definitions_dir: Path | None = Field(
        default=None,
        description="Folder whose *.yaml survey files `survey serve` loads at start.",
    )
    load_bundled_surveys: bool = Field(
        default=True, description="Load the surveys shipped with the package at start."
    )
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Largest request body accepted (413 above)."
    )
    sqlite_synchronous: Literal["FULL", "NORMAL"] = Field(
        default="FULL",
        description="SQLite's synchronous pragma. NORMAL is faster but a power loss may "
        "undo the last commits (never corrupts the file).",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000, ge=0, description="How long a SQLite writer waits for the lock."
    )
    db_pool_size: int = Field(default=10, ge=1, description="PostgreSQL connections per worker.")
    definition_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How long a process serves a survey before checking the database for a "
        "newer version (a `survey load` shows within this time; 0 checks on every request).",
    )
    spam_retention_days: int = Field(
        default=30,
        ge=1,
        description="Submissions in the spam folder are deleted after this many days, "
        "whatever the survey's own retention_days.",
    )
    audit_retention_days: int = Field(
        default=365, ge=1, description="Audit trail lines are deleted after this many days."
    )
    fetch_allow_private: bool = Field(
        default=False,
        description="Let `survey draft` fetch addresses on loopback, private and link-local "
        "networks (refused by default: a post's address must not reach internal services).",
    )
    delivery: Literal["inline", "off"] = Field(
        default="inline",
        description="Deliver webhook events from `survey serve` itself (inline), or leave "
        "them to `survey worker` processes (off).",
    )
    webhook_allow_http: bool = Field(
        default=False, description="Let webhooks post to http:// addresses (https only by default)."
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Let webhooks post to loopback, private, link-local and metadata addresses "
        "(refused by default).",
    )
    smtp_url: str | None = Field(
        default=None,
        description="Where email goes: smtp://USER:PASSWORD@HOST:587 (STARTTLS), "
        "smtps://USER:PASSWORD@HOST:465 (TLS from the start) or smtp://HOST:25?tls=off (a "
        "local relay). Unset (or no SURVEY_MAIL_FROM), email is off.",
    )
    mail_from: str | None = Field(
        default=None, description="The From address of the emails (surveys@example.org)."
    )
    digest_hour: int = Field(
        default=8, ge=0, le=23, description="The hour (UTC) the daily digests are sent."
    )
    api_docs: bool = Field(
        default=False,
        description="Serve the interactive API docs at /docs and /redoc. They load Swagger "
        "UI and ReDoc from a CDN, scripts this product does not control, on the staff "
        "pages' origin: off unless asked for. /openapi.json is always served.",
    )
    header_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description="`survey serve`: a connection that has not sent a whole request head "
        "in this time (after connecting, or after starting a request) is closed.",
    )
    keep_alive_seconds: int = Field(
        default=5, ge=1, description="`survey serve`: how long an idle keep-alive lasts."
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        description="`survey serve`: connections and requests in flight per worker; more "
        "are answered 503 at once.",
    )
    public_url: str | None = Field(
        default=None,
        description="The address readers reach the product at (https://surveys.example.org). "
        "Embed codes, oEmbed and the Origin check use it; unset, the request's own address.",
    )
    allowed_hosts_setting: str | None = Field(
        default=None,
        alias="SURVEY_ALLOWED_HOSTS",
        description="Comma-separated host names this server answers for (a request with "
        "another Host header gets 400); wildcards like *.example.org work. Unset: any.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs form tokens. Unset, a random key is made once and kept in the "
        "database, so every worker and host shares it.",
    )
    min_fill_seconds: float = Field(
        default=3.0,
        ge=0,
        description="A form sent back sooner than this after it was shown goes to the spam "
        "folder (people take longer; bots do not). 0 turns the check off.",
    )
    purge_interval_seconds: float = Field(
        default=3600, gt=0, description="How often the server deletes responses past retention."
    )
    form_token_max_age_seconds: int = Field(
        default=24 * 3600, ge=60, description="How long a rendered form can be sent back."
    )

    session_hours: float = Field(
        default=12, gt=0, description="How long a staff sign-in lasts before it must be redone."
    )
    session_idle_minutes: int = Field(
        default=60,
        ge=1,
        description="A staff session with no request for this long has ended (beside the "
        "absolute SURVEY_SESSION_HOURS).",
    )
    require_2fa: bool = Field(
        default=False,
        description="Admins must set up two-step sign-in (an authenticator app) before they "
        "can use the staff pages.",
    )
    secure_cookies: bool | None = Field(
        default=None,
        description="Mark the staff session cookie Secure (sent over HTTPS only). Unset: "
        "Secure when the request came over HTTPS or SURVEY_PUBLIC_URL is https.",
    )
    sign_in_failure_delay_seconds: float = Field(
        default=1.0, ge=0, description="How long a failed staff sign-in waits before answering."
    )
    sign_in_attempts_per_account: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins allowed per account in 15 minutes; then it waits.",
    )
    sign_in_attempts_per_client: int = Field(
        default=20,
        ge=1,
        description="Failed sign-ins allowed per client address in 15 minutes; then it waits.",
    )

    rate_limit: str = Field(
        default="30/minute",
        description="Submissions allowed per client and survey (30/minute, 5/10minutes, "
        "1000/hour), shared by every worker and host; more get 429. off turns it off.",
    )
    trusted_proxies: str | None = Field(
        default=None,
        description="Comma-separated addresses or networks of your reverse proxies "
        "(10.0.0.0/8). From them, the client is the right-most other X-Forwarded-For hop.",
    )

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        parse_rate_limit(value)  # refuses a bad value at start, with the reason
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str | None) -> str | None:
        try:
            parse_networks(value)
        except ValueError as exc:
            raise ValueError(f"SURVEY_TRUSTED_PROXIES: {exc}") from None
        return value

    @field_validator("public_url")
    @classmethod
    def _origin_only(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("SURVEY_PUBLIC_URL must start with http:// or https://")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_address(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from survey.mail import parse_smtp_url  # the one parser, used again to send

        try:
            parse_smtp_url(value.strip())
        except ValueError as exc:
            raise ValueError(f"SURVEY_SMTP_URL: {exc}") from None
        return value.strip()

    @field_validator("secret_key")
    @classmethod
    def _no_placeholder(cls, value: str | None) -> str | None:
        if value is not None and (len(value) < 32 or value.lower() in _PLACEHOLDERS):
            raise ValueError(
                "SURVEY_SECRET_KEY must be a random value of at least 32 characters, such as "
                "the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        return value

    @property
    def allowed_hosts(self) -> list[str]:
        raw = self.allowed_hosts_setting or ""
        return [host.strip() for host in raw.split(",") if host.strip()]

    @property
    def mail_on(self) -> bool:
        return bool(self.smtp_url and self.mail_from)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
