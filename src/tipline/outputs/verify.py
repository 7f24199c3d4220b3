"""Checking a referral package the way an agency would: signature, manifest, schema.

``verify_package`` needs no database and no secret: the package, its ``.minisig`` and a minisign
public key (and, optionally, the agency's age identity to check the decrypted originals too). It
reads the package as hostile input: member names must be plain relative paths, the number of
members and the size of the JSON members are bounded, and members are hashed in chunks, never
read whole, so a damaged or crafted ZIP gets a list of problems rather than an exception.

It reports every problem it finds, not only the first: an agency asking "what exactly is wrong
with this file" deserves the whole answer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # ships no type hints

from tipline.crypto import age, minisign
from tipline.outputs.package import MANIFEST, REPORT

MAX_MEMBERS = 10_000
MAX_JSON_BYTES = 16 * 1024 * 1024
_CHUNK = 1 << 20
_MEMBER = re.compile(r"\A[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)?\Z")
_LINE = re.compile(r"\A([0-9a-f]{64})  (\S+)\Z")


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    trusted_comment: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def schema(version: int) -> dict[str, Any]:
    """The JSON Schema of report.json for ``version`` (KeyError if there is none)."""
    name = f"schema/referral-report-v{version}.schema.json"
    source = resources.files("tipline.outputs").joinpath(name)
    if not source.is_file():
        raise KeyError(version)
    loaded: dict[str, Any] = json.loads(source.read_text())
    return loaded


def schema_problems(document: Any) -> list[str]:
    """Every way ``document`` (a parsed report.json) breaks the schema of its version."""
    version = document.get("version") if isinstance(document, dict) else None
    if type(version) is not int:
        return ["report.json: no version number"]
    try:
        validator = jsonschema.Draft202012Validator(schema(version))
    except KeyError:
        return [f"report.json: version {version} is not one this Tipline knows"]
    return [
        f"report.json: {'/'.join(str(p) for p in error.absolute_path) or '(top)'}: "
        f"{error.message[:300]}"
        for error in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    ]


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def _digest(archive: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with archive.open(name) as member:
        while chunk := member.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _small(archive: zipfile.ZipFile, name: str) -> bytes | None:
    with archive.open(name) as member:
        data = member.read(MAX_JSON_BYTES + 1)
    return None if len(data) > MAX_JSON_BYTES else data


def verify_package(
    package: Path, *, signature: str, public_key: str, identity: str | None = None
) -> Verification:
    result = Verification()
    try:
        verified = minisign.verify(_chunks(package), signature, public_key)
    except minisign.MinisignError as exc:
        result.problems.append(f"signature: {exc}")
    else:
        result.trusted_comment = verified.trusted_comment
        result.checked.append(f"signature by key {verified.key_id}")
    try:
        with zipfile.ZipFile(package) as archive:
            _check_archive(archive, result, identity)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        result.problems.append(f"not a readable ZIP archive: {exc}")
    return result


def _check_archive(archive: zipfile.ZipFile, result: Verification, identity: str | None) -> None:
    infos = archive.infolist()
    names = [info.filename for info in infos]
    if len(names) > MAX_MEMBERS:
        result.problems.append(f"more than {MAX_MEMBERS} members")
        return
    bad = [name for name in names if not _MEMBER.match(name) or ".." in name.split("/")]
    if bad:
        result.problems.append(f"unsafe member names: {', '.join(repr(n[:80]) for n in bad[:5])}")
        return
    if len(set(names)) != len(names):
        result.problems.append("a member name appears twice")
        return
    members = set(names)
    listed = _manifest(archive, members, result)
    if listed is None:
        return
    for name in sorted(members - {MANIFEST}):
        expected = listed.get(name)
        if expected is None:
            result.problems.append(f"manifest: {name} is in the package but not in the manifest")
        elif not hmac.compare_digest(_digest(archive, name), expected):
            result.problems.append(f"manifest: {name} does not match its SHA-256")
    originals = {name for name in listed if name not in members}
    for name in sorted(originals):
        if name + ".age" not in members:
            result.problems.append(f"manifest: {name} is neither a member nor a decrypted one")
    result.checked.append(f"manifest: {len(members) - 1} members")
    _check_report(archive, members, listed, result)
    if identity is not None:
        _check_originals(archive, originals, listed, identity, result)


def _manifest(
    archive: zipfile.ZipFile, members: set[str], result: Verification
) -> dict[str, str] | None:
    if MANIFEST not in members:
        result.problems.append(f"no {MANIFEST}")
        return None
    raw = _small(archive, MANIFEST)
    if raw is None:
        result.problems.append(f"{MANIFEST} is too large")
        return None
    listed: dict[str, str] = {}
    for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        match = _LINE.match(line)
        if match is None or not _MEMBER.match(match[2]) or match[2] in listed:
            result.problems.append(f"{MANIFEST} line {number} is malformed or repeated")
            continue
        listed[match[2]] = match[1]
    return listed


def _check_report(
    archive: zipfile.ZipFile, members: set[str], listed: dict[str, str], result: Verification
) -> None:
    if REPORT not in members:
        result.problems.append(f"no {REPORT}")
        return
    raw = _small(archive, REPORT)
    try:
        document = json.loads(raw) if raw is not None else None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        result.problems.append(f"{REPORT} is not JSON: {exc}")
        return
    if document is None:
        result.problems.append(f"{REPORT} is too large")
        return
    problems = schema_problems(document)
    result.problems += problems
    if problems:
        return
    result.checked.append(f"{REPORT}: schema version {document['version']}")
    for entry in document["evidence"] + document["encrypted_to_agency"]:
        if entry["path"] not in members:
            result.problems.append(f"{REPORT} names {entry['path']}, which is not in the package")
    for entry in document["evidence"]:
        if listed.get(entry["original"]) != entry["sha256"]:
            result.problems.append(f"{REPORT} and {MANIFEST} disagree on {entry['original']}")
    named = f"package:{document['package']['id']}"
    if result.trusted_comment and named not in result.trusted_comment.split("\t"):
        result.problems.append("the signature's trusted comment names another package")


def _check_originals(
    archive: zipfile.ZipFile,
    originals: set[str],
    listed: dict[str, str],
    identity: str,
    result: Verification,
) -> None:
    for name in sorted(originals):
        if name + ".age" not in archive.namelist():
            continue
        try:
            plain = age.decrypt(archive.read(name + ".age"), identity)
        except age.AgeError as exc:
            result.problems.append(f"{name}.age: {exc}")
            continue
        if not hmac.compare_digest(hashlib.sha256(plain).hexdigest(), listed[name]):
            result.problems.append(f"{name}: decrypted, it does not match its SHA-256")
    result.checked.append(f"decrypted {len(originals)} evidence file(s) with the agency's key")


@dataclass(frozen=True)
class Unwrapped:
    package: Path
    signature: str | None


def unwrap(path: Path, workdir: Path) -> Unwrapped:
    """A console download (package.zip + package.zip.minisig in one ZIP) or a bare package.

    The inner package is copied out to ``workdir`` (ciphertext and metadata only) because the
    signature covers its exact bytes and zipfile needs a seekable file to read it.
    """
    try:
        with zipfile.ZipFile(path) as outer:
            names = set(outer.namelist())
            if names >= {"package.zip", "package.zip.minisig"} and MANIFEST not in names:
                inner = workdir / "package.zip"
                with outer.open("package.zip") as source, inner.open("wb") as target:
                    shutil.copyfileobj(source, target, _CHUNK)
                raw = outer.read("package.zip.minisig")[:4096]
                return Unwrapped(package=inner, signature=raw.decode("utf-8", "replace"))
    except (zipfile.BadZipFile, OSError, EOFError):
        pass
    return Unwrapped(package=path, signature=None)
