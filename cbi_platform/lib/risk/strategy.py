"""What the forecasts would have earned: a documented trading rule on out-of-sample forecasts.

Rule, per horizon h: each day a tranche of clip(k * P50 / (P90 - P10), -1, 1) ZL contracts is
opened and held h sessions; the position is the mean of the open tranches (daily rebalancing
with overlapping tranches, so no start date is privileged). Daily P&L in dollars per contract:
position(t) x roll-adjusted return(t+1) x price(t) x contract size x price unit, minus costs on
every change of position (commission plus slippage in ticks, config/risk.yaml `strategy`).
Only walk-forward forecasts enter: each was made by a model trained before its date.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

TRADING_DAYS = 252


@dataclass(frozen=True)
class Costs:
    commission_usd: float  # per contract traded
    slippage_ticks: float  # per contract traded
    tick_usd: float  # one tick on one contract

    def per_contract(self) -> float:
        return self.commission_usd + self.slippage_ticks * self.tick_usd


@dataclass(frozen=True)
class StrategyResult:
    sharpe: float
    sharpe_interval: tuple[float, float]  # 90% block bootstrap
    sortino: float
    max_drawdown_usd: float
    max_drawdown_days: int
    hit_rate: float  # share of days with a position that made money
    turnover: float  # contracts traded per year
    exposure: float  # mean absolute position, contracts
    total_pnl_usd: float
    days: int

    def as_dict(self) -> dict:
        return asdict(self)


def signal(q10: np.ndarray, q50: np.ndarray, q90: np.ndarray, k: float) -> np.ndarray:
    """Contracts per tranche: the median return in units of the P10-P90 width, clipped to +-1."""
    width = np.asarray(q90, float) - np.asarray(q10, float)
    raw = np.where(width > 0, k * np.asarray(q50, float) / np.where(width > 0, width, 1.0), 0.0)
    return np.clip(np.nan_to_num(raw), -1.0, 1.0)


def tranche_position(signals: np.ndarray, horizon_days: int) -> np.ndarray:
    """Mean of the last `horizon_days` tranches (each held for `horizon_days` sessions)."""
    signals = np.nan_to_num(np.asarray(signals, dtype=float))
    cumulative = np.concatenate([[0.0], np.cumsum(signals)])
    held = np.arange(1, len(signals) + 1)
    window = np.minimum(held, horizon_days)
    return (cumulative[held] - cumulative[held - window]) / horizon_days


def daily_pnl(position: np.ndarray, next_return: np.ndarray, price: np.ndarray, dollars_per_price_unit: float,
              costs: Costs) -> np.ndarray:
    """Dollars per day: yesterday's position times today's roll-adjusted move, less costs on the
    contracts traded to reach today's position."""
    position = np.asarray(position, dtype=float)
    move = np.expm1(np.nan_to_num(np.asarray(next_return, float))) * np.asarray(price, float) * dollars_per_price_unit
    traded = np.abs(np.diff(np.concatenate([[0.0], position])))
    return position * move - traded * costs.per_contract()


def _sharpe(pnl: np.ndarray) -> float:
    sd = pnl.std(ddof=1)
    return float(pnl.mean() / sd * np.sqrt(TRADING_DAYS)) if sd > 0 else 0.0


def block_bootstrap_sharpe(pnl: np.ndarray, block: int, draws: int = 1000, seed: int = 0) -> tuple[float, float]:
    """5th-95th percentile of the annualised Sharpe over circular block resamples (blocks keep
    the overlap of the tranches and the volatility clusters)."""
    pnl = np.asarray(pnl, dtype=float)
    n = len(pnl)
    if n < 2 * block:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, n, size=(draws, -(-n // block)))
    offsets = np.arange(block)
    samples = pnl[(starts[:, :, None] + offsets) % n].reshape(draws, -1)[:, :n]
    sd = samples.std(axis=1, ddof=1)
    sharpes = np.divide(samples.mean(axis=1), sd, out=np.zeros(draws), where=sd > 0) * np.sqrt(TRADING_DAYS)
    low, high = np.percentile(sharpes, [5, 95])
    return float(low), float(high)


def evaluate(pnl: np.ndarray, position: np.ndarray, block: int) -> StrategyResult:
    pnl, position = np.asarray(pnl, float), np.asarray(position, float)
    equity = np.cumsum(pnl)
    peak = np.maximum.accumulate(np.concatenate([[0.0], equity]))[1:]
    drawdown = peak - equity
    underwater, longest = 0, 0
    for value in drawdown:
        underwater = underwater + 1 if value > 0 else 0
        longest = max(longest, underwater)
    downside = pnl[pnl < 0]
    downside_sd = np.sqrt(np.mean(downside ** 2)) if len(downside) else 0.0
    active = np.abs(position) > 1e-12
    return StrategyResult(
        sharpe=_sharpe(pnl),
        sharpe_interval=block_bootstrap_sharpe(pnl, block),
        sortino=float(pnl.mean() / downside_sd * np.sqrt(TRADING_DAYS)) if downside_sd > 0 else 0.0,
        max_drawdown_usd=float(drawdown.max()) if len(drawdown) else 0.0,
        max_drawdown_days=int(longest),
        hit_rate=float(np.mean(pnl[active] > 0)) if active.any() else float("nan"),
        turnover=float(np.abs(np.diff(np.concatenate([[0.0], position]))).sum() / max(len(pnl), 1) * TRADING_DAYS),
        exposure=float(np.mean(np.abs(position))) if len(position) else 0.0,
        total_pnl_usd=float(pnl.sum()),
        days=int(len(pnl)),
    )


def backtest(forecasts: pd.DataFrame, market: pd.DataFrame, horizon_days: int, k: float,
             dollars_per_price_unit: float, costs: Costs) -> tuple[StrategyResult, pd.DataFrame]:
    """`forecasts`: as_of_date, q10, q50, q90 (one horizon, out of sample); `market`: trade_date,
    price (settle), next_return (the roll-adjusted log return of the next session). Returns the
    result and the daily frame (as_of_date, position, pnl, equity)."""
    frame = forecasts.merge(market, left_on="as_of_date", right_on="trade_date", how="inner").sort_values("as_of_date")
    frame = frame.dropna(subset=["next_return", "price"]).reset_index(drop=True)
    position = tranche_position(signal(frame["q10"], frame["q50"], frame["q90"], k), horizon_days)
    pnl = daily_pnl(position, frame["next_return"], frame["price"], dollars_per_price_unit, costs)
    daily = pd.DataFrame({"as_of_date": frame["as_of_date"], "position": position, "pnl": pnl, "equity": np.cumsum(pnl)})
    return evaluate(pnl, position, block=max(horizon_days, 5)), daily


def buy_and_hold(market: pd.DataFrame, dates, dollars_per_price_unit: float, costs: Costs) -> StrategyResult:
    frame = market[market["trade_date"].isin(set(dates))].dropna(subset=["next_return", "price"])
    position = np.ones(len(frame))
    pnl = daily_pnl(position, frame["next_return"], frame["price"], dollars_per_price_unit, costs)
    return evaluate(pnl, position, block=21)


def run_all(predictions: pd.DataFrame, climatology: pd.DataFrame, market: pd.DataFrame, horizons: dict[str, int],
            k: float, dollars_per_price_unit: float, costs: Costs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rule on the ensemble's and on climatology's walk-forward forecasts, and buy-and-hold on
    the same days, per horizon: (summary rows, daily rows)."""
    summary, daily = [], []
    for horizon, days in horizons.items():
        ours = predictions[predictions["horizon"] == horizon]
        if ours.empty:
            continue
        theirs = climatology[(climatology["horizon"] == horizon) & climatology["as_of_date"].isin(set(ours["as_of_date"]))]
        for rule, forecasts in (("ensemble", ours), ("climatology", theirs)):
            if forecasts.empty:
                continue
            result, path = backtest(forecasts[["as_of_date", "q10", "q50", "q90"]], market, days, k, dollars_per_price_unit,
                                    costs)
            summary.append({"horizon": horizon, "rule": rule, **result.as_dict()})
            daily.append(path.assign(horizon=horizon, rule=rule))
        held = buy_and_hold(market, ours["as_of_date"], dollars_per_price_unit, costs)
        summary.append({"horizon": horizon, "rule": "buy_and_hold", **held.as_dict()})
    return pd.DataFrame(summary), (pd.concat(daily, ignore_index=True) if daily else pd.DataFrame())
