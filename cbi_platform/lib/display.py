"""How numbers and frames are shown to a person, in the Dagster UI and the report: markdown tables,
dollars, percentages, horizons in their order and the data-mode banner."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd


def dollars(value: float) -> str:
    """Whole dollars with the sign before the symbol: -$4,164, not $-4,164."""
    whole = round(value)
    return f"-${-whole:,}" if whole < 0 else f"${whole:,}"


PERCENT, DOLLARS = "{:.2%}", dollars


def markdown(frame: pd.DataFrame, floatfmt: str = ".4g", max_rows: int = 40,
             formats: dict[str, str | Callable[[float], str]] | None = None) -> str:
    """A markdown table; `formats` maps a column to a format string or function (PERCENT,
    DOLLARS, "{:.2f} c/lb", ...), other floats use `floatfmt`. Missing values show as an empty cell."""
    frame = frame.head(max_rows)
    if frame.empty:
        return "_empty_"
    formats = formats or {}

    def fmt(column: str, value) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return ""
        if column in formats:
            shown = formats[column]
            return shown(value) if callable(shown) else shown.format(value)
        if isinstance(value, float):
            return format(value, floatfmt)
        return str(value)

    columns = list(map(str, frame.columns))
    header = "| " + " | ".join(columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(fmt(c, v) for c, v in zip(columns, row)) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def in_horizon_order(frame: pd.DataFrame, horizons: dict[str, int], column: str = "horizon") -> pd.DataFrame:
    """Rows in the configured horizon order (1w, 1m, 3m, 6m), not alphabetical."""
    rank = {h: k for k, h in enumerate(horizons)}
    return frame.sort_values(column, key=lambda c: c.map(rank), kind="stable").reset_index(drop=True)


DATA_MODE_LABELS = {
    "sample": "SAMPLE WORLD: simulated data, not a market forecast",
    "files": "FILES MODE: your exports, as of their last day",
    "replay": "REPLAY: payloads recorded in the landing zone",
    "live": "LIVE: the vendors' APIs",
}


def data_mode_label(mode: str) -> str:
    return DATA_MODE_LABELS.get(mode, f"data mode: {mode}")


def data_mode_banner(mode: str) -> str:
    """The line above every forecast shown: which world the numbers come from."""
    return f"**{data_mode_label(mode)}**"
