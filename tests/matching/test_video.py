"""vPDQ for video: frame hashes agree with the photos' PDQ, copies match, hostile files are refused.

The videos are made here with the ffmpeg CLI from Meta's benign PDQ reference photos: one photo
per second at 512x384, a few seconds long, so each sampled frame is one known photo.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import LazySettings
from django.core.management import call_command
from PIL import Image

from tests import factories
from tests.pdq_data import pdq_data
from tipline.audit.models import AuditEntry
from tipline.cases.media_step import known_file_count
from tipline.cases.models import EvidenceFile
from tipline.cases.sealing import report_key
from tipline.cases.states import KeyPurpose
from tipline.cases.tasks import process_media
from tipline.crypto.sealed import open_json
from tipline.evidence.validate import ValidatedUpload
from tipline.matching import banks
from tipline.matching.hashing import hamming, hash_bytes, hash_file
from tipline.matching.models import FileMatch
from tipline.matching.video import (
    VideoFrame,
    VideoRefused,
    compare,
    hash_video_bytes,
    hash_video_file,
)

PDQ_DATA = pdq_data()
pytestmark = pytest.mark.skipif(not PDQ_DATA.is_dir(), reason="PDQ reference photos not present")

# One photo per second. q0004 is Meta's low-quality reference (PDQ quality under 50).
PHOTOS = [
    "reg-test-input/dih/bridge-1-original.jpg",
    "misc-images/c.png",
    "reg-test-input/labelme-subset/q0291.jpg",
    "reg-test-input/labelme-subset/q0746.jpg",
    "reg-test-input/labelme-subset/q2821.jpg",
    "reg-test-input/labelme-subset/q0004.jpg",
]
# Meta's expected PDQ of the original photos (expected-pdq*.tsv): the bridge and c.png.
BRIDGE_PDQ = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"
C_PNG_PDQ = "e64cc9d91e623842f8d1f1d9a398e78c9f199a3bd87924f2b7e11e0bf061b064"


@dataclass(frozen=True)
class Clips:
    frames: list[Path]  # the stills, as put into the video
    original: Path  # H.264 in MP4
    copy: Path  # rescaled to 384x288 and re-encoded as VP9 in WebM at a low quality


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Clips:
    root = tmp_path_factory.mktemp("clips")
    frames = []
    for i, relative in enumerate(PHOTOS):
        still = root / f"f{i:03d}.png"
        with Image.open(PDQ_DATA / relative) as img:
            img.convert("RGB").resize((512, 384), Image.Resampling.LANCZOS).save(still)
        frames.append(still)
    original, copy = root / "clip.mp4", root / "copy.webm"
    pattern = str(root / "f%03d.png")
    ffmpeg("-framerate", "1", "-i", pattern, "-c:v", "libx264", "-pix_fmt", "yuv420p",
           "-crf", "18", str(original))  # fmt: skip
    ffmpeg("-i", str(original), "-vf", "scale=384:288", "-c:v", "libvpx-vp9", "-crf", "40",
           "-b:v", "0", str(copy))  # fmt: skip
    return Clips(frames=frames, original=original, copy=copy)


def test_frames_are_the_photos_pdq_with_number_time_and_quality(clips: Clips) -> None:
    frames = hash_video_file(clips.original)
    assert [(f.frame, f.timestamp) for f in frames] == [(i, float(i)) for i in range(6)]
    assert [f.quality >= 50 for f in frames] == [True] * 5 + [False]
    # Frames of usable quality; the last one's hash is unreliable, as its photo's is.
    for frame, still in zip(frames[:5], clips.frames[:5], strict=True):
        photo = hash_bytes(still.read_bytes())
        assert photo.pdq is not None
        assert hamming(frame.pdq, photo.pdq) <= 8, still.name  # H.264 at CRF 18: a few bits
    # The stretched stills still match Meta's expected hashes of the original photos.
    assert hamming(frames[0].pdq, BRIDGE_PDQ) <= 31
    assert hamming(frames[1].pdq, C_PNG_PDQ) <= 31


def test_rescaled_reencoded_copy_matches_the_original(clips: Clips) -> None:
    original = hash_video_file(clips.original)
    copy = hash_video_bytes(clips.copy.read_bytes())  # the in-memory path, as for evidence
    assert len(copy) == len(original)
    for a, b in zip(original[:5], copy[:5], strict=True):
        assert hamming(a.pdq, b.pdq) <= 31, a.frame
    # HMA's video-to-video rule: at least 80 % of the query's usable frames found.
    query_percent, compared_percent = compare(copy, original)
    assert query_percent >= 80
    assert compared_percent >= 80
    assert compare(copy[:2], original[2:]) == (0.0, 0.0)


def test_hash_file_and_hash_bytes_give_vpdq_only_when_asked(clips: Clips) -> None:
    data = clips.original.read_bytes()
    plain = hash_bytes(data)
    assert plain.kind == "video"
    assert plain.vpdq is None
    assert plain.refused_reason is None
    with_frames = hash_bytes(data, vpdq=True)
    assert with_frames.vpdq == hash_file(clips.original, vpdq=True).vpdq
    assert with_frames.vpdq is not None
    assert len(with_frames.vpdq) == 6
    assert with_frames.pdq is None
    assert with_frames.sha256 == plain.sha256


# --- hostile and broken input ------------------------------------------------------------------


def test_zero_byte_and_truncated_videos_are_refused(clips: Clips, tmp_path: Path) -> None:
    with pytest.raises(VideoRefused, match="empty file"):
        hash_video_bytes(b"")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(VideoRefused, match="empty file"):
        hash_video_file(empty)
    mp4 = clips.original.read_bytes()
    # MP4 keeps its index at the end: half a file cannot even be opened.
    half = hash_bytes(mp4[: len(mp4) // 2], vpdq=True)
    assert half.kind == "video"
    assert half.vpdq is None
    assert half.refused_reason is not None
    assert "damaged or truncated" in half.refused_reason
    # WebM decodes until the data stops, while its header still declares all six seconds.
    webm = clips.copy.read_bytes()
    with pytest.raises(VideoRefused, match=r"truncated video \(frames end at \d s of 6 s\)"):
        hash_video_bytes(webm[: int(len(webm) * 0.8)])
    # Cut inside the first frame: FFmpeg's scaler would abort the process; the probe refuses.
    with pytest.raises(VideoRefused, match="damaged or truncated"):
        hash_video_bytes(webm[: len(webm) // 10])


def test_corrupt_video_is_refused(clips: Clips) -> None:
    # Sniffed as MP4 by its ftyp box, then noise.
    fake = struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00isommp41" + bytes(range(256)) * 8
    hashes = hash_bytes(fake, vpdq=True)
    assert hashes.kind == "video"
    assert hashes.refused_reason is not None
    assert "damaged or truncated video" in hashes.refused_reason
    assert hashes.vpdq is None
    # A picture is not a video, whatever the caller believes.
    with pytest.raises(VideoRefused, match="not a video format we decode"):
        hash_video_bytes(clips.frames[0].read_bytes())


def test_playlists_and_unlisted_codecs_are_refused(clips: Clips, tmp_path: Path) -> None:
    # An HLS playlist names other files and URLs to open; it never reaches a demuxer that would.
    playlist = b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nhttp://127.0.0.1:9/a.ts\n"
    with pytest.raises(VideoRefused, match="damaged or truncated video, or not a video format"):
        hash_video_bytes(playlist + b"#EXT-X-ENDLIST\n")
    lossless = tmp_path / "ffv1.mkv"
    ffmpeg("-framerate", "1", "-i", str(clips.frames[0]), "-c:v", "ffv1", str(lossless))
    with pytest.raises(VideoRefused, match="video codec ffv1 is not one we decode"):
        hash_video_file(lossless)


def test_limits_refuse_before_decoding(clips: Clips, settings: LazySettings) -> None:
    data = clips.original.read_bytes()
    settings.TIPLINE_VIDEO_MAX_BYTES = len(data) - 1
    with pytest.raises(VideoRefused, match=r"video too large: .* bytes is over the limit"):
        hash_video_bytes(data)
    settings.TIPLINE_VIDEO_MAX_BYTES = len(data)
    settings.TIPLINE_VIDEO_MAX_FRAME_PIXELS = 512 * 383
    with pytest.raises(VideoRefused, match="512x384 frames are over the limit of 196,096"):
        hash_video_bytes(data)
    settings.TIPLINE_VIDEO_MAX_FRAME_PIXELS = 512 * 384
    settings.TIPLINE_VIDEO_MAX_SECONDS = 5
    with pytest.raises(VideoRefused, match="video too long: 6 s is over the limit of 5 s"):
        hash_video_file(clips.original)
    settings.TIPLINE_VIDEO_MAX_SECONDS = 6
    settings.TIPLINE_VIDEO_TIMEOUT_SECONDS = 0.01
    with pytest.raises(VideoRefused, match=r"longer than 0\.01 s to hash"):
        hash_video_file(clips.original)
    settings.TIPLINE_VIDEO_TIMEOUT_SECONDS = 60
    settings.TIPLINE_VIDEO_MEMORY_BYTES = 64 << 20  # the child cannot even map FFmpeg
    with pytest.raises(VideoRefused):
        hash_video_file(clips.original)
    settings.TIPLINE_VIDEO_MEMORY_BYTES = 3 << 30
    assert len(hash_video_file(clips.original)) == 6  # exactly at every limit


# --- matching and the command line ---------------------------------------------------------------


def _bank(name: str, *pdqs: str) -> None:
    bank = banks.bank_create(actor="tester", name=name, default_classification="baseline")
    records = [
        banks.make_record(position=i, kind="pdq", value=pdq, quality="100")
        for i, pdq in enumerate(pdqs, start=1)
    ]
    banks.entries_add(actor="tester", bank=bank, records=records)


@pytest.mark.django_db
@pytest.mark.usefixtures("own_index")
def test_tipline_match_reports_banked_photos_seen_in_a_video(clips: Clips, tmp_path: Path) -> None:
    black = tmp_path / "black.mp4"
    ffmpeg("-f", "lavfi", "-i", "color=black:s=320x240:r=5", "-t", "3", "-c:v", "libx264",
           str(black))  # fmt: skip
    # A flat black frame hashes to all zeros at quality 0: banked or not, it must never match.
    _bank("photos", BRIDGE_PDQ, C_PNG_PDQ, "0" * 64)
    out = io.StringIO()
    call_command("match", str(clips.copy), str(black), stdout=out)
    video, flat = (json.loads(line) for line in out.getvalue().splitlines())
    assert video["file"] == str(clips.copy)
    assert video["vpdq_frames"] == 6
    assert [(m["bank"], m["kind"], m["frames"]) for m in video["matches"]] == [
        ("photos", "pdq", 1),
        ("photos", "pdq", 1),
    ]
    assert all(0 <= m["distance"] <= 31 for m in video["matches"])
    assert video["matches"][0]["distance"] <= video["matches"][1]["distance"]
    assert flat["matches"] == []
    assert flat["vpdq_frames"] == 3


def test_tipline_hash_prints_vpdq_frames(clips: Clips, tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(clips.original.read_bytes()[:5000])
    out = io.StringIO()
    call_command("hash", str(clips.original), str(broken), stdout=out)
    video, damaged = (json.loads(line) for line in out.getvalue().splitlines())
    assert set(video) == {"file", "kind", "sha256", "md5", "sha1", "vpdq"}
    assert video["kind"] == "video"
    assert len(video["vpdq"]) == 6
    for i, frame in enumerate(video["vpdq"]):
        assert set(frame) == {"frame", "timestamp", "pdq", "quality"}
        assert frame["frame"] == i
        assert frame["timestamp"] == float(i)
        assert len(frame["pdq"]) == 64
        assert int(frame["pdq"], 16) >= 0
        assert 0 <= frame["quality"] <= 100
    assert damaged["kind"] == "video"
    assert "vpdq" not in damaged
    assert "damaged or truncated" in damaged["error"]


@pytest.mark.django_db
@pytest.mark.usefixtures("own_index")
def test_intake_task_hashes_and_matches_a_video_file(clips: Clips) -> None:
    # Intake refuses video uploads today; a file added by another path (built here without
    # upload validation) still goes through the same task.
    data = clips.copy.read_bytes()
    upload = ValidatedUpload(
        name="clip.webm",
        content_type="video/webm",
        data=data,
        sha256=hash_bytes(data).sha256,
    )
    created = factories.report(uploads=[upload])
    _bank("photos", C_PNG_PDQ)
    assert process_media.call(str(created.report.id)) is True
    assert known_file_count(created.report.id) == 1
    evidence = EvidenceFile.objects.get(report=created.report)
    match = FileMatch.objects.get(evidence=evidence)
    assert match.distance <= 31
    key = report_key(created.report.id, KeyPurpose.CONTENT)
    meta = open_json(key, evidence.meta, context=f"file:{evidence.id}:meta")
    assert [f["timestamp"] for f in meta["vpdq"]] == [float(i) for i in range(6)]
    assert meta["pdq"] is None
    audit = AuditEntry.objects.get(action="file.matched", target_id=str(evidence.id))
    assert audit.details["matches"][0]["frames"] == 1


def test_compare_ignores_low_quality_frames() -> None:
    flat = [VideoFrame(frame=0, timestamp=0.0, pdq="0" * 64, quality=0)]
    assert compare(flat, flat) == (0.0, 0.0)
