"""The strategy backtest: its mechanics on hand cases, nothing earned from forecasts without
information (the null world), something earned from forecasts with it."""

import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib.risk import strategy

COSTS = strategy.Costs(commission_usd=2.5, slippage_ticks=1, tick_usd=6.0)  # ZL: 0.01 c/lb x 60,000 lb


def test_tranches_average_the_last_h_signals():
    assert strategy.tranche_position(np.array([1.0, 1.0, 1.0, -1.0, 0.0]), 2).tolist() == [0.5, 1.0, 1.0, 0.0, -0.5]
    assert strategy.signal(np.array([-0.1]), np.array([0.1]), np.array([0.1]), k=1.0).tolist() == [0.5]
    assert strategy.signal(np.array([-0.1]), np.array([0.5]), np.array([0.1]), k=1.0).tolist() == [1.0]


def test_pnl_is_position_times_the_next_move_less_costs():
    pnl = strategy.daily_pnl(np.array([1.0, 1.0, 0.0]), np.log([1.01, 0.98, 1.05]), np.array([50.0, 50.5, 49.49]),
                             600.0, COSTS)
    # 50 c/lb up 1% = 0.5 c = $300 per contract; then -2% of 50.5; flat on day 3; 8.5$ per contract traded
    assert pnl == pytest.approx([300 - 8.5, -0.02 * 50.5 * 600, -8.5])


def test_drawdown_and_its_duration():
    result = strategy.evaluate(np.array([10.0, -5.0, -5.0, 3.0, 20.0]), np.ones(5), block=2)
    assert result.max_drawdown_usd == 10.0 and result.max_drawdown_days == 3 and result.total_pnl_usd == 23.0


def world(signal_strength: float, seed: int, days: int = 3000):
    """A random walk whose 5-day-ahead drift a forecaster knows with `signal_strength`."""
    rng = np.random.default_rng(seed)
    drift = np.repeat(rng.standard_normal(days // 5 + 1) * 0.004, 5)[:days]
    returns = drift * signal_strength + rng.standard_normal(days) * 0.015
    price = 50 * np.exp(np.cumsum(returns))
    dates = pd.bdate_range("2005-01-03", periods=days).date
    market = pd.DataFrame({"trade_date": dates[:-1], "price": price[:-1], "next_return": returns[1:]})
    median = drift[1:] * 5 if signal_strength else np.zeros(days - 1)
    width = 2 * 1.2816 * 0.015 * np.sqrt(5)
    forecasts = pd.DataFrame({"as_of_date": dates[:-1], "q10": median - width / 2, "q50": median, "q90": median + width / 2})
    return forecasts, market


def test_forecasts_without_information_earn_nothing_beyond_noise():
    results = [strategy.backtest(*world(0.0, seed), horizon_days=5, k=1.0, dollars_per_price_unit=600.0, costs=COSTS)[0]
               for seed in range(3)]
    for result in results:
        assert result.exposure == 0.0 and result.total_pnl_usd <= 0.0  # a zero median takes no position


def test_informative_forecasts_earn_and_their_interval_excludes_zero():
    result, daily = strategy.backtest(*world(1.0, 7), horizon_days=5, k=1.0, dollars_per_price_unit=600.0, costs=COSTS)
    assert result.sharpe > 1.0 and result.sharpe_interval[0] > 0 and result.earns_beyond_noise
    assert result.independent_periods == pytest.approx(2999 / 5)
    # the same days held for 63 sessions are 47 independent bets; 6m's 126 only 23: not judged
    assert strategy.evaluate(daily["pnl"].to_numpy(), daily["position"].to_numpy(), block=63).judged
    assert not strategy.evaluate(daily["pnl"].to_numpy(), daily["position"].to_numpy(), block=126).judged
    assert 0.5 < result.hit_rate < 1.0 and daily["equity"].iloc[-1] == pytest.approx(result.total_pnl_usd)


def test_a_noisy_forecaster_on_the_null_world_is_within_its_bootstrap_interval():
    forecasts, market = world(0.0, 11)
    forecasts["q50"] = np.random.default_rng(3).standard_normal(len(forecasts)) * 0.01  # confident, uninformed
    result, _ = strategy.backtest(forecasts, market, horizon_days=5, k=1.0, dollars_per_price_unit=600.0,
                                  costs=strategy.Costs(0.0, 0.0, 6.0))
    low, high = result.sharpe_interval
    assert low < 0 < high and abs(result.sharpe) < 0.6


def test_the_stored_daily_rows_give_back_the_summary_the_backtest_reported():
    forecasts, market = world(1.0, 5, days=1200)
    config = strategy.StrategyConfig("ZL", 1.0, 600.0, COSTS)
    predictions = forecasts.assign(horizon="1w")
    climatology = forecasts.assign(horizon="1w", q50=0.001)
    summary, daily = strategy.run_all(predictions, climatology, market, {"1w": 5}, config)
    stored = daily.rename(columns={"pnl": "pnl_usd", "equity": "equity_usd"}).sample(frac=1.0, random_state=0)
    again = strategy.summarise(stored, market, {"1w": 5}, config)
    assert list(again["rule"]) == ["ensemble", "climatology", "buy_and_hold"]
    expected = summary.set_index("rule").loc[list(again["rule"])].reset_index()
    pd.testing.assert_frame_equal(again.drop(columns="sharpe_interval"), expected[again.columns].drop(columns="sharpe_interval"))
    line = strategy.headline(again)["1w"]
    assert line["sharpe"] == round(expected.loc[0, "sharpe"], 2) and line["climatology_sharpe"] == round(expected.loc[1, "sharpe"], 2)


def test_the_strategy_config_prices_a_zl_tick_in_dollars(tmp_path):
    from cbi_platform_tests.conftest import CONFIG_DIR

    config = strategy.load_strategy_config(CONFIG_DIR)
    # ZL: 60,000 lb quoted in cents/lb, tick 0.01 c/lb = $6
    assert config.dollars_per_price_unit == 600.0 and config.costs.tick_usd == pytest.approx(6.0)
