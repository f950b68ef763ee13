"""Where a published model set lives: a URL (``gs://bucket/prefix``, ``file:///path``, any fsspec URL) opened as
an fsspec filesystem plus a root path inside it, and the seed's default prefix ``<user prefix>/<set version>``."""

from __future__ import annotations

import getpass
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

# gcsfs >= 2025.x probes Google's gRPC "hierarchical namespace" API for every bucket unless this is off, which
# stalls ~60 s per bucket against an emulator or without network. It must be set before gcsfs is imported.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

from ..errors import ConfigError  # noqa: E402
from ..versioning import SEMVER_RE, read_versions, version_key  # noqa: E402
from .errors import StorageError  # noqa: E402

if TYPE_CHECKING:
    from fsspec import AbstractFileSystem

DEFAULT_URL = "gs://nlp-classifier-models"
URL_ENV = "NLPC_MODELS_URL"
PREFIX_ENV = "NLPC_MODELS_PREFIX"
MANIFEST_NAME = "manifest.json"
GCS_PROTOCOLS = ("gs", "gcs")
BUCKET_PROTOCOLS = GCS_PROTOCOLS + ("s3", "s3a", "az", "abfs", "memory")
_PREFIX_RE = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


@dataclass
class Location:
    """A folder in some fsspec filesystem: ``fs`` and ``root`` (the filesystem's own path, no trailing slash)."""

    url: str
    fs: AbstractFileSystem
    root: str

    def path(self, relpath: str) -> str:
        """The filesystem path of a file inside the set."""
        return f"{self.root}/{relpath}" if self.root else relpath

    def url_of(self, relpath: str) -> str:
        """The URL of a file inside the set, for messages."""
        return f"{self.url.rstrip('/')}/{relpath}"

    @property
    def is_gcs(self) -> bool:
        protocol = self.fs.protocol
        return any(p in GCS_PROTOCOLS for p in ((protocol,) if isinstance(protocol, str) else protocol))

    @property
    def is_local(self) -> bool:
        from fsspec.implementations.local import LocalFileSystem

        return isinstance(self.fs, LocalFileSystem)


def default_url() -> str:
    """``$NLPC_MODELS_URL``, else the seed's bucket ``gs://nlp-classifier-models``."""
    return os.environ.get(URL_ENV) or DEFAULT_URL


def user_prefix(models_dir: Path | None = None) -> str:
    """The seed's per-user folder in the bucket (``DPM-MODELS/``): ``$NLPC_MODELS_PREFIX``, else a ``prefix`` key
    in MODEL_VERSION.json, else ``<USER>-MODELS``."""
    prefix = os.environ.get(PREFIX_ENV)
    if not prefix and models_dir is not None:
        prefix = read_versions(Path(models_dir)).get("prefix")
    if not prefix:
        user = re.sub(r"[^A-Za-z0-9._-]", "", getpass.getuser()) or "NLPC"
        prefix = f"{user.upper()}-MODELS"
    prefix = str(prefix).strip("/")
    if not _PREFIX_RE.match(prefix) or ".." in prefix.split("/"):
        raise ConfigError(f"model prefix '{prefix}' may hold only letters, digits, '.', '_', '-' and '/'")
    return prefix


def is_bare_bucket(url: str) -> bool:
    """True for an object-store URL naming only a bucket (``gs://bucket``): the default prefix then applies."""
    parts = urlsplit(url)
    return parts.scheme in BUCKET_PROTOCOLS and bool(parts.netloc) and not parts.path.strip("/")


def storage_options(url: str) -> dict:
    """Options for the URL's filesystem. For Google Cloud Storage, credentials come from the standard chain
    (GOOGLE_APPLICATION_CREDENTIALS, application default credentials, the metadata server); with
    STORAGE_EMULATOR_HOST set (and no credentials file) requests go unauthenticated to the emulator."""
    scheme = urlsplit(url).scheme
    if scheme not in GCS_PROTOCOLS:
        return {}
    emulator = os.environ.get("STORAGE_EMULATOR_HOST", "") not in ("", "default")
    token = "anon" if emulator and not os.environ.get("GOOGLE_APPLICATION_CREDENTIALS") else None
    # A fresh instance each time: cached ones keep their endpoint and listings from earlier calls.
    return {"token": token, "skip_instance_cache": True}


def open_location(url: str) -> Location:
    """The filesystem and root path for ``url`` (a plain path means the local filesystem)."""
    import fsspec

    parts = urlsplit(url)
    if parts.scheme in BUCKET_PROTOCOLS and parts.scheme != "memory" and not parts.netloc:
        raise ConfigError(f"'{url}' names no bucket: use {parts.scheme}://BUCKET or {parts.scheme}://BUCKET/PREFIX")
    try:
        fs, root = fsspec.core.url_to_fs(url, **storage_options(url))
    except (ImportError, ValueError) as exc:
        raise ConfigError(f"cannot open '{url}': {exc}") from None
    except OSError as exc:  # a filesystem that connects when it is opened (ftp://, sftp://) to a host it cannot reach
        raise StorageError(f"cannot open '{url}': {type(exc).__name__}: {exc}") from None
    return Location(url=url.rstrip("/"), fs=fs, root=str(root).rstrip("/"))


def push_location(url: str | None, models_dir: Path) -> Location:
    """Where ``nlpc models push`` writes: the URL as given, or for a bare bucket (or no URL)
    ``<bucket>/<user prefix>/<set version from MODEL_VERSION.json>`` as the seed did."""
    url = url or default_url()
    if is_bare_bucket(url):
        version = read_versions(models_dir).get("version", "1.0.0")
        url = f"{url.rstrip('/')}/{user_prefix(models_dir)}/{version}"
    return open_location(url)


def pull_location(url: str | None, models_dir: Path) -> Location:
    """Where ``nlpc models pull`` reads: the URL as given, or for a bare bucket (or no URL) the newest published
    set version under ``<bucket>/<user prefix>/``."""
    url = url or default_url()
    if not is_bare_bucket(url):
        return open_location(url)
    base = open_location(f"{url.rstrip('/')}/{user_prefix(models_dir)}")
    try:
        entries = base.fs.ls(base.root, detail=False)
    except FileNotFoundError:
        entries = []
    except Exception as exc:  # no network, no such bucket, no access: say where, not the client's traceback
        raise StorageError(f"{base.url}/: cannot list the published sets ({type(exc).__name__}: {exc})") from exc
    versions = sorted(
        (name for name in (e.rstrip("/").rsplit("/", 1)[-1] for e in entries) if SEMVER_RE.match(name)),
        key=version_key,
        reverse=True,
    )
    for version in versions:
        candidate = open_location(f"{base.url}/{version}")
        try:
            published = candidate.fs.exists(candidate.path(MANIFEST_NAME))
        except Exception as exc:
            raise StorageError(f"{candidate.url_of(MANIFEST_NAME)}: {type(exc).__name__}: {exc}") from exc
        if published:
            return candidate
    raise StorageError(
        f"no published model set under {base.url}/ (no <version>/{MANIFEST_NAME}); "
        "push one with `nlpc models push`, or give the set's full URL"
    )
