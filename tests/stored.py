"""What the evidence store holds, read past its API, on whichever backend this run uses.

`make test` runs the suite on the local store (embedded profile) and on an S3 bucket (scale-out
profile, scripts/with-scaleout). A test that looks at the raw bytes at rest, or at every name
in the store (temporary or malformed ones too, which ``storage.list_objects`` skips), reads
through here and holds on both.
"""

from __future__ import annotations

from pathlib import Path

import boto3
from django.conf import settings

from tipline.storage.s3 import read_credentials


def raw_objects() -> dict[str, bytes]:
    """Every file under EVIDENCE_DIR, or every object under the bucket's prefix: name -> bytes
    (the name is the last part of the path or key)."""
    if settings.TIPLINE_STORAGE == "local":
        root = Path(settings.EVIDENCE_DIR)
        return {p.name: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    access, secret = read_credentials(settings.TIPLINE_S3_CREDENTIALS_FILE)
    client = boto3.client(
        "s3",
        endpoint_url=settings.TIPLINE_S3_ENDPOINT_URL or None,
        region_name=settings.TIPLINE_S3_REGION,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
    )
    prefix = settings.TIPLINE_S3_PREFIX.strip("/") + "/"
    bucket = settings.TIPLINE_S3_BUCKET
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    keys = [entry["Key"] for page in pages for entry in page.get("Contents", ())]
    return {
        key.rsplit("/", 1)[-1]: client.get_object(Bucket=bucket, Key=key)["Body"].read()
        for key in keys
    }
