"""Is a reported URL still up? HEAD, then (if the server refuses HEAD) a GET whose body is never
read; redirects followed by hand to a limit; every address checked before it is connected to.

SSRF: the name is resolved here (the configured resolver), the address must be public
(``addresses.is_public``), and the connection is opened to that address with the name in the
Host header and TLS SNI (certificates are verified against the name), so a name that changes its
answer between check and connect (DNS rebinding) cannot reach a private address. Each redirect
goes through the same check. Through an outbound proxy (``TIPLINE_TAKEDOWN_PROXY``, e.g. Tor)
the proxy connects: the name is still checked here where it resolves, and the proxy itself must
refuse private destinations (docs/deployment.md).

Many URLs are checked at once (``concurrency``) with at most ``per_host`` in flight per host, so
a provider is never hammered. This runs in the task worker, never in anyone's browser.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import ipaddress
import ssl
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.resolver
import httpx

from tipline.takedown.addresses import is_public
from tipline.takedown.config import Config

REDIRECTS = frozenset({301, 302, 303, 307, 308})
GONE = frozenset({404, 410})
USER_AGENT = "Tipline-recheck/1 (hotline takedown verification)"


@dataclass(frozen=True)
class Result:
    outcome: str  # a models.CheckOutcome value
    status: int | None
    detail: str


class _Resolver:
    def __init__(self, config: Config) -> None:
        self.resolver = dns.asyncresolver.Resolver(configure=not config.resolver)
        if config.resolver:
            server, _, port = config.resolver.partition(":")
            self.resolver.nameservers = [server]
            self.resolver.port = int(port or 53)
        self.resolver.lifetime = config.lookup_timeout
        self.resolver.timeout = config.lookup_timeout
        # One answer per name per run: a pass checks many URLs on the same few hosts. The
        # address used is still the one connected to; a run lasts minutes, not a TTL's days.
        self.known: dict[str, tuple[str, Result | None]] = {}

    async def address(self, host: str) -> tuple[str, Result | None]:
        try:
            return str(ipaddress.ip_address(host.strip("[]"))), None
        except ValueError:
            pass
        if host not in self.known:
            self.known[host] = await self._look_up(host)
        return self.known[host]

    async def _look_up(self, host: str) -> tuple[str, Result | None]:
        for rdtype in ("A", "AAAA"):
            try:
                answer = await self.resolver.resolve(host, rdtype)
            except dns.resolver.NoAnswer:
                continue
            except dns.resolver.NXDOMAIN:
                return "", Result("removed", None, "DNS: the name no longer exists")
            except dns.exception.Timeout:
                return "", Result("error", None, "DNS lookup timed out")
            except dns.exception.DNSException as exc:
                return "", Result("error", None, f"DNS lookup failed ({type(exc).__name__})")
            for record in answer:
                return str(record.address), None
        return "", Result("removed", None, "DNS: the name has no address")


MAX_HEADER_BYTES = 32 * 1024  # a reply's status line and headers; anything longer is refused


@dataclass(frozen=True)
class Reply:
    status: int
    location: str | None


class BadReply(Exception):
    """The server's reply is not HTTP we can read (or its headers are too long)."""


async def _direct(url: httpx.URL, address: str, method: str, timeout: float) -> Reply:
    """One request to ``address`` itself (the checked address) with the URL's name as Host and
    SNI; reads the status line and headers (bounded) and hangs up: the body is never read.

    Plain asyncio streams rather than a client library: a pass makes thousands of these, and
    this is the whole of what is needed (one request per connection, ``Connection: close``).
    """
    https = url.scheme == "https"
    port = url.port or (443 if https else 80)
    context = ssl.create_default_context() if https else None
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(
            address,
            port,
            ssl=context,
            server_hostname=url.raw_host.decode("ascii") if https else None,
            limit=MAX_HEADER_BYTES,
        ),
        timeout,
    )
    try:
        name = url.raw_host.decode("ascii")  # IDNA-encoded by httpx
        name = f"[{name}]" if ":" in name else name
        host = name if url.port is None else f"{name}:{url.port}"
        # raw_path is percent-encoded by httpx: no space, CR or LF can reach the request line.
        writer.write(
            f"{method} {url.raw_path.decode('ascii')} HTTP/1.1\r\nHost: {host}\r\n"
            f"User-Agent: {USER_AGENT}\r\nAccept: */*\r\nConnection: close\r\n\r\n".encode("ascii")
        )
        await writer.drain()
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        except (asyncio.LimitOverrunError, asyncio.IncompleteReadError):
            raise BadReply("no complete HTTP header (or headers too long)") from None
    finally:
        writer.transport.abort()  # no lingering, no body
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise BadReply("not an HTTP/1 status line")
    location = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "location":
            location = value.strip()
    return Reply(int(parts[1]), location)


async def _proxied(client: httpx.AsyncClient, url: httpx.URL, method: str) -> Reply:
    """Through the outbound proxy (httpx): the proxy connects, the body is never read."""
    request = client.build_request(method, url, headers={"User-Agent": USER_AGENT})
    response = await client.send(request, stream=True)
    await response.aclose()
    return Reply(response.status_code, response.headers.get("location"))


async def _fetch(
    client: httpx.AsyncClient | None, url: httpx.URL, address: str, timeout: float
) -> Reply:
    """HEAD; a GET (headers only) when the server refuses HEAD."""
    reply = Reply(0, None)
    for method in ("HEAD", "GET"):
        if client is None:
            reply = await _direct(url, address, method, timeout)
        else:
            reply = await _proxied(client, url, method)
        if method == "HEAD" and reply.status in (405, 501):
            continue
        break
    return reply


def _refused(exc: BaseException) -> bool:
    """Was the connection refused (the server is gone), rather than unreachable or timed out?"""
    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError):
            return True
        if isinstance(seen, BaseExceptionGroup):
            return any(_refused(inner) for inner in seen.exceptions)
        seen = seen.__cause__ or seen.__context__
    return False


async def check(
    client: httpx.AsyncClient | None, resolver: _Resolver, url: str, config: Config
) -> Result:
    try:
        current = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        return Result("error", None, "not a URL")
    for _hop in range(config.max_redirects + 1):
        if current.scheme not in ("http", "https") or not current.host:
            return Result("error", None, "only http and https addresses are checked")
        address, failed = await resolver.address(current.host)
        if failed is not None:
            return failed
        if not is_public(address, allow_loopback=config.allow_loopback):
            return Result("blocked", None, "resolves to a private or reserved address")
        try:
            reply = await _fetch(client, current, address, config.check_timeout)
        except (httpx.ConnectError, ConnectionRefusedError) as exc:
            if _refused(exc):
                return Result("removed", None, "connection refused")
            return Result("error", None, "could not connect")
        except (httpx.TimeoutException, TimeoutError):
            return Result("error", None, "timed out")
        except BadReply as exc:
            return Result("error", None, str(exc))
        except (httpx.HTTPError, OSError, UnicodeError, ValueError) as exc:
            return Result("error", None, f"failed ({type(exc).__name__})")
        status, location = reply.status, reply.location
        if status in REDIRECTS and location:
            try:
                current = current.join(location)
            except (httpx.InvalidURL, ValueError):
                return Result("error", status, "unusable redirect")
            continue
        if status in GONE:
            return Result("removed", status, f"HTTP {status}")
        if 200 <= status < 400:
            return Result("serving", status, f"HTTP {status}")
        return Result("error", status, f"HTTP {status}")
    return Result("error", None, "too many redirects")


async def check_all(urls: Sequence[str], config: Config) -> list[Result]:
    """Check every URL: ``concurrency`` at once, ``per_host`` at once per host."""
    overall = asyncio.Semaphore(max(1, config.concurrency))
    per_host: defaultdict[str, asyncio.Semaphore] = defaultdict(
        lambda: asyncio.Semaphore(max(1, config.per_host))
    )
    resolver = _Resolver(config)
    limits = httpx.Limits(
        max_connections=max(1, config.concurrency),
        max_keepalive_connections=max(1, config.concurrency),
    )

    async def one(client: httpx.AsyncClient | None, url: str) -> Result:
        try:
            host = (httpx.URL(url).host or "").lower()
        except (httpx.InvalidURL, ValueError):
            host = ""
        async with per_host[host], overall:
            return await check(client, resolver, url, config)

    if not config.proxy:
        return list(await asyncio.gather(*(one(None, url) for url in urls)))
    async with httpx.AsyncClient(
        timeout=config.check_timeout,
        follow_redirects=False,
        limits=limits,
        proxy=config.proxy,
        trust_env=False,
    ) as client:
        return list(await asyncio.gather(*(one(client, url) for url in urls)))


def check_urls(urls: Sequence[str], config: Config) -> list[Result]:
    """Check ``urls`` on an event loop of their own.

    The worker calls this from plain synchronous code. A caller whose thread already runs an event
    loop (Playwright's sync API keeps one in the test process; an async server might) cannot nest
    ``asyncio.run``: there the checks run on a loop in a thread of their own.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(check_all(urls, config))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, check_all(urls, config)).result()
