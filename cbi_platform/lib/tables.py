"""Small helpers to show frames in the Dagster UI (markdown tables) without extra dependencies."""

from __future__ import annotations

import pandas as pd


def markdown(frame: pd.DataFrame, floatfmt: str = ".4g", max_rows: int = 40) -> str:
    frame = frame.head(max_rows)
    if frame.empty:
        return "_empty_"

    def fmt(value) -> str:
        if isinstance(value, float):
            return format(value, floatfmt)
        return str(value)

    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])
