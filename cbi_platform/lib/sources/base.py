"""The source seam: every source fetches raw bytes (in one of four modes) and parses bytes.

`fetch` differs by mode; `parse` is pure and identical in every mode. Errors always name the
source and the partition window so an operator can tell what to re-run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cbi_platform.lib.window import Window

if TYPE_CHECKING:
    pass

MODES = ("sample", "live", "replay", "files")


class SourceError(RuntimeError):
    """A source could not deliver a window: names the source and the partition.

    `retryable` marks transient failures (the source kept answering 429/5xx or the network
    failed after every retry): worth another attempt later. Everything else (a 4xx, a payload
    that does not parse, a missing key) fails the same way on retry."""

    def __init__(self, source: str, window: "Window | str | None", detail: str, retryable: bool = False):
        self.source = source
        self.partition = window.label if isinstance(window, Window) else (window or "-")
        self.detail = detail
        self.retryable = retryable
        super().__init__(f"{source} [{self.partition}]: {detail}")


class ParseError(SourceError):
    """Bytes that do not match the source's wire format (HTML error page, truncation, ...)."""


class MissingCredential(SourceError):
    """A live fetch needs an API key the environment does not provide."""


def decode_json(body: bytes, source: str, window: "Window | str | None", name: str) -> Any:
    """An untrusted JSON body, decoded; a ParseError naming source, partition and payload when it
    is empty, an HTML/XML error page, not UTF-8 or malformed. Callers check the shape and their
    API's own error envelope."""
    import json

    text = body.lstrip()
    if not text or text == b"\xef\xbb\xbf":
        raise ParseError(source, window, f"{name}: empty body")
    if text[:1] == b"<":
        raise ParseError(source, window, f"{name}: got HTML/XML instead of JSON ({text[:60]!r})")
    try:
        return json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ParseError(source, window, f"{name}: not UTF-8 ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise ParseError(source, window, f"{name}: malformed JSON ({exc.msg} at char {exc.pos})") from None


def decode_json_object(body: bytes, source: str, window: "Window | str | None", name: str) -> dict:
    """`decode_json` for APIs that answer with one JSON object."""
    document = decode_json(body, source, window, name)
    if not isinstance(document, dict):
        raise ParseError(source, window, f"{name}: expected a JSON object")
    return document


@dataclass(frozen=True)
class RetryConfig:
    """Retries of one HTTP request: attempts, exponential backoff base and cap, timeout."""

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    timeout: float = 30.0


@dataclass(frozen=True)
class Payload:
    """Raw bytes as received, plus what is needed to parse and to audit them."""

    source: str
    name: str  # file name in the landing zone, e.g. "DGS10.json"
    format: str  # wire format the parser dispatches on, e.g. "fred_json", "dbn"
    body: bytes
    request: str  # what was asked for, secrets already redacted
    window: Window
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()
