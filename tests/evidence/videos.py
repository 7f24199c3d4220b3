"""Test videos made by FFmpeg from generated frames (a test pattern and a tone), never footage."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path


def pattern_mp4(seconds: float = 3, size: str = "1280x720") -> bytes:
    """An MP4 with a moving test pattern, a sine tone and a title and comment in its metadata."""
    with tempfile.TemporaryDirectory(prefix="tipline-test-video-") as folder:
        out = Path(folder) / "pattern.mp4"
        subprocess.run(
            [
                "/usr/bin/ffmpeg", "-nostdin", "-v", "error", "-y",
                "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25:duration={seconds}",
                "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}",
                "-metadata", "title=Recorded by Jane Doe", "-metadata", "comment=GPS 45.5 -73.6",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                "-c:a", "aac", "-shortest", str(out),
            ],
            check=True,
        )  # fmt: skip
        return out.read_bytes()


def probe(data: bytes) -> str:
    """ffprobe's streams and tags of ``data``, as text."""
    with tempfile.NamedTemporaryFile(suffix=".mp4") as handle:
        handle.write(data)
        handle.flush()
        done = subprocess.run(
            [
                "/usr/bin/ffprobe", "-v", "error", "-show_entries",
                "stream=codec_type,codec_name,width,height:format_tags:stream_tags",
                "-of", "compact", handle.name,
            ],
            capture_output=True,
            check=True,
        )  # fmt: skip
        return done.stdout.decode()
