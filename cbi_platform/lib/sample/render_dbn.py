"""Databento DBN (v3, zstd) for GLBX.MDP3 OHLCV with continuous symbology, as the historical API
returns it: metadata with symbol mappings (instrument ids change at each roll), `not_found` and
`partial` symbols, then fixed-size records ordered by `ts_event`.

Records are laid out with a numpy structured dtype (byte-identical to `databento_dbn.OHLCVMsg`,
which a test asserts) because building millions of Python record objects is slow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import databento_dbn as dbn
import numpy as np
import pandas as pd
import zstandard

from cbi_platform.lib import calendar
from cbi_platform.lib.contracts import MONTH_CODES
from cbi_platform.lib.sample.world import World

DATASET = "GLBX.MDP3"
PUBLISHER_ID = 1  # GLBX.MDP3 on Databento
PRICE_SCALE = 1_000_000_000
RTYPES = {"ohlcv-1h": 0x22, "ohlcv-1d": 0x23}
SCHEMAS = {"ohlcv-1h": dbn.Schema.OHLCV_1H, "ohlcv-1d": dbn.Schema.OHLCV_1D}
OHLCV_DTYPE = np.dtype(
    [
        ("length", "u1"), ("rtype", "u1"), ("publisher_id", "<u2"), ("instrument_id", "<u4"),
        ("ts_event", "<u8"), ("open", "<i8"), ("high", "<i8"), ("low", "<i8"), ("close", "<i8"),
        ("volume", "<u8"),
    ]
)
assert OHLCV_DTYPE.itemsize == 56


@dataclass
class _Interval:
    start_date: dt.date
    end_date: dt.date
    symbol: str


@dataclass
class _Mapping:
    raw_symbol: str
    intervals: list


def _ns(day: dt.date) -> int:
    return int(pd.Timestamp(day, tz="UTC").value)


def _to_ticks(values: np.ndarray, tick: float) -> np.ndarray:
    """Round to the contract's tick and encode as DBN fixed-precision integers."""
    ticks = np.round(values / tick)
    return np.round(ticks * tick * PRICE_SCALE).astype(np.int64)


def _parse_symbol(symbol: str) -> tuple[str, int] | None:
    parts = symbol.split(".")
    if len(parts) != 3 or parts[1] != "c" or not parts[2].isdigit():
        return None
    return parts[0], int(parts[2])


def _volume_share(days_to_expiry: np.ndarray, rank: int) -> np.ndarray:
    """Liquidity migrates to the next contract in the days before expiry (the roll)."""
    front = np.clip(days_to_expiry / 8.0, 0.15, 0.92)
    return front if rank == 0 else 1.0 - front


@lru_cache(maxsize=64)
def _bar_layout(template: str, trade_date: dt.date) -> tuple[tuple[pd.Timestamp, ...], tuple[int, ...]]:
    """Hourly bar start times and how the world's 24 intraday steps are split among them."""
    hours = tuple(calendar.bar_hours(trade_date, template))
    chunks = np.array_split(np.arange(24), len(hours))
    return hours, tuple(int(c[-1]) + 1 for c in chunks)


class DbnRenderer:
    def __init__(self, world: World):
        self.world = world

    def _contract_series(self, root: str, rank: int, index: np.ndarray):
        world = self.world
        contracts = world.contracts[root]
        chosen = world.front[root][index] + rank
        expiry = np.array([c.expiry_index for c in contracts])[chosen]
        ids = np.array([c.instrument_id for c in contracts])[chosen]
        j = world.root_index[root]
        tau = (expiry - index) / 252.0
        basis = world.basis[index, j] * tau
        return chosen, ids, basis, expiry - index

    def render(self, symbols: list[str], schema: str, start: dt.date, end: dt.date, today: dt.date) -> bytes:
        """Records with ts_event in [start, end) (and not after today), all symbols, DBN v3 zstd."""
        world = self.world
        end = min(end, today + dt.timedelta(days=1))
        # an hourly session for trade date D opens the evening before, so look one day ahead
        horizon = end + dt.timedelta(days=1) if schema == "ohlcv-1h" else end
        span = calendar.session_range(start, horizon) if end > start else slice(0, 0)
        index_all = np.arange(span.start, span.stop)
        index_all = index_all[index_all > 0]
        lo, hi = _ns(start), _ns(end)
        blocks: list[np.ndarray] = []
        mappings, not_found, partial = [], [], []
        for symbol in symbols:
            parsed = _parse_symbol(symbol)
            if parsed is None or parsed[0] not in world.root_index or parsed[1] > 1:
                not_found.append(symbol)
                continue
            root, rank = parsed
            index = index_all[index_all >= world.listed_from(root)]
            chosen, ids, basis, to_expiry = self._contract_series(root, rank, index)
            if schema == "ohlcv-1d":
                block = self._daily(root, rank, index, ids, basis, to_expiry)
            else:
                block = self._hourly(root, rank, index, ids, basis, to_expiry)
            block = block[(block["ts_event"] >= lo) & (block["ts_event"] < hi)]
            if schema == "ohlcv-1h":
                block = self._one_instrument_per_date(root, rank, block)
            if len(block) == 0:
                not_found.append(symbol)
                continue
            if len(index) < len(index_all):
                partial.append(symbol)
            mappings.append(_Mapping(symbol, _intervals(block)))
            blocks.append(block)
        records = np.concatenate(blocks) if blocks else np.zeros(0, dtype=OHLCV_DTYPE)
        order = np.lexsort((records["instrument_id"], records["ts_event"]))
        metadata = dbn.Metadata(
            dataset=DATASET,
            start=lo,
            end=hi,
            stype_in=dbn.SType.CONTINUOUS,
            stype_out=dbn.SType.INSTRUMENT_ID,
            schema=SCHEMAS[schema],
            symbols=list(symbols),
            partial=partial,
            not_found=not_found,
            mappings=mappings,
            limit=0,
        )
        raw = metadata.encode() + records[order].tobytes()
        return zstandard.ZstdCompressor(level=3).compress(raw)

    def _one_instrument_per_date(self, root: str, rank: int, block: np.ndarray) -> np.ndarray:
        """Continuous symbology maps each UTC date to one instrument: on the evening a roll
        starts, the new contract's first bars share a date mapped to the old one and are not
        part of the continuous series."""
        days = block["ts_event"].astype("datetime64[ns]").astype("datetime64[D]")
        session = np.searchsorted(self.world.sessions, days, side="left")
        session = np.clip(session, 0, self.world.n_days - 1)
        contracts = self.world.contracts[root]
        mapped = np.array([c.instrument_id for c in contracts])[self.world.front[root][session] + rank]
        return block[block["instrument_id"] == mapped]

    def _base_volume(self, root: str, rank: int, index: np.ndarray, to_expiry: np.ndarray) -> np.ndarray:
        world = self.world
        j = world.root_index[root]
        base = float(world.symbols[j].sample.get("volume", 1000))
        scale = world.day_volume_scale[index, j] * world.vol_mult[index] ** 0.5
        return np.maximum(1, np.round(base * scale * _volume_share(to_expiry.astype(float), rank))).astype(np.int64)

    def _daily(self, root, rank, index, ids, basis, to_expiry) -> np.ndarray:
        world = self.world
        j = world.root_index[root]
        tick = world.symbols[j].tick_size
        log_close = world.log_spot[index, j] + basis
        close = np.exp(log_close)
        open_ = np.exp(log_close + world.log_spot[index - 1, j] - world.log_spot[index, j])
        high = np.exp(log_close + world.day_high[index, j])
        low = np.exp(log_close + world.day_low[index, j])
        out = np.zeros(len(index), dtype=OHLCV_DTYPE)
        out["length"] = OHLCV_DTYPE.itemsize // 4
        out["rtype"] = RTYPES["ohlcv-1d"]
        out["publisher_id"] = PUBLISHER_ID
        out["instrument_id"] = ids
        out["ts_event"] = world.sessions[index].astype("datetime64[ns]").astype(np.int64)
        o, h, lo, c = (_to_ticks(x, tick) for x in (open_, high, low, close))
        out["open"], out["close"] = o, c
        out["high"] = np.maximum.reduce([h, o, c])
        out["low"] = np.minimum.reduce([lo, o, c])
        out["volume"] = self._base_volume(root, rank, index, to_expiry)
        return out

    def _hourly(self, root, rank, index, ids, basis, to_expiry) -> np.ndarray:
        world = self.world
        j = world.root_index[root]
        spec = world.symbols[j]
        tick = spec.tick_size
        daily_volume = self._base_volume(root, rank, index, to_expiry)
        rows = []
        for pos, day in enumerate(index):
            day_path = world.intraday_path(int(day))
            path, upper, lower = day_path.path, day_path.upper, day_path.lower
            hours, cuts = _bar_layout(spec.session, world.dates[day])
            edges = (0,) + cuts
            shift = basis[pos]
            opens = np.exp(path[j, list(edges[:-1])] + shift)
            closes = np.exp(path[j, list(edges[1:])] + shift)
            highs = np.exp(np.array([upper[j, a:b].max() for a, b in zip(edges[:-1], edges[1:])]) + shift)
            lows = np.exp(np.array([lower[j, a:b].min() for a, b in zip(edges[:-1], edges[1:])]) + shift)
            weights = np.array([3.0 if 13 <= h.hour <= 20 else 1.0 for h in hours])
            volumes = _split_integer(int(daily_volume[pos]), weights)
            block = np.zeros(len(hours), dtype=OHLCV_DTYPE)
            block["length"] = OHLCV_DTYPE.itemsize // 4
            block["rtype"] = RTYPES["ohlcv-1h"]
            block["publisher_id"] = PUBLISHER_ID
            block["instrument_id"] = ids[pos]
            block["ts_event"] = [h.value for h in hours]
            o, h, lo, c = (_to_ticks(x, tick) for x in (opens, highs, lows, closes))
            block["open"], block["close"] = o, c
            block["high"] = np.maximum.reduce([h, o, c])
            block["low"] = np.minimum.reduce([lo, o, c])
            block["volume"] = volumes
            rows.append(block)
        return np.concatenate(rows) if rows else np.zeros(0, dtype=OHLCV_DTYPE)


def _intervals(block: np.ndarray) -> list[_Interval]:
    """Symbology intervals [start_date, end_date) of constant instrument id, by UTC date."""
    days = block["ts_event"].astype("datetime64[ns]").astype("datetime64[D]")
    ids = block["instrument_id"]
    order = np.argsort(days, kind="stable")
    days, ids = days[order], ids[order]
    change = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(ids)]])
    intervals = []
    for a, b in zip(starts, stops):
        first, last = days[a].astype(object), days[b - 1].astype(object)
        intervals.append(_Interval(first, last + dt.timedelta(days=1), str(int(ids[a]))))
    # consecutive intervals must touch: a roll happens between the last day of one id and the next
    for left, right in zip(intervals, intervals[1:]):
        left.end_date = right.start_date
    return intervals


def _split_integer(total: int, weights: np.ndarray) -> np.ndarray:
    """Split an integer total by weights so the parts sum exactly to the total."""
    raw = total * weights / weights.sum()
    parts = np.floor(raw).astype(np.int64)
    remainder = total - int(parts.sum())
    if remainder:
        parts[np.argsort(raw - parts)[::-1][:remainder]] += 1
    return parts


# ---------------------------------------------------------------------------- statistics
STAT_DTYPE = np.dtype(
    [
        ("length", "u1"), ("rtype", "u1"), ("publisher_id", "<u2"), ("instrument_id", "<u4"), ("ts_event", "<u8"),
        ("ts_recv", "<u8"), ("ts_ref", "<u8"), ("price", "<i8"), ("quantity", "<i8"), ("sequence", "<u4"),
        ("ts_in_delta", "<i4"), ("stat_type", "<u2"), ("channel_id", "<u2"), ("update_action", "u1"),
        ("stat_flags", "u1"), ("reserved", "V18"),
    ]
)
assert STAT_DTYPE.itemsize == 80
STAT_RTYPE = 0x18
STAT_SETTLEMENT, STAT_CLEARED_VOLUME, STAT_OPEN_INTEREST = 3, 6, 9
UNDEF_PRICE = np.iinfo(np.int64).max
PUBLISH_HOUR_UTC = 11  # CME publishes the previous session's final settlement, volume and OI overnight


def open_interest(world: World, root: str, expiry_index: np.ndarray, day: np.ndarray, base_volume: float) -> np.ndarray:
    """Open interest of a contract by days to expiry: builds while it is the next contract,
    peaks about a month before expiry, collapses in the roll (deterministic noise by day)."""
    to_expiry = (expiry_index - day).astype(float)
    shape = np.exp(-((to_expiry - 35.0) / 70.0) ** 2) * np.clip(to_expiry / 8.0, 0.02, 1.0)
    wobble = 1.0 + 0.03 * np.sin(day * 0.7 + len(root))
    return np.maximum(1, np.round(3.0 * base_volume * shape * wobble)).astype(np.int64)


class StatisticsRenderer(DbnRenderer):
    """The `statistics` schema: settlement price, cleared volume and open interest of each
    session, published the next morning (ts_ref = the session they describe)."""

    def render_statistics(self, symbols: list[str], start: dt.date, end: dt.date, today: dt.date) -> bytes:
        world = self.world
        end = min(end, today + dt.timedelta(days=1))
        span = calendar.session_range(start, end) if end > start else slice(0, 0)
        publish = np.arange(span.start, span.stop)
        publish = publish[publish > 1]
        blocks, mappings, not_found = [], [], []
        for symbol in symbols:
            parsed = _parse_symbol(symbol)
            if parsed is None or parsed[0] not in world.root_index or parsed[1] > 1:
                not_found.append(symbol)
                continue
            root, rank = parsed
            days = publish[publish - 1 >= world.listed_from(root)]
            if len(days) == 0:
                not_found.append(symbol)
                continue
            ref = days - 1
            # the instrument this continuous symbol maps to on the publication date
            contracts = world.contracts[root]
            chosen = world.front[root][days] + rank
            ids = np.array([c.instrument_id for c in contracts])[chosen]
            expiry = np.array([c.expiry_index for c in contracts])[chosen]
            j = world.root_index[root]
            spec = world.symbols[j]
            settle = np.exp(world.log_spot[ref, j] + world.basis[ref, j] * (expiry - ref) / 252.0)
            base_volume = float(spec.sample.get("volume", 1000))
            oi = open_interest(world, root, expiry, ref, base_volume)
            volume = self._base_volume(root, rank, ref, expiry - ref)
            ts_event = (world.sessions[days].astype("datetime64[ns]") + np.timedelta64(PUBLISH_HOUR_UTC, "h")).astype(np.int64)
            ts_ref = world.sessions[ref].astype("datetime64[ns]").astype(np.int64)
            for stat, price, quantity in (
                (STAT_SETTLEMENT, _to_ticks(settle, spec.tick_size), np.full(len(days), np.iinfo(np.int64).max)),
                (STAT_CLEARED_VOLUME, np.full(len(days), UNDEF_PRICE), volume),
                (STAT_OPEN_INTEREST, np.full(len(days), UNDEF_PRICE), oi),
            ):
                block = np.zeros(len(days), dtype=STAT_DTYPE)
                block["length"], block["rtype"], block["publisher_id"] = 20, STAT_RTYPE, PUBLISHER_ID
                block["instrument_id"], block["ts_event"], block["ts_recv"] = ids, ts_event, ts_event
                block["ts_ref"], block["price"], block["quantity"] = ts_ref, price, quantity
                block["stat_type"], block["update_action"] = stat, 1
                blocks.append(block)
            mappings.append(_Mapping(symbol, _intervals(blocks[-1])))
        records = np.concatenate(blocks) if blocks else np.zeros(0, dtype=STAT_DTYPE)
        order = np.lexsort((records["stat_type"], records["instrument_id"], records["ts_event"]))
        metadata = dbn.Metadata(
            dataset=DATASET, start=_ns(start), end=_ns(end), stype_in=dbn.SType.CONTINUOUS,
            stype_out=dbn.SType.INSTRUMENT_ID, schema=dbn.Schema.STATISTICS, symbols=list(symbols),
            partial=[], not_found=not_found, mappings=mappings, limit=0,
        )
        return zstandard.ZstdCompressor(level=3).compress(metadata.encode() + records[order].tobytes())


# ---------------------------------------------------------------------------- options
OPTION_STRIKES = 8  # strikes each side of at-the-money
OPTION_EXPIRIES = 2  # nearest option expiries listed on each session


@dataclass(frozen=True)
class OptionSeries:
    root: str
    year: int
    month: int  # the underlying futures' contract month
    expiry_index: int  # session index of the option's last trading day
    underlying: object  # the futures ListedContract


def option_instrument_id(root: str, year: int, month: int, kind: str, strike_ticks: int) -> int:
    import zlib

    return zlib.crc32(f"O{root}:{year}:{month}:{kind}:{strike_ticks}".encode()) % 1_000_000_000 + 3_000_000_000


def black76(forward: np.ndarray, strike: np.ndarray, vol: np.ndarray, years: np.ndarray, call: np.ndarray) -> np.ndarray:
    from scipy.stats import norm

    sqrt_t = np.sqrt(np.maximum(years, 1e-6))
    d1 = (np.log(forward / strike) + 0.5 * vol**2 * years) / (vol * sqrt_t)
    d2 = d1 - vol * sqrt_t
    calls = forward * norm.cdf(d1) - strike * norm.cdf(d2)
    puts = strike * norm.cdf(-d2) - forward * norm.cdf(-d1)
    return np.where(call, calls, puts)


class OptionsRenderer(DbnRenderer):
    """Options on futures by parent symbology (`ZL.OPT`): daily OHLCV and instrument
    definitions (strike, call/put, expiration, underlying). Prices are Black-76 with an implied
    volatility that follows the world's realised volatility and regime, plus a smile."""

    def __init__(self, world: World):
        super().__init__(world)
        rng = np.random.default_rng([world.seed, 0x0B7])
        noise = np.zeros(world.n_days)
        level = 0.0
        for i, shock in enumerate(rng.standard_normal(world.n_days)):
            level = 0.97 * level + 0.03 * shock
            noise[i] = level
        self.iv_noise = noise
        self._last_quotes: tuple[tuple[str, bytes], list[dict]] | None = None

    def series(self, root: str, day: int) -> list[OptionSeries]:
        """The nearest option expiries alive on `day`: an option on futures month M expires on
        the last session on or before the 25th of the month before M."""
        out = []
        for contract in self.world.contracts[root]:
            y, m = (contract.year, contract.month - 1) if contract.month > 1 else (contract.year - 1, 12)
            expiry_index = calendar.index_of(dt.date(y, m, 26)) - 1
            if expiry_index >= day and expiry_index < contract.expiry_index:
                out.append(OptionSeries(root, contract.year, contract.month, expiry_index, contract))
            if len(out) == OPTION_EXPIRIES:
                break
        return out

    def quotes(self, root: str, days: np.ndarray) -> list[dict]:
        """Each quote of `root` on `days`, read-only. A partition asks for the same days twice
        (bars, then definitions): the last answer is kept, so they are priced once."""
        key = (root, np.asarray(days, dtype=np.int64).tobytes())
        if self._last_quotes is None or self._last_quotes[0] != key:
            self._last_quotes = (key, self._price_quotes(root, days))
        return self._last_quotes[1]

    def _price_quotes(self, root: str, days: np.ndarray) -> list[dict]:
        world = self.world
        j = world.root_index[root]
        spec = world.symbols[j]
        strike_step = 0.5 if root == "ZL" else spec.tick_size * 100
        option_tick = 0.005 if root == "ZL" else spec.tick_size
        rows = []
        for day in days:
            atm_vol = world.daily_sd[j] * np.sqrt(252) * world.vol_mult[day] * 1.1 * np.exp(self.iv_noise[day])
            for series in self.series(root, int(day)):
                forward = float(np.exp(self.world.contract_log_price(root, series.underlying, np.array([day]))[0]))
                atm = round(forward / strike_step) * strike_step
                strikes = atm + strike_step * np.arange(-OPTION_STRIKES, OPTION_STRIKES + 1)
                strikes = strikes[strikes > 0]
                years = max(series.expiry_index - day, 0.5) / 252.0
                moneyness = np.log(strikes / forward)
                vol = atm_vol * (1.0 + 1.5 * moneyness**2 - 0.2 * moneyness)
                for kind in ("C", "P"):
                    price = black76(np.full(len(strikes), forward), strikes, vol, np.full(len(strikes), years),
                                    np.full(len(strikes), kind == "C"))
                    for strike, value, sigma in zip(strikes, price, vol):
                        if value < option_tick:
                            continue
                        rows.append({"day": int(day), "series": series, "kind": kind, "strike": float(strike),
                                     "close": value, "vol": sigma, "forward": forward, "tick": option_tick})
        return rows

    def render_options(self, parent: str, schema: str, start: dt.date, end: dt.date, today: dt.date) -> bytes:
        world = self.world
        root = parent.split(".")[0]
        end = min(end, today + dt.timedelta(days=1))
        span = calendar.session_range(start, end) if end > start else slice(0, 0)
        days = np.arange(span.start, span.stop)
        not_found = []
        if root not in world.root_index or not parent.endswith(".OPT"):
            not_found, days = [parent], days[:0]
        days = days[days >= world.listed_from(root)] if not not_found else days
        quotes = self.quotes(root, days)
        if schema == "ohlcv-1d":
            body = self._option_bars(quotes)
            dbn_schema = dbn.Schema.OHLCV_1D
        else:
            body = self._definitions(quotes)
            dbn_schema = dbn.Schema.DEFINITION
        metadata = dbn.Metadata(
            dataset=DATASET, start=_ns(start), end=_ns(end), stype_in=dbn.SType.PARENT,
            stype_out=dbn.SType.INSTRUMENT_ID, schema=dbn_schema, symbols=[parent],
            partial=[], not_found=not_found, mappings=[], limit=0,
        )
        return zstandard.ZstdCompressor(level=3).compress(metadata.encode() + body)

    def _identity(self, quote: dict) -> tuple[int, str]:
        series = quote["series"]
        strike_code = int(round(quote["strike"] * 100))
        raw = f"O{series.root}{MONTH_CODES[series.month - 1]}{series.year % 10} {quote['kind']}{strike_code:04d}"
        return option_instrument_id(series.root, series.year, series.month, quote["kind"], strike_code), raw

    def _option_bars(self, quotes: list[dict]) -> bytes:
        out = np.zeros(len(quotes), dtype=OHLCV_DTYPE)
        if not quotes:
            return out.tobytes()
        closes = np.array([q["close"] for q in quotes])
        ticks = np.array([q["tick"] for q in quotes])
        # each session's draws come from its own stream: a day's bars are the same whether it is
        # requested alone or inside a range (quotes come day by day)
        days = np.array([q["day"] for q in quotes])
        normals, uniforms, gammas = np.empty((3, len(quotes))), np.empty(len(quotes)), np.empty(len(quotes))
        for day in np.unique(days):
            rows = np.flatnonzero(days == day)
            rng = np.random.default_rng([self.world.seed, 0x0B8, int(day)])
            normals[:, rows] = rng.standard_normal((3, len(rows)))
            uniforms[rows] = rng.random(len(rows))
            gammas[rows] = rng.gamma(2.0, 600.0, len(rows))
        swing = np.abs(normals) * 0.04 * closes
        opens = np.maximum(ticks, closes + (uniforms - 0.5) * swing[0])
        highs = np.maximum.reduce([opens, closes]) + swing[1]
        lows = np.maximum(ticks, np.minimum.reduce([opens, closes]) - swing[2])
        moneyness = np.array([abs(np.log(q["strike"] / q["forward"])) for q in quotes])
        volume = np.maximum(1, np.round(gammas * np.exp(-40 * moneyness))).astype(np.int64)
        out["length"], out["rtype"], out["publisher_id"] = OHLCV_DTYPE.itemsize // 4, RTYPES["ohlcv-1d"], PUBLISHER_ID
        out["instrument_id"] = [self._identity(q)[0] for q in quotes]
        out["ts_event"] = self.world.sessions[[q["day"] for q in quotes]].astype("datetime64[ns]").astype(np.int64)
        for name, values in (("open", opens), ("high", highs), ("low", lows), ("close", closes)):
            out[name] = np.round(np.round(values / ticks) * ticks * PRICE_SCALE).astype(np.int64)
        out["high"] = np.maximum.reduce([out["high"], out["open"], out["close"]])
        out["low"] = np.minimum.reduce([out["low"], out["open"], out["close"]])
        out["volume"] = volume
        return out[np.lexsort((out["instrument_id"], out["ts_event"]))].tobytes()

    def _definitions(self, quotes: list[dict]) -> bytes:
        """A definition of every listed instrument at the start of each session, as CME's
        daily security-definition replay: a day's definitions are the same whether it is
        requested alone or inside a range."""
        seen: dict[tuple[int, int], bytes] = {}
        for quote in quotes:
            instrument, raw = self._identity(quote)
            if (instrument, quote["day"]) in seen:
                continue
            series = quote["series"]
            ts = int(self.world.sessions[quote["day"]].astype("datetime64[ns]").astype(np.int64))
            expiration = int(self.world.sessions[min(series.expiry_index, self.world.n_days - 1)]
                             .astype("datetime64[ns]").astype(np.int64)) + 18 * 3_600_000_000_000
            seen[instrument, quote["day"]] = bytes(dbn.InstrumentDefMsg(
                publisher_id=PUBLISHER_ID, instrument_id=instrument, ts_event=ts, ts_recv=ts,
                min_price_increment=int(round(quote["tick"] * PRICE_SCALE)), display_factor=PRICE_SCALE,
                raw_symbol=raw, asset=f"O{series.root}", security_type="OOF",
                instrument_class=dbn.InstrumentClass.CALL if quote["kind"] == "C" else dbn.InstrumentClass.PUT,
                security_update_action=dbn.SecurityUpdateAction.ADD, expiration=expiration,
                strike_price=int(round(quote["strike"] * PRICE_SCALE)), underlying=series.underlying.raw_symbol,
                underlying_id=series.underlying.instrument_id, currency="USD", exchange="XCBT",
                group=series.root,
            ))
        return b"".join(seen.values())
