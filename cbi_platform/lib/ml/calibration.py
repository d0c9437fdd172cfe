"""Calibration diagnostics of quantile forecasts against their outcomes: reliability (realised
share below each published quantile vs its level), the PIT histogram at the resolution of the
published quantiles, and CRPS by year."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cbi_platform.lib.ml.quantiles import QCOLS, QUANTILES, crps

BIN_LABELS = ["<P5", "P5-P10", "P10-P50", "P50-P90", "P90-P95", ">P95"]
BIN_EXPECTED = np.diff([0.0, *QUANTILES, 1.0])  # 5%, 5%, 40%, 40%, 5%, 5%


def reliability(frame: pd.DataFrame, horizons: dict[str, int]) -> pd.DataFrame:
    """Per horizon: rows, then for every published quantile the share of outcomes at or below it
    (a calibrated forecaster's P10 has 10% below it)."""
    rows = []
    for horizon in horizons:
        part = frame[frame["horizon"] == horizon].dropna(subset=["realised"])
        if part.empty:
            continue
        realised = part["realised"].to_numpy()
        record = {"horizon": horizon, "outcomes": len(part)}
        for column, level in zip(QCOLS, QUANTILES):
            record[f"P{round(level * 100)} ({level:.0%})"] = float(np.mean(realised <= part[column].to_numpy()))
        rows.append(record)
    return pd.DataFrame(rows)


def pit_histogram(frame: pd.DataFrame, horizons: dict[str, int]) -> pd.DataFrame:
    """Per horizon: the share of outcomes in each band between published quantiles, and what a
    calibrated forecaster puts there (5, 5, 40, 40, 5, 5%)."""
    rows = [{"horizon": "expected", **dict(zip(BIN_LABELS, BIN_EXPECTED))}]
    for horizon in horizons:
        part = frame[frame["horizon"] == horizon].dropna(subset=["realised"])
        if part.empty:
            continue
        grid = part[list(QCOLS)].to_numpy()
        bins = (part["realised"].to_numpy()[:, None] > grid).sum(axis=1)  # 0 = below P5 ... 5 = above P95
        shares = np.bincount(bins, minlength=len(BIN_LABELS)) / len(part)
        rows.append({"horizon": horizon, **dict(zip(BIN_LABELS, shares))})
    return pd.DataFrame(rows)


def crps_by_year(frame: pd.DataFrame, horizons: dict[str, int]) -> pd.DataFrame:
    """Mean CRPS (from the quantiles) per calendar year and horizon: lower is better; a year far
    above the others is a regime the forecasts missed."""
    part = frame.dropna(subset=["realised"])
    if part.empty:
        return pd.DataFrame(columns=["year", *horizons])
    scores = part.assign(crps=crps(part["realised"].to_numpy(), part[list(QCOLS)].to_numpy()),
                         year=pd.to_datetime(part["as_of_date"]).dt.year)
    table = scores.pivot_table(index="year", columns="horizon", values="crps", aggfunc="mean")
    return table[[h for h in horizons if h in table.columns]].reset_index()
