"""The child process that decodes one video and hashes it with vPDQ (run by `matching.video`).

Why a separate process: vPDQ is Meta's C++ code on top of FFmpeg's decoders, called without
releasing the GIL, and the bytes come from the public. In here a decoder that hangs, loops on a
lying header, allocates without bound or crashes takes down only this process: the parent kills
its process group at the time limit, and the address-space, CPU-time and file-size limits set
below, inherited by ffprobe, hold whatever the decoders do. The process writes no file
(`RLIMIT_FSIZE` 0) and prints one JSON object on stdout: ``{"frames": [[n, seconds, pdq,
quality], ...]}`` or ``{"refused": reason}``.

Why probe first: ffprobe (the same FFmpeg libraries vPDQ links) reads the container headers, so a
file in a format or codec outside the short lists below, with frames over the pixel limit or a
declared duration over the limit, is refused before a single frame is decoded. The allow-lists
also keep FFmpeg's playlist and concatenation demuxers (HLS, concat, which open other files or
URLs named inside the file) away from hostile bytes. Headers can lie; the limits above are what
bounds decoding that goes on past what they declared.

This module imports neither Django nor Tipline, so the child starts in a few milliseconds.
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
from typing import Any

# ffprobe's names. A format name is a comma-separated list ("mov,mp4,m4a,3gp,3g2,mj2").
ALLOWED_FORMATS = frozenset(
    {"mov", "mp4", "matroska", "webm", "avi", "flv", "asf", "mpeg", "mpegts", "ogg"}
)
ALLOWED_CODECS = frozenset(
    {
        "h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mpeg1video", "mpeg2video", "mjpeg",
        "theora", "h263", "flv1", "msmpeg4v2", "msmpeg4v3", "wmv1", "wmv2", "wmv3", "vc1",
    }
)  # fmt: skip
_PROBE_ENTRIES = (
    "format=format_name,duration:stream=index,codec_type,codec_name,pix_fmt,width,height"
)


class Refused(Exception):
    """The video will not be hashed; the message is safe to show to staff."""


def main(argv: list[str]) -> int:
    limits: dict[str, Any] = json.loads(argv[1])
    target = argv[2]
    fds = tuple(int(fd) for fd in argv[3:])
    _limit_resources(limits)
    try:
        probed = _probe(target, fds, timeout=float(limits["timeout_seconds"]))
        duration = _check_headers(probed, limits)
        frames = _hash(target, seconds_per_hash=float(limits["seconds_per_hash"]))
    except Refused as refused:
        sys.stdout.write(json.dumps({"refused": str(refused)}))
        return 0
    sys.stdout.write(json.dumps({"duration": duration, "frames": frames}))
    return 0


def _limit_resources(limits: dict[str, Any]) -> None:
    memory = int(limits["memory_bytes"])
    cpu = math.ceil(float(limits["timeout_seconds"])) + 5
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _probe(target: str, fds: tuple[int, ...], *, timeout: float) -> dict[str, Any]:
    command = [
        "ffprobe", "-v", "error", "-protocol_whitelist", "file",
        "-show_entries", _PROBE_ENTRIES, "-of", "json", target,
    ]  # fmt: skip
    try:
        done = subprocess.run(  # noqa: S603 (fixed program, the target is a path or an fd)
            command, capture_output=True, timeout=timeout, pass_fds=fds, check=False
        )
    except FileNotFoundError:
        raise Refused("video hashing is not available here (ffprobe is not installed)") from None
    except subprocess.TimeoutExpired:
        raise Refused("video took too long to read") from None
    if done.returncode != 0:
        raise Refused("damaged or truncated video, or not a video format we decode")
    try:
        probed = json.loads(done.stdout)
    except ValueError:
        raise Refused("damaged video (its headers could not be read)") from None
    if not isinstance(probed, dict):
        raise Refused("damaged video (its headers could not be read)")
    return probed


def _check_headers(probed: dict[str, Any], limits: dict[str, Any]) -> float:
    """The declared duration in seconds, if the headers are within the limits."""
    fmt = probed.get("format") or {}
    formats = set(str(fmt.get("format_name", "")).split(","))
    if not formats & ALLOWED_FORMATS:
        raise Refused(
            "not a video format we decode (MP4, MOV, WebM, MKV, AVI, FLV, WMV, MPEG or Ogg)"
        )
    # vPDQ hashes the first video stream, so that is the one checked.
    streams = [s for s in probed.get("streams") or [] if s.get("codec_type") == "video"]
    if not streams:
        raise Refused("the file has no video stream")
    stream = streams[0]
    codec = str(stream.get("codec_name", "unknown"))
    if codec not in ALLOWED_CODECS:
        raise Refused(f"video codec {codec[:20]} is not one we decode")
    width, height = int(stream.get("width") or 0), int(stream.get("height") or 0)
    if width < 1 or height < 1:
        raise Refused("video frames have no pixels")
    if stream.get("pix_fmt") in (None, "", "unknown"):
        # FFmpeg could not read a frame while probing; vPDQ would abort in the scaler.
        raise Refused("damaged or truncated video (no frame could be read)")
    max_pixels = int(limits["max_frame_pixels"])
    if width * height > max_pixels:
        raise Refused(
            f"video too large: {width}x{height} frames are over the limit of {max_pixels:,} pixels"
        )
    try:
        duration = float(fmt["duration"])
    except (KeyError, TypeError, ValueError):
        raise Refused("video does not declare its duration") from None
    max_seconds = float(limits["max_seconds"])
    if not 0 <= duration <= max_seconds:
        raise Refused(f"video too long: {duration:.0f} s is over the limit of {max_seconds:.0f} s")
    return duration


def _hash(target: str, *, seconds_per_hash: float) -> list[list[Any]]:
    try:
        import vpdq  # type: ignore[import-not-found]  # compiled, no type information
    except ImportError:
        raise Refused("video hashing is not available here (vpdq is not installed)") from None

    try:
        # One hashing thread: vPDQ's multithreaded hasher queues decoded RGB frames without a
        # bound, while the single-threaded one hashes each frame as it is decoded. FFmpeg still
        # decodes with slice threads.
        features = vpdq.computeHash(target, seconds_per_hash=seconds_per_hash, thread_count=1)
    except MemoryError:
        raise Refused("video needs more memory to decode than the limit allows") from None
    except Exception:  # noqa: BLE001 (vpdq raises a bare Exception for every decoding failure)
        raise Refused(
            "damaged or truncated video (decoding failed; or more memory was needed than allowed)"
        ) from None
    return [
        [int(f.frame_number), round(float(f.timestamp), 3), str(f.hex), int(f.quality)]
        for f in features
    ]


if __name__ == "__main__":
    sys.exit(main(sys.argv))
