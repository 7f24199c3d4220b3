"""S3-compatible backend for the encrypted evidence store (TIPLINE_STORAGE=s3).

django-storages' S3Storage holds the configuration and the per-thread boto3 connection, writes
objects (one PutObject: the transfer threshold is above any evidence file, so an object is either
whole or absent) and deletes them; reads and the listing use the same connection's client,
one GetObject per read instead of S3File's HEAD + GET, and LastModified from the listing pages
instead of a HEAD per object.

Objects hold ciphertext only, under ``<prefix><random id>``, with no metadata and a neutral
content type: the object store learns sizes and times, nothing else (docs/threat-model.md).
Every failure to reach or use the bucket becomes StorageUnavailable (503 at the edge); a missing
object is StorageError, as with the local store.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from storages.backends.s3 import S3Storage

from tipline.storage.errors import (
    OBJECT_ID,
    StorageError,
    StorageUnavailable,
    StoredObject,
    check_object_id,
    new_object_id,
)

# Short connect timeout and few retries: with the server down, the reporter gets the 503 within
# seconds instead of a gateway timeout, and nothing is half-stored either way.
_CLIENT = Config(
    connect_timeout=5,
    read_timeout=30,
    retries={"mode": "standard", "max_attempts": 3},
    s3={"addressing_style": "path"},
)
# One PutObject, never a multipart upload (no parts left behind by a failed upload).
_TRANSFER = TransferConfig(multipart_threshold=1 << 30, use_threads=False)
_MISSING = {"404", "NoSuchKey", "NotFound"}


def read_credentials(path: str) -> tuple[str, str]:
    """``access_key_id`` and ``secret_access_key`` from a TOML file (0600, outside the repo)."""
    try:
        data = tomllib.loads(Path(path).read_text())
        return str(data["access_key_id"]), str(data["secret_access_key"])
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise ImproperlyConfigured(
            f"TIPLINE_S3_CREDENTIALS_FILE={path}: expected a readable TOML file with "
            f"access_key_id and secret_access_key ({type(exc).__name__})"
        ) from exc


@functools.cache
def _storage(endpoint: str, bucket: str, region: str, prefix: str, credentials: str) -> S3Storage:
    if not bucket:
        raise ImproperlyConfigured("TIPLINE_STORAGE=s3 needs TIPLINE_S3_BUCKET")
    options: dict[str, Any] = {
        "bucket_name": bucket,
        "endpoint_url": endpoint or None,
        "region_name": region or None,
        "location": prefix.strip("/"),
        "default_acl": None,
        "file_overwrite": True,  # names are fresh random ids: never a look-up before a write
        "gzip": False,
        "client_config": _CLIENT,
        "transfer_config": _TRANSFER,
        "object_parameters": {"ContentType": "application/octet-stream"},
    }
    if credentials:
        options["access_key"], options["secret_key"] = read_credentials(credentials)
    # Without a file, boto3's own chain applies (AWS_* environment, instance role).
    return S3Storage(**options)


def _store() -> S3Storage:
    return _storage(
        settings.TIPLINE_S3_ENDPOINT_URL,
        settings.TIPLINE_S3_BUCKET,
        settings.TIPLINE_S3_REGION,
        settings.TIPLINE_S3_PREFIX,
        settings.TIPLINE_S3_CREDENTIALS_FILE,
    )


def _key(store: S3Storage, object_id: str) -> str:
    check_object_id(object_id)
    return f"{store.location}/{object_id}" if store.location else object_id


def _unavailable(exc: Exception) -> StorageUnavailable:
    # The error code only (no request ids, no URL with the bucket's address in a log line).
    code = exc.response.get("Error", {}).get("Code", "?") if isinstance(exc, ClientError) else ""
    return StorageUnavailable(f"object store: {type(exc).__name__} {code}".strip())


def write_object(ciphertext: bytes) -> str:
    store = _store()
    object_id = new_object_id()
    try:
        store.save(object_id, ContentFile(ciphertext))
    except (BotoCoreError, Boto3Error, ClientError) as exc:
        raise _unavailable(exc) from exc
    return object_id


def restore_object(object_id: str, ciphertext: bytes) -> None:
    """Put back an object under its original id (`tipline restore`); never over an existing one.

    Restore runs on a fresh installation, one process at a time, so a look-up before the write
    is enough; a bucket with ``If-None-Match`` support would make it atomic.
    """
    store = _store()
    key = _key(store, object_id)
    client = store.connection.meta.client
    try:
        client.head_object(Bucket=store.bucket_name, Key=key)
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) not in _MISSING:
            raise _unavailable(exc) from exc
    except BotoCoreError as exc:
        raise _unavailable(exc) from exc
    else:
        raise StorageError("object exists already")
    try:
        client.put_object(
            Bucket=store.bucket_name,
            Key=key,
            Body=ciphertext,
            ContentType="application/octet-stream",
        )
    except (BotoCoreError, Boto3Error, ClientError) as exc:
        raise _unavailable(exc) from exc


def read_object(object_id: str) -> bytes:
    store = _store()
    try:
        answer = store.connection.meta.client.get_object(
            Bucket=store.bucket_name, Key=_key(store, object_id)
        )
        return bytes(answer["Body"].read())
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code")) in _MISSING:
            raise StorageError("object not found") from exc
        raise _unavailable(exc) from exc
    except BotoCoreError as exc:
        raise _unavailable(exc) from exc


def delete_object(object_id: str) -> None:
    store = _store()
    try:
        store.delete(check_object_id(object_id))  # a missing object is not an error
    except (BotoCoreError, ClientError) as exc:
        raise _unavailable(exc) from exc


def list_objects() -> Iterator[StoredObject]:
    store = _store()
    prefix = f"{store.location}/" if store.location else ""
    pages = store.connection.meta.client.get_paginator("list_objects_v2")
    try:
        for page in pages.paginate(Bucket=store.bucket_name, Prefix=prefix):
            for entry in page.get("Contents", ()):
                name = str(entry["Key"])[len(prefix) :]
                if OBJECT_ID.match(name):
                    yield StoredObject(name, entry["LastModified"].timestamp())
    except (BotoCoreError, ClientError) as exc:
        raise _unavailable(exc) from exc
