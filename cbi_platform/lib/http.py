"""The one HTTP client every live source uses. Every server is untrusted.

- timeouts on every read, and one deadline per request from connect to the last byte
  (`SourceLimits.deadline_seconds`): a server that dribbles a byte at a time, in the headers or
  the body, is cut off when it passes;
- the body is streamed and capped: more than `max_response_bytes` on the wire (an oversized
  `Content-Length` is refused before reading) or `max_decompressed_bytes` after content decoding
  fails the request;
- retries on 429, 5xx, transport errors and a passed deadline, with exponential backoff and full
  jitter, honouring `Retry-After` (seconds or an HTTP date), capped so a hostile header cannot
  stall a run;
- https only: a plain http:// URL is refused before a byte is sent (the key would go in clear),
  except on loopback hosts (tests) and through an injected transport (the sample world);
- redirects are followed here, at most `MAX_REDIRECTS` hops: never from https to http; to another
  origin without the caller's headers, auth or body, and not at all when the target URL carries
  a registered secret;
- a clear `SourceError` on other 4xx and on every httpx error (undecodable body, protocol error,
  ...), naming source, partition, the redacted URL and the cause;
- every secret the caller registers is redacted from log lines and exception text, and
  `api_key`-style query parameters are redacted even when nobody registered them.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import random
import re
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import httpcore
import httpx

from cbi_platform.lib.sources.base import RetryConfig, SourceError
from cbi_platform.lib.sources.limits import SourceLimits
from cbi_platform.lib.window import Window

log = logging.getLogger("cbi_platform.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_REDIRECTS = 5
_SECRET_PARAM = re.compile(r"(?i)((?:api[_-]?key|token|access[_-]?token|key|password|secret)=)[^&\s\"']+")
_MAX_BODY_EXCERPT = 200
_ERROR_BODY_BYTES = 4096  # read of a non-accepted answer: enough for the excerpt in the error
_LOOPBACK_NAMES = frozenset({"localhost"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Redactor:
    """Replaces registered secrets (and secret-looking query parameters) with `***`."""

    def __init__(self, secrets: Iterable[str] = ()):
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _SECRET_PARAM.sub(r"\1***", text)

    def found_in(self, text: str) -> bool:
        """Whether a registered secret occurs in `text`, percent-encoded or not."""
        plain = urllib.parse.unquote_plus(text)
        return any(secret in text or secret in plain for secret in self._secrets)


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


class _Deadline:
    """The wall-clock budget of one request attempt, redirects included."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._at - time.monotonic()

    def passed(self) -> bool:
        return self.remaining() <= 0


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's socket backend with every connect, TLS handshake, read and write bounded by the
    current request's deadline. httpx's timeouts apply per socket operation, so without this a
    server that sends one header byte per second holds the request forever: the body loop alone
    cannot see the headers phase."""

    def __init__(self):
        self._sockets = httpcore.SyncBackend()
        self.deadline: _Deadline | None = None  # set by HttpClient around each attempt

    def bound(self, timeout: float | None, expired: type[Exception]) -> float | None:
        deadline = self.deadline
        if deadline is None:
            return timeout
        remaining = deadline.remaining()
        if remaining <= 0:
            raise expired(f"the {deadline.seconds:g} s deadline of the request passed")
        return remaining if timeout is None else min(timeout, remaining)

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        stream = self._sockets.connect_tcp(host, port, self.bound(timeout, httpcore.ConnectTimeout),
                                           local_address, socket_options)
        return _DeadlineStream(stream, self)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        stream = self._sockets.connect_unix_socket(path, self.bound(timeout, httpcore.ConnectTimeout), socket_options)
        return _DeadlineStream(stream, self)

    def sleep(self, seconds: float) -> None:
        self._sockets.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, backend: _DeadlineBackend):
        self._stream = stream
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._backend.bound(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._backend.bound(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> "_DeadlineStream":
        timeout = self._backend.bound(timeout, httpcore.ConnectTimeout)
        stream = self._stream.start_tls(ssl_context, server_hostname, timeout)
        return _DeadlineStream(stream, self._backend)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _DeadlineTransport(httpx.HTTPTransport):
    """httpx's own transport over `_DeadlineBackend`. httpx takes no network backend, so the
    connection pool is rebuilt with httpx's default limits (httpx 0.28, pinned in requirements.lock)."""

    def __init__(self, backend: _DeadlineBackend):
        super().__init__()
        self._pool = httpcore.ConnectionPool(ssl_context=httpx.create_ssl_context(), max_connections=100,
                                             max_keepalive_connections=20, keepalive_expiry=5.0,
                                             network_backend=backend)


class _Retryable(Exception):
    """An attempt failed in a way worth another: 429/5xx, the network, the deadline."""

    def __init__(self, problem: str, retry_after: float | None = None):
        super().__init__(problem)
        self.problem = problem
        self.retry_after = retry_after


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
        limits: SourceLimits = SourceLimits(),
    ):
        self.source = source
        self.window = window
        secrets = [s for s in secrets if s]
        self.redact = Redactor(secrets)
        _LIBRARY_FILTER.secrets.update(secrets)
        self.retry = retry
        self.limits = limits
        self._sleep = sleep
        self._jitter = jitter
        # an injected transport is in-process (the sample world, tests): nothing goes on a wire
        self._injected = transport is not None
        self._backend = None if self._injected else _DeadlineBackend()
        self._client = httpx.Client(
            timeout=httpx.Timeout(retry.timeout),
            transport=transport if self._injected else _DeadlineTransport(self._backend),
            follow_redirects=False,  # followed in `_redirect`, which knows what must not cross origins
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
            deadline = _Deadline(self.limits.deadline_seconds)
            if self._backend is not None:
                self._backend.deadline = deadline
            try:
                return self._attempt(method, url, params, headers, data, json_body, auth, accepted, deadline)
            except _Retryable as failure:
                last_problem, retry_after = failure.problem, failure.retry_after
            finally:
                if self._backend is not None:
                    self._backend.deadline = None
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

    # one attempt: the request and its redirects, within one deadline

    def _attempt(self, method, url, params, headers, data, json_body, auth, accepted, deadline) -> HttpResult:
        try:
            request = self._client.build_request(method, url, params=params, headers=headers, data=data, json=json_body)
        except (httpx.InvalidURL, httpx.HTTPError) as exc:
            raise self._error(f"bad request URL {url}: {exc}") from None
        first_origin = _origin(request.url)
        hop_auth = auth
        redirects = 0
        while True:
            shown = self.redact(str(request.url))
            self._check_scheme(request.url, shown)
            try:
                response = self._client.send(request, auth=hop_auth, stream=True, follow_redirects=False)
            except httpx.HTTPError as exc:
                raise self._httpx_failure(exc, request.method, shown, deadline) from None
            try:
                if response.has_redirect_location:
                    if redirects >= MAX_REDIRECTS:
                        raise self._error(f"more than {MAX_REDIRECTS} redirects, the last from "
                                          f"{request.method} {shown}")
                    redirects += 1
                    request, hop_auth = self._redirect(request, response, first_origin, headers, auth, shown)
                    continue
                if response.status_code in accepted:
                    body = self._read_body(response, request.method, shown, deadline)
                    log.info("%s %s -> %s (%d bytes)", request.method, shown, response.status_code, len(body))
                    return HttpResult(response.status_code, dict(response.headers), body, shown)
                excerpt = self._read_excerpt(response, request.method, shown, deadline)
                problem = f"HTTP {response.status_code} on {request.method} {shown}: {excerpt!r}"
                if response.status_code not in RETRY_STATUSES:
                    raise self._error(problem)
                raise _Retryable(problem, retry_after_seconds(response.headers.get("Retry-After")))
            finally:
                response.close()  # an aborted body is not drained: the connection is dropped

    def _check_scheme(self, url: httpx.URL, shown: str) -> None:
        """Refuse a URL that would send the request (and its key) unencrypted."""
        if url.scheme not in _DEFAULT_PORTS:
            raise self._error(f"refusing {shown}: only https URLs are fetched")
        if url.scheme == "http" and not self._injected and not _is_loopback(url.host):
            raise self._error(f"refusing plain http URL {shown}: a key or token would go over the network "
                              "in clear; use https")

    def _redirect(self, request: httpx.Request, response: httpx.Response, first_origin, headers, auth, shown):
        """The next hop of a redirect, and the auth it may carry. httpx itself would forward
        custom credential headers (x-api-key, X-App-Token) to any host a server names."""
        location = response.headers["Location"]
        try:
            target = request.url.join(location)
        except httpx.InvalidURL as exc:
            raise self._error(f"{request.method} {shown} redirects to an invalid URL: {exc}") from None
        target = target.copy_with(fragment=None)
        where = f"{request.method} {shown} -> HTTP {response.status_code} to {self.redact(str(target))}"
        if request.url.scheme == "https" and target.scheme != "https":
            raise self._error(f"refusing a redirect from https to {target.scheme}: {where}")
        method = request.method
        status = response.status_code
        if (status == 303 and method != "HEAD") or (status in (301, 302) and method == "POST"):
            method = "GET"  # what browsers and httpx do; the body is dropped with the method
        content = (request.content or None) if method == request.method else None
        trusted = _origin(target) == first_origin
        if not trusted:
            if self.redact.found_in(str(target)):
                raise self._error(f"refusing a redirect to another origin whose URL carries a secret: {where}")
            if content:
                raise self._error(f"refusing to resend the request body to another origin: {where}")
        log.info("%s: %s%s", self.source, where, "" if trusted else " (another origin: no caller headers or auth)")
        next_request = self._client.build_request(method, target, headers=headers if trusted else None, content=content)
        if content and request.headers.get("Content-Type"):
            next_request.headers["Content-Type"] = request.headers["Content-Type"]
        return next_request, (auth if trusted else None)

    # reading, bounded in bytes and time

    def _read_body(self, response: httpx.Response, method: str, shown: str, deadline: _Deadline) -> bytes:
        cap = self.limits.max_response_bytes
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > cap:
            raise self._error(f"{method} {shown}: Content-Length {declared} exceeds the limit of {cap} bytes "
                              "(max_response_bytes)")
        return self._stream(response, method, shown, deadline)

    def _read_excerpt(self, response: httpx.Response, method: str, shown: str, deadline: _Deadline) -> str:
        body = self._stream(response, method, shown, deadline, stop_after=_ERROR_BODY_BYTES)
        text = body.decode(response.encoding or "utf-8", errors="replace")
        return text[:_MAX_BODY_EXCERPT].replace("\n", " ")

    def _stream(self, response, method, shown, deadline, stop_after: int | None = None) -> bytes:
        """The body, counted while it arrives: on the wire against max_response_bytes, decoded
        against max_decompressed_bytes (a gzip bomb is small on the wire), and against the deadline."""
        wire_cap, decoded_cap = self.limits.max_response_bytes, self.limits.max_decompressed_bytes
        chunks, decoded = [], 0
        try:
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                decoded += len(chunk)
                if stop_after is not None and decoded >= stop_after:
                    break
                if response.num_bytes_downloaded > wire_cap:
                    raise self._error(f"{method} {shown}: response exceeds the limit of {wire_cap} bytes "
                                      "(max_response_bytes)")
                if decoded > decoded_cap:
                    raise self._error(f"{method} {shown}: decoded response exceeds the limit of {decoded_cap} "
                                      "bytes (max_decompressed_bytes)")
                if deadline.passed():
                    raise _Retryable(self._deadline_problem(method, shown, deadline))
        except httpx.HTTPError as exc:
            raise self._httpx_failure(exc, method, shown, deadline) from None
        return b"".join(chunks)

    def _deadline_problem(self, method: str, shown: str, deadline: _Deadline) -> str:
        return f"{method} {shown} exceeded the {deadline.seconds:g} s deadline (connect to last byte, deadline_seconds)"

    def _httpx_failure(self, exc: httpx.HTTPError, method: str, shown: str, deadline: _Deadline) -> Exception:
        """A `_Retryable` for the network and the deadline, a SourceError for everything else
        (an undecodable body, a protocol httpx refuses): both name the URL and the cause."""
        if isinstance(exc, httpx.TransportError):
            if deadline.passed():
                return _Retryable(self._deadline_problem(method, shown, deadline))
            return _Retryable(f"{type(exc).__name__} on {method} {shown}: {self.redact(str(exc))}")
        return self._error(f"{type(exc).__name__} on {method} {shown}: {exc}")
