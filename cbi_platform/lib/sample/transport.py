"""The sample world behind the real APIs' URLs: an httpx transport.

In `sample` mode the sources run their *live* code (URLs, parameters, auth, paging, retries)
against this transport instead of the network, and get the exact wire bytes each API returns.
So the live path is exercised by every demo and test; only the bytes' origin differs.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from urllib.parse import parse_qs

import httpx

from cbi_platform.lib.sample import render_fred
from cbi_platform.lib.sample.render_dbn import OptionsRenderer, StatisticsRenderer
from cbi_platform.lib.sample.world import World

# Renderer modules: each exposes ROUTES = [(host, path_prefix, handler(world, request, today))].
RENDERERS: tuple[str, ...] = ("render_cftc", "render_epa_rin", "render_usda_esr", "render_wasde", "render_eia",
                             "render_news")


def _json(status: int, document: dict) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(document).encode(),
                          headers={"Content-Type": "application/json; charset=UTF-8"})


def _fred(world: World, request: httpx.Request, today: dt.date) -> httpx.Response:
    params = dict(request.url.params.items())
    if not params.get("api_key"):
        return _json(400, {"error_code": 400, "error_message": "Bad Request.  Variable api_key is not set."})
    try:
        spec = world.sources.series_spec(params.get("series_id", ""))
    except KeyError:
        return _json(400, {"error_code": 400, "error_message": "Bad Request.  The series does not exist."})
    if request.url.path == "/fred/series/observations":
        body = render_fred.observations(world, spec, params, today)
    elif request.url.path == "/fred/series":
        body = render_fred.series_metadata(world, spec, today)
    else:
        return _json(404, {"error_code": 404, "error_message": "Not Found"})
    return httpx.Response(200, content=body, headers={"Content-Type": "application/json; charset=UTF-8"})


class _Databento:
    """Databento's historical API: form-encoded POST, HTTP basic auth with the key as user.
    Continuous symbology for futures OHLCV and statistics, parent symbology for options."""

    SCHEMAS = {("ohlcv-1d", "continuous"), ("ohlcv-1h", "continuous"), ("statistics", "continuous"),
               ("ohlcv-1d", "parent"), ("definition", "parent")}

    def __init__(self):
        self._renderers: dict[int, tuple[StatisticsRenderer, OptionsRenderer]] = {}

    def __call__(self, world: World, request: httpx.Request, today: dt.date) -> httpx.Response:
        if not request.headers.get("Authorization", "").startswith("Basic "):
            return _json(401, {"detail": "Authentication failed."})
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        schema, stype_in = form.get("schema"), form.get("stype_in")
        if form.get("dataset") != "GLBX.MDP3" or (schema, stype_in) not in self.SCHEMAS:
            return _json(422, {"detail": f"The sample world does not serve {form.get('dataset')} {schema} by {stype_in}"})
        start = dt.date.fromisoformat(form["start"][:10])
        end = dt.date.fromisoformat(form["end"][:10])
        symbols = form.get("symbols", "").split(",")
        if id(world) not in self._renderers:
            self._renderers[id(world)] = (StatisticsRenderer(world), OptionsRenderer(world))
        futures, options = self._renderers[id(world)]
        if stype_in == "parent":
            body = b"".join(options.render_options(symbol, schema, start, end, today) for symbol in symbols[:1])
        elif schema == "statistics":
            body = futures.render_statistics(symbols, start, end, today)
        else:
            body = futures.render(symbols, schema, start, end, today)
        return httpx.Response(200, content=body, headers={"Content-Type": "application/octet-stream"})


BUILT_IN_ROUTES = [
    ("api.stlouisfed.org", "/fred/", _fred),
    ("hist.databento.com", "/v0/timeseries.get_range", _Databento()),
]


def routes() -> list[tuple[str, str, object]]:
    table = list(BUILT_IN_ROUTES)
    for name in RENDERERS:
        table.extend(importlib.import_module(f"cbi_platform.lib.sample.{name}").ROUTES)
    return table


class SampleWorldTransport(httpx.BaseTransport):
    def __init__(self, world: World, today: dt.date):
        self.world = world
        self.today = today
        self.requests: list[str] = []  # what was asked, for tests and benchmarks
        self._routes = routes()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.host}{request.url.path}")
        for host, prefix, handler in self._routes:
            if request.url.host == host and request.url.path.startswith(prefix):
                return handler(self.world, request, self.today)
        return httpx.Response(404, content=b"<html><body><h1>404 Not Found</h1></body></html>",
                              headers={"Content-Type": "text/html"})
