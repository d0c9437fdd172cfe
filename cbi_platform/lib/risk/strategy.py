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
RULES = ("ensemble", "climatology", "buy_and_hold")  # the order every summary shows them in
# A rule that holds h-day positions formed from price levels has a skewed Sharpe over few holding
# periods (a reversion bet on a random walk wins in most short windows and loses rarely but
# heavily), which a bootstrap over those same periods cannot see: in the null sample world one 3m
# backtest of 16 periods showed a 90% interval of 0.99 to 2.21. Below this many independent
# holding periods the interval is shown but the Sharpe is not judged.
MIN_INDEPENDENT_PERIODS = 30


@dataclass(frozen=True)
class Costs:
    commission_usd: float  # per contract traded
    slippage_ticks: float  # per contract traded
    tick_usd: float  # one tick on one contract

    def per_contract(self) -> float:
        return self.commission_usd + self.slippage_ticks * self.tick_usd


@dataclass(frozen=True)
class StrategyConfig:
    """config/risk.yaml `strategy` and the traded contract's economics from config/sources.yaml."""
    root: str
    k: float
    dollars_per_price_unit: float  # dollars of one contract per unit of quoted price (ZL: 600 per c/lb)
    costs: Costs


def load_strategy_config(config_dir, root: str = "ZL") -> StrategyConfig:
    from pathlib import Path

    from cbi_platform.lib.config import ConfigError, load_sources, load_yaml

    settings = load_yaml(Path(config_dir) / "risk.yaml").get("strategy") or {}
    missing = {"k", "commission_usd", "slippage_ticks"} - set(settings)
    if missing:
        raise ConfigError(f"risk.yaml strategy: missing {sorted(missing)}")
    spec = load_sources(Path(config_dir)).symbol(root)
    dollars = spec.contract_size * (0.01 if spec.units.startswith("cents") else 1.0)
    return StrategyConfig(root, float(settings["k"]), dollars,
                          Costs(float(settings["commission_usd"]), float(settings["slippage_ticks"]), spec.tick_size * dollars))


def calibrated_climatology(oof: pd.DataFrame, horizons: dict[str, int]) -> pd.DataFrame:
    """Climatology's walk-forward forecasts as the ensemble's are published: calibrated fold by
    fold on earlier outcomes only, so the two rules meet on equal terms."""
    from cbi_platform.lib.ml.quantiles import sequential_calibration

    parts = [sequential_calibration(part.sort_values("as_of_date").reset_index(drop=True), horizons[h]).assign(horizon=h)
             for h, part in oof.groupby("horizon") if h in horizons]
    return pd.concat(parts, ignore_index=True) if parts else oof.iloc[0:0]


def market_from_matrix(matrix: pd.DataFrame) -> pd.DataFrame:
    """trade_date, price (ZL front settle), next_return (the next session's roll-adjusted log
    return) from features.zl_daily_matrix columns trade_date, zl_close, zl_ret_1d."""
    frame = matrix[["trade_date", "zl_close", "zl_ret_1d"]].sort_values("trade_date")
    return pd.DataFrame({"trade_date": pd.to_datetime(frame["trade_date"]).dt.date.to_numpy(),
                         "price": frame["zl_close"].to_numpy(dtype=float),
                         "next_return": frame["zl_ret_1d"].shift(-1).to_numpy(dtype=float)})


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
    independent_periods: float  # days / holding period: how many non-overlapping bets the sample holds

    @property
    def judged(self) -> bool:
        return self.independent_periods >= MIN_INDEPENDENT_PERIODS

    @property
    def earns_beyond_noise(self) -> bool:
        return self.judged and self.sharpe_interval[0] > 0

    def as_dict(self) -> dict:
        return {**asdict(self), "judged": self.judged}


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
    """`block`: the holding period in sessions (the bootstrap's block length)."""
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
        independent_periods=len(pnl) / block,
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
            config: StrategyConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rule on the ensemble's and on climatology's walk-forward forecasts, and buy-and-hold on
    the same days, per horizon: (summary rows, daily rows). Both forecast frames: as_of_date,
    horizon, q10, q50, q90 (calibrated as published)."""
    k, dollars_per_price_unit, costs = config.k, config.dollars_per_price_unit, config.costs
    predictions, climatology = (frame.assign(as_of_date=pd.to_datetime(frame["as_of_date"]).dt.date)
                                for frame in (predictions, climatology))
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


def summarise(daily: pd.DataFrame, market: pd.DataFrame, horizons: dict[str, int], config: StrategyConfig) -> pd.DataFrame:
    """The summary rows of `run_all` from its stored daily rows (forecasts.zl_strategy_daily:
    horizon, rule, as_of_date, position, pnl_usd), with buy-and-hold on the same days."""
    rows = []
    for horizon, days in horizons.items():
        ours = daily[daily["horizon"] == horizon]
        for rule in [r for r in RULES if r in set(ours["rule"])]:
            part = ours[ours["rule"] == rule].sort_values("as_of_date")
            result = evaluate(part["pnl_usd"].to_numpy(), part["position"].to_numpy(), block=max(days, 5))
            rows.append({"horizon": horizon, "rule": rule, **result.as_dict()})
        if len(ours):
            dates = pd.to_datetime(ours.loc[ours["rule"] == "ensemble", "as_of_date"]).dt.date
            held = buy_and_hold(market, dates, config.dollars_per_price_unit, config.costs)
            rows.append({"horizon": horizon, "rule": "buy_and_hold", **held.as_dict()})
    return pd.DataFrame(rows)


def headline(summary: pd.DataFrame) -> dict[str, dict]:
    """Per horizon, the figures a bench line prints: the ensemble rule's Sharpe with its interval,
    drawdown and hit rate, and the same Sharpe for climatology and buy-and-hold."""
    out = {}
    for horizon, part in summary.groupby("horizon", sort=False):
        rules = part.set_index("rule")
        if "ensemble" not in rules.index:
            continue
        ours = rules.loc["ensemble"]
        out[horizon] = {"sharpe": round(float(ours["sharpe"]), 2),
                        "sharpe_90pct": [round(float(v), 2) for v in ours["sharpe_interval"]],
                        "independent_periods": round(float(ours["independent_periods"]), 1),
                        "judged": bool(ours["judged"]),
                        "max_drawdown_usd": round(float(ours["max_drawdown_usd"])),
                        "max_drawdown_days": int(ours["max_drawdown_days"]),
                        "hit_rate": round(float(ours["hit_rate"]), 3), "total_pnl_usd": round(float(ours["total_pnl_usd"])),
                        **{f"{rule}_sharpe": round(float(rules.loc[rule, "sharpe"]), 2)
                           for rule in ("climatology", "buy_and_hold") if rule in rules.index}}
    return out
