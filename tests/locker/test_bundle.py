"""The ZIP of originals: `sha256sum -c manifest.sha256` passes, names are safe, bytes repeat."""

from __future__ import annotations

import hashlib
import io
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from tests.locker.test_pattern import snapshot_of
from tipline.locker import bundle
from tipline.locker.types import Snapshot

HOSTILE_NAMES = [
    "../../etc/passwd",
    "..\\..\\windows\\system32\\evil.dll",
    "/absolute/path.txt",
    "C:\\Users\\me\\chat.txt",
    "name\nwith newline.txt",
    "  spaces and <script>.txt ",
    "....",
    "",
    "नमस्ते.txt",
    "manifest.sha256",
    "a" * 300 + ".eml",
]


def _snapshot(names: list[str]) -> Snapshot:
    originals = {n + 1: f"original bytes of file {n}\n".encode() for n in range(len(names))}
    base = snapshot_of([], originals=originals)
    evidence = [replace(r, filename=names[r.id - 1]) for r in base.evidence]
    return replace(base, evidence=evidence)


def _unzip(data: bytes, into: Path) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        archive.extractall(into)
        return archive.namelist()


def test_sha256sum_verifies_the_unzipped_bundle(tmp_path: Path) -> None:
    snapshot = _snapshot(["WhatsApp Chat with Alex.txt", "message.eml"])
    data = bundle.build_bundle(snapshot, pdf=b"%PDF-1.7 pretend report")
    names = _unzip(data, tmp_path)
    assert names == [
        "README.txt",
        "report.pdf",
        "evidence/0001-WhatsApp_Chat_with_Alex.txt",
        "evidence/0002-message.eml",
        "manifest.sha256",
    ]
    checked = subprocess.run(
        ["sha256sum", "-c", "--strict", "manifest.sha256"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count(": OK") == 4
    manifest = (tmp_path / "manifest.sha256").read_text()
    digest = snapshot.evidence[0].sha256
    assert f"{digest}  evidence/0001-WhatsApp_Chat_with_Alex.txt\n" in manifest
    readme = (tmp_path / "README.txt").read_text()
    assert "sha256sum -c manifest.sha256" in readme
    assert digest in readme
    assert "does not prove" in readme

    # Change one byte: the check fails and names the file.
    (tmp_path / "evidence/0002-message.eml").write_bytes(b"changed")
    failed = subprocess.run(
        ["sha256sum", "-c", "manifest.sha256"], cwd=tmp_path, capture_output=True, text=True
    )
    assert failed.returncode != 0
    assert "evidence/0002-message.eml: FAILED" in failed.stdout


def test_hostile_filenames_become_safe_unique_members(tmp_path: Path) -> None:
    data = bundle.build_bundle(_snapshot(HOSTILE_NAMES), pdf=None)
    names = _unzip(data, tmp_path / "out")
    members = [n for n in names if n.startswith("evidence/")]
    assert len(members) == len(set(members)) == len(HOSTILE_NAMES)
    for member in members:
        assert member.count("/") == 1
        assert ".." not in member
        assert "\\" not in member
        assert "\n" not in member
        assert " " not in member
        assert member.isascii()
        assert len(member) <= len("evidence/0000-") + bundle.MAX_NAME
    assert "evidence/0001-passwd" in members
    assert "evidence/0002-evil.dll" in members
    assert "evidence/0007-file" in members  # "...." cleans to nothing
    assert "evidence/0010-manifest.sha256" in members  # cannot replace the real manifest
    assert members[-1].endswith(".eml")
    # Everything landed inside the folder it was unzipped into.
    for path in (tmp_path / "out").rglob("*"):
        assert path.resolve().is_relative_to((tmp_path / "out").resolve())
    assert not (tmp_path / "etc").exists()
    checked = subprocess.run(
        ["sha256sum", "-c", "--strict", "manifest.sha256"],
        cwd=tmp_path / "out",
        capture_output=True,
        check=False,
    )
    assert checked.returncode == 0


def test_the_bundle_is_byte_for_byte_reproducible() -> None:
    snapshot = _snapshot(["a.txt", "b.txt"])
    first = bundle.build_bundle(snapshot, pdf=b"pdf")
    assert first == bundle.build_bundle(snapshot, pdf=b"pdf")
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        for info in archive.infolist():
            assert info.date_time == bundle.FIXED_TIME
            assert info.external_attr >> 16 == 0o100644


def test_a_changed_or_missing_original_is_refused() -> None:
    snapshot = _snapshot(["a.txt"])
    changed = replace(snapshot, originals={1: b"tampered"})
    with pytest.raises(bundle.BundleError, match="no longer matches"):
        bundle.build_bundle(changed, pdf=None)
    with pytest.raises(bundle.BundleError, match="missing"):
        bundle.build_bundle(replace(snapshot, originals={}), pdf=None)


def test_an_empty_locker_still_gives_a_verifiable_bundle(tmp_path: Path) -> None:
    data = bundle.build_bundle(snapshot_of([], originals={}), pdf=None)
    assert _unzip(data, tmp_path) == ["README.txt", "manifest.sha256"]
    manifest = (tmp_path / "manifest.sha256").read_text()
    readme = (tmp_path / "README.txt").read_bytes()
    assert manifest == f"{hashlib.sha256(readme).hexdigest()}  README.txt\n"
