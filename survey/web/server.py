"""How ``survey serve`` runs uvicorn: the event loop, and one fix to its
HTTP protocol.

The loop (``--loop auto``, the default) follows what ``bench/`` measured on
a 2-core machine at 64 keep-alive connections:

- One worker: Python's own asyncio loop.  uvloop served requests unfairly
  there: most in ~40 ms, but a few percent waited 0.2-1.2 s, run after run
  (the bare reference app too); on asyncio p99 was 55-110 ms at the same
  throughput.
- Several workers: uvloop.  asyncio's accept loop takes every waiting
  connection at once, so the first worker to wake often gets all 64 and the
  others idle (2 workers: ~1.2x one worker); uvloop's workers share them
  (~2x).

``--loop asyncio`` or ``--loop uvloop`` overrides the choice.

asyncio has one more trap with several workers: uvicorn opens the listening
socket itself (protocol number 0), and asyncio sets ``TCP_NODELAY`` only on
sockets whose protocol is ``IPPROTO_TCP``.  Without it a response written in
two parts waits for the client's delayed ACK, ~40 ms on every keep-alive
request.  This protocol sets ``TCP_NODELAY`` on every TCP connection, whatever
the loop and the workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Passed to uvicorn as a string: worker processes import it themselves.
HTTP_PROTOCOL = f"{__name__}:NoDelayHttpProtocol"
LOOPS = ("auto", "asyncio", "uvloop")


def event_loop(choice: str, workers: int) -> str:
    """The loop uvicorn gets for ``--loop choice`` and that many workers."""
    if choice != "auto":
        return choice
    return "asyncio" if workers <= 1 else "uvloop"


@functools.cache
def _header_timeout() -> float:
    # Read in each worker process (uvicorn builds the protocol, not us).
    from survey.settings import Settings

    return Settings().header_timeout_seconds


class NoDelayHttpProtocol(HttpToolsProtocol):
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # A client that has already gone is the protocol's to notice, not ours.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
        self._arm_head_timer()

    # uvicorn closes a keep-alive connection that stays idle after a response,
    # but waits for ever on one that sends nothing, or a request head a byte at
    # a time: a few hundred such sockets take a server off the air.  A request
    # head must arrive whole within SURVEY_HEADER_TIMEOUT_SECONDS.
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._cancel_head_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(_header_timeout(), self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()  # quietly: no log line per idle socket
