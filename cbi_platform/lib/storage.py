"""Where the platform's files live: a directory on this machine (the default) or a bucket of an
S3-compatible object store, behind fsspec's one file-system interface, so the landing zone and
the reports work the same on a laptop and on workers that share no disk.

A location is a URL: a plain path or `file:///...`, or `s3://bucket/prefix`. S3 goes through
pyarrow's S3 client (already installed with AutoGluon; s3fs would pin botocore below what boto3
here needs), wrapped in fsspec's ArrowFSWrapper. Credentials come from the environment only
(AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, read by the client itself), never from the URL; a
service other than AWS (MinIO, Ceph, a test server) is named by CBI_S3_ENDPOINT.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlparse

import fsspec

S3_ENDPOINT_ENV = "CBI_S3_ENDPOINT"


class StorageError(RuntimeError):
    pass


def _s3_filesystem() -> fsspec.AbstractFileSystem:
    from fsspec.implementations.arrow import ArrowFSWrapper
    from pyarrow import fs as arrow_fs

    endpoint = os.environ.get(S3_ENDPOINT_ENV, "").strip()
    options = {"region": os.environ.get("AWS_DEFAULT_REGION", "us-east-1")}
    if endpoint:
        parsed = urlparse(endpoint if "://" in endpoint else f"https://{endpoint}")  # host:port alone: https
        options.update(endpoint_override=parsed.netloc or parsed.path, scheme=parsed.scheme or "https")
    return ArrowFSWrapper(arrow_fs.S3FileSystem(**options))


class Location:
    """A root folder (`url`) and the file system that holds it. Paths below it are joined from
    plain names; `write_bytes` never leaves half a file behind: locally a temporary file renamed
    into place, on S3 one PUT (an object appears whole or not at all)."""

    def __init__(self, url: str | Path):
        text = str(url)
        if text.startswith("s3://"):
            if "@" in text.removeprefix("s3://").split("/", 1)[0] or "?" in text:
                raise StorageError("an object-store URL must not carry credentials or options: set AWS_ACCESS_KEY_ID / "
                                   "AWS_SECRET_ACCESS_KEY (and CBI_S3_ENDPOINT) in the environment")
            self.scheme = "s3"
            self.root = text.removeprefix("s3://").rstrip("/")
            self.fs = _s3_filesystem()
        elif "://" in text and not text.startswith("file://"):
            raise StorageError(f"unsupported storage URL scheme {text.split('://', 1)[0]!r}: use a path, file:// or s3://")
        else:
            self.scheme = "file"
            self.root = str(Path(text.removeprefix("file://")).resolve())
            self.fs = fsspec.filesystem("file")
        self.url = f"s3://{self.root}" if self.scheme == "s3" else self.root

    @property
    def local(self) -> bool:
        return self.scheme == "file"

    def path(self, *parts: str) -> str:
        """A path below the root, as this location's file system names it."""
        return posixpath.join(self.root, *parts)

    def url_for(self, *parts: str) -> str:
        """The same, as a person or another tool names it (a local path, or s3://bucket/...)."""
        return posixpath.join(self.url, *parts)

    def write_bytes(self, path: str, data: bytes) -> None:
        if not self.local:
            self.fs.pipe_file(path, data)
            return
        folder = Path(path).parent
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{Path(path).name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read_bytes(self, path: str) -> bytes:
        return self.fs.cat_file(path)

    def exists(self, path: str) -> bool:
        return self.fs.exists(path)

    def is_file(self, path: str) -> bool:
        return self.fs.isfile(path)

    def folders(self, path: str) -> list[str]:
        """Names of the folders directly below `path` (none when it does not exist)."""
        if not self.fs.isdir(path):
            return []
        return sorted(posixpath.basename(entry["name"].rstrip("/")) for entry in self.fs.ls(path, detail=True)
                      if entry["type"] == "directory")

    def files(self, path: str) -> list[str]:
        if not self.fs.isdir(path):
            return []
        return sorted(posixpath.basename(entry["name"]) for entry in self.fs.ls(path, detail=True) if entry["type"] == "file")

    def upload_folder(self, local_folder: Path, path: str) -> None:
        """Copy a local folder's files under `path`, replacing what was there. Locally the folder
        is staged and renamed into place; on S3 pages (.html) go last, so a reader who sees the new
        page finds its images, and files the new folder does not have are removed at the end."""
        if self.local and Path(path).resolve() == Path(local_folder).resolve():
            return
        files = sorted((p for p in Path(local_folder).rglob("*") if p.is_file()), key=lambda p: (p.suffix == ".html", p))
        names = {file.relative_to(local_folder).as_posix() for file in files}
        staged = f"{path}.{uuid.uuid4().hex[:8]}.partial" if self.local else path
        for file in files:
            self.write_bytes(posixpath.join(staged, file.relative_to(local_folder).as_posix()), file.read_bytes())
        if self.local:
            if self.fs.exists(path):
                self.fs.rm(path, recursive=True)
            os.replace(staged, path)
            return
        # the S3 client leaves folder markers ("img/") beside the files: a folder the new upload
        # has no file in goes too
        kept_folders = {posixpath.dirname(name) for name in names} | {""}
        kept_folders |= {folder.rsplit("/", i)[0] for folder in list(kept_folders) for i in range(folder.count("/") + 1)}
        for name, entry in sorted(self.fs.find(path, withdirs=True, detail=True).items(), reverse=True):
            relative = posixpath.relpath(name.rstrip("/"), path)
            if relative == "." or relative.startswith(".."):
                continue
            if entry["type"] == "directory" and relative not in kept_folders:
                self.fs.rm(name, recursive=True)
            elif entry["type"] == "file" and relative not in names:
                self.fs.rm_file(name)

    def download_folder(self, path: str, local_folder: Path) -> None:
        """Copy every file under `path` into the (new, empty) `local_folder`."""
        for name, entry in self.fs.find(path, detail=True).items():
            relative = posixpath.relpath(name, path)
            if entry["type"] == "file" and not relative.startswith(".."):
                target = Path(local_folder) / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(self.fs.cat_file(name))
