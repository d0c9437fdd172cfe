"""FRED/ALFRED JSON exactly as api.stlouisfed.org returns it (compact, one line, string values,
"." for missing, real-time periods clipped to the requested ones, limit/offset paging)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from cbi_platform.lib.config import SeriesSpec
from cbi_platform.lib.sample.macro import FRED_END, series_vintages
from cbi_platform.lib.sample.world import World

FREQUENCY_NAMES = {"d": ("Daily", "D"), "w": ("Weekly, Ending Friday", "W"), "m": ("Monthly", "M"), "q": ("Quarterly", "Q")}


def _date(value: str | None, default: dt.date) -> dt.date:
    return dt.date.fromisoformat(value) if value else default


def observations(world: World, spec: SeriesSpec, params: dict[str, str], today: dt.date) -> bytes:
    realtime_start = _date(params.get("realtime_start"), today)
    realtime_end = _date(params.get("realtime_end"), today)
    observation_start = _date(params.get("observation_start"), dt.date(1600, 1, 1))
    observation_end = _date(params.get("observation_end"), FRED_END)
    limit = int(params.get("limit", 100000))
    offset = int(params.get("offset", 0))
    vintages = series_vintages(world, spec)
    # nothing is known after today: later vintages do not exist yet, so the vintage before
    # them is still current (its realtime_end is 9999-12-31 as seen today)
    known = vintages[vintages.realtime_start <= today]
    superseded = known.realtime_end.map(lambda d: d != FRED_END and d + dt.timedelta(days=1) <= today)
    effective_end = known.realtime_end.where(superseded, FRED_END)
    mask = (
        (known.date >= observation_start)
        & (known.date <= observation_end)
        & (known.realtime_start <= realtime_end)
        & (effective_end >= realtime_start)
    )
    rows = [
        {
            "realtime_start": max(start, realtime_start).isoformat(),
            "realtime_end": min(end, realtime_end).isoformat(),
            "date": date.isoformat(),
            "value": value,
        }
        for date, start, end, value in zip(
            known.date[mask], known.realtime_start[mask], effective_end[mask], known.value[mask]
        )
    ]
    document = {
        "realtime_start": realtime_start.isoformat(),
        "realtime_end": realtime_end.isoformat(),
        "observation_start": observation_start.isoformat(),
        "observation_end": observation_end.isoformat(),
        "units": "lin",
        "output_type": 1,
        "file_type": "json",
        "order_by": "observation_date",
        "sort_order": "asc",
        "count": len(rows),
        "offset": offset,
        "limit": limit,
        "observations": rows[offset : offset + limit],
    }
    return json.dumps(document, separators=(",", ":")).encode()


def series_metadata(world: World, spec: SeriesSpec, today: dt.date) -> bytes:
    vintages = series_vintages(world, spec)
    known = vintages[vintages.realtime_start <= today]
    frequency, short = FREQUENCY_NAMES[spec.frequency]
    last_update = known.realtime_start.max() if len(known) else today
    document = {
        "realtime_start": today.isoformat(),
        "realtime_end": today.isoformat(),
        "seriess": [
            {
                "id": spec.series_id,
                "realtime_start": today.isoformat(),
                "realtime_end": today.isoformat(),
                "title": spec.title,
                "observation_start": known.date.min().isoformat() if len(known) else today.isoformat(),
                "observation_end": known.date.max().isoformat() if len(known) else today.isoformat(),
                "frequency": frequency,
                "frequency_short": short,
                "units": spec.units,
                "units_short": spec.units,
                "seasonal_adjustment": "Not Seasonally Adjusted",
                "seasonal_adjustment_short": "NSA",
                "last_updated": f"{pd.Timestamp(last_update).date().isoformat()} 07:45:00-05",
                "popularity": 50,
                "notes": f"Simulated by the cbi-platform sample world: {spec.title}.",
            }
        ],
    }
    return json.dumps(document, separators=(",", ":")).encode()
