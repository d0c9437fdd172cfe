import datetime as dt
import email.utils
import logging

import httpx
import pytest

from cbi_platform.lib.http import HttpClient, Redactor, RetryConfig, retry_after_seconds
from cbi_platform.lib.sources.base import SourceError
from cbi_platform.lib.window import Window

WINDOW = Window(dt.date(2024, 1, 2), dt.date(2024, 1, 3))
KEY = "abcd1234efgh5678abcd1234efgh5678"


def client(responses, sleeps):
    """A client whose transport answers from a list of (status, headers, body)."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        item = responses[min(len(calls) - 1, len(responses) - 1)]
        if isinstance(item, Exception):
            raise item
        status, headers, body = item
        return httpx.Response(status, headers=headers, content=body)

    http = HttpClient("fred", WINDOW, secrets=[KEY], retry=RetryConfig(max_attempts=4, base_delay=1.0, max_delay=30),
                      transport=httpx.MockTransport(handler), sleep=sleeps.append, jitter=lambda: 1.0)
    return http, calls


def test_429_then_200_honours_retry_after():
    sleeps = []
    http, calls = client([(429, {"Retry-After": "7"}, b"slow down"), (200, {}, b'{"ok": true}')], sleeps)
    result = http.get("https://api.stlouisfed.org/fred/series/observations", params={"api_key": KEY})
    assert result.status == 200 and result.body == b'{"ok": true}'
    assert sleeps == [7.0] and len(calls) == 2
    assert KEY not in result.url and "api_key=***" in result.url


def test_5xx_backs_off_exponentially_then_gives_up_retryable():
    sleeps = []
    http, calls = client([(503, {}, b"<html>unavailable</html>")], sleeps)
    with pytest.raises(SourceError) as error:
        http.get("https://api.stlouisfed.org/fred/series/observations", params={"api_key": KEY})
    assert len(calls) == 4 and sleeps == [1.0, 2.0, 4.0]  # jitter pinned to its maximum
    assert error.value.retryable and "gave up after 4 attempts" in str(error.value)
    assert str(error.value).startswith("fred [2024-01-02]") and KEY not in str(error.value)


def test_retry_after_is_capped():
    sleeps = []
    http, _ = client([(429, {"Retry-After": "86400"}, b""), (200, {}, b"{}")], sleeps)
    http.get("https://example.test/x")
    assert sleeps == [30]


def test_401_is_a_clear_non_retryable_error_without_the_key(caplog):
    sleeps = []
    body = f'{{"error_message": "Bad Request. The value for variable api_key={KEY} is not registered."}}'.encode()
    http, calls = client([(401, {}, body)], sleeps)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(SourceError) as error:
            http.get("https://api.stlouisfed.org/fred/series/observations", params={"api_key": KEY, "series_id": "GDP"})
    message = str(error.value)
    assert "HTTP 401" in message and "series_id=GDP" in message
    assert KEY not in message and not error.value.retryable
    assert len(calls) == 1 and sleeps == []
    assert KEY not in caplog.text


def test_transport_errors_are_retried_and_redacted(caplog):
    sleeps = []
    http, calls = client([httpx.ConnectError(f"cannot reach host for key={KEY}"), (200, {}, b"{}")], sleeps)
    with caplog.at_level(logging.WARNING):
        assert http.get("https://api.stlouisfed.org/x", params={"api_key": KEY}).status == 200
    assert len(calls) == 2 and len(sleeps) == 1
    assert KEY not in caplog.text and "ConnectError" in caplog.text


def test_retry_after_http_date():
    now = 1_700_000_000.0
    when = email.utils.formatdate(now + 42, usegmt=True)
    assert retry_after_seconds(when, now=now) == pytest.approx(42, abs=1)
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None


def test_redactor_catches_registered_secrets_and_key_parameters():
    redact = Redactor(["s3cr3t-value"])
    text = "GET https://x.test/?api_key=zzzz&token=yyy&a=1 failed with s3cr3t-value"
    assert redact(text) == "GET https://x.test/?api_key=***&token=***&a=1 failed with ***"


def test_fetch_context_gives_each_client_its_source_limits(tmp_path):
    from cbi_platform.lib.landing import LandingZone
    from cbi_platform.lib.sources.context import FetchContext

    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "limits.yaml").write_text(
        "default: {deadline_seconds: 7}\nsources:\n  news: {max_response_bytes: 1234}\n")
    ctx = FetchContext("sample", LandingZone(tmp_path / "landing"), tmp_path, tmp_path,
                       transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    with ctx.http("news", WINDOW) as news, ctx.http("fred", WINDOW) as fred:
        assert (news.limits.deadline_seconds, news.limits.max_response_bytes) == (7, 1234)
        assert (fred.limits.deadline_seconds, fred.limits.max_response_bytes) == (7, 64 * 2**20)
