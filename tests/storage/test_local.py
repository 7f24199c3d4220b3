"""The evidence store: random names, paths that cannot escape, atomic durable writes."""

import stat
from pathlib import Path

import pytest
from django.conf import LazySettings

from tipline import storage
from tipline.storage.local import list_objects


@pytest.fixture(autouse=True)
def _local_store(settings: LazySettings) -> None:
    """These tests are about the local store's files, on either profile of `make test` (the
    scale-out run's environment names an S3 bucket; tests/storage/test_s3.py tests that one)."""
    settings.TIPLINE_STORAGE = "local"


def test_write_read_delete_round_trip(settings: LazySettings) -> None:
    object_id = storage.write_object(b"ciphertext")
    assert storage.read_object(object_id) == b"ciphertext"
    path = Path(settings.EVIDENCE_DIR) / object_id[:2] / object_id[2:4] / object_id
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [name for name, _ in list_objects()] == [object_id]
    storage.delete_object(object_id)
    with pytest.raises(storage.StorageError):
        storage.read_object(object_id)


def test_no_temporary_files_are_left_behind(settings: LazySettings) -> None:
    for _ in range(5):
        storage.write_object(b"x" * 1000)
    leftovers = [p for p in Path(settings.EVIDENCE_DIR).rglob(".*") if p.is_file()]
    assert leftovers == []


@pytest.mark.parametrize(
    "object_id",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "ab/../../x",
        "",
        "A" * 32,
        "0" * 31,
        "0" * 32 + "/",
        "..",
        "00000000000000000000000000000000\x00",
    ],
)
def test_malformed_ids_are_refused(object_id: str) -> None:
    with pytest.raises(storage.StorageError):
        storage.read_object(object_id)
    with pytest.raises(storage.StorageError):
        storage.delete_object(object_id)


def test_symlinked_objects_are_refused(settings: LazySettings, tmp_path: Path) -> None:
    object_id = storage.write_object(b"real")
    target = tmp_path / "outside"
    target.write_bytes(b"secret outside the store")
    path = Path(settings.EVIDENCE_DIR) / object_id[:2] / object_id[2:4] / object_id
    path.unlink()
    path.symlink_to(target)
    with pytest.raises(storage.StorageError):
        storage.read_object(object_id)


def test_symlinked_folder_escaping_the_store_is_refused(
    settings: LazySettings, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    root = Path(settings.EVIDENCE_DIR)
    root.mkdir(parents=True, exist_ok=True)
    (root / "ab").symlink_to(outside, target_is_directory=True)
    with pytest.raises(storage.StorageError):
        storage.read_object("ab" + "0" * 30)
