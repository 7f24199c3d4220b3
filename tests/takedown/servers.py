"""Real servers on 127.0.0.1 for the takedown tests: DNS (UDP), RDAP and web (HTTP), SMTP.

Each runs in a thread of the test process on a free port and is stopped by its fixture. The DNS
server answers from a table (name -> IPv4), stays silent for names marked "timeout" and answers
NXDOMAIN for the rest. The HTTP servers answer from a table (path -> status, headers, body).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.rrset
from aiosmtpd.controller import Controller


class DnsServer:
    """A tiny authoritative-style UDP responder built on dnspython's wire format."""

    def __init__(self) -> None:
        self.records: dict[str, str] = {}  # name (no trailing dot) -> IPv4
        self.silent: set[str] = set()  # names never answered (a timeout)
        self.queries: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> DnsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                query = dns.message.from_wire(data)
            except Exception:  # noqa: BLE001, S112 - a test server drops what it cannot parse
                continue
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            self.queries.append(name)
            if name in self.silent:
                continue
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            if name in self.records:
                if question.rdtype == dns.rdatatype.A:
                    response.answer.append(
                        dns.rrset.from_text(question.name, 60, "IN", "A", self.records[name])
                    )
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(response.to_wire(), peer)


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    # Stream this many bytes of filler after ``body`` (a huge reply, written lazily).
    stream: int = 0
    delay: float = 0.0  # seconds before answering (to see how many requests overlap)


class HttpServer:
    """A threaded HTTP server answering from ``routes``; counts requests by method and path."""

    def __init__(self) -> None:
        self.routes: dict[str, Answer] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.aborted = 0  # replies the client hung up on before reading the body
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, with_body: bool) -> None:
                with server.lock:
                    server.requests.append((self.command, self.path, dict(self.headers)))
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                answer = server.routes.get(self.path, Answer(404, body=b"not here"))
                # A request counts as in flight until just before its answer leaves: the client
                # may start its next request on this host as soon as it has read the headers,
                # and counting past that point would see that one and this one at once.
                try:
                    if answer.delay:
                        time.sleep(answer.delay)
                finally:
                    with server.lock:
                        server.in_flight -= 1
                self._send(answer, with_body)

            def _send(self, answer: Answer, with_body: bool) -> None:
                length = len(answer.body) + answer.stream
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                if not with_body:
                    return
                try:
                    self.wfile.write(answer.body)
                    left = answer.stream
                    chunk = b"x" * 65536
                    while left > 0:
                        self.wfile.write(chunk[: min(left, len(chunk))])
                        left -= len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    with server.lock:
                        server.aborted += 1
                    self.close_connection = True

            def do_GET(self) -> None:
                self._answer(True)

            def do_HEAD(self) -> None:
                self._answer(False)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def start(self) -> HttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse = False

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return "451 4.3.0 try again later"
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 OK"


class SmtpServer:
    """aiosmtpd on 127.0.0.1; ``inbox.messages`` holds what arrived, parsed."""

    def __init__(self) -> None:
        self.inbox = _Inbox()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def xarf_parts(message: EmailMessage) -> list[str]:
    """The JSON attachments of a notice, as text."""
    found = []
    for part in message.walk():
        if part.get_content_type() == "application/json":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found.append(payload.decode("utf-8"))
    return found


def readable_body(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    assert isinstance(text, str)
    return text


def rdap_ip(email: str, *, name: str = "EXAMPLE-NET", country: str = "GB", org: str = "") -> bytes:
    """An RDAP ip-network object whose abuse entity has ``email``."""
    import json

    return json.dumps(
        {
            "objectClassName": "ip network",
            "handle": "NET-1",
            "name": name,
            "country": country,
            "entities": [
                {
                    "objectClassName": "entity",
                    "roles": ["registrant"],
                    "vcardArray": [
                        "vcard",
                        [["version", {}, "text", "4.0"], ["fn", {}, "text", org or name]],
                    ],
                    "entities": [
                        {
                            "objectClassName": "entity",
                            "roles": ["abuse"],
                            "vcardArray": [
                                "vcard",
                                [
                                    ["version", {}, "text", "4.0"],
                                    ["fn", {}, "text", org or "Abuse desk"],
                                    ["email", {}, "text", email],
                                ],
                            ],
                        }
                    ],
                }
            ],
        }
    ).encode()


def started(*servers: Any) -> Iterator[Any]:
    for server in servers:
        server.start()
    yield servers
    for server in servers:
        server.stop()
