"""A model version names what the model learned from: a change to a row with a known outcome is a
new version (retrain); a change to a row whose outcomes are all pending (today's news, a late
print for today) is not, so a refresh re-forecasts with the registered model in seconds."""

import numpy as np
import pandas as pd

from cbi_platform.lib.ml.member_model import model_version
from cbi_platform.lib.ml.train import load_training_config
from cbi_platform.lib.settings import Settings

FEATURES = ["news_tariff_count", "zl_vol_63d"]


def matrix(days: int = 40) -> pd.DataFrame:
    """Daily rows; the 1w outcome is known up to 5 rows before the end, the 1m one up to 21."""
    rng = np.random.default_rng(3)
    dates = pd.bdate_range("2024-01-01", periods=days)
    frame = pd.DataFrame({"trade_date": dates.date, "news_tariff_count": rng.integers(0, 5, days).astype(float),
                          "zl_vol_63d": rng.uniform(0.1, 0.4, days)})
    for horizon, steps in (("1w", 5), ("1m", 21)):
        known = np.arange(days) < days - steps
        frame[f"target_{horizon}"] = np.where(known, rng.standard_normal(days) * 0.02, np.nan)
        frame[f"target_end_{horizon}"] = pd.Series(dates.shift(steps, freq="B").date).where(known)
    return frame


def version_of(frame: pd.DataFrame) -> str:
    config = load_training_config(Settings.from_env().config_dir, "fast")
    return model_version(frame, "bucket_tariff", FEATURES, config)[0]


def test_news_on_a_row_whose_outcomes_are_all_pending_keeps_the_version():
    base = matrix()
    changed = base.copy()
    changed.loc[changed.index[-1], "news_tariff_count"] += 7  # today's news partition arrived
    changed.loc[changed.index[-3], "zl_vol_63d"] *= 1.1
    assert version_of(changed) == version_of(base)


def test_a_change_to_a_row_any_model_trains_on_is_a_new_version():
    base = matrix()
    only_1w_known = base.index[-10]  # 1w outcome known, 1m pending
    assert base.loc[only_1w_known, ["target_1w"]].notna().all() and base.loc[only_1w_known, ["target_1m"]].isna().all()
    for column, row in (("news_tariff_count", only_1w_known), ("target_1w", base.index[0]),
                        ("zl_vol_63d", base.index[5])):
        changed = base.copy()
        changed.loc[row, column] += 1.0
        assert version_of(changed) != version_of(base), (column, row)


def test_a_new_day_whose_outcome_becomes_known_is_a_new_version():
    base = matrix()
    matured = base.copy()
    matured.loc[matured.index[-5], "target_1w"] = 0.01  # the day 5 sessions ago now has its 1w outcome
    matured.loc[matured.index[-5], "target_end_1w"] = matured.loc[matured.index[-1], "trade_date"]
    assert version_of(matured) != version_of(base)
