import datetime as dt

import numpy as np
import pytest

from cbi_platform.lib.sample.macro import series_vintages
from cbi_platform.lib.sample.render_dbn import DbnRenderer
from cbi_platform.lib.sample.world import get_world
from cbi_platform_tests.conftest import CONFIG_DIR, TODAY


@pytest.fixture(scope="module")
def world():
    return get_world(7, 1.0, CONFIG_DIR)


@pytest.fixture(scope="module")
def null_world():
    return get_world(7, 0.0, CONFIG_DIR)


def forward(world, root, h):
    log_price = world.log_spot[:, world.root_index[root]]
    return log_price[h:] - log_price[:-h]


def test_same_seed_same_bytes_other_seed_other_world(world):
    symbols = ["ZL.c.0", "ES.c.0"]
    args = (symbols, "ohlcv-1d", dt.date(2022, 1, 1), dt.date(2022, 2, 1), TODAY)
    first = DbnRenderer(world).render(*args)
    again = DbnRenderer(get_world(7, 1.0, CONFIG_DIR)).render(*args)
    other = DbnRenderer(get_world(8, 1.0, CONFIG_DIR)).render(*args)
    assert first == again and first != other


def test_planted_signal_predicts_zl_and_the_null_world_does_not(world, null_world):
    h = 21
    with_signal = np.corrcoef(world.planted_signal[:-h], forward(world, "ZL", h))[0, 1]
    without = np.corrcoef(null_world.planted_signal[:-h], forward(null_world, "ZL", h))[0, 1]
    assert with_signal > 0.2
    # overlapping 21-day windows over ~6,700 days: |corr| of an unrelated series stays well under 0.08
    assert abs(without) < 0.08
    assert not null_world.stress.any() and world.stress.mean() > 0.03


def test_markets_have_realistic_scale(world):
    daily = np.diff(world.log_spot, axis=0)
    vol = daily.std(axis=0) * np.sqrt(252)
    assert 0.15 < vol[world.root_index["ZL"]] < 0.45
    assert 0.12 < vol[world.root_index["ES"]] < 0.30
    zl, zs = world.root_index["ZL"], world.root_index["ZS"]
    assert np.corrcoef(daily[:, zl], daily[:, zs])[0, 1] > 0.4  # the oilseed complex moves together
    # prices stay in plausible ranges for two decades
    assert 10 < np.exp(world.log_spot[:, zl]).min() and np.exp(world.log_spot[:, zl]).max() < 150


def test_fed_moves_in_quarter_points_at_meetings(world):
    steps = np.diff(world.fed_upper)
    moves = steps[steps != 0]
    assert len(moves) > 10
    assert set(np.round(np.abs(moves), 2)) <= {0.25, 0.5}
    assert world.fed_upper.min() >= 0.25 and np.allclose(world.fed_upper - world.fed_lower, 0.25)


def test_fred_release_lags_and_revisions(world):
    payems = series_vintages(world, world.sources.series_spec("PAYEMS"))
    march = payems[payems["date"] == dt.date(2024, 3, 1)].sort_values("realtime_start")
    # the employment report: first Friday after the month (4+ days later), then two revisions
    assert len(march) == 3
    first = march["realtime_start"].iloc[0]
    assert first.weekday() == 4 and dt.date(2024, 4, 4) <= first <= dt.date(2024, 4, 11)
    assert march["realtime_end"].iloc[0] == march["realtime_start"].iloc[1] - dt.timedelta(days=1)
    assert march["realtime_end"].iloc[-1] == dt.date(9999, 12, 31)
    fx = series_vintages(world, world.sources.series_spec("DEXBZUS"))
    week = fx[(fx["date"] >= dt.date(2024, 2, 26)) & (fx["date"] <= dt.date(2024, 3, 1))]
    assert set(week["realtime_start"]) == {dt.date(2024, 3, 4)}  # H.10: published the next Monday
    dgs10 = series_vintages(world, world.sources.series_spec("DGS10"))
    assert dgs10.set_index("date").loc[dt.date(2024, 7, 4), "value"] == "."  # a holiday
