"""The front: nginx in front of gunicorn, generated and started by `tipline serve`.

Gunicorn hands a request to an application thread as soon as its headers are in, and the thread
then waits for the body: a handful of clients that announce a large upload and send nothing held
every thread and took the site down (issue 14). nginx reads every request completely before
gunicorn sees it, drops clients that go silent, and caps how many requests, and how many large
uploads, are in progress at once. The limits are documented in docs/deployment.md ("The front").

The configuration is rendered from `nginx.conf` beside this module into the data directory at
every start, and nginx runs as the current user with that directory as its prefix: no root, no
system configuration, nothing outside the data directory. Three promises are kept here and
checked by tests/ops: no client address or request line is logged (no access log; the error log
is piped through `scrub_line`), no body is written to disk (bodies stay in memory up to the
largest request Tipline accepts), and no forwarding header is added.
"""

from __future__ import annotations

import atexit
import grp
import os
import pwd
import re
import resource
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tipline.web.gunicorn_logger import scrub

TEMPLATE = Path(__file__).with_name("nginx.conf")
# nginx lives in /usr/sbin on Debian, which is not on an ordinary user's PATH.
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
# A unix socket's path must fit in sun_path (108 bytes with the terminating NUL).
_MAX_SOCKET_PATH = 100
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
# nginx appends the request's context to a log line: ", client: ADDRESS, server: …, request:
# "METHOD URI …", host: …". Everything from the client part on is dropped.
_REQUEST_CONTEXT = re.compile(r", client: .*$")
# Its timestamp looks like an IPv6 address to `scrub`; it is set aside first.
_TIMESTAMP = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d ")
BUSY_MESSAGE = "Tipline is busy. Nothing was saved: please try again in a minute."
LENGTH_REQUIRED_MESSAGE = (
    "Send the request with a Content-Length header: chunked uploads are not accepted. "
    "Nothing was saved."
)


class FrontError(Exception):
    """The front cannot start; the message says what to do."""


@dataclass(frozen=True)
class FrontLimits:
    """The numbers that bound what slow or idle clients can hold (docs/deployment.md)."""

    max_requests: int = 512  # requests in progress at once, after their headers
    max_uploads: int = 32  # of those, with a body over 1 MB
    client_timeout: int = 20  # seconds a client may stay silent (header, body, reading)
    upstream_timeout: int = 600  # seconds gunicorn may take to answer a complete request
    worker_connections: int = 2048  # open connections, idle ones included


@dataclass(frozen=True)
class FrontPaths:
    prefix: Path  # nginx's prefix: its configuration, pid file and (unused) temporary folders
    config: Path
    socket: Path  # where gunicorn listens; only nginx connects to it


def find_nginx() -> str:
    found = shutil.which("nginx", path=SEARCH_PATH)
    if found is None:
        raise FrontError(
            "nginx is not installed. Install it (`apt-get install nginx`; `make run` does), "
            "or run `tipline serve --no-front` behind a front of your own that buffers whole "
            "requests (docs/deployment.md)."
        )
    return found


def prepare(data_dir: Path) -> FrontPaths:
    """Create the prefix folder (0700) and choose where gunicorn's socket goes."""
    prefix = data_dir / "front"
    for folder in (prefix, prefix / "tmp"):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.chmod(0o700)
    socket = prefix / "gunicorn.sock"
    socket.unlink(missing_ok=True)  # left by a killed run: its presence means "listening"
    if len(str(socket).encode()) > _MAX_SOCKET_PATH:
        # A deep data directory: the socket goes to a private folder of its own instead.
        short = Path(tempfile.mkdtemp(prefix="tipline-"))
        atexit.register(shutil.rmtree, short, ignore_errors=True)
        socket = short / "gunicorn.sock"
    return FrontPaths(prefix=prefix, config=prefix / "nginx.conf", socket=socket)


def listen_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _user_line() -> str:
    # Only a master started as root switches its workers to another user; keep them as the
    # user who runs Tipline (the default would be `nobody`, who cannot read the prefix).
    if os.geteuid() != 0:
        return ""
    user = pwd.getpwuid(os.geteuid()).pw_name
    group = grp.getgrgid(os.getegid()).gr_name
    return f"user {user} {group};"


def connection_budget(limits: FrontLimits) -> tuple[int, int]:
    """(worker_connections, open files) within this process's file limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    files = limits.worker_connections + 64
    if hard != resource.RLIM_INFINITY and hard < files:
        files = hard
    return files - 64, files


def render(paths: FrontPaths, *, host: str, port: int, max_body: int, limits: FrontLimits) -> str:
    connections, files = connection_budget(limits)
    # Each request in progress holds two connections; keep room for idle ones too.
    max_requests = min(limits.max_requests, connections // 2 - 16)
    values = {
        "user": _user_line(),
        "prefix": str(paths.prefix),
        "open_files": str(files),
        "worker_connections": str(connections),
        "client_timeout": str(limits.client_timeout),
        "keepalive_timeout": str(min(limits.client_timeout, 10)),
        "max_body": str(max_body),
        "too_large_length": str(max_body + 1),
        "max_requests": str(max_requests),
        "max_uploads": str(min(limits.max_uploads, max_requests)),
        "upstream": f"unix:{paths.socket}",
        "upstream_timeout": str(limits.upstream_timeout),
        "listen": listen_address(host, port),
        "busy_message": BUSY_MESSAGE,
        "length_required_message": LENGTH_REQUIRED_MESSAGE,
    }

    def fill(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return _PLACEHOLDER.sub(fill, TEMPLATE.read_text())


def wait_for_socket(paths: FrontPaths, gunicorn: subprocess.Popen[bytes], seconds: float) -> None:
    """Wait until gunicorn listens, so that nginx never answers 502 while it starts."""
    deadline = time.monotonic() + seconds
    while not paths.socket.is_socket():
        if gunicorn.poll() is not None:
            raise FrontError("gunicorn stopped before it listened; see the messages above.")
        if time.monotonic() > deadline:
            raise FrontError(f"gunicorn did not listen on {paths.socket} within {seconds:.0f} s.")
        time.sleep(0.05)


def write_config(paths: FrontPaths, text: str) -> None:
    paths.config.write_text(text)
    paths.config.chmod(0o600)


def argv(nginx: str, paths: FrontPaths) -> list[str]:
    # -e: where nginx reports problems before it has read the configuration.
    return [nginx, "-p", f"{paths.prefix}/", "-c", str(paths.config), "-e", "stderr"]


def scrub_line(line: str) -> str:
    """An nginx log line without the client's address, the request line or the host."""
    line = line.rstrip("\n")
    found = _TIMESTAMP.match(line)
    stamp = found.group(0) if found else ""
    return stamp + scrub(_REQUEST_CONTEXT.sub("", line[len(stamp) :]))


def relay_log(source: IO[bytes], sink: IO[str]) -> threading.Thread:
    """Copy nginx's error log to `sink`, line by line, scrubbed (a daemon thread)."""

    def copy() -> None:
        for raw in source:
            sink.write("nginx: " + scrub_line(raw.decode("utf-8", "replace")) + "\n")
            sink.flush()

    thread = threading.Thread(target=copy, name="nginx-log", daemon=True)
    thread.start()
    return thread
