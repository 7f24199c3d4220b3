"""The re-check against real DNS and web servers on loopback: outcomes, redirects, the SSRF
guard on the address actually connected to, headers only, and the per-host limit."""

from __future__ import annotations

import socket
import threading
import time

from django.conf import LazySettings as SettingsWrapper

from tests.takedown.servers import Answer, DnsServer, HttpServer
from tipline.takedown import config
from tipline.takedown.recheck import check_urls


def _check(url: str) -> tuple[str, int | None, str]:
    result = check_urls([url], config.load())[0]
    return result.outcome, result.status, result.detail


def test_outcomes_by_status(takedown_settings: SettingsWrapper, web_server: HttpServer) -> None:
    web_server.routes["/up"] = Answer(200, body=b"page")
    web_server.routes["/gone"] = Answer(410)
    web_server.routes["/error"] = Answer(503)
    assert _check(web_server.url("/up"))[:2] == ("serving", 200)
    assert _check(web_server.url("/missing"))[:2] == ("removed", 404)
    assert _check(web_server.url("/gone"))[:2] == ("removed", 410)
    assert _check(web_server.url("/error"))[:2] == ("error", 503)
    assert [m for m, _p, _h in web_server.requests] == ["HEAD"] * 4


def test_a_name_is_resolved_by_the_configured_resolver_and_sent_as_host(
    takedown_settings: SettingsWrapper, dns_server: DnsServer, web_server: HttpServer
) -> None:
    dns_server.records["pics.example"] = "127.0.0.1"
    web_server.routes["/a"] = Answer(200)
    assert _check(web_server.url("/a", host="pics.example"))[0] == "serving"
    assert web_server.requests[0][2]["Host"] == f"pics.example:{web_server.port}"
    assert _check(web_server.url("/a", host="gone.example")) == (
        "removed",
        None,
        "DNS: the name no longer exists",
    )
    dns_server.silent.add("slow.example")
    assert _check(web_server.url("/a", host="slow.example"))[0] == "error"


def test_get_after_405_reads_headers_only(
    takedown_settings: SettingsWrapper, web_server: HttpServer
) -> None:
    calls: list[str] = []
    web_server.routes["/stream"] = Answer(200, stream=64 * 1024 * 1024)
    # HEAD and GET share the route table, so serve 405 to HEAD by path rewriting in a subclass.
    handler = web_server.httpd.RequestHandlerClass

    def do_head(self: object) -> None:
        calls.append("HEAD")
        self.send_response(405)  # type: ignore[attr-defined]
        self.send_header("Content-Length", "0")  # type: ignore[attr-defined]
        self.end_headers()  # type: ignore[attr-defined]

    handler.do_HEAD = do_head  # type: ignore[attr-defined]
    assert _check(web_server.url("/stream"))[:2] == ("serving", 200)
    assert calls == ["HEAD"]
    assert [m for m, p, _h in web_server.requests if p == "/stream"] == ["GET"]
    # The 64 MB body was not read: the checker hung up after the headers.
    for _ in range(50):
        if web_server.aborted:
            break
        time.sleep(0.1)
    assert web_server.aborted == 1


def test_private_addresses_are_never_fetched(
    takedown_settings: SettingsWrapper, dns_server: DnsServer, web_server: HttpServer
) -> None:
    dns_server.records["internal.example"] = "10.0.0.5"
    dns_server.records["meta.example"] = "169.254.169.254"
    assert _check("http://internal.example/")[0] == "blocked"
    assert _check("http://meta.example/latest/meta-data/")[0] == "blocked"
    takedown_settings.TIPLINE_TAKEDOWN_ALLOW_LOOPBACK = False
    assert _check("http://[::1]:1/")[0] == "blocked"
    assert _check("http://[::ffff:127.0.0.1]:1/")[0] == "blocked"
    dns_server.records["sneaky.example"] = "127.0.0.1"
    web_server.routes["/x"] = Answer(200)
    assert _check(web_server.url("/x"))[0] == "blocked"
    assert _check(web_server.url("/x", host="sneaky.example"))[0] == "blocked"
    assert web_server.requests == []


def test_redirects_are_followed_to_a_limit_and_each_hop_checked(
    takedown_settings: SettingsWrapper, dns_server: DnsServer, web_server: HttpServer
) -> None:
    dns_server.records["internal.example"] = "192.168.1.1"
    web_server.routes["/to-private"] = Answer(302, {"Location": "http://internal.example/admin"})
    web_server.routes["/to-ip"] = Answer(301, {"Location": "http://10.1.1.1/"})
    web_server.routes["/hop"] = Answer(302, {"Location": "/final"})
    web_server.routes["/final"] = Answer(404)
    web_server.routes["/loop"] = Answer(307, {"Location": "/loop"})
    web_server.routes["/odd"] = Answer(302, {"Location": "gopher://x/"})
    assert _check(web_server.url("/to-private"))[0] == "blocked"
    assert _check(web_server.url("/to-ip"))[0] == "blocked"
    assert _check(web_server.url("/hop"))[:2] == ("removed", 404)
    assert _check(web_server.url("/loop")) == ("error", None, "too many redirects")
    loops = [p for _m, p, _h in web_server.requests if p == "/loop"]
    assert len(loops) == 6  # the first request and five redirects (the default limit)
    assert _check(web_server.url("/odd"))[0] == "error"


def test_connection_refused_means_removed(takedown_settings: SettingsWrapper) -> None:
    assert _check("http://127.0.0.1:9/page")[:1] == ("removed",)


def test_malformed_urls_are_errors_not_crashes(takedown_settings: SettingsWrapper) -> None:
    for url in ("not a url", "ftp://files.example/x", "http://", "http://\ud800.example/", ""):
        assert _check(url)[0] == "error", url


def test_no_more_than_n_connections_per_host(
    takedown_settings: SettingsWrapper, web_server: HttpServer
) -> None:
    takedown_settings.TIPLINE_TAKEDOWN_PER_HOST = 3
    takedown_settings.TIPLINE_TAKEDOWN_CONCURRENCY = 20
    for i in range(30):
        web_server.routes[f"/slow/{i}"] = Answer(200, delay=0.05)
    results = check_urls([web_server.url(f"/slow/{i}") for i in range(30)], config.load())
    assert {r.outcome for r in results} == {"serving"}
    assert web_server.most_in_flight <= 3
    assert web_server.most_in_flight >= 2  # and they did overlap


def test_oversized_or_malformed_replies_are_bounded_errors(
    takedown_settings: SettingsWrapper, web_server: HttpServer
) -> None:
    web_server.routes["/huge-header"] = Answer(200, {"X-Filler": "a" * 100_000})
    assert _check(web_server.url("/huge-header")) == (
        "error",
        None,
        "no complete HTTP header (or headers too long)",
    )
    garbage = socket.socket()
    garbage.bind(("127.0.0.1", 0))
    garbage.listen(4)
    port = garbage.getsockname()[1]

    def answer_garbage() -> None:
        for reply in (b"SSH-2.0-OpenSSH_9.2\r\n\r\n", b"HTTP/1.1 abc OK\r\n\r\n", b"HTTP/1.1 200"):
            conn, _ = garbage.accept()
            conn.recv(4096)
            conn.sendall(reply)
            conn.close()

    thread = threading.Thread(target=answer_garbage, daemon=True)
    thread.start()
    try:
        assert _check(f"http://127.0.0.1:{port}/")[2] == "not an HTTP/1 status line"
        assert _check(f"http://127.0.0.1:{port}/")[2] == "not an HTTP/1 status line"
        assert _check(f"http://127.0.0.1:{port}/")[0] == "error"  # cut off mid-header
    finally:
        thread.join(timeout=5)
        garbage.close()


def test_through_the_outbound_proxy_the_proxy_connects(
    takedown_settings: SettingsWrapper, dns_server: DnsServer, web_server: HttpServer
) -> None:
    # The test web server stands in for an HTTP proxy: it receives the absolute URL.
    dns_server.records["pics.example"] = "127.0.0.1"
    target = "http://pics.example:8081/folder/7"
    web_server.routes[target] = Answer(410)
    takedown_settings.TIPLINE_TAKEDOWN_PROXY = web_server.url("")
    assert _check(target)[:2] == ("removed", 410)
    assert [(m, p) for m, p, _h in web_server.requests] == [("HEAD", target)]
    # The name is still checked where it resolves, proxy or not.
    dns_server.records["internal.example"] = "10.9.9.9"
    assert _check("http://internal.example/")[0] == "blocked"
