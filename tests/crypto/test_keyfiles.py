"""Key files: created only by `keys init`, checked against their recorded fingerprints, never
replaced once data depends on them (issue 14, item 2). The same attacks run end to end against a
real installation in tests/ops/test_key_integrity.py."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tipline.crypto import keyfiles
from tipline.crypto.keyfiles import (
    KEY_FILES,
    MANIFEST_NAME,
    KeyFileError,
    KeyInitRefused,
    KeySpec,
    init_keys,
    inspect,
    load_key,
    problems,
)

KEK = keyfiles.KEK


def _flip_one_bit(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[7] ^= 0x10
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:16])


ATTACKS: dict[str, Callable[[Path], None]] = {
    "deleted": Path.unlink,
    "one bit flipped": _flip_one_bit,
    "truncated": _truncate,
    "mode 0644": lambda path: path.chmod(0o644),
}


def test_init_creates_every_registered_key_private_and_records_it(tmp_path: Path) -> None:
    key_dir = tmp_path / "own-keys"
    done = init_keys(key_dir, stored_data=None)
    assert [(path.name, what) for path, what in done] == [(s.name, "created") for s in KEY_FILES]
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700
    for spec in KEY_FILES:
        path = key_dir / spec.name
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert len(path.read_bytes()) == spec.size
    manifest = json.loads((key_dir / MANIFEST_NAME).read_text())
    assert set(manifest["keys"]) == {spec.name for spec in KEY_FILES}
    assert stat.S_IMODE((key_dir / MANIFEST_NAME).stat().st_mode) == 0o600
    assert problems(key_dir) == []


def test_the_manifest_reveals_nothing_of_the_keys(tmp_path: Path) -> None:
    key_dir = tmp_path / "own-keys"
    init_keys(key_dir, stored_data=None)
    manifest = (key_dir / MANIFEST_NAME).read_text()
    for spec in KEY_FILES:
        key = (key_dir / spec.name).read_bytes()
        assert key.hex() not in manifest
        assert keyfiles.fingerprint(spec, key) in manifest
        assert keyfiles.fingerprint(spec, key) != key.hex()


def test_init_again_changes_nothing(tmp_path: Path) -> None:
    key_dir = tmp_path / "own-keys"
    init_keys(key_dir, stored_data=None)
    before = {p.name: p.read_bytes() for p in key_dir.iterdir()}
    done = init_keys(key_dir, stored_data="the database holds reports")
    assert {what for _path, what in done} == {"ok"}
    assert {p.name: p.read_bytes() for p in key_dir.iterdir()} == before


def test_status_checks_read_nothing_into_existence(tmp_path: Path) -> None:
    key_dir = tmp_path / "own-keys"
    (found,) = inspect(key_dir)
    assert found.problem is not None
    assert "`tipline keys init`" in found.problem
    assert not key_dir.exists()
    with pytest.raises(KeyFileError, match="tipline keys init"):
        load_key(key_dir, KEK)
    assert not key_dir.exists()


@pytest.mark.parametrize("attack", ATTACKS)
def test_a_damaged_key_is_reported_loaded_never_and_not_replaced(
    tmp_path: Path, attack: str
) -> None:
    """Before: status said ok, init made a new KEK and the server sealed new reports under it."""
    key_dir = tmp_path / "own-keys"
    init_keys(key_dir, stored_data=None)
    kek = key_dir / KEK
    ATTACKS[attack](kek)
    after_attack = kek.read_bytes() if kek.exists() else None

    found = problems(key_dir)
    assert len(found) == 1
    assert str(kek) in found[0]
    assert ("chmod 600" if attack == "mode 0644" else "restore") in found[0]
    with pytest.raises(KeyFileError, match=str(kek)):
        load_key(key_dir, KEK)
    with pytest.raises(KeyInitRefused) as refused:
        init_keys(key_dir, stored_data=None)
    assert str(kek) in str(refused.value)
    assert (kek.read_bytes() if kek.exists() else None) == after_attack


def test_a_key_that_never_was_recorded_is_not_created_over_stored_data(tmp_path: Path) -> None:
    """The keys folder lost with its manifest: only the database knows reports exist."""
    key_dir = tmp_path / "own-keys"
    with pytest.raises(KeyInitRefused, match="the database holds reports") as refused:
        init_keys(key_dir, stored_data="the database holds reports")
    assert all("restore the keys folder from backup" in p for p in refused.value.problems)
    assert [p.name for p in key_dir.iterdir()] == []


def test_keys_from_before_fingerprints_are_recorded_as_they_are(tmp_path: Path) -> None:
    key_dir = tmp_path / "own-keys"
    init_keys(key_dir, stored_data=None)
    kek = (key_dir / KEK).read_bytes()
    (key_dir / MANIFEST_NAME).unlink()
    assert any(MANIFEST_NAME in p for p in problems(key_dir))
    done = dict(init_keys(key_dir, stored_data="the database holds reports"))
    assert done[key_dir / KEK] == "recorded"
    assert (key_dir / KEK).read_bytes() == kek
    assert problems(key_dir) == []


def test_a_key_added_to_the_registry_later_is_created_by_init(tmp_path: Path) -> None:
    """Adding a key is one line in KEY_FILES; an existing installation gets it from `keys init`."""
    key_dir = tmp_path / "own-keys"
    init_keys(key_dir, stored_data=None)
    upgraded = (*KEY_FILES, KeySpec("example-new.key", "a key a later release needs"))
    assert any("does not exist yet" in s.problem for s in inspect(key_dir, upgraded) if s.problem)
    done = dict(init_keys(key_dir, stored_data="the database holds reports", specs=upgraded))
    assert done[key_dir / "example-new.key"] == "created"
    assert done[key_dir / KEK] == "ok"
    assert [s for s in inspect(key_dir, upgraded) if s.problem] == []


def test_the_django_secret_may_be_made_anew_and_a_sealing_key_may_not(tmp_path: Path) -> None:
    key_dir = tmp_path / "own-keys"
    init_keys(key_dir, stored_data=None)
    (key_dir / keyfiles.DJANGO_SECRET).unlink()
    (found,) = problems(key_dir)
    assert "staff will have to sign in again" in found
    done = dict(init_keys(key_dir, stored_data="the database holds reports"))
    assert done[key_dir / keyfiles.DJANGO_SECRET] == "created"
    assert problems(key_dir) == []


def test_a_damaged_manifest_stops_everything(tmp_path: Path) -> None:
    key_dir = tmp_path / "own-keys"
    init_keys(key_dir, stored_data=None)
    (key_dir / MANIFEST_NAME).write_text("{not json")
    (found,) = problems(key_dir)
    assert MANIFEST_NAME in found
    assert "restore it from backup" in found
    with pytest.raises(KeyFileError, match=MANIFEST_NAME):
        init_keys(key_dir, stored_data=None)


def test_a_symlinked_key_is_refused(tmp_path: Path) -> None:
    key_dir = tmp_path / "own-keys"
    init_keys(key_dir, stored_data=None)
    kek = key_dir / KEK
    real = tmp_path / "elsewhere.key"
    kek.rename(real)
    kek.symlink_to(real)
    (found,) = problems(key_dir)
    assert "symbolic link" in found


def test_a_keys_folder_open_to_others_is_refused(tmp_path: Path) -> None:
    key_dir = tmp_path / "own-keys"
    init_keys(key_dir, stored_data=None)
    key_dir.chmod(0o755)
    (found,) = problems(key_dir)
    assert f"chmod 700 {key_dir}" in found
    with pytest.raises(KeyInitRefused):
        init_keys(key_dir, stored_data=None)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_key_is_refused(tmp_path: Path) -> None:
    key_dir = tmp_path / "own-keys"
    init_keys(key_dir, stored_data=None)
    (key_dir / KEK).chmod(0o000)
    (found,) = problems(key_dir)
    assert "cannot be read" in found


def test_only_registered_keys_can_be_loaded(tmp_path: Path) -> None:
    init_keys(tmp_path / "own-keys", stored_data=None)
    with pytest.raises(ValueError, match="not a registered key file"):
        load_key(tmp_path / "own-keys", "spare.key")
