"""FRED series of the simulated world, with their real release lags and revisions (ALFRED).

Each configured series (config/sources/fred_series.yaml) becomes a table of vintages:
`(date, realtime_start, realtime_end, value)` exactly as ALFRED reports them: a value is
first published on its release date, revised on each revision date, and a vintage is current
until the day before the next one.
"""

from __future__ import annotations

import datetime as dt
import zlib
from functools import lru_cache

import numpy as np
import pandas as pd

from cbi_platform.lib import calendar
from cbi_platform.lib.calendar import federal_holidays
from cbi_platform.lib.config import SeriesSpec
from cbi_platform.lib.release import period_end, release_date, revision_dates
from cbi_platform.lib.sample.world import World

FRED_END = dt.date(9999, 12, 31)
MACRO_START = dt.date(2005, 1, 1)


def front_close(world: World, root: str) -> np.ndarray:
    """Close of the front-month contract on every session."""
    return _front_close_cached(world, root)


@lru_cache(maxsize=256)
def _front_close_cached(world: World, root: str) -> np.ndarray:
    contracts = world.contracts[root]
    front = world.front[root]
    index = np.arange(world.n_days)
    expiry = np.array([c.expiry_index for c in contracts])[front]
    j = world.root_index[root]
    tau = (expiry - index) / 252.0
    return np.exp(world.log_spot[:, j] + world.basis[:, j] * tau)


def _daily_source(world: World, spec: SeriesSpec) -> np.ndarray:
    sample = spec.sample
    if "latent" in sample:
        values = world.latents[sample["latent"]]
    elif "market" in sample:
        values = front_close(world, sample["market"])
    elif "market_inverse" in sample:
        values = 1.0 / front_close(world, sample["market_inverse"])
    elif "monthly_mean" in sample:
        values = front_close(world, sample["monthly_mean"])
    else:
        raise ValueError(f"series {spec.series_id}: no sample generator")
    values = values * float(sample.get("scale", 1.0))
    noise = float(sample.get("noise", 0.0))
    if noise:
        rng = np.random.default_rng([world.seed, zlib.crc32(spec.series_id.encode())])
        values = values * np.exp(rng.standard_normal(len(values)) * noise)
    return values


def _observation_periods(spec: SeriesSpec, last_day: dt.date) -> tuple[list[dt.date], list[dt.date]]:
    """Observation dates and the day each observation's period ends."""
    if spec.frequency == "d":
        if spec.calendar_days:
            days = pd.date_range(MACRO_START, last_day, freq="D")
        else:
            days = pd.bdate_range(MACRO_START, last_day)
        dates = [d.date() for d in days]
        return dates, dates
    if spec.frequency == "w":
        first = MACRO_START + dt.timedelta(days=(spec.week_ending - MACRO_START.weekday()) % 7)
        dates = [d.date() for d in pd.date_range(first, last_day, freq="7D")]
        return dates, dates
    months = 3 if spec.frequency == "q" else 1
    starts = [d.date() for d in pd.date_range(MACRO_START, last_day, freq=f"{months}MS")]
    ends = [period_end(s, spec.frequency) for s in starts]
    keep = [i for i, e in enumerate(ends) if e <= last_day]
    return [starts[i] for i in keep], [ends[i] for i in keep]


def _format(value: float, decimals: int) -> str:
    if value is None or not np.isfinite(value):
        return "."
    return f"{value:.{decimals}f}"


@lru_cache(maxsize=128)
def series_vintages(world: World, spec: SeriesSpec) -> pd.DataFrame:
    """All vintages of one series: columns date, realtime_start, realtime_end, value (FRED strings)."""
    daily = _daily_source(world, spec)
    sessions = world.sessions
    last_day = calendar.CALENDAR_END - dt.timedelta(days=120)
    obs_dates, period_ends = _observation_periods(spec, last_day)
    holidays = federal_holidays()

    # value of each observation: the session value on the date (daily, weekly) or the mean over
    # the period's sessions (monthly, quarterly)
    if spec.frequency in {"d", "w"}:
        idx = np.searchsorted(sessions, np.array(obs_dates, dtype="datetime64[D]"), side="right") - 1
        values = daily[np.clip(idx, 0, None)]
        if spec.frequency == "d" and not spec.calendar_days:  # FRED shows federal holidays as "."
            values = np.where([d in holidays for d in obs_dates], np.nan, values)
    else:
        lo = np.searchsorted(sessions, np.array(obs_dates, dtype="datetime64[D]"), side="left")
        hi = np.searchsorted(sessions, np.array(period_ends, dtype="datetime64[D]"), side="right")
        values = np.array([daily[a:b].mean() if b > a else np.nan for a, b in zip(lo, hi)])

    rng = np.random.default_rng([world.seed, zlib.crc32(spec.series_id.encode()), 2])
    revision_sd = float(spec.sample.get("revision_sd", 0.003))
    rows = []
    for i, (obs, end) in enumerate(zip(obs_dates, period_ends)):
        first = release_date(end, spec.release)
        starts = [first] + revision_dates(first, spec.release)
        final = values[i]
        vintage_values = []
        for k in range(len(starts)):
            remaining = len(starts) - 1 - k  # the last vintage carries the final value
            vintage_values.append(final * (1 + rng.standard_normal() * revision_sd * remaining / max(len(starts) - 1, 1)))
        for k, start in enumerate(starts):
            end_rt = starts[k + 1] - dt.timedelta(days=1) if k + 1 < len(starts) else FRED_END
            rows.append((obs, start, end_rt, _format(vintage_values[k], spec.decimals)))
    frame = pd.DataFrame(rows, columns=["date", "realtime_start", "realtime_end", "value"])
    return frame.sort_values(["date", "realtime_start"], kind="stable").reset_index(drop=True)
