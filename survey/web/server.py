"""How ``survey serve`` runs uvicorn: the event loop, and one fix to its
HTTP protocol.

The loop is Python's own ``asyncio`` by default.  Measured in ``bench/``
(64 keep-alive connections, 1 worker), uvloop served requests unfairly: most
answered in 40 ms, but a few percent waited 0.2-1.2 s, run after run, and the
bare reference app showed the same; on the asyncio loop p99 was ~55 ms at the
same or better throughput.  ``survey serve --loop uvloop`` keeps the choice.

The asyncio loop has one trap: with ``--workers 2`` or more, uvicorn opens the
listening socket itself (protocol number 0), and asyncio sets ``TCP_NODELAY``
only on sockets whose protocol is ``IPPROTO_TCP``.  Without it, a response
written in two parts waits for the client's delayed ACK, ~40 ms on every
keep-alive request (1,400 requests/s instead of thousands).  This protocol sets
``TCP_NODELAY`` on every TCP connection, whatever the loop and the workers.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Passed to uvicorn as a string: worker processes import it themselves.
HTTP_PROTOCOL = f"{__name__}:NoDelayHttpProtocol"


class NoDelayHttpProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
