"""Run a file renderer (poppler, FFmpeg) on hostile bytes in a confined child process.

Why: a preview means decoding a file a stranger made. Poppler and FFmpeg are large C programs
with a long history of memory bugs; a crafted file that takes one over must find itself in a
process that cannot reach the network, the evidence store, the database, the keys or the disk,
that dies at a time limit, and that cannot exhaust the machine.

How, from the outside in:

* ``prlimit`` (util-linux) sets the resource limits before anything else runs, so every process
  below inherits them: address space (``RLIMIT_AS``), CPU seconds, file size 0 (it can write no
  file), a handful of open files, no core dump.
* ``bwrap`` (bubblewrap), when it works on this machine: new user, PID, network, IPC, UTS and
  cgroup namespaces (``--unshare-all``), a root file system holding only a read-only ``/usr``,
  an empty ``/tmp`` in memory, the loader's cache, ``/etc/alternatives`` and ``/etc/fonts``,
  ``/proc`` of its own and a minimal ``/dev``; ``--die-with-parent``
  and ``--new-session`` (no TIOCSTI into our terminal). Probed once per process; where user
  namespaces are off (some hardened kernels, some containers), ``unshare --net`` (root) or
  ``unshare --net --map-root-user`` is used to at least cut the network, and where neither works
  the rlimits and the timeout are all there is. `docs/threat-model.md` says what each level holds.
* The parent gives the child its own process group and kills the whole group at the wall-clock
  timeout (a renderer that sleeps or blocks uses no CPU time).

The input goes in by pipe (stdin) or, for programs that must seek (FFmpeg reading MP4), as an
anonymous in-memory file (``memfd_create``) passed as ``/dev/fd/N``. Plaintext evidence never
touches a disk. The output comes back on stdout and is bounded.

This module knows nothing of Django or reports: it runs a command and says how it ended.
"""

from __future__ import annotations

import contextlib
import functools
import os
import selectors
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import IO

_MEBI = 1 << 20


@dataclass(frozen=True)
class Limits:
    """What one sandboxed run may use. Defaults fit one PDF page or a short video."""

    timeout_seconds: float = 20.0
    cpu_seconds: int = 20
    memory_bytes: int = 1024 * _MEBI
    max_output_bytes: int = 64 * _MEBI
    max_open_files: int = 32


class SandboxFailed(Exception):
    """The child did not produce an answer. ``reason`` is one of the names below, for logs."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


TIMEOUT = "timeout"  # wall clock or CPU time ran out
FAILED = "failed"  # non-zero exit, crash, or killed by a limit other than time
TOO_LARGE = "too-large"  # more output than allowed
MISSING = "missing"  # the program is not installed


def run(
    argv: list[str],
    *,
    stdin: bytes | None = None,
    files: tuple[bytes, ...] = (),
    limits: Limits | None = None,
) -> bytes:
    """Run ``argv`` confined and return its stdout; raise ``SandboxFailed`` otherwise.

    ``files`` are made memfds; ``{0}``, ``{1}`` … in ``argv`` become their ``/dev/fd/N`` paths.
    ``argv[0]`` must be an absolute path under ``/usr`` (the only part of the file system the
    sandbox shows).
    """
    limits = limits or Limits()
    if not os.path.isfile(argv[0]):
        raise SandboxFailed(MISSING)
    fds: list[int] = []
    try:
        for index, data in enumerate(files):
            fd = os.memfd_create(f"tipline-input-{index}", 0)  # inheritable: passed by number
            with os.fdopen(os.dup(fd), "wb") as out:
                out.write(data)
            fds.append(fd)
        paths = [f"/dev/fd/{fd}" for fd in fds]
        command = [*_prefix(limits), *(arg.format(*paths) if fds else arg for arg in argv)]
        return _communicate(command, stdin=stdin, fds=tuple(fds), limits=limits)
    finally:
        for fd in fds:
            os.close(fd)


def confinement() -> str:
    """Which confinement this machine gives: ``bwrap``, ``unshare`` or ``rlimits``."""
    return _confinement()


def _prefix(limits: Limits) -> list[str]:
    prlimit = [
        _which("prlimit"),
        f"--as={limits.memory_bytes}",
        f"--cpu={limits.cpu_seconds}",
        "--fsize=0",
        f"--nofile={limits.max_open_files}",
        "--core=0",
        "--",
    ]
    kind = _confinement()
    if kind == "bwrap":
        return [*prlimit, _which("bwrap"), *_BWRAP_ARGS]
    if kind == "unshare":
        return [*prlimit, _which("unshare"), *_unshare_args()]
    return prlimit


_BWRAP_ARGS = [
    "--unshare-all",
    "--die-with-parent",
    "--new-session",
    "--ro-bind", "/usr", "/usr",
    "--symlink", "usr/lib", "/lib",
    "--symlink", "usr/lib64", "/lib64",
    "--symlink", "usr/bin", "/bin",
    # What the dynamic loader and fontconfig read (FFmpeg's BLAS is found through
    # /etc/alternatives; poppler finds fonts through /etc/fonts). Read-only, nothing secret.
    "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
    "--ro-bind-try", "/etc/alternatives", "/etc/alternatives",
    "--ro-bind-try", "/etc/fonts", "/etc/fonts",
    "--proc", "/proc",
    "--dev", "/dev",
    "--tmpfs", "/tmp",  # noqa: S108 (an empty in-memory /tmp inside the sandbox)
    "--clearenv",
    "--setenv", "PATH", "/usr/bin",
    "--setenv", "LC_ALL", "C",
    "--",
]  # fmt: skip


def _unshare_args() -> list[str]:
    return ["--net", "--"] if os.geteuid() == 0 else ["--net", "--map-root-user", "--"]


def _which(program: str) -> str:
    found = shutil.which(program, path="/usr/bin:/bin:/usr/sbin:/sbin")
    if found is None:
        raise SandboxFailed(MISSING)
    return found


@functools.cache
def _confinement() -> str:
    """Try each level once with ``true``; the first that runs is used for the process's life."""
    true = shutil.which("true", path="/usr/bin:/bin") or "/bin/true"
    bwrap = shutil.which("bwrap", path="/usr/bin:/bin")
    if bwrap and _works([bwrap, *_BWRAP_ARGS, "/usr/bin/true"]):
        return "bwrap"
    unshare = shutil.which("unshare", path="/usr/bin:/bin")
    if unshare and _works([unshare, *_unshare_args(), true]):
        return "unshare"
    return "rlimits"


def _works(command: list[str]) -> bool:
    try:
        done = subprocess.run(  # noqa: S603 (fixed programs, no input)
            command, capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


_TIME_SIGNALS = frozenset(
    {-signal.SIGXCPU, -signal.SIGKILL, 128 + signal.SIGXCPU, 128 + signal.SIGKILL}
)


def _communicate(
    command: list[str], *, stdin: bytes | None, fds: tuple[int, ...], limits: Limits
) -> bytes:
    """Feed stdin, read stdout up to the output limit, all within the wall-clock timeout.

    Read by hand rather than with ``communicate`` so that a renderer printing without end is
    stopped at ``max_output_bytes`` instead of filling this process's memory.
    """
    env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C"}
    deadline = time.monotonic() + limits.timeout_seconds
    with subprocess.Popen(  # noqa: S603 (fixed programs; evidence arrives as bytes, not arguments)
        command,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # renderers' messages can quote the file's own text
        pass_fds=fds,
        env=env,
        start_new_session=True,  # one process group, killed whole
    ) as child:
        try:
            if stdin is not None and child.stdin is not None:
                threading.Thread(target=_feed, args=(child.stdin, stdin), daemon=True).start()
            assert child.stdout is not None  # noqa: S101 - stdout=PIPE above
            out = _read(child.stdout.fileno(), deadline=deadline, limit=limits.max_output_bytes)
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise SandboxFailed(TIMEOUT) from None
        finally:
            _kill_group(child.pid)
    # Killed by the CPU limit: a signal seen directly, or as 128 + signal through bwrap.
    if child.returncode in _TIME_SIGNALS:
        raise SandboxFailed(TIMEOUT)
    if child.returncode != 0:
        raise SandboxFailed(FAILED)
    return out


def _feed(pipe: IO[bytes], data: bytes) -> None:
    # A child that stops reading (it failed, or was killed) closes the pipe: not our error.
    with contextlib.suppress(BrokenPipeError, OSError):
        pipe.write(data)
    with contextlib.suppress(BrokenPipeError, OSError):
        pipe.close()


def _read(fd: int, *, deadline: float, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SandboxFailed(TIMEOUT)
            if not selector.select(remaining):
                continue
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return b"".join(chunks)
            total += len(chunk)
            if total > limit:
                raise SandboxFailed(TOO_LARGE)
            chunks.append(chunk)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # already gone
        os.killpg(pid, signal.SIGKILL)
