"""What the UI shows: horizons in their order, percentages, dollars and prices with units, and
which world the numbers come from."""

import pandas as pd

from cbi_platform.lib.display import DOLLARS, PERCENT, data_mode_banner, in_horizon_order, markdown

HORIZONS = {"1w": 5, "1m": 21, "3m": 63, "6m": 126}


def test_horizons_in_their_order_not_alphabetical():
    frame = pd.DataFrame({"horizon": ["1m", "1w", "3m", "6m"], "x": [2, 1, 3, 4]})
    assert in_horizon_order(frame, HORIZONS)["horizon"].tolist() == ["1w", "1m", "3m", "6m"]


def test_percentages_dollars_and_prices_read_as_such():
    frame = pd.DataFrame({"horizon": ["1w"], "var99_return": [0.07851], "var99_usd": [119_600.4], "p50": [68.934],
                          "kupiec_p": [float("nan")]})
    table = markdown(frame, formats={"var99_return": PERCENT, "var99_usd": DOLLARS, "p50": "{:.2f} c/lb"})
    assert table.splitlines()[-1] == "| 1w | 7.85% | $119,600 | 68.93 c/lb |  |"
    assert "e+05" not in table
    losses = markdown(pd.DataFrame({"pnl": [-4164.4, -0.4, 988.0]}), formats={"pnl": DOLLARS})
    assert losses.splitlines()[2:] == ["| -$4,164 |", "| $0 |", "| $988 |"]


def test_the_forecast_says_which_world_it_comes_from():
    assert data_mode_banner("sample") == "**SAMPLE WORLD: simulated data, not a market forecast**"
    assert data_mode_banner("files").startswith("**FILES MODE")
