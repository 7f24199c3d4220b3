"""The front's generated nginx configuration: the promises it must keep, checked on the text
and by nginx itself (`nginx -t`), and the scrubbing of its error log."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tipline.ops import front

MAX_BODY = 211 * 1024 * 1024


@pytest.fixture
def paths(tmp_path: Path) -> front.FrontPaths:
    return front.prepare(tmp_path / "data")


@pytest.fixture
def config(paths: front.FrontPaths) -> str:
    text = front.render(
        paths, host="127.0.0.1", port=8000, max_body=MAX_BODY, limits=front.FrontLimits()
    )
    front.write_config(paths, text)
    return text


def _directives(config: str, name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;]*);", config, flags=re.MULTILINE)


def test_nginx_accepts_the_configuration(paths: front.FrontPaths, config: str) -> None:
    nginx = front.find_nginx()
    check = subprocess.run(
        [*front.argv(nginx, paths), "-t"], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr
    assert "{{" not in config


def test_nothing_about_a_client_is_logged(config: str) -> None:
    assert _directives(config, "access_log") == ["off"]
    assert _directives(config, "error_log") == ["stderr crit"]
    assert "$remote_addr" not in config
    assert "$request" not in config
    assert "log_format" not in config


def test_no_forwarding_header_is_added(config: str) -> None:
    for header in ("X-Forwarded-For", "X-Real-IP", "Forwarded"):
        values = re.findall(rf"proxy_set_header {header} ([^;]*);", config)
        assert values, header
        assert set(values) == {'""'}, header  # an empty value: the header is not sent
    assert set(re.findall(r"proxy_set_header Host ([^;]*);", config)) == {"$http_host"}


def test_bodies_stay_in_memory_up_to_the_largest_request(config: str) -> None:
    assert _directives(config, "client_max_body_size") == [str(MAX_BODY)]
    assert _directives(config, "client_body_buffer_size") == [str(MAX_BODY)]
    assert _directives(config, "client_body_in_file_only") == ["off"]
    # Every proxied location keeps responses out of temporary files.
    assert len(_directives(config, "proxy_pass")) == len(
        [v for v in _directives(config, "proxy_max_temp_file_size") if v == "0"]
    )


def test_every_temporary_path_is_inside_the_prefix(paths: front.FrontPaths, config: str) -> None:
    temp_paths = re.findall(r"^\s*\w+_temp_path\s+(\S+);", config, flags=re.MULTILINE)
    assert len(temp_paths) == 5
    assert all(p.startswith(f"{paths.prefix}/tmp/") for p in temp_paths)


def test_the_prefix_is_private(paths: front.FrontPaths) -> None:
    assert paths.prefix.stat().st_mode & 0o777 == 0o700
    assert (paths.prefix / "tmp").stat().st_mode & 0o777 == 0o700


def test_a_deep_data_directory_gets_a_short_socket_path(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    paths = front.prepare(deep)
    assert len(str(paths.socket)) < 100
    assert paths.socket.parent.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(
    "line",
    [
        # Real nginx lines (addresses and paths changed), crit and info.
        "2026/12/02 02:56:11 [crit] 26291#26291: *1 connect() to unix:/srv/t/front/gunicorn.sock "
        "failed (2: No such file or directory) while connecting to upstream, client: 10.1.2.3, "
        'server: tipline, request: "GET /en/follow-up/?receipt=abc HTTP/1.1", upstream: '
        '"http://unix:/srv/t/front/gunicorn.sock:/en/", host: "abc.onion"',
        "2026/12/02 03:00:00 [info] 7#7: *9 client timed out (110: Connection timed out) while "
        "reading client request body, client: 2001:db8::1, server: tipline, request: "
        '"POST /en/report/cyberstalking/ HTTP/1.1", host: "127.0.0.1:8000"',
    ],
)
def test_log_lines_lose_the_client_and_the_request(line: str) -> None:
    scrubbed = front.scrub_line(line)
    assert scrubbed.startswith("2026/12/02 ")  # the time stays readable
    for secret in ("10.1.2.3", "2001:db8", "client:", "request:", "/en/", "receipt", "host:"):
        assert secret not in scrubbed
    assert "timed out" in scrubbed or "connect()" in scrubbed


def test_a_line_without_request_context_is_kept(config: str) -> None:
    line = "2026/12/02 03:00:00 [alert] 7#7: 2048 worker_connections are not enough"
    assert front.scrub_line(line) == line
