"""Rate limits on submissions: per client and survey, shared by every worker
and host through the database, with no raw address kept anywhere.

- The limit is ``SURVEY_RATE_LIMIT`` (``30/minute`` by default; ``off``).
- The client is the socket peer, unless the peer is one of
  ``SURVEY_TRUSTED_PROXIES``: then it is the right-most address in
  ``X-Forwarded-For`` that is not a trusted proxy.  A header sent by anyone
  else changes nothing.
- A client is counted under a keyed hash of (survey, address) whose key
  changes every day (derived from the server's secret and the date): a
  stored key cannot be turned back into an address, nor linked across days.
- Counting happens in the same transaction as the response it counts
  (``store.count_hit``), so it costs no extra commit.

No HTTP and no SQL here; ``web/writes.py`` and ``store`` use it.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class RateLimit:
    count: int
    seconds: int

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """The fixed window ``now`` falls in: (start, end)."""
        epoch = int(now.timestamp())
        start = epoch - epoch % self.seconds
        begin = datetime.fromtimestamp(start, UTC)
        return begin, begin + timedelta(seconds=self.seconds)


@dataclass(frozen=True)
class LimitCheck:
    """What one submission is counted under, and how many the window allows."""

    client_key: str
    window_start: datetime
    window_end: datetime
    allowed: int

    def retry_after(self, now: datetime) -> int:
        return max(1, int((self.window_end - now).total_seconds() + 0.999))


class RateLimited(Exception):
    """Too many submissions; ``retry_after`` seconds until the window ends."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited for {retry_after} s")
        self.retry_after = retry_after


def parse_rate_limit(text: str) -> RateLimit | None:
    """``30/minute`` (also second, hour, day; or ``5/10minutes``) or ``off``."""
    text = text.strip().lower()
    if text in ("off", "none", "0"):
        return None
    match = re.fullmatch(r"(\d+)\s*/\s*(\d*)\s*(second|minute|hour|day)s?", text)
    if not match or int(match.group(1)) < 1:
        raise ValueError(
            f"{text!r} is not a rate limit; write it like 30/minute, 5/10minutes or off"
        )
    return RateLimit(int(match.group(1)), int(match.group(2) or 1) * _UNITS[match.group(3)])


def parse_networks(text: str | None) -> tuple[IPNetwork, ...]:
    """Comma-separated addresses or networks (10.0.0.0/8, ::1)."""
    if not text:
        return ()
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()
    )


def _trusted(address: str, proxies: Iterable[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(
    peer: str | None, forwarded_for: str | None, proxies: tuple[IPNetwork, ...]
) -> str:
    """Who is asking: the peer, or behind trusted proxies the right-most
    untrusted hop of X-Forwarded-For (the left-most ones are the client's to
    forge)."""
    peer = peer or "unknown"
    if not proxies or not _trusted(peer, proxies) or not forwarded_for:
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


def check_for(
    limit: RateLimit | None, secret: str, *, survey_id: int, address: str, now: datetime
) -> LimitCheck | None:
    if limit is None:
        return None
    start, end = limit.window(now)
    return LimitCheck(
        client_key(secret, survey_id=survey_id, address=address, now=now), start, end, limit.count
    )


def client_key(secret: str, *, survey_id: int, address: str, now: datetime) -> str:
    """The stored key for a client: keyed by a secret that rotates daily."""
    day_key = hmac.new(secret.encode(), f"rate-limit:{now:%Y-%m-%d}".encode(), hashlib.sha256)
    counted = counted_as(address)
    return hmac.new(day_key.digest(), f"{survey_id}:{counted}".encode(), hashlib.sha256).hexdigest()


SIGN_IN_WINDOW = RateLimit(count=0, seconds=15 * 60)


@dataclass(frozen=True)
class SignInKeys:
    """What a sign-in attempt is counted under, in its 15-minute window: the
    (account, client) pair, and the client across all accounts."""

    pair: str
    client: str
    window_start: datetime
    window_end: datetime


def sign_in_keys(secret: str, *, email: str, client: str, now: datetime) -> SignInKeys:
    start, end = SIGN_IN_WINDOW.window(now)
    day_key = hmac.new(secret.encode(), f"sign-in:{now:%Y-%m-%d}".encode(), hashlib.sha256)

    def key(text: str) -> str:
        return hmac.new(day_key.digest(), text.encode(), hashlib.sha256).hexdigest()

    counted = counted_as(client)
    return SignInKeys(key(f"pair:{email}\n{counted}"), key(f"client:{counted}"), start, end)


def counted_as(address: str) -> str:
    """What a client is counted under: an IPv4 address, or an IPv6 address's
    /64 (one home or phone gets a whole /64 and may pick any address in it)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
