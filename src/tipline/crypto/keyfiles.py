"""Key files: the one registry of Tipline's keys, and how they are created, read and checked.

Why it is strict (issue 14, item 2): keys used to be created on first use, so a deleted or
damaged key-encryption key was silently replaced by a new one, the server started, and every
report sealed under the old key answered 500. Now:

* ``KEY_FILES`` lists every key file. Adding a key is one line there; `tipline keys init`
  creates it, `tipline keys status` and the start-up check cover it, and ``load_key`` reads it.
* Only ``init_keys`` (`tipline keys init`) creates keys, and never over an existing file. Run
  time only reads (``load_key``), so nothing replaces a key behind the operator's back.
* When a key is created its fingerprint is recorded in ``keys/fingerprints.json``. The
  manifest is what remembers that a key has existed: a recorded key that is missing, the wrong
  size, readable by others or no longer matching its fingerprint stops start-up with a message
  that names the file and says what to do; `keys init` refuses to create a replacement and says
  to restore it from backup. The manifest lives beside the keys because it must be readable
  before the database (and on every database engine); if the whole keys folder is lost with it,
  the database still shows that reports exist, and `keys init` refuses (``stored_data``).
* A fingerprint is SHA-256 over a domain label, the file name and the 256-bit random key: it
  identifies a key without revealing anything about it.

Kept free of Django imports: settings.py reads the Django secret through it, and the tests
create their keys with it before the settings exist.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass
from functools import cache
from pathlib import Path

KEY_BYTES = 32
MANIFEST_NAME = "fingerprints.json"
_MANIFEST_FORMAT = 1
_FINGERPRINT_LABEL = b"tipline key fingerprint v1\x00"


@dataclass(frozen=True)
class KeySpec:
    """One key file under ``keys/``: ``size`` random bytes.

    ``if_replaced`` is set for a key that protects nothing stored, and says what making a new one
    costs (staff sign in again): `keys init` may then replace it when it is lost. Every other key
    seals or digests stored data, and a replacement would make that data unreadable.
    """

    name: str
    purpose: str
    if_replaced: str = ""
    size: int = KEY_BYTES

    @property
    def replaceable(self) -> bool:
        return bool(self.if_replaced)


# The KEK's number is stored beside every wrapped key (cases.sealing) and in every wrapped blob
# (box.wrap_data_key), so `tipline keys rotate` can introduce kek-2, kek-3, ... and readers know
# which one wrapped what. KEK is the first installation's file; the KEKs in use are the ones the
# manifest records (``kek_ids``).
KEK_ID = 1
KEK = f"kek-{KEK_ID}.key"
_KEK_NAME = re.compile(r"\Akek-([1-9][0-9]{0,4})\.key\Z")


def kek_name(kek_id: int) -> str:
    return f"kek-{kek_id}.key"


def kek_number(name: str) -> int | None:
    """The number of a KEK file name (``kek-2.key`` → 2), or None for any other file."""
    match = _KEK_NAME.match(name)
    return int(match.group(1)) if match else None


RECEIPT = "receipt.key"
AUDIT = "audit.key"
LOCKER = "locker.key"
DJANGO_SECRET = "django-secret.key"  # noqa: S105 - a file name, not a secret
AUDIT_SIGNING = "audit-signing.key"
REFERRAL_SIGNING = "referral-signing.key"
EXCHANGE_SIGNING = "exchange-signing.key"

# Every key Tipline uses. Add a key with one line here, then read it with load_key().
KEY_FILES: tuple[KeySpec, ...] = (
    KeySpec(KEK, "key-encryption key: wraps every report's and locker's data keys"),
    KeySpec(RECEIPT, "receipt, submission-token, identifier and API-token digests"),
    KeySpec(AUDIT, "HMAC chain of the audit log"),
    KeySpec(LOCKER, "evidence lockers' passphrase salt and session-digest key"),
    KeySpec(
        DJANGO_SECRET,
        "signs staff sessions and CSRF tokens",
        if_replaced="staff will have to sign in again",
    ),
    # Ed25519 seed (crypto/signing.py). Old checkpoints stay verifiable with the published public
    # key, so a lost one may be replaced; the checkpoint code then refuses to sign until the old
    # checkpoint log is moved aside (docs/deployment.md).
    KeySpec(
        AUDIT_SIGNING,
        "signs audit checkpoints",
        if_replaced="move the checkpoint log aside and publish the new public key",
    ),
    # Ed25519 seed of referral packages (crypto/minisign.py); agencies keep the public key, so
    # packages already sent stay verifiable after a replacement.
    KeySpec(
        REFERRAL_SIGNING,
        "signs referral packages",
        if_replaced="give the new public key (`tipline referral pubkey`) to every agency",
    ),
    # Ed25519 seed of documents forwarded to partner hotlines (tipline.exchange); partners keep
    # the public key and refuse documents it does not verify.
    KeySpec(
        EXCHANGE_SIGNING,
        "signs documents forwarded to partner hotlines",
        if_replaced="give the new public key (`tipline hotlines pubkey`) to every partner hotline",
    ),
)

_RESTORE = "restore it from backup (a new key cannot open what the old one sealed)"


class KeyFileError(RuntimeError):
    """A key file is missing, unreadable, damaged or too widely readable.

    The message names the file and says what to do; it never contains key material.
    """


class KeyInitRefused(KeyFileError):
    """`keys init` will not create or record keys: each line names a file and what to do."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class KeyState:
    """What `keys status` and the start-up check report for one file (``problem`` None: ok)."""

    path: Path
    problem: str | None = None
    purpose: str = ""


def spec_for(name: str) -> KeySpec:
    for spec in KEY_FILES:
        if spec.name == name:
            return spec
    if kek_number(name) is not None:
        return _kek_spec(name)
    raise ValueError(f"{name} is not a registered key file (tipline.crypto.keyfiles.KEY_FILES)")


def fingerprint(spec: KeySpec, key: bytes) -> str:
    return hashlib.sha256(_FINGERPRINT_LABEL + spec.name.encode() + b"\x00" + key).hexdigest()


def read_key_file(path: Path, size: int) -> bytes:
    """Read a key file without following links; refuse any other mode or size.

    Raises FileNotFoundError when the file does not exist (the callers decide what that means)
    and KeyFileError for everything else.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise
    except PermissionError as exc:
        raise KeyFileError(
            f"{path} cannot be read by this account: run Tipline as the account that owns "
            "the key files"
        ) from exc
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise KeyFileError(
                f"{path} is a symbolic link: key files must be regular files; "
                "put the key itself there (restore it from backup)"
            ) from exc
        raise KeyFileError(f"{path} cannot be read ({exc.strerror})") from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyFileError(f"{path} is not a regular file: {_RESTORE}")
        mode = stat.S_IMODE(info.st_mode)
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(
                f"{path} has mode {mode:o}: a key must be readable by its owner only; run "
                f"`chmod 600 {path}` (and if others could read it, treat the key as disclosed)"
            )
        data = os.read(fd, size + 1)
    finally:
        os.close(fd)
    if len(data) != size:
        raise KeyFileError(
            f"{path} holds {len(data) if len(data) <= size else 'more than ' + str(size)} bytes "
            f"where the key has {size}: it is damaged; {_RESTORE}"
        )
    return data


def _kek_spec(name: str) -> KeySpec:
    return KeySpec(name, KEY_FILES[0].purpose)


def kek_ids(recorded: dict[str, str] | None) -> list[int]:
    """The KEKs in use, oldest first: those the manifest records, or [1] before it has any.

    The newest wraps new data keys; an older one is still being re-wrapped away by a rotation
    (`tipline keys rotate`) and is destroyed when nothing refers to it.
    """
    found = sorted(n for n in (kek_number(name) for name in recorded or {}) if n is not None)
    return found or [KEK_ID]


def registered(key_dir: Path) -> tuple[KeySpec, ...]:
    """KEY_FILES as this installation has them: the KEK entry stands for every KEK in use."""
    try:
        recorded = read_manifest(key_dir)
    except KeyFileError:
        recorded = None  # inspect() reports the damaged manifest on its own line
    keks = tuple(_kek_spec(kek_name(n)) for n in kek_ids(recorded))
    return keks + tuple(spec for spec in KEY_FILES if spec.name != KEK)


def read_manifest(key_dir: Path) -> dict[str, str] | None:
    """The recorded fingerprints by file name, or None when no manifest exists yet."""
    path = key_dir / MANIFEST_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KeyFileError(f"{path} cannot be read ({exc.strerror})") from exc
    try:
        data = json.loads(raw)
        keys = data["keys"]
        if data.get("format") != _MANIFEST_FORMAT or not isinstance(keys, dict):
            raise ValueError("unknown format")
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in keys.items()):
            raise ValueError("malformed entry")
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(f"{path} is damaged ({exc}): restore it from backup") from exc
    return dict(keys)


def read_destroyed(key_dir: Path) -> dict[str, str]:
    """Keys a rotation destroyed (name → fingerprint), kept so nobody mistakes them for lost."""
    try:
        data = json.loads((key_dir / MANIFEST_NAME).read_bytes())
    except (OSError, ValueError):
        return {}
    destroyed = data.get("destroyed") if isinstance(data, dict) else None
    return dict(destroyed) if isinstance(destroyed, dict) else {}


def _write_manifest(
    key_dir: Path, recorded: dict[str, str], destroyed: dict[str, str] | None = None
) -> None:
    """Replace the manifest atomically: a crash leaves the old one or the new one, whole."""
    path = key_dir / MANIFEST_NAME
    destroyed = read_destroyed(key_dir) if destroyed is None else destroyed
    body: dict[str, object] = {
        "format": _MANIFEST_FORMAT,
        "about": "SHA-256 fingerprints of the key files, recorded by `tipline keys init`; "
        "they identify the keys without revealing them. Back this file up with the keys.",
        "keys": dict(sorted(recorded.items())),
    }
    if destroyed:
        body["destroyed"] = dict(sorted(destroyed.items()))
    tmp = path.with_name(f".{MANIFEST_NAME}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, (json.dumps(body, indent=2) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(key_dir)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create_key_file(path: Path, size: int) -> bytes:
    key = secrets.token_bytes(size)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError as exc:
        raise KeyFileError(
            f"{path} appeared while `tipline keys init` was creating it: is another "
            "`tipline keys init` running? Run it again when that one has finished"
        ) from exc
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


def _dir_problem(key_dir: Path) -> str | None:
    mode = stat.S_IMODE(key_dir.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return (
            f"{key_dir} has mode {mode:o}: the keys folder must be its owner's only; "
            f"run `chmod 700 {key_dir}`"
        )
    return None


def _missing_problem(path: Path, spec: KeySpec, recorded: bool) -> str:
    if not recorded:
        return f"{path} does not exist yet: run `tipline keys init` to create it"
    if spec.replaceable:
        return (
            f"{path} is missing: restore it from backup, or run `tipline keys init` to make a "
            f"new one ({spec.if_replaced})"
        )
    return f"{path} is missing although a key was recorded there: {_RESTORE}"


def _mismatch_problem(path: Path, spec: KeySpec) -> str:
    problem = (
        f"{path} does not match the fingerprint recorded in {MANIFEST_NAME} when it was "
        "created: it has been altered or replaced; "
    )
    if spec.replaceable:
        return problem + (
            "restore it from backup, or delete it and run `tipline keys init` to make a new one "
            f"({spec.if_replaced})"
        )
    return problem + "restore the original from backup"


def _check_one(
    key_dir: Path, spec: KeySpec, recorded: dict[str, str] | None
) -> tuple[bytes | None, str | None]:
    """The key and None when it is sound, else None and what is wrong (with what to do)."""
    path = key_dir / spec.name
    try:
        key = read_key_file(path, spec.size)
    except FileNotFoundError:
        return None, _missing_problem(path, spec, recorded is not None and spec.name in recorded)
    except KeyFileError as exc:
        return None, str(exc)
    if recorded is None:
        return key, None  # the missing manifest is reported once, on its own line
    expected = recorded.get(spec.name)
    if expected is None:
        return None, (
            f"{path} is not recorded in {MANIFEST_NAME}: if it is the original key, run "
            "`tipline keys init` to record it; otherwise restore the keys folder from backup"
        )
    if not hmac.compare_digest(expected, fingerprint(spec, key)):
        return None, _mismatch_problem(path, spec)
    return key, None


def inspect(key_dir: Path, specs: tuple[KeySpec, ...] | None = None) -> list[KeyState]:
    """Check every registered key, the manifest and the folder; never creates or changes a file.

    This is `tipline keys status` and the start-up check: any problem stops start-up.
    """
    specs = registered(key_dir) if specs is None else specs
    if not key_dir.is_dir():
        return [
            KeyState(
                key_dir,
                f"{key_dir} does not exist: on a new installation run `tipline keys init`; if "
                "this installation has held reports, restore the keys folder from backup",
            )
        ]
    states = [KeyState(key_dir, _dir_problem(key_dir))]
    manifest_path = key_dir / MANIFEST_NAME
    try:
        recorded = read_manifest(key_dir)
    except KeyFileError as exc:
        return [*states, KeyState(manifest_path, str(exc))]
    if recorded is None:
        states.append(
            KeyState(
                manifest_path,
                f"{manifest_path} is missing, so the keys cannot be checked: on a new "
                "installation, or one set up before fingerprints were recorded, run `tipline "
                "keys init` (it records the keys present); otherwise restore the keys folder "
                "from backup",
            )
        )
    else:
        states.append(KeyState(manifest_path))
    states.extend(
        KeyState(key_dir / spec.name, _check_one(key_dir, spec, recorded)[1], spec.purpose)
        for spec in specs
    )
    return states


def problems(key_dir: Path) -> list[str]:
    return [state.problem for state in inspect(key_dir) if state.problem]


def init_keys(
    key_dir: Path, *, stored_data: str | None, specs: tuple[KeySpec, ...] | None = None
) -> list[tuple[Path, str]]:
    """`tipline keys init`: create the keys of a new installation and record their fingerprints.

    ``stored_data`` says what data already exists (for example "the database holds reports"),
    or None for none. A key that is missing is created only when nothing depends on it: the
    installation is new (no manifest and no stored data), the key was added to KEY_FILES after
    the manifest was written, or it is replaceable. Present keys are checked, never rewritten;
    present keys without a record (an installation from before fingerprints) are recorded.
    Everything is checked before anything is written, and any problem refuses the whole run.
    Returns each key file with what was done: "created", "recorded" or "ok".
    """
    key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    specs = registered(key_dir) if specs is None else specs
    refusals = [p for p in [_dir_problem(key_dir)] if p]
    recorded = read_manifest(key_dir)
    known = dict(recorded or {})
    to_create: list[KeySpec] = []
    done: dict[str, str] = {}
    for spec in specs:
        path = key_dir / spec.name
        try:
            key = read_key_file(path, spec.size)
        except FileNotFoundError:
            if spec.name in known and not spec.replaceable:
                refusals.append(_missing_problem(path, spec, recorded=True))
            elif recorded is None and stored_data and not spec.replaceable:
                refusals.append(
                    f"{path} is missing and {stored_data}, sealed under keys that were never "
                    "recorded: a new key cannot open them; restore the keys folder from backup"
                )
            else:
                to_create.append(spec)
            continue
        except KeyFileError as exc:
            refusals.append(str(exc))
            continue
        expected = known.get(spec.name)
        done[spec.name] = "ok"
        if expected is None:
            known[spec.name] = fingerprint(spec, key)
            done[spec.name] = "recorded"
        elif not hmac.compare_digest(expected, fingerprint(spec, key)):
            refusals.append(_mismatch_problem(path, spec))
    if refusals:
        raise KeyInitRefused(refusals)
    for spec in to_create:
        known[spec.name] = fingerprint(spec, _create_key_file(key_dir / spec.name, spec.size))
        done[spec.name] = "created"
    if known != recorded:
        _write_manifest(key_dir, known)
    return [(key_dir / spec.name, done[spec.name]) for spec in specs]


@cache
def load_key(key_dir: Path, name: str) -> bytes:
    """A registered key, read once per process, checked like the start-up check; never creates.

    Run time reads keys only: a key that is missing or does not match its recorded fingerprint
    raises KeyFileError (the request fails) instead of being replaced.
    """
    spec = spec_for(name)
    recorded = read_manifest(key_dir)
    if recorded is None:
        raise KeyFileError(f"{key_dir / MANIFEST_NAME} is missing: run `tipline keys init`")
    key, problem = _check_one(key_dir, spec, recorded)
    if key is None:
        raise KeyFileError(problem)
    return key


def read_django_secret(key_dir: Path) -> str:
    """The Django secret for settings.py, or "" when it cannot be read.

    Settings must import even without keys, so that `tipline keys init` and `keys status` can run;
    an empty SECRET_KEY makes Django refuse to sign anything, and the start-up check (which runs
    before any server or worker starts) names the file and what to do.
    """
    try:
        return load_key(key_dir, DJANGO_SECRET).hex()
    except (KeyFileError, FileNotFoundError):
        return ""


# --- Key rotation (`tipline keys rotate`) -------------------------------------------------------
#
# A rotation adds kek-N+1 to the manifest; from then on every process wraps new data keys under
# it (``active_kek_id`` re-reads the manifest whenever the file changes) while both KEKs unwrap.
# tipline.ops.rotation re-wraps every stored data key in batches; when nothing refers to the old
# KEK any more, ``destroy_kek`` moves it from "keys" to "destroyed" in the manifest, then
# overwrites and removes the file. A crash at any point leaves a state the next
# `tipline keys rotate` finishes.

_manifest_cache: dict[Path, tuple[tuple[int, int, int], list[int]]] = {}


def current_kek_ids(key_dir: Path) -> list[int]:
    """``kek_ids`` of the manifest as it is now (re-read only when the file has changed).

    Long-running web and task workers call this for every wrap, so that a rotation started by
    another process takes effect in them without a restart. One stat() per call.
    """
    path = key_dir / MANIFEST_NAME
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return [KEK_ID]
    stamp = (info.st_ino, info.st_mtime_ns, info.st_size)
    cached = _manifest_cache.get(key_dir)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    ids = kek_ids(read_manifest(key_dir))
    _manifest_cache[key_dir] = (stamp, ids)
    return ids


def active_kek_id(key_dir: Path) -> int:
    """The KEK that wraps new data keys: the newest one recorded."""
    return current_kek_ids(key_dir)[-1]


def begin_rotation(key_dir: Path) -> int:
    """Create and record kek-N+1 unless a rotation is already under way; return the new id.

    When two KEKs are recorded a rotation was interrupted: it is resumed, not stacked (a third
    KEK would only lengthen the time the oldest one lives).
    """
    recorded = read_manifest(key_dir)
    if recorded is None:
        raise KeyFileError(f"{key_dir / MANIFEST_NAME} is missing: run `tipline keys init`")
    ids = kek_ids(recorded)
    if len(ids) > 1:
        return ids[-1]
    new_id = ids[-1] + 1
    spec = _kek_spec(kek_name(new_id))
    path = key_dir / spec.name
    # A file without a record was left by a rotation that crashed before recording it: no
    # process ever wrapped anything under an unrecorded KEK, so it is safe to make it again.
    path.unlink(missing_ok=True)
    key = _create_key_file(path, spec.size)
    _fsync_dir(key_dir)
    _write_manifest(key_dir, {**recorded, spec.name: fingerprint(spec, key)})
    return new_id


def destroy_kek(key_dir: Path, kek_id: int) -> None:
    """Forget a KEK: drop it from the manifest's keys, then overwrite and remove its file.

    The manifest is changed first, so a crash in between leaves a file no check reads and that
    ``finish_destruction`` (run by every `keys rotate`) removes.
    """
    recorded = read_manifest(key_dir) or {}
    name = kek_name(kek_id)
    if kek_ids(recorded)[-1] == kek_id:
        raise KeyFileError(f"{name} is the active key-encryption key: it cannot be destroyed")
    destroyed = read_destroyed(key_dir)
    if name in recorded:
        destroyed[name] = recorded.pop(name)
        _write_manifest(key_dir, recorded, destroyed)
    finish_destruction(key_dir)


def finish_destruction(key_dir: Path) -> list[Path]:
    """Overwrite and remove every file the manifest lists as destroyed; return those removed.

    Overwriting is best effort on journalling or copy-on-write file systems and SSDs (the old
    blocks may survive); docs/threat-model.md says so and why the KEK alone is not enough there.
    """
    removed = []
    for name in read_destroyed(key_dir):
        path = key_dir / name
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            continue
        try:
            size = os.fstat(fd).st_size
            os.write(fd, secrets.token_bytes(max(size, KEY_BYTES)))
            os.fsync(fd)
        finally:
            os.close(fd)
        path.unlink()
        removed.append(path)
    if removed:
        _fsync_dir(key_dir)
    return removed
