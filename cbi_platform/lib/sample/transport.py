"""The sample world behind the real APIs' URLs: an httpx transport.

In `sample` mode the sources run their *live* code (URLs, parameters, auth, paging, retries)
against this transport instead of the network, and get the exact wire bytes each API returns.
So the live path is exercised by every demo and test; only the bytes' origin differs.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import parse_qs

import httpx

from cbi_platform.lib.sample.render_dbn import DbnRenderer
from cbi_platform.lib.sample import render_fred
from cbi_platform.lib.sample.world import World


def _json(status: int, document: dict) -> httpx.Response:
    return httpx.Response(status, content=json.dumps(document).encode(),
                          headers={"Content-Type": "application/json; charset=UTF-8"})


class SampleWorldTransport(httpx.BaseTransport):
    def __init__(self, world: World, today: dt.date):
        self.world = world
        self.today = today
        self.requests: list[str] = []  # what was asked, for tests and benchmarks
        self._dbn = DbnRenderer(world)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(f"{request.method} {request.url.host}{request.url.path}")
        host, path = request.url.host, request.url.path
        if host == "api.stlouisfed.org":
            return self._fred(request, path)
        if host == "hist.databento.com" and path == "/v0/timeseries.get_range":
            return self._databento(request)
        return httpx.Response(404, content=b"<html><body><h1>404 Not Found</h1></body></html>",
                              headers={"Content-Type": "text/html"})

    # ---------------------------------------------------------------- FRED
    def _fred(self, request: httpx.Request, path: str) -> httpx.Response:
        params = {k: v for k, v in request.url.params.items()}
        if not params.get("api_key"):
            return _json(400, {"error_code": 400, "error_message": "Bad Request.  Variable api_key is not set."})
        try:
            spec = self.world.sources.series_spec(params.get("series_id", ""))
        except KeyError:
            return _json(400, {"error_code": 400, "error_message": "Bad Request.  The series does not exist."})
        if path == "/fred/series/observations":
            body = render_fred.observations(self.world, spec, params, self.today)
        elif path == "/fred/series":
            body = render_fred.series_metadata(self.world, spec, self.today)
        else:
            return _json(404, {"error_code": 404, "error_message": "Not Found"})
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json; charset=UTF-8"})

    # ---------------------------------------------------------------- Databento
    def _databento(self, request: httpx.Request) -> httpx.Response:
        if not request.headers.get("Authorization", "").startswith("Basic "):
            return _json(401, {"detail": "Authentication failed."})
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        schema = form.get("schema")
        if form.get("dataset") != "GLBX.MDP3" or schema not in ("ohlcv-1d", "ohlcv-1h"):
            return _json(422, {"detail": f"Unsupported dataset/schema {form.get('dataset')}/{schema} in the sample world"})
        if form.get("stype_in") != "continuous":
            return _json(422, {"detail": "The sample world serves continuous symbology only"})
        start = dt.date.fromisoformat(form["start"][:10])
        end = dt.date.fromisoformat(form["end"][:10])
        body = self._dbn.render(form.get("symbols", "").split(","), schema, start, end, self.today)
        return httpx.Response(200, content=body, headers={"Content-Type": "application/octet-stream"})
