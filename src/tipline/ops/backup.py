"""`tipline backup` and `tipline restore`: an encrypted, consistent copy of an installation.

A backup is a folder (docs/deployment.md, "Backups"):

* ``database.age`` — a consistent snapshot: SQLite's online backup API (one read transaction,
  so writers carry on), or ``pg_dump --format=custom`` (one repeatable-read snapshot);
* ``objects/<id>.age`` — every evidence object, read through tipline.storage (any backend);
* ``audit-checkpoints.age`` — the signed checkpoint log, when there is one;
* ``keys.age`` — only with ``--keys-to``: the key folder, encrypted to a *second* offline key;
* ``backup.json`` — written last, so its presence means the backup is whole: when it was made,
  when it expires, which key files (by fingerprint) and KEKs it needs, and the SHA-256 of every
  file above. It holds no content and no key.

Everything is encrypted with age to an offline public key; Tipline cannot read its own backups.
Objects are ciphertext already; encrypting them again keeps a backup readable only with the
backup key, whatever the evidence store's keys. The database snapshot exists unencrypted only
for the moment it takes to encrypt it, in a 0700 folder inside the destination, and is removed.

Crypto-shredding (docs/threat-model.md): data keys live in the database, wrapped by the KEK;
the KEK is never in ``database.age``. A report erased after a backup is still in that backup,
wrapped under the KEK of the day, until the backup is deleted at the end of its retention.
``tipline keys rotate`` after an erasure, with key backups kept no longer than data backups,
makes the old copies unreadable even where a data backup outlives its retention.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from tipline import storage
from tipline.audit import checkpoints
from tipline.crypto import age, keyfiles
from tipline.ops.orphans import referenced_objects

FORMAT = 1
MANIFEST = "backup.json"
DATABASE = "database.age"
KEYS = "keys.age"
CHECKPOINTS = "audit-checkpoints.age"
OBJECTS = "objects"


class BackupError(Exception):
    """The backup or restore cannot be made; the message says why and what to do."""


@dataclass
class Summary:
    objects: int = 0
    skipped: int = 0  # objects gone between the listing and the copy (erased meanwhile)
    keys: bool = False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_env() -> tuple[list[str], dict[str, str]]:
    """Connection arguments for pg_dump/pg_restore, the password in the environment only."""
    db = connection.settings_dict
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = [f"--dbname={db['NAME']}"]
    if db.get("HOST"):
        args.append(f"--host={db['HOST']}")
    if db.get("PORT"):
        args.append(f"--port={db['PORT']}")
    if db.get("USER"):
        args.append(f"--username={db['USER']}")
    return args, env


def _snapshot(into: Path) -> str:
    """A consistent copy of the database in ``into``; returns the engine's name."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        target = sqlite3.connect(into)
        try:
            # One step (pages=-1): the copy is taken inside one read transaction, so it is the
            # database as of one instant while writers carry on in WAL mode.
            connection.connection.backup(target)
        finally:
            target.close()
        return "sqlite"
    if connection.vendor == "postgresql":
        args, env = _pg_env()
        dump = [
            "pg_dump",
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={into}",
            *args,
        ]
        result = subprocess.run(dump, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
        return "postgresql"
    raise BackupError(f"backups of a {connection.vendor} database are not supported")


def _key_folder() -> bytes:
    key_dir = Path(settings.KEY_DIR)
    names = [spec.name for spec in keyfiles.registered(key_dir)] + [keyfiles.MANIFEST_NAME]
    files = {name: base64.b64encode((key_dir / name).read_bytes()).decode() for name in names}
    return json.dumps({"format": FORMAT, "files": files}).encode()


def backup(
    dest: Path,
    *,
    to: str,
    keys_to: str | None = None,
    retention_days: int = 30,
    log: Callable[[str], None] = lambda _line: None,
) -> Summary:
    """Write a backup into the new folder ``dest``; see the module docstring."""
    to = age.recipient(to)
    if keys_to is not None:
        keys_to = age.recipient(keys_to)
        if keys_to == to:
            raise BackupError(
                "--keys-to must be another key than --to: whoever holds the backup key alone "
                "must not be able to open the reports"
            )
    key_dir = Path(settings.KEY_DIR)
    problems = keyfiles.problems(key_dir)
    if problems:
        raise BackupError("the keys folder has problems:\n" + "\n".join(problems))
    try:
        dest.mkdir(mode=0o700, parents=False)
    except FileExistsError:
        raise BackupError(f"{dest} exists: a backup goes into a new folder") from None
    except FileNotFoundError:
        raise BackupError(f"{dest.parent} does not exist") from None
    summary = Summary()
    made = timezone.now()
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=dest))
    try:
        # The checkpoint log is copied before the snapshot: a checkpoint names an entry already
        # committed, so every checkpoint copied is covered by the snapshot. (Copied after, it
        # could name entries written meanwhile, and the restored chain would look cut short.)
        checkpoint_log = checkpoints.log_path()
        if checkpoint_log.exists():
            age.encrypt_file(str(checkpoint_log), str(dest / CHECKPOINTS), to)
        snapshot = staging / "database"
        engine = _snapshot(snapshot)
        age.encrypt_file(str(snapshot), str(dest / DATABASE), to)
        snapshot.unlink()
        log(f"database snapshot ({engine}) encrypted")
        # Objects are listed after the snapshot: every object a snapshot row refers to was
        # written before that row was committed, so it is in the listing (unless erased since).
        (dest / OBJECTS).mkdir(mode=0o700)
        for object_id, _mtime in storage.list_objects():
            try:
                data = storage.read_object(object_id)
            except storage.StorageError:
                summary.skipped += 1
                continue
            (dest / OBJECTS / f"{object_id}.age").write_bytes(age.encrypt(data, to))
            summary.objects += 1
        log(f"{summary.objects} evidence object(s) encrypted")
        if keys_to is not None:
            (dest / KEYS).write_bytes(age.encrypt(_key_folder(), keys_to))
            summary.keys = True
            log("key folder encrypted to the key-backup recipient")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    recorded = keyfiles.read_manifest(key_dir) or {}
    files = {str(path.relative_to(dest)): _sha256(path) for path in sorted(dest.rglob("*.age"))}
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "about": "A Tipline backup (`tipline restore`). Everything else in this folder is "
        "age-encrypted; this file holds no content and no key.",
        "created_at": made.isoformat(),
        "expires_at": (made + timedelta(days=retention_days)).isoformat(),
        "engine": engine,
        "recipient": to,
        "keys_recipient": keys_to,
        "kek_ids": keyfiles.kek_ids(recorded),
        "key_fingerprints": recorded,
        "objects": summary.objects,
        "files": files,
    }
    tmp = dest / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, dest / MANIFEST)
    return summary


def read_manifest(src: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads((src / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{src} has no {MANIFEST}: it is not a whole backup") from None
    except ValueError as exc:
        raise BackupError(f"{src / MANIFEST} is damaged ({exc})") from None
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise BackupError(f"{src / MANIFEST} is not a backup this version can restore")
    return manifest


def _check_files(src: Path, manifest: dict[str, Any]) -> None:
    root = src.resolve()
    for name, digest in manifest["files"].items():
        path = (src / name).resolve()
        if os.path.commonpath([root, path]) != str(root) or path.is_symlink():
            raise BackupError(f"{name} in {MANIFEST} points outside the backup")
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"{path} is missing or damaged (its SHA-256 does not match)")


def _fresh() -> None:
    """Refuse to restore over anything: a restore is for a new data directory."""
    evidence = Path(settings.EVIDENCE_DIR)
    if evidence.is_dir() and any(evidence.iterdir()):
        raise BackupError(f"{evidence} is not empty: restore into a new data directory")
    if connection.vendor == "sqlite":
        if Path(str(connection.settings_dict["NAME"])).exists():
            raise BackupError(
                f"{connection.settings_dict['NAME']} exists: restore into a new data directory"
            )
        return
    if connection.introspection.table_names():
        raise BackupError("the database has tables: restore into a new, empty database")


def _restore_keys(src: Path, manifest: dict[str, Any], keys_identity: str | None) -> bool:
    """Put the key folder in place from ``keys.age``, or check the one that is there."""
    key_dir = Path(settings.KEY_DIR)
    wanted: dict[str, str] = manifest.get("key_fingerprints") or {}
    if keys_identity is not None:
        if not (src / KEYS).exists():
            raise BackupError("this backup holds no key folder (it was made without --keys-to)")
        if key_dir.exists() and any(key_dir.iterdir()):
            raise BackupError(f"{key_dir} is not empty: a restore never overwrites keys")
        try:
            folder = json.loads(age.decrypt((src / KEYS).read_bytes(), keys_identity))
        except age.AgeError as exc:
            raise BackupError(f"{src / KEYS}: {exc}") from None
        key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for name, encoded in folder["files"].items():
            if "/" in name or name.startswith("."):
                raise BackupError(f"{src / KEYS} names an unsafe file {name!r}")
            fd = os.open(
                key_dir / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600
            )
            try:
                os.write(fd, base64.b64decode(encoded))
                os.fsync(fd)
            finally:
                os.close(fd)
    recorded = keyfiles.read_manifest(key_dir) or {}
    differ = sorted(name for name, print_ in wanted.items() if recorded.get(name) != print_)
    if differ:
        raise BackupError(
            "the keys folder does not hold the keys this backup was sealed under ("
            + ", ".join(differ)
            + "): restore the key backup of the same date (`--keys-identity`), or put that "
            "keys folder in place"
        )
    problems = keyfiles.problems(key_dir)
    if problems:
        raise BackupError("the keys folder has problems:\n" + "\n".join(problems))
    return keys_identity is not None


def restore(
    src: Path,
    *,
    identity: str,
    keys_identity: str | None = None,
    log: Callable[[str], None] = lambda _line: None,
) -> Summary:
    """Bring a backup back into a new data directory and database; see the module docstring."""
    manifest = read_manifest(src)
    _check_files(src, manifest)
    engine = manifest.get("engine")
    if engine != connection.vendor:
        raise BackupError(
            f"this backup is of a {engine} database; this installation uses {connection.vendor}"
        )
    _fresh()
    summary = Summary(keys=_restore_keys(src, manifest, keys_identity))
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=Path(settings.DATA_DIR)))
    try:
        if engine == "sqlite":
            name = Path(str(connection.settings_dict["NAME"]))
            connection.close()
            _decrypt_file(src / DATABASE, staging / "database", identity)
            os.chmod(staging / "database", 0o600)
            os.replace(staging / "database", name)
        else:
            _decrypt_file(src / DATABASE, staging / "database", identity)
            args, env = _pg_env()
            restore_cmd = [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                *args,
                str(staging / "database"),
            ]
            result = subprocess.run(  # noqa: S603
                restore_cmd, env=env, capture_output=True, text=True, check=False
            )
            if result.returncode != 0:
                raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
        log("database restored")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # Only objects the restored database refers to come back: an object written after the
    # snapshot belonged to a transaction the snapshot does not hold.
    wanted = referenced_objects()
    for path in sorted((src / OBJECTS).glob("*.age")):
        object_id = path.name.removesuffix(".age")
        if object_id not in wanted:
            summary.skipped += 1
            continue
        try:
            storage.restore_object(object_id, age.decrypt(path.read_bytes(), identity))
        except age.AgeError as exc:
            raise BackupError(f"{path}: {exc}") from None
        summary.objects += 1
    log(f"{summary.objects} evidence object(s) restored")
    if (src / CHECKPOINTS).exists():
        target = checkpoints.log_path()
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not target.exists():
            _decrypt_file(src / CHECKPOINTS, target, identity)
    return summary


def _decrypt_file(source: Path, target: Path, identity: str) -> None:
    try:
        age.decrypt_file(str(source), str(target), identity)
    except age.AgeError as exc:
        raise BackupError(f"{source}: {exc}") from None
