"""The HTTP client against hostile servers: real sockets on 127.0.0.1 (a server that dribbles,
redirects to another origin) and in-process transports (huge, broken or looping answers).

Every server here stops by itself: its handlers give up after a few seconds even when the client
never hangs up, and the `serving` context shuts it down at the end of the test."""

import contextlib
import datetime as dt
import gzip
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import yaml

from cbi_platform.lib.http import HttpClient, RetryConfig
from cbi_platform.lib.settings import PROJECT_ROOT
from cbi_platform.lib.sources.base import SourceError
from cbi_platform.lib.sources.limits import SourceLimits
from cbi_platform.lib.window import Window

WINDOW = Window(dt.date(2024, 1, 2), dt.date(2024, 1, 3))
KEY = "abcd1234efgh5678abcd1234efgh5678"
TOKEN = "tok-9f8e7d6c5b4a39281706"
DRIBBLE_FOR = 6.0  # seconds a dribbling handler keeps going when the client does not hang up


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output quiet
        pass

    def record(self):
        self.server.received.append((self.path, dict(self.headers)))

    def answer(self, status: int, body: bytes = b"", headers: dict | None = None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def dribble(self, prefix: bytes):
        """Send `prefix`, then one byte every 0.2 s until the client hangs up, the test ends or
        DRIBBLE_FOR seconds pass."""
        stop_at = time.monotonic() + DRIBBLE_FOR
        try:
            self.wfile.write(prefix)
            self.wfile.flush()
            while not self.server.stop.is_set() and time.monotonic() < stop_at:
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.2)
        except OSError:  # the client hung up: what a deadline should make it do
            pass
        self.close_connection = True


@contextlib.contextmanager
def serving(do_get):
    """A threaded HTTP server on 127.0.0.1 (ephemeral port) whose GET is `do_get(handler)`;
    yields the server (`.base` is its URL, `.received` the (path, headers) it saw)."""
    handler = type("Handler", (_Handler,), {"do_GET": do_get, "do_POST": do_get})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.received = []
    server.stop = threading.Event()
    server.base = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def make_client(source="eia", *, limits=SourceLimits(), attempts=2, timeout=5.0, transport=None, secrets=(KEY, TOKEN)):
    return HttpClient(source, WINDOW, secrets=list(secrets), limits=limits, transport=transport,
                      retry=RetryConfig(max_attempts=attempts, base_delay=0.01, max_delay=0.01, timeout=timeout),
                      sleep=lambda seconds: None, jitter=lambda: 1.0)


def assert_names_everything(error: SourceError, source: str = "eia"):
    message = str(error)
    assert message.startswith(f"{source} [2024-01-02]"), message
    assert KEY not in message and TOKEN not in message


# A. one deadline per request, connect to last byte


def test_body_dribbled_forever_is_cut_at_the_deadline(caplog):
    def do_get(handler):
        handler.dribble(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000000\r\n\r\n")

    with serving(do_get) as server, caplog.at_level(logging.DEBUG):
        started = time.monotonic()
        with make_client(limits=SourceLimits(deadline_seconds=1.0), timeout=0.5) as http:
            with pytest.raises(SourceError) as error:
                http.get(f"{server.base}/v2/data", params={"api_key": KEY})
        elapsed = time.monotonic() - started
    assert elapsed < 5, f"took {elapsed:.1f}s"
    message = str(error.value)
    assert "deadline" in message and "1 s" in message and "api_key=***" in message, message
    assert error.value.retryable and "gave up after 2 attempts" in message
    assert_names_everything(error.value)
    assert KEY not in caplog.text and TOKEN not in caplog.text


def test_headers_dribbled_forever_are_cut_at_the_deadline():
    """The status line arrives, then one header byte every 0.2 s: httpx's per-read timeout never
    fires; the deadline must."""
    def do_get(handler):
        handler.dribble(b"HTTP/1.1 200 OK\r\nX-Slow: ")

    with serving(do_get) as server:
        started = time.monotonic()
        with make_client(limits=SourceLimits(deadline_seconds=1.0), timeout=0.5, attempts=1) as http:
            with pytest.raises(SourceError) as error:
                http.get(f"{server.base}/v2/data", params={"api_key": KEY})
        elapsed = time.monotonic() - started
    assert elapsed < 5, f"took {elapsed:.1f}s"
    assert "deadline" in str(error.value)
    assert_names_everything(error.value)


# B. response size cap, counted while streaming


def test_body_past_the_cap_is_aborted_while_streaming():
    produced = []

    def body():  # 1000 KiB without Content-Length; the cap is 10 KiB
        for _ in range(1000):
            produced.append(1)
            yield b"x" * 1024

    def handler(request):
        return httpx.Response(200, content=body())

    transport = httpx.MockTransport(handler)
    with make_client("fred", limits=SourceLimits(max_response_bytes=10 * 1024), transport=transport) as http:
        with pytest.raises(SourceError) as error:
            http.get("https://api.stlouisfed.org/fred/series/observations", params={"api_key": KEY})
    message = str(error.value)
    assert "10240 bytes" in message and "max_response_bytes" in message and "api_key=***" in message, message
    assert not error.value.retryable
    assert len(produced) <= 12, f"read {len(produced)} KiB before stopping"
    assert_names_everything(error.value, "fred")


def test_content_length_past_the_cap_is_refused_before_reading():
    started = []

    def body():
        started.append(1)
        yield b"x"

    def handler(request):
        return httpx.Response(200, headers={"Content-Length": str(2**40)}, content=body())

    with make_client(limits=SourceLimits(max_response_bytes=1024), transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(SourceError) as error:
            http.get("https://api.eia.gov/v2/data")
    assert "1024 bytes" in str(error.value) and "Content-Length" in str(error.value)
    assert started == [] and not error.value.retryable


def test_gzip_bomb_is_cut_at_the_decompressed_cap():
    bomb = gzip.compress(b"\0" * (4 * 2**20))  # 4 MiB of zeros in a few KiB

    def handler(request):
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=bomb)

    limits = SourceLimits(max_response_bytes=2**20, max_decompressed_bytes=2**20)
    with make_client(limits=limits, transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(SourceError) as error:
            http.get("https://api.eia.gov/v2/data")
    assert "max_decompressed_bytes" in str(error.value) and not error.value.retryable


# C. credentials stay with the origin they were meant for


def test_cross_origin_redirect_gets_no_caller_headers():
    def second(handler):
        handler.record()
        handler.answer(200, b"second")

    with serving(second) as target:
        def first(handler):
            handler.record()
            handler.answer(302, headers={"Location": f"{target.base}/landing?x=1"})

        with serving(first) as origin, make_client("usda_esr") as http:
            result = http.get(f"{origin.base}/api/esr", headers={"x-api-key": KEY, "X-App-Token": TOKEN})
    assert result.status == 200 and result.body == b"second"
    assert origin.received[0][1].get("x-api-key") == KEY  # the origin did get its key
    assert len(target.received) == 1
    path, headers = target.received[0]
    assert path == "/landing?x=1"
    leaked = [name for name, value in headers.items() if KEY in value or TOKEN in value]
    assert leaked == [], f"{leaked} forwarded to another origin"


def test_same_origin_redirect_keeps_headers():
    def serve(handler):
        handler.record()
        if handler.path.startswith("/old"):
            handler.answer(302, headers={"Location": "/new"})
        else:
            handler.answer(200, b"new")

    with serving(serve) as server, make_client("cftc") as http:
        result = http.get(f"{server.base}/old", headers={"X-App-Token": TOKEN})
    assert result.body == b"new" and result.url.endswith("/new")
    assert [path for path, _ in server.received] == ["/old", "/new"]
    assert server.received[1][1].get("X-App-Token") == TOKEN


def test_cross_origin_redirect_carrying_a_secret_is_refused():
    def second(handler):
        handler.record()
        handler.answer(200, b"stolen")

    with serving(second) as target:
        def first(handler):  # echoes the query string, key and all, to another host
            handler.answer(302, headers={"Location": f"{target.base}/?api_key={KEY}"})

        with serving(first) as origin, make_client("fred") as http:
            with pytest.raises(SourceError) as error:
                http.get(f"{origin.base}/fred", params={"api_key": KEY})
    assert target.received == []
    assert "redirect" in str(error.value) and not error.value.retryable
    assert_names_everything(error.value, "fred")


def test_https_to_http_redirect_is_refused():
    seen = []

    def handler(request):
        seen.append(str(request.url))
        if request.url.scheme == "https":
            return httpx.Response(301, headers={"Location": "http://api.eia.gov/v2/data"})
        return httpx.Response(200, content=b"in clear")

    with make_client(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(SourceError) as error:
            http.get("https://api.eia.gov/v2/data", params={"api_key": KEY})
    assert seen == [f"https://api.eia.gov/v2/data?api_key={KEY}"]
    assert "https to http" in str(error.value)
    assert_names_everything(error.value)


def test_body_is_not_resent_to_another_origin():
    seen = []

    def handler(request):
        seen.append(request.url.host)
        if request.url.host == "hist.databento.com":
            return httpx.Response(307, headers={"Location": "https://elsewhere.test/upload"})
        return httpx.Response(200, content=b"{}")

    with make_client("databento", transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(SourceError):
            http.post("https://hist.databento.com/v0/timeseries.get_range", data={"key": KEY}, auth=(KEY, ""))
    assert seen == ["hist.databento.com"]


def test_redirect_loop_is_a_source_error():
    def handler(request):
        return httpx.Response(302, headers={"Location": f"/again?key={KEY}"})

    with make_client(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(SourceError) as error:
            http.get("https://api.eia.gov/v2/data")
    assert "redirects" in str(error.value) and not error.value.retryable
    assert_names_everything(error.value)


# D. https only


def test_plain_http_to_a_real_host_is_refused_before_any_byte(monkeypatch):
    attempts = []

    def no_network(*args, **kwargs):
        attempts.append(args)
        raise AssertionError("the client tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    with make_client(transport=None) as http:
        with pytest.raises(SourceError) as error:
            http.get("http://api.eia.gov/v2/petroleum/pri/spt/data/", params={"api_key": KEY})
    message = str(error.value)
    assert attempts == []
    assert "https" in message and "in clear" in message and not error.value.retryable
    assert_names_everything(error.value)


def test_injected_transport_may_use_plain_http():
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=b"ok"))
    with make_client(transport=transport) as http:
        assert http.get("http://sample.world/v2/data").body == b"ok"


# E. httpx errors come out as SourceErrors that name things


def test_broken_gzip_is_a_source_error():
    def handler(request):
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=b"this is not gzip")

    with make_client(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(SourceError) as error:
            http.get("https://api.eia.gov/v2/data", params={"api_key": KEY})
    message = str(error.value)
    assert "DecodingError" in message and "api.eia.gov/v2/data?api_key=***" in message, message
    assert_names_everything(error.value)


def test_any_httpx_error_is_a_source_error():
    def handler(request):
        raise httpx.TooManyRedirects(f"loop at key={KEY}", request=request)

    with make_client(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(SourceError) as error:
            http.get("https://api.eia.gov/v2/data", params={"api_key": KEY})
    assert "TooManyRedirects" in str(error.value) and "api.eia.gov" in str(error.value)
    assert_names_everything(error.value)


def test_deployed_instance_caps_run_time():
    from dagster._config import validate_config
    from dagster._core.instance.config import dagster_instance_config_schema

    config = yaml.safe_load((PROJECT_ROOT / "deploy" / "dagster.yaml").read_text())
    monitoring = config["run_monitoring"]
    assert monitoring["enabled"] is True
    assert isinstance(monitoring["max_runtime_seconds"], int) and monitoring["max_runtime_seconds"] > 0
    schema = dagster_instance_config_schema()["run_monitoring"].config_type
    assert validate_config(schema, monitoring).success  # key names as this Dagster spells them
