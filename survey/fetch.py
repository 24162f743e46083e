"""Fetching a blog post by its address, for ``survey draft``, without letting
the address reach what it should not.

- GET only, ``http``/``https`` only, at most 2 MB and 10 s in all, at most 3
  redirects and only to ``http(s)``.
- Every address a name resolves to is checked before connecting: loopback,
  private, link-local (cloud metadata at 169.254.169.254 included), shared,
  multicast, reserved and unspecified ranges are refused unless
  ``SURVEY_FETCH_ALLOW_PRIVATE=true``.  The connection then goes to the very
  address that was checked (pinned), so a name that answers differently a
  moment later (DNS rebinding) gets nowhere; TLS still checks the name.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from urllib.parse import urljoin, urlsplit

MAX_BYTES = 2 * 1024 * 1024
TIMEOUT_SECONDS = 10.0
MAX_REDIRECTS = 3
USER_AGENT = "reader-survey (survey draft)"


class FetchError(ValueError):
    """Why an address could not be fetched, in words for the person."""


def fetch(url: str, *, allow_private: bool = False) -> tuple[bytes, str]:
    """The body and content type of ``url`` (after redirects)."""
    deadline = time.monotonic() + TIMEOUT_SECONDS
    for _ in range(MAX_REDIRECTS + 1):
        status, headers, body = _get(url, allow_private=allow_private, deadline=deadline)
        if status in (301, 302, 303, 307, 308):
            location = headers.get("location")
            if not location:
                raise FetchError(f"{url} redirects without saying where")
            url = urljoin(url, location)
            continue
        if status != 200:
            raise FetchError(f"{url} answered {status}, not the post")
        return body, headers.get("content-type", "")
    raise FetchError(f"more than {MAX_REDIRECTS} redirects")


def _get(url: str, *, allow_private: bool, deadline: float) -> tuple[int, dict[str, str], bytes]:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError(f"no answer in {TIMEOUT_SECONDS:.0f} s")
    connection, path = _connect(
        url, allow_private=allow_private, setting="SURVEY_FETCH_ALLOW_PRIVATE", timeout=remaining
    )
    try:
        connection.request("GET", path, headers={"User-Agent": USER_AGENT, "Accept": "text/html"})
        response = connection.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BYTES:
            raise FetchError("the page is larger than 2 MB")
        body = b""
        while chunk := response.read(65536):
            body += chunk
            if len(body) > MAX_BYTES:
                raise FetchError("the page is larger than 2 MB")
            if time.monotonic() > deadline:
                raise FetchError(f"no whole answer in {TIMEOUT_SECONDS:.0f} s")
        return response.status, headers, body
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"{url} could not be fetched: {exc}") from None
    finally:
        connection.close()


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_private: bool,
    timeout: float = 10.0,
    max_read: int = 64 * 1024,
) -> tuple[int, dict[str, str], bytes]:
    """POST to an address checked as ``fetch`` checks it (the connection goes
    to the address that was checked; no redirect is followed), reading at
    most ``max_read`` bytes of the answer.  Raises FetchError."""
    connection, path = _connect(
        url, allow_private=allow_private, setting="SURVEY_WEBHOOK_ALLOW_PRIVATE", timeout=timeout
    )
    try:
        connection.request("POST", path, body=body, headers={"User-Agent": USER_AGENT, **headers})
        response = connection.getresponse()
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, answer_headers, response.read(max_read)
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(f"{type(exc).__name__}: {exc}") from None
    finally:
        connection.close()


def _connect(
    url: str, *, allow_private: bool, setting: str, timeout: float
) -> tuple[http.client.HTTPConnection, str]:
    """A connection to the one address ``url``'s host was checked to have
    (no second lookup), and the path to ask for."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"{url} is not an http or https address")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _checked_address(parts.hostname, port, allow_private=allow_private, setting=setting)
    pinned = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
    connection = pinned(parts.hostname, port, address=address, timeout=timeout)
    return connection, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _checked_address(
    host: str, port: int, *, allow_private: bool, setting: str = "SURVEY_FETCH_ALLOW_PRIVATE"
) -> str:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise FetchError(f"{host} could not be found: {exc}") from None
    addresses = [str(info[4][0]) for info in infos]
    if not allow_private:
        for text in addresses:
            if not _public(ipaddress.ip_address(text.split("%")[0])):
                raise FetchError(
                    f"{host} is a local or private address ({text}); reaching it is refused "
                    f"({setting}=true allows it)"
                )
    return addresses[0]


def _public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]
