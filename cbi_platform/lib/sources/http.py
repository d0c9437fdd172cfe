"""The one HTTP client every live source uses.

- timeouts on every request;
- retries on 429, 5xx and transport errors, with exponential backoff and full jitter, honouring
  `Retry-After` (seconds or an HTTP date), capped so a hostile header cannot stall a run;
- a clear `SourceError` on other 4xx, naming source, partition and status;
- every secret the caller registers is redacted from log lines and exception text, and
  `api_key`-style query parameters are redacted even when nobody registered them.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import httpx

from cbi_platform.lib.sources.base import RetryConfig, SourceError, Window

log = logging.getLogger("cbi_platform.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_SECRET_PARAM = re.compile(r"(?i)((?:api[_-]?key|token|access[_-]?token|key|password|secret)=)[^&\s\"']+")
_MAX_BODY_EXCERPT = 200


class Redactor:
    """Replaces registered secrets (and secret-looking query parameters) with `***`."""

    def __init__(self, secrets: Iterable[str] = ()):
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _SECRET_PARAM.sub(r"\1***", text)


class _RedactingFilter(logging.Filter):
    """Redacts secrets from records of libraries we do not control: httpx logs every request
    URL (query string and all) at INFO."""

    def __init__(self):
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        redact = Redactor(self.secrets)
        record.msg = redact(record.getMessage())
        record.args = ()
        return True


_LIBRARY_FILTER = _RedactingFilter()
for _name in ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy"):
    logging.getLogger(_name).addFilter(_LIBRARY_FILTER)


@dataclass(frozen=True)
class HttpResult:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str  # redacted


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse a Retry-After header: delta-seconds or an HTTP date. None when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class HttpClient:
    def __init__(
        self,
        source: str,
        window: Window | None,
        secrets: Iterable[str] = (),
        retry: RetryConfig = RetryConfig(),
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ):
        self.source = source
        self.window = window
        secrets = [s for s in secrets if s]
        self.redact = Redactor(secrets)
        _LIBRARY_FILTER.secrets.update(secrets)
        self.retry = retry
        self._sleep = sleep
        self._jitter = jitter
        self._client = httpx.Client(
            timeout=httpx.Timeout(retry.timeout),
            transport=transport,
            follow_redirects=True,
            headers={"User-Agent": "cbi-platform/0.1 (+https://github.com/cbi-platform)"},
        )

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc) -> None:
        self._client.close()

    def _error(self, detail: str, retryable: bool = False) -> SourceError:
        return SourceError(self.source, self.window, self.redact(detail), retryable=retryable)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.retry.max_delay)
        ceiling = min(self.retry.max_delay, self.retry.base_delay * 2**attempt)
        return ceiling * (0.5 + 0.5 * self._jitter())

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: object | None = None,
        auth: tuple[str, str] | None = None,
        accept_statuses: Iterable[int] = (200,),
    ) -> HttpResult:
        accepted = set(accept_statuses)
        last_problem = "no attempt made"
        for attempt in range(self.retry.max_attempts):
            try:
                response = self._client.request(
                    method, url, params=params, headers=headers, data=data, json=json_body, auth=auth
                )
            except httpx.TransportError as exc:
                shown = self.redact(str(httpx.URL(url, params=params)))
                last_problem = f"{type(exc).__name__} on {method} {shown}: {self.redact(str(exc))}"
                retry_after = None
            else:
                shown = self.redact(str(response.request.url))
                if response.status_code in accepted:
                    log.info("%s %s -> %s (%d bytes)", method, shown, response.status_code, len(response.content))
                    return HttpResult(response.status_code, dict(response.headers), response.content, shown)
                excerpt = response.text[:_MAX_BODY_EXCERPT].replace("\n", " ")
                last_problem = f"HTTP {response.status_code} on {method} {shown}: {excerpt!r}"
                if response.status_code not in RETRY_STATUSES:
                    raise self._error(last_problem)
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            if attempt + 1 < self.retry.max_attempts:
                delay = self._backoff(attempt, retry_after)
                log.warning("%s: %s; retry %d/%d in %.1fs", self.source, self.redact(last_problem),
                            attempt + 1, self.retry.max_attempts - 1, delay)
                self._sleep(delay)
        raise self._error(f"gave up after {self.retry.max_attempts} attempts: {last_problem}", retryable=True)

    def get(self, url: str, **kwargs) -> HttpResult:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> HttpResult:
        return self.request("POST", url, **kwargs)
