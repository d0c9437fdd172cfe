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

from cbi_platform.lib.sample import calendar
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
        o, h, l, c = (_to_ticks(x, tick) for x in (open_, high, low, close))
        out["open"], out["close"] = o, c
        out["high"] = np.maximum.reduce([h, o, c])
        out["low"] = np.minimum.reduce([l, o, c])
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
            o, h, l, c = (_to_ticks(x, tick) for x in (opens, highs, lows, closes))
            block["open"], block["close"] = o, c
            block["high"] = np.maximum.reduce([h, o, c])
            block["low"] = np.minimum.reduce([l, o, c])
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
