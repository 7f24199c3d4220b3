"""vPDQ for video: a PDQ hash of one frame per second (by default), with its quality and time.

Why vPDQ: it is what Meta's Hasher-Matcher-Actioner and ThreatExchange share for video, and its
frame hashes are plain PDQ, so a frame can also match a banked photo. The sampling is HMA's (one
frame per `TIPLINE_VIDEO_SECONDS_PER_HASH`, default 1.0, at the video's own size), so our frame
hashes are comparable with theirs.

Why it runs in a child process (`video_worker`): decoding hostile video is the riskiest thing
Tipline does. The child is limited in time (`TIPLINE_VIDEO_TIMEOUT_SECONDS`, its whole process
group killed after), address space (`TIPLINE_VIDEO_MEMORY_BYTES`) and CPU, writes no file, and
checks the container headers (format, codec, frame size against `TIPLINE_VIDEO_MAX_FRAME_PIXELS`,
duration against `TIPLINE_VIDEO_MAX_SECONDS`) before it decodes a frame. File size
(`TIPLINE_VIDEO_MAX_BYTES`) is checked here before the child starts. Every refusal is a
`VideoRefused` with a reason fit for staff; nothing here raises anything else for bad input.

Why no temporary file: vPDQ opens a path. Evidence is decrypted in memory, and a plaintext copy
on disk would break "nothing readable at rest", so bytes go into an anonymous in-memory file
(`memfd_create`) that the child opens as ``/proc/self/fd/N``. Only where memfd does not exist
(not Linux) is a file written, in a private 0700 directory deleted in ``finally``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

# Used where the settings module does not set them (it does not yet: they are not read from the
# environment). Memory is address space, which counts FFmpeg's thread stacks and arenas: 4K
# frames hash within 600 MiB here, so 3 GiB leaves room without letting a bomb take the machine.
DEFAULTS: dict[str, int | float] = {
    "TIPLINE_VIDEO_MAX_BYTES": 1 << 30,
    "TIPLINE_VIDEO_MAX_SECONDS": 3600,
    "TIPLINE_VIDEO_MAX_FRAME_PIXELS": 4096 * 2304,
    "TIPLINE_VIDEO_TIMEOUT_SECONDS": 600,
    "TIPLINE_VIDEO_MEMORY_BYTES": 3 << 30,
    "TIPLINE_VIDEO_SECONDS_PER_HASH": 1.0,
    # HMA ignores frames below this PDQ quality when matching (black and flat frames).
    "TIPLINE_VPDQ_MIN_QUALITY": 50,
}
# The worker prints about 100 bytes a frame; anything far past that is not its answer.
_MAX_OUTPUT_BYTES = 64 << 20


@dataclass(frozen=True)
class VideoFrame:
    frame: int  # frame number in the video, from 0
    timestamp: float  # seconds from the start
    pdq: str  # 64 hex digits, as for images
    quality: int  # 0-100


class VideoRefused(Exception):
    """A video that will not be hashed; the message says why and is safe to show to staff."""


def setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def hash_video_file(path: Path) -> tuple[VideoFrame, ...]:
    """vPDQ frames of a video on disk. Raises VideoRefused (and OSError if it cannot be read)."""
    size = path.stat().st_size
    _check_size(size)
    return _run(str(path.resolve()), fds=())


def hash_video_bytes(data: bytes) -> tuple[VideoFrame, ...]:
    """vPDQ frames of a video held in memory (decrypted evidence). Raises VideoRefused."""
    _check_size(len(data))
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("tipline-video", os.MFD_CLOEXEC)
        try:
            with os.fdopen(os.dup(fd), "wb") as out:
                out.write(data)
            return _run(f"/proc/self/fd/{fd}", fds=(fd,))
        finally:
            os.close(fd)
    # No memfd (not Linux): vPDQ needs a path, so a private file it must be.
    with tempfile.TemporaryDirectory(prefix="tipline-video-") as private:  # mode 0700
        path = Path(private) / "video"
        try:
            path.write_bytes(data)
            return _run(str(path), fds=())
        finally:
            path.unlink(missing_ok=True)


def frames_to_json(frames: Sequence[VideoFrame]) -> list[dict[str, Any]]:
    """The shape `tipline hash` prints and sealed evidence metadata keeps."""
    return [
        {"frame": f.frame, "timestamp": f.timestamp, "pdq": f.pdq, "quality": f.quality}
        for f in frames
    ]


def compare(
    query: Sequence[VideoFrame], compared: Sequence[VideoFrame], *, radius: int = 31
) -> tuple[float, float]:
    """HMA's vPDQ rule: (percent of query frames found in `compared`, and the reverse).

    Both sides are filtered to frames of quality >= TIPLINE_VPDQ_MIN_QUALITY and de-duplicated
    by hash first, as HMA does; HMA calls two videos a match at >= 80 % of the query's frames.
    A brute-force scan: meant for a handful of videos, not a bank.
    """
    query_hashes = distinct_hashes(query)
    compared_hashes = distinct_hashes(compared)
    if not query_hashes or not compared_hashes:
        return 0.0, 0.0
    query_ints = [int(h, 16) for h in query_hashes]
    compared_ints = [int(h, 16) for h in compared_hashes]

    def found(needles: list[int], haystack: list[int]) -> int:
        return sum(1 for n in needles if any((n ^ h).bit_count() <= radius for h in haystack))

    return (
        100.0 * found(query_ints, compared_ints) / len(query_ints),
        100.0 * found(compared_ints, query_ints) / len(compared_ints),
    )


def distinct_hashes(frames: Sequence[VideoFrame]) -> list[str]:
    """Frame hashes good enough to match on, each once, in order of first appearance."""
    floor = int(setting("TIPLINE_VPDQ_MIN_QUALITY"))
    return list(dict.fromkeys(f.pdq for f in frames if f.quality >= floor))


def _check_size(size: int) -> None:
    limit = int(setting("TIPLINE_VIDEO_MAX_BYTES"))
    if size == 0:
        raise VideoRefused("empty file")
    if size > limit:
        raise VideoRefused(f"video too large: {size:,} bytes is over the limit of {limit:,}")


def _limits() -> dict[str, float]:
    return {
        "max_seconds": float(setting("TIPLINE_VIDEO_MAX_SECONDS")),
        "max_frame_pixels": int(setting("TIPLINE_VIDEO_MAX_FRAME_PIXELS")),
        "timeout_seconds": float(setting("TIPLINE_VIDEO_TIMEOUT_SECONDS")),
        "memory_bytes": int(setting("TIPLINE_VIDEO_MEMORY_BYTES")),
        "seconds_per_hash": float(setting("TIPLINE_VIDEO_SECONDS_PER_HASH")),
    }


def _run(target: str, *, fds: tuple[int, ...]) -> tuple[VideoFrame, ...]:
    limits = _limits()
    # Run by path in isolated mode (no PYTHON* variables, no working directory on the path):
    # the worker needs only the standard library and vpdq.
    command = [
        sys.executable, "-I", str(Path(__file__).with_name("video_worker.py")),
        json.dumps(limits), target, *(str(fd) for fd in fds),
    ]  # fmt: skip
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
    with subprocess.Popen(  # noqa: S603 (our own interpreter and module; the target is not parsed)
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # FFmpeg's messages can quote the file's own metadata
        pass_fds=fds,
        env=env,
        start_new_session=True,  # one process group: ffprobe goes with it on a timeout
    ) as child:
        try:
            out, _err = child.communicate(timeout=limits["timeout_seconds"])
        except subprocess.TimeoutExpired:
            _kill_group(child.pid)
            child.communicate()
            raise VideoRefused(
                f"video took longer than {limits['timeout_seconds']:g} s to hash"
            ) from None
        finally:
            _kill_group(child.pid)  # anything the worker left behind (ffprobe)
    return _parse(child.returncode, out, limits)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(pid, signal.SIGKILL)


def _parse(returncode: int, out: bytes, limits: dict[str, float]) -> tuple[VideoFrame, ...]:
    if returncode != 0 or len(out) > _MAX_OUTPUT_BYTES:
        if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
            raise VideoRefused("video took too long to hash")
        # A crash or an abort: FFmpeg's scaler asserts on some truncated files, and a failed
        # allocation under the memory limit aborts too.
        raise VideoRefused(
            "damaged or truncated video (the decoder failed; or more memory was needed than "
            "TIPLINE_VIDEO_MEMORY_BYTES allows)"
        )
    try:
        answer = json.loads(out)
        if "refused" in answer:
            raise VideoRefused(str(answer["refused"]))
        declared = float(answer["duration"])
        frames = tuple(
            VideoFrame(frame=int(n), timestamp=float(t), pdq=str(h), quality=int(q))
            for n, t, h, q in answer["frames"]
        )
    except (ValueError, KeyError, TypeError):
        raise VideoRefused("damaged or truncated video (the decoder failed)") from None
    if not frames:
        raise VideoRefused("damaged or truncated video (no frame could be decoded)")
    last = frames[-1].timestamp
    if last > limits["max_seconds"]:
        # The header declared a duration under the limit; the frames went on past it.
        raise VideoRefused("video too long: its frames run past the limit its header declared")
    # FFmpeg stops quietly where a file ends early; the header still declares the whole length.
    # One sampling interval plus a second of slack: a file missing only its last frames passes.
    if last < declared - limits["seconds_per_hash"] - 1.0:
        raise VideoRefused(
            f"damaged or truncated video (frames end at {last:.0f} s of {declared:.0f} s)"
        )
    return frames
