"""The renderer sandbox (tipline.evidence.sandbox): its limits hold against real programs.

Each test runs a real program from /usr/bin inside the real confinement this machine offers
(bubblewrap here; the same assertions hold for the weaker levels, which is why they do not test
the namespaces' file-system view unless bwrap is what runs).
"""

from __future__ import annotations

import time

import pytest

from tipline.evidence import sandbox

QUICK = sandbox.Limits(timeout_seconds=3, cpu_seconds=1, max_output_bytes=1 << 20)


def test_output_comes_back_from_stdin_and_from_a_memfd() -> None:
    assert sandbox.run(["/usr/bin/cat"], stdin=b"words\n") == b"words\n"
    assert sandbox.run(["/usr/bin/cat", "{0}"], files=(b"from memory\n",)) == b"from memory\n"


def test_a_busy_loop_is_killed_by_the_cpu_limit() -> None:
    # A wall clock far beyond the one CPU second: only the CPU limit can end it this early,
    # however loaded the machine is.
    limits = sandbox.Limits(timeout_seconds=120, cpu_seconds=1)
    started = time.monotonic()
    with pytest.raises(sandbox.SandboxFailed) as failed:
        sandbox.run(["/usr/bin/dash", "-c", "while :; do :; done"], limits=limits)
    assert failed.value.reason == sandbox.TIMEOUT
    assert time.monotonic() - started < 100


def test_a_sleeper_is_killed_at_the_wall_clock_timeout() -> None:
    started = time.monotonic()
    with pytest.raises(sandbox.SandboxFailed) as failed:
        sandbox.run(
            ["/usr/bin/sleep", "60"], limits=sandbox.Limits(timeout_seconds=1, cpu_seconds=1)
        )
    assert failed.value.reason == sandbox.TIMEOUT
    assert time.monotonic() - started < 30  # not the 60 s it asked for


def test_endless_output_is_cut_at_the_limit_without_filling_memory() -> None:
    with pytest.raises(sandbox.SandboxFailed) as failed:
        sandbox.run(["/usr/bin/yes"], limits=QUICK)
    assert failed.value.reason == sandbox.TOO_LARGE


def test_no_file_can_be_written() -> None:
    with pytest.raises(sandbox.SandboxFailed):
        sandbox.run(["/usr/bin/dash", "-c", "echo x > /tmp/written && cat /tmp/written"])


def test_memory_is_bounded() -> None:
    # The system Python asks for 300 MB: allowed with the default, refused under 128 MB.
    allocate = ["/usr/bin/python3", "-c", "b = bytearray(300 << 20); print(len(b))"]
    assert sandbox.run(allocate) == b"314572800\n"
    with pytest.raises(sandbox.SandboxFailed):
        sandbox.run(allocate, limits=sandbox.Limits(memory_bytes=128 << 20))


def test_a_program_outside_usr_or_missing_is_refused() -> None:
    with pytest.raises(sandbox.SandboxFailed) as failed:
        sandbox.run(["/usr/bin/no-such-renderer"])
    assert failed.value.reason == sandbox.MISSING


@pytest.mark.skipif(sandbox.confinement() != "bwrap", reason="bubblewrap not usable here")
def test_bwrap_shows_no_network_no_home_and_no_evidence_store() -> None:
    seen = sandbox.run(
        [
            "/usr/bin/dash",
            "-c",
            "ls /; ls /work /root /home 2>&1; ls /etc; cat /proc/net/dev",
        ]
    ).decode()
    lines = set(seen.splitlines())
    assert lines >= {"usr", "proc", "dev", "tmp", "etc"}
    assert not lines & {"work", "root", "home", "var", "srv"}
    assert seen.count("No such file") == 3  # /work, /root and /home do not exist inside
    # /etc holds only what the loader and fontconfig read: no passwd, no hosts, no keys.
    assert {"passwd", "hosts", "ssl"}.isdisjoint(lines)
    # Only the loopback interface exists in the new network namespace.
    interfaces = [line.split(":")[0].strip() for line in seen.splitlines() if ":" in line]
    assert "eth0" not in interfaces
    assert "lo" in interfaces
