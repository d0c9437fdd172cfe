"""Calibration diagnostics on forecasts whose calibration is known."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from cbi_platform.lib.ml.calibration import crps_by_year, pit_histogram, reliability
from cbi_platform.lib.ml.quantiles import QCOLS, QUANTILES

HORIZONS = {"1w": 5, "1m": 21}


def forecasts(scale_of_outcomes: float, n: int = 20_000, seed: int = 0) -> pd.DataFrame:
    """Standard-normal quantile forecasts; outcomes drawn with `scale_of_outcomes` (1: calibrated)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"horizon": np.repeat(list(HORIZONS), n // 2),
                          "as_of_date": np.tile(pd.bdate_range("2001-01-01", periods=n // 2).date, 2),
                          "realised": rng.standard_normal(n) * scale_of_outcomes})
    for column, level in zip(QCOLS, QUANTILES):
        frame[column] = norm.ppf(level)
    return frame


def test_a_calibrated_forecaster_is_reliable_and_its_pit_is_flat():
    table = reliability(forecasts(1.0), HORIZONS).set_index("horizon")
    for level in QUANTILES:
        assert table[f"P{round(level * 100)} ({level:.0%})"].to_numpy() == pytest.approx(level, abs=0.012)
    pit = pit_histogram(forecasts(1.0), HORIZONS).set_index("horizon")
    assert pit.loc["1w"].to_numpy() == pytest.approx(pit.loc["expected"].to_numpy(), abs=0.012)


def test_too_narrow_intervals_overfill_the_tails():
    pit = pit_histogram(forecasts(2.0), HORIZONS).set_index("horizon")
    assert pit.loc["1m", "<P5"] > 0.15 and pit.loc["1m", ">P95"] > 0.15  # 5% each if calibrated
    assert reliability(forecasts(2.0), HORIZONS).set_index("horizon").loc["1w", "P10 (10%)"] > 0.2


def test_crps_by_year_is_worse_when_the_outcomes_are_wilder():
    calm, wild = crps_by_year(forecasts(1.0), HORIZONS), crps_by_year(forecasts(2.0), HORIZONS)
    assert list(calm.columns) == ["year", "1w", "1m"]
    assert (wild[["1w", "1m"]].to_numpy() > calm[["1w", "1m"]].to_numpy()).all()
