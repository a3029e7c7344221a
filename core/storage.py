"""Object storage behind one small interface: a local folder by default, S3 with STORAGE_URL=s3://…

Keys are POSIX-style relative paths ('certifications/2026/11/<uuid>.jpg'); values are bytes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Protocol

from core.settings import Settings, get_settings


class StorageError(RuntimeError):
    pass


class ObjectStorage(Protocol):
    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str: ...
    def get(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def delete(self, key: str) -> None: ...
    def health(self) -> dict[str, object]: ...


def _safe_key(key: str) -> str:
    path = PurePosixPath(key)
    if path.is_absolute() or ".." in path.parts or not key or key.endswith("/"):
        raise StorageError(f"invalid storage key {key!r}: use a relative path without '..'")
    return str(path)


class LocalStorage:
    """Files under a folder (var/storage by default); writes are atomic (temp file + rename)."""

    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _safe_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return hashlib.sha256(data).hexdigest()

    def get(self, key: str) -> bytes:
        path = self._path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        return path.read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def health(self) -> dict[str, object]:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".health"
            probe.write_bytes(b"ok")
            probe.unlink()
            return {"status": "ok", "kind": self.kind}
        except OSError as exc:
            return {"status": "error", "kind": self.kind, "detail": str(exc)}


class S3Storage:
    """S3 (or any S3-compatible store) through boto3, when STORAGE_URL=s3://bucket/prefix."""

    kind = "s3"

    def __init__(self, url: str) -> None:
        try:
            import boto3  # type: ignore[import-not-found]
        except ImportError as exc:  # not in the default install: local storage needs nothing
            raise StorageError("STORAGE_URL=s3://… needs boto3: pip install boto3") from exc
        bucket_prefix = url.removeprefix("s3://")
        self.bucket, _, prefix = bucket_prefix.partition("/")
        self.prefix = prefix.strip("/")
        self.client = boto3.client("s3", endpoint_url=os.environ.get("S3_ENDPOINT_URL"))

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{_safe_key(key)}" if self.prefix else _safe_key(key)

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> str:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)
        return hashlib.sha256(data).hexdigest()

    def get(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except self.client.exceptions.NoSuchKey as exc:
            raise FileNotFoundError(key) from exc

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except Exception:
            return False

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def health(self) -> dict[str, object]:
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return {"status": "ok", "kind": self.kind}
        except Exception as exc:
            return {"status": "error", "kind": self.kind, "detail": str(exc)}


def storage_for(settings: Settings) -> ObjectStorage:
    url = settings.storage_url
    if url is None:
        return LocalStorage(settings.storage_dir)
    if url.startswith("s3://"):
        return S3Storage(url)
    return LocalStorage(Path(url.removeprefix("file://")))


@lru_cache
def get_storage() -> ObjectStorage:
    return storage_for(get_settings())
