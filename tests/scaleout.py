"""The scale-out profile's shared services, as a test run sees them (scripts/with-scaleout).

On that profile the run has one Redis and one S3 bucket, named by its environment; the database
is rolled back or emptied after each test by pytest-django, and these are emptied before each
test here (``RunServices.empty``), so tests that count queued tasks or stored objects see only
their own. Only the run's own namespace is emptied: the real servers the tests start
(tests/live.py) keep theirs under their database's name (``LiveServer.namespace``), and tests
that start servers of their own (tests/outbox, tests/storage/test_s3.py) use those.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import redis

from tipline.storage.s3 import read_credentials


@dataclass(frozen=True)
class RunServices:
    redis: redis.Redis | None = None
    redis_prefix: str = ""
    s3: Any = None
    bucket: str = ""
    s3_prefix: str = ""

    @classmethod
    def from_environment(cls, env: Mapping[str, str] = os.environ) -> RunServices:
        services: dict[str, Any] = {}
        if env.get("TIPLINE_TASKS") == "redis":
            services["redis"] = redis.Redis.from_url(env["TIPLINE_REDIS_URL"])
            services["redis_prefix"] = env.get("TIPLINE_REDIS_PREFIX", "tipline")
        if env.get("TIPLINE_STORAGE") == "s3":
            access, secret = read_credentials(env["TIPLINE_S3_CREDENTIALS_FILE"])
            services["s3"] = boto3.client(
                "s3",
                endpoint_url=env.get("TIPLINE_S3_ENDPOINT_URL") or None,
                region_name=env.get("TIPLINE_S3_REGION", "us-east-1"),
                aws_access_key_id=access,
                aws_secret_access_key=secret,
            )
            services["bucket"] = env["TIPLINE_S3_BUCKET"]
            services["s3_prefix"] = env.get("TIPLINE_S3_PREFIX", "evidence").strip("/") + "/"
        return cls(**services)

    def empty(self) -> None:
        if self.redis is not None:
            keys = list(self.redis.scan_iter(match=f"{self.redis_prefix}:*", count=1000))
            if keys:
                self.redis.delete(*keys)
        if self.s3 is not None:
            pages = self.s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.s3_prefix
            )
            for page in pages:
                keys = [{"Key": entry["Key"]} for entry in page.get("Contents", ())]
                if keys:
                    self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})
