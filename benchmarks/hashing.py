"""Hashing benchmark (issue 4): photos hashed per second per core, decode included.

Two figures from one process (one core), on Meta's PDQ reference photos and the bridge edits
(/work/shared/data/pdq, 30 files, 34x42 to 1600x1004 px), repeated:

- `hash_bytes`: the whole path for an image already in memory: sniff, SHA-256 + MD5 + SHA-1,
  pixel-limited decode, EXIF orientation, RGB, shrink to 512 px, PDQ.
- `pdqhash.compute` alone on the same pictures pre-decoded to <= 512 px RGB arrays: the ceiling
  that decoding and preparation are measured against.

And one figure for video (skip with --no-video): vPDQ through `hash_video_file`, the sandboxed
child process included (start-up, ffprobe, decode, scale, PDQ), on a 60 s 1280x720 30 fps H.264
video made with the ffmpeg CLI from the same photos (2 s each, with moving grain so that every
frame costs a real decode). Timed as the CPU time of the child processes (getrusage), so FFmpeg's
decoding threads count in full: sampled frames hashed per CPU second (one per video second, as
HMA samples), every frame hashed per CPU second (sampling interval 0), and video seconds per CPU
second.

    .venv/bin/python benchmarks/hashing.py [--json] [--rounds 10] [--data /work/shared/data/pdq]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # tests.pdq_data
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tipline.settings")

import django
import pdqhash
import PIL
from PIL import Image

django.setup()

from django.test import override_settings  # noqa: E402
from tests.pdq_data import pdq_data  # noqa: E402

from tipline.matching.hashing import decode_for_pdq, hash_bytes  # noqa: E402
from tipline.matching.video import hash_video_file  # noqa: E402

DEFAULT_DATA = pdq_data()


def photos(data_dir: Path) -> list[bytes]:
    paths = sorted(p for p in data_dir.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    return [p.read_bytes() for p in paths]


def per_second(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def bench(files: list[bytes], rounds: int) -> dict[str, object]:
    for data in files:  # warm up: imports, plugin registration, caches
        hash_bytes(data)
    arrays = [decode_for_pdq(data) for data in files]

    start = time.process_time()
    for _ in range(rounds):
        for data in files:
            hashes = hash_bytes(data)
            assert hashes.pdq is not None
    full = time.process_time() - start

    start = time.process_time()
    for _ in range(rounds):
        for rgb in arrays:
            pdqhash.compute(rgb)
    ceiling = time.process_time() - start

    count = rounds * len(files)
    full_rate = per_second(count, full)
    ceiling_rate = per_second(count, ceiling)
    return {
        "files": len(files),
        "megabytes": round(sum(map(len, files)) / 1e6, 2),
        "rounds": rounds,
        "hash_bytes_photos_per_s_per_core": round(full_rate, 1),
        "hash_bytes_ms_per_photo": round(1000 * full / count, 2),
        "pdq_compute_only_per_s": round(ceiling_rate, 1),
        "pdq_compute_only_ms": round(1000 * ceiling / count, 2),
        "ratio_full_to_ceiling": round(full_rate / ceiling_rate, 3),
        "target_photos_per_s_per_core": 30,
        "met": full_rate >= 30,
    }


def make_video(data_dir: Path, out: Path) -> Path:
    """60 s of 1280x720 at 30 fps: 30 reference photos, 2 s each, with moving grain."""
    paths = sorted(p for p in data_dir.rglob("*") if p.suffix.lower() in {".jpg", ".jpeg", ".png"})
    stills = out / "stills"
    stills.mkdir()
    for i, path in enumerate(paths[:30]):
        with Image.open(path) as img:
            img.convert("RGB").resize((1280, 720)).save(stills / f"{i:03d}.png")
    video = out / "bench.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-framerate", "0.5", "-i", str(stills / "%03d.png"),
         "-vf", "fps=30,noise=alls=8:allf=t", "-c:v", "libx264", "-preset", "veryfast",
         "-crf", "23", "-pix_fmt", "yuv420p", str(video)],
        check=True,
    )  # fmt: skip
    return video


def child_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def bench_video(data_dir: Path, rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="tipline-bench-") as tmp:
        video = make_video(data_dir, Path(tmp))
        size = video.stat().st_size
        result: dict[str, object] = {
            "video": "60 s, 1280x720, 30 fps, H.264",
            "bytes": size,
            "timer": "CPU time of the child processes (getrusage), decode threads included",
        }
        hash_video_file(video)  # warm the page cache
        # Every frame costs about 30 times as much: one round of it is enough.
        for label, interval, repeat in (("sampled_1_per_s", 1.0, rounds), ("every_frame", 0.0, 1)):
            with override_settings(TIPLINE_VIDEO_SECONDS_PER_HASH=interval):
                cpu, wall, frames = child_cpu_seconds(), time.perf_counter(), 0
                for _ in range(repeat):
                    frames += len(hash_video_file(video))
                cpu = child_cpu_seconds() - cpu
                wall = time.perf_counter() - wall
            result[f"{label}_frames_per_video"] = frames // repeat
            result[f"{label}_frames_per_cpu_s"] = round(per_second(frames, cpu), 1)
            result[f"{label}_video_s_per_cpu_s"] = round(per_second(60 * repeat, cpu), 2)
            result[f"{label}_wall_s_per_video"] = round(wall / repeat, 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--no-video", action="store_true", help="skip the vPDQ figure")
    parser.add_argument("--video-rounds", type=int, default=3)
    args = parser.parse_args()
    files = photos(args.data)
    if not files:
        sys.exit(f"no reference photos under {args.data}")
    result = bench(files, args.rounds)
    if not args.no_video:
        result["vpdq"] = bench_video(args.data, args.video_rounds)
    result["machine"] = f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} cpu"
    result["python"] = platform.python_version()
    result["pillow"] = PIL.__version__
    result["timer"] = "process CPU time (time.process_time), one process"
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:36} {value}")


if __name__ == "__main__":
    main()
