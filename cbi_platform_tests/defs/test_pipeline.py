"""The whole asset graph, materialised in-process into a temporary warehouse, twice."""

import datetime as dt

import dagster as dg
import pandas as pd
import pytest

from cbi_platform import demo
from cbi_platform.lib import warehouse

pytestmark = pytest.mark.slow
TIME_COLUMNS = {"ingested_at", "created_at", "trained_at", "published_at"}


def snapshot(path) -> dict[str, pd.DataFrame]:
    tables = {}
    with warehouse.connection(path, read_only=True) as conn:
        names = conn.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables "
                             "WHERE table_schema IN ('raw', 'features', 'training', 'forecasts') ORDER BY 1").fetchall()
        for (name,) in names:
            frame = conn.execute(f"SELECT * FROM {name}").df()
            frame = frame.drop(columns=[c for c in frame.columns if c in TIME_COLUMNS])
            tables[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return tables


def check_outcomes(results) -> dict[str, bool]:
    outcomes = {}
    for result in results:
        for event in result.all_events:
            if event.event_type_value == "ASSET_CHECK_EVALUATION":
                evaluation = event.event_specific_data
                key = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
                outcomes[key] = evaluation.passed or evaluation.severity == dg.AssetCheckSeverity.WARN
    return outcomes


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    from cbi_platform.lib.settings import Settings

    base = tmp_path_factory.mktemp("pipeline")
    settings = Settings.from_env().with_overrides(
        data_dir=base / "data", warehouse_path=str(base / "data" / "cbi.duckdb"), source_mode="sample")
    runs = []
    # the newest partition is today's: two runs straddling midnight UTC rightly differ, so
    # compare the last two runs that started and ended on the same day
    while len(runs) < 2 or runs[-1][0] != runs[-2][0] or runs[-1][0] != dt.date.today():
        day = dt.date.today()
        _, results = demo.run(settings, dg.DagsterInstance.ephemeral(), hourly_days=21)
        runs.append((day, snapshot(settings.warehouse_path), results))
    (_, first, first_results), (_, second, second_results) = runs[-2:]
    return settings, first, second, first_results + second_results


def test_every_table_is_filled_and_identical_the_second_time(two_runs):
    _, first, second, _ = two_runs
    assert set(first) == set(second)
    for name in ("raw.fred_observations", "raw.futures_ohlcv_1d", "raw.futures_ohlcv_1h", "features.zl_daily_matrix",
                 "training.oof_predictions", "training.model_registry", "forecasts.zl_predictions", "forecasts.risk_metrics",
                 "forecasts.monte_carlo_scenarios"):
        assert len(first[name]) > 0, name
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name], obj=name)


def test_every_blocking_check_passed(two_runs):
    *_, results = two_runs
    outcomes = check_outcomes(results)
    assert len(outcomes) >= 25
    assert [k for k, ok in outcomes.items() if not ok] == []


def test_a_forecast_and_its_var_for_every_horizon(two_runs):
    settings, first, *_ = two_runs
    predictions = first["forecasts.zl_predictions"]
    live = predictions[(predictions["kind"] == "live") & (predictions["as_of_date"] == predictions["as_of_date"].max())]
    assert sorted(live["horizon"]) == ["1m", "1w", "3m", "6m"]
    assert (live["p10_price"] < live["p50_price"]).all() and (live["p50_price"] < live["p90_price"]).all()
    assert set(live["data_mode"]) == {"sample"}
    risk = first["forecasts.risk_metrics"]
    latest = risk[(risk["kind"] == "live") & (risk["as_of_date"] == risk["as_of_date"].max())]
    assert len(latest) == 4 and (latest["var99_usd"] > latest["var95_usd"]).all() and (latest["var95_usd"] > 0).all()
    text = demo.summary(settings)
    assert "SAMPLE WORLD" in text and "VaR99" in text


def test_the_report_renders_in_a_browser(two_runs):
    from cbi_platform_tests.browser import ARTIFACTS, browser_page

    settings, first, *_ = two_runs
    report = settings.report_dir / "latest.html"
    with browser_page(width=1200, height=900) as page:
        page.goto(report.resolve().as_uri(), wait_until="load")
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.alt, e.naturalWidth, e.naturalHeight])")
        text = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    assert sorted(alt for alt, *_ in images) == ["coverage over time", "fan chart", "scenario distribution"]
    assert all(width > 400 and height > 200 for _, width, height in images), images
    assert "SAMPLE WORLD" in text and "Model leaderboard" in text
    live = first["forecasts.zl_predictions"].query("kind == 'live'")
    latest = live[live["as_of_date"] == live["as_of_date"].max()]
    for price in latest["p50_price"]:
        assert f"{price:.2f}" in text  # the table shows the published P50s
    members = set(first["training.ensemble_weights"]["member"])
    assert {"climatology", "zl_main", "zl_linear"} <= members and all(m in text for m in members)
