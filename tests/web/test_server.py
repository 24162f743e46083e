"""The HTTP protocol `survey serve` gives uvicorn: every connection gets
TCP_NODELAY, including on the socket uvicorn opens itself for several workers."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from survey.web.server import HTTP_PROTOCOL, event_loop


async def hello(scope: dict[str, object], receive: object, send: object) -> None:
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
    await send({"type": "http.response.body", "body": b"hello"})  # type: ignore[operator]


@contextmanager
def running(protocol: str | type[HttpToolsProtocol]) -> Iterator[tuple[uvicorn.Server, int]]:
    # The listening socket as uvicorn makes it for --workers N: protocol 0,
    # which is what keeps asyncio from setting TCP_NODELAY by itself.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    assert listener.proto == 0
    config = uvicorn.Config(
        hello, http=protocol, loop="asyncio", lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]})
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        yield server, listener.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()


def nodelay_of_open_connections(protocol: str | type[HttpToolsProtocol]) -> list[int]:
    with running(protocol) as (server, port):
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            client.request("GET", "/")
            response = client.getresponse()
            assert response.read() == b"hello"
            # The keep-alive connection is still open: look at the server's end.
            return [
                connection.transport.get_extra_info("socket").getsockopt(
                    socket.IPPROTO_TCP, socket.TCP_NODELAY
                )
                for connection in list(server.server_state.connections)
            ]
        finally:
            client.close()


def test_every_connection_gets_tcp_nodelay() -> None:
    assert nodelay_of_open_connections(HTTP_PROTOCOL) == [1]


def test_without_it_asyncio_leaves_nagle_on() -> None:
    # The trap the protocol exists for (if uvicorn or asyncio fixes it, this
    # fails, and the protocol can go).
    assert nodelay_of_open_connections(HttpToolsProtocol) == [0]


def test_the_loop_follows_the_workers_unless_chosen() -> None:
    # One worker: asyncio (a steadier p99); several: uvloop (they share the
    # connections); an explicit choice wins.
    assert event_loop("auto", 1) == "asyncio"
    assert event_loop("auto", 2) == "uvloop"
    assert event_loop("asyncio", 4) == "asyncio"
    assert event_loop("uvloop", 1) == "uvloop"
