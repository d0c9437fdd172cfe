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
def two_runs(tmp_path_factory, s3_endpoint):
    import boto3

    from cbi_platform.instance import ensure_home
    from cbi_platform.lib.settings import Settings
    from cbi_platform.lib.storage import S3_ENDPOINT_ENV
    from cbi_platform_tests.conftest import motherduck_stand_in

    base = tmp_path_factory.mktemp("pipeline")
    settings = Settings.from_env().with_overrides(
        data_dir=base / "data", warehouse_path=str(base / "data" / "cbi.duckdb"), source_mode="sample")
    # every run after the first is a deployment beyond one machine: its warehouse is MotherDuck's
    # `md:cbi_pipeline` (served from the same file: no MotherDuck service is reachable here), its
    # landing zone and reports a bucket on the loopback S3 server
    object_store = {S3_ENDPOINT_ENV: s3_endpoint, "AWS_ACCESS_KEY_ID": "test-access-key",
                    "AWS_SECRET_ACCESS_KEY": "test-secret-key-never-shown", "AWS_DEFAULT_REGION": "us-east-1"}
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="test-access-key",
                 aws_secret_access_key="test-secret-key-never-shown").create_bucket(Bucket="cbi-pipeline")
    beyond_one_machine = settings.with_overrides(warehouse_path="md:cbi_pipeline", store="s3://cbi-pipeline")
    runs, connects = [], []
    # the newest partition is today's: two runs straddling midnight UTC rightly differ, so
    # compare the last two runs that started and ended on the same day
    while len(runs) < 2 or runs[-1][0] != runs[-2][0] or runs[-1][0] != dt.date.today():
        day = dt.date.today()
        # a persistent instance, as `make demo` writes, in the test's own data dir (not the
        # $DAGSTER_HOME `make test` exports): the UI tour below reads it
        with pytest.MonkeyPatch.context() as env:
            env.delenv("DAGSTER_HOME", raising=False)
            instance = dg.DagsterInstance.from_config(str(ensure_home(settings.data_dir)))
        if runs:
            with pytest.MonkeyPatch.context() as env, motherduck_stand_in(settings.warehouse_path) as calls:
                for name, value in object_store.items():
                    env.setenv(name, value)
                _, results = demo.run(beyond_one_machine, instance, hourly_days=21)
            connects = calls
        else:
            _, results = demo.run(settings, instance, hourly_days=21)
        runs.append((day, snapshot(settings.warehouse_path), results))
    (_, first, first_results), (_, second, second_results) = runs[-2:]
    return settings, first, second, first_results + second_results, connects


def test_every_table_is_filled_and_identical_the_second_time(two_runs):
    """The second run is a daily refresh: today's partitions fetched again on their own, then
    everything downstream. It must leave every table as the ranged first run did."""
    _, first, second, *_ = two_runs
    assert set(first) == set(second)
    for name in ("raw.fred_observations", "raw.futures_ohlcv_1d", "raw.futures_ohlcv_1h", "features.zl_daily_matrix",
                 "training.oof_predictions", "training.model_registry", "forecasts.zl_predictions", "forecasts.risk_metrics",
                 "forecasts.monte_carlo_scenarios"):
        assert len(first[name]) > 0, name
    differences = {}
    for name in first:
        try:
            pd.testing.assert_frame_equal(first[name], second[name], obj=name)
        except AssertionError as difference:
            differences[name] = str(difference).splitlines()[:4]
    assert differences == {}


def test_a_motherduck_warehouse_is_opened_by_name_in_every_kind_of_step(two_runs):
    """The second run's warehouse is `md:cbi_pipeline`: every step that opens it must pass that
    name to DuckDB unchanged, with no filesystem assumption on the way (the run would fail). The
    training steps open no warehouse at all: they read snapshots and write records."""
    from cbi_platform.defs.models import TRAINING_ASSETS

    *_, connects = two_runs
    warehouse_calls = [(database, read_only, op) for database, read_only, op in connects if database != ":memory:"]
    assert {database for database, *_ in warehouse_calls} == {"md:cbi_pipeline"}
    ops = {op for *_, op in warehouse_calls}
    writers = {op for _, read_only, op in warehouse_calls if not read_only}
    # one step of each kind: ingest, features, the snapshots, the training tables' loader,
    # forecasts, risk, the strategy backtest, the report
    for op in ("fred", "databento_ohlcv_1d", "news", "features__zl_daily_matrix", "models__zl_training_snapshot",
               "models__mes_training_snapshot", "models__training_tables", "forecasts__zl_predictions", "zl_risk",
               "forecasts__zl_strategy_backtest", "reports__zl_forecast"):
        assert op in ops, (op, sorted(o for o in ops if o))
    assert {"fred", "features__zl_daily_matrix", "models__training_tables", "forecasts__zl_predictions", "zl_risk"} <= writers
    assert ops & {asset.op.name for asset in TRAINING_ASSETS} == set()


def test_the_refresh_landed_its_payloads_and_published_its_report_in_the_bucket(two_runs, s3_endpoint):
    import boto3

    *_, results, _ = two_runs
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="test-access-key",
                          aws_secret_access_key="test-secret-key-never-shown")
    keys = [page_item["Key"] for page in client.get_paginator("list_objects_v2").paginate(Bucket="cbi-pipeline")
            for page_item in page.get("Contents", [])]
    today = dt.date.today().isoformat()
    # a daily source's refresh lands under today's window, a weekly one's under its week through today
    landed = {key.split("/")[1] for key in keys if key.startswith("landing/") and (f"/{today}/" in key or f"_{today}/" in key)}
    assert {"fred", "databento", "cftc", "epa_rin", "news"} <= landed, sorted(landed)
    assert {"reports/latest.html", "reports/fan_chart.png", "reports/scenarios.png"} <= set(keys)
    page = client.get_object(Bucket="cbi-pipeline", Key="reports/latest.html")["Body"].read().decode()
    assert "SAMPLE WORLD" in page and "In plain words" in page
    reported = [event.materialization.metadata for result in results for event in result.get_asset_materialization_events()
                if event.asset_key == dg.AssetKey(["reports", "zl_forecast"])]
    assert reported[-1]["report"].value == "s3://cbi-pipeline/reports/latest.html"


def test_every_blocking_check_passed(two_runs):
    *_, results, _ = two_runs
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
    from cbi_platform.lib.display import dollars
    from cbi_platform_tests.browser import ARTIFACTS, browser_page

    settings, first, *_ = two_runs
    report = settings.report_dir / "latest.html"
    with browser_page(width=1200, height=900) as page:
        page.goto(report.resolve().as_uri(), wait_until="load")
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.alt, e.naturalWidth, e.naturalHeight])")
        text = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    assert sorted(alt for alt, *_ in images) == ["CRPS over time", "coverage over time", "equity and drawdown", "fan chart",
                                                 "reliability and PIT histogram", "scenario distribution"]
    assert all(width > 400 and height > 200 for _, width, height in images), images
    assert "SAMPLE WORLD" in text and "Model leaderboard" in text and "In plain words" in text
    assert "Strategy backtest" in text and "Feature drift" in text
    strategy = first["forecasts.zl_strategy_daily"]
    for horizon, part in strategy[strategy["rule"] == "ensemble"].groupby("horizon"):
        total = part.sort_values("as_of_date")["equity_usd"].iloc[-1]
        assert f"the {horizon} forecast by the documented rule would have earned {dollars(total)}" in text
    live = first["forecasts.zl_predictions"].query("kind == 'live'")
    latest = live[live["as_of_date"] == live["as_of_date"].max()]
    for price in latest["p50_price"]:
        assert f"{price:.2f}" in text  # the table shows the published P50s
    members = set(first["training.ensemble_weights"]["member"])
    assert {"climatology", "zl_main", "zl_linear"} <= members and all(m in text for m in members)


# What the README's "A tour of the UI" names, page by page, and what each must show (Dagster 1.13):
# (path, texts on the page, {metadata row: texts in its markdown, opened with [Show Markdown]})
TOUR = {
    "lineage": ("/asset-groups", ["features", "forecasts", "ingest_market", "models", "reports", "risk"], {}),
    "catalog": ("/assets", ["Materialized", "features / bucket_fx"], {}),
    "catalog_risk": ("/assets/risk", ["risk_metrics", "monte_carlo_scenarios"], {}),
    "catalog_models": ("/assets/models", ["fx_specialist", "zl_ensemble", "mes_timeseries"], {}),
    "forecast": ("/assets/forecasts/zl_predictions?view=events",
                 ["latest_forecast", "SAMPLE WORLD", "c/lb", "reliability", "pit_histogram"], {}),
    "risk": ("/assets/risk/risk_metrics?view=events", ["latest_var", "backtests"], {}),
    "risk_checks": ("/assets/risk/risk_metrics?view=checks", ["var_backtest_1w", "var_dq_1w", "es_backtest_1w"], {}),
    # after a refresh that kept the models, the latest event still shows them as trained
    "ensemble": ("/assets/models/zl_ensemble?view=events", ["retrained", "weights", "skill_vs_climatology"],
                 {"weights": ["climatology", "zl_main"]}),
    "strategy": ("/assets/forecasts/zl_strategy_backtest?view=events", ["summary"],
                 {"summary": ["buy_and_hold", "climatology", "ensemble", "independent_periods"]}),
    "report": ("/assets/reports/zl_forecast?view=events", ["report_url", "strategy_chart", "fan_chart"], {}),
    "mes": ("/assets/models/mes_timeseries?view=events", ["best_model", "leaderboard", "mase_by_item"], {}),
    "automation": ("/automation", ["fred_at_release", "At 01:30 PM UTC", "refresh_derived_assets", "forecast_drift"], {}),
}


def test_the_readme_tour_is_what_the_ui_shows(two_runs, tmp_path):
    import os

    from cbi_platform.lib.settings import PROJECT_ROOT
    from cbi_platform_tests.browser import ARTIFACTS, dagster_ui_page
    from cbi_platform_tests.deploy.conftest import start_webserver, stop_server

    settings = two_runs[0]
    readme = (PROJECT_ROOT / "README.md").read_text()
    for page_name in ("**Lineage**", "**Catalog**", "**Automation**", "**Events**", "**Checks**"):
        assert page_name in readme, page_name
    env = {**os.environ, "DAGSTER_HOME": str(settings.data_dir / "dagster_home"), "CBI_DATA_DIR": str(settings.data_dir),
           "CBI_WAREHOUSE": str(settings.warehouse_path), "CBI_SOURCE_MODE": "sample"}
    log = tmp_path / "webserver.log"
    process, url = start_webserver(env, log)
    try:
        missing = {}
        with dagster_ui_page(url) as page:
            for name, (path, expected, reveal) in TOUR.items():
                page.goto(f"{url}{path}", wait_until="networkidle")
                page.wait_for_timeout(2500)
                text = page.inner_text("body")
                page.screenshot(path=str(ARTIFACTS / f"tour_{name}.png"))
                missing.update({name: [e for e in expected if e not in text]} if any(e not in text for e in expected) else {})
                for row, shown in reveal.items():
                    # a long table hides behind its [Show Markdown] link; a short one is shown inline
                    link = page.locator("tr", has=page.get_by_text(row, exact=True)).get_by_text("[Show Markdown]")
                    if link.count():
                        link.first.click()
                        page.wait_for_timeout(1000)
                    opened = page.inner_text("body")
                    page.screenshot(path=str(ARTIFACTS / f"tour_{name}_{row}.png"))
                    page.keyboard.press("Escape")
                    if any(e not in opened for e in shown):
                        missing[f"{name}: {row}"] = [e for e in shown if e not in opened]
        assert missing == {}
    finally:
        stop_server(process, log)


def test_news_for_the_latest_day_refreshes_the_forecast_without_retraining(two_runs, tmp_path, capsys):
    """A news item on the latest trading day changes that day's features (whose outcomes are all
    pending), so the refresh re-forecasts with the registered models instead of retraining them."""
    import shutil
    import time

    settings = two_runs[0]
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(settings.warehouse_path, data / "cbi.duckdb")
    refreshed = settings.with_overrides(data_dir=data, warehouse_path=str(data / "cbi.duckdb"))
    latest_sql = "SELECT max(trade_date) FROM features.zl_daily_matrix"
    with warehouse.connection(refreshed.warehouse_path) as conn:
        latest = conn.execute(latest_sql).fetchone()[0]
        before = conn.execute("SELECT tariff_news_7d FROM features.zl_daily_matrix WHERE trade_date = ?", [latest]).fetchone()[0]
        conn.execute("""INSERT INTO raw.news_items VALUES ('fpn_trade', 'test-item', 'https://example.org/item',
                            ?::TIMESTAMP + INTERVAL 15 HOUR, 'New tariffs on soybean oil imports', 'Tariffs rise.',
                            'Tariffs rise sharply.', 'Trade', 'tariff', -1.0, 0, 1, ?, now())""", [latest, latest])
    started = time.perf_counter()
    # the module's instance: it knows where each kept model's record is (the refreshed copy has
    # its own data directory, so its own empty model store)
    result = demo.derived(refreshed, dg.DagsterInstance.from_config(str(settings.data_dir / "dagster_home")))
    elapsed = time.perf_counter() - started
    assert result.success
    retrained = {event.asset_key.to_user_string(): event.materialization.metadata["retrained"].value
                 for event in result.get_asset_materialization_events() if "retrained" in event.materialization.metadata}
    assert len(retrained) == 13 and not any(retrained.values()), retrained  # main + 8 specialists, linear, baselines, ensemble, MES
    with warehouse.connection(refreshed.warehouse_path, read_only=True) as conn:
        after = conn.execute("SELECT tariff_news_7d FROM features.zl_daily_matrix WHERE trade_date = ?", [latest]).fetchone()[0]
        published = conn.execute("SELECT count(*) FROM forecasts.zl_predictions WHERE kind = 'live' AND as_of_date = ?",
                                 [latest]).fetchone()[0]
    assert after == before + 1 and published == 4
    with capsys.disabled():
        print(f"\nrefresh after one news item on {latest}: {elapsed:.0f} s, no model retrained")


# retrained on Dask: every kind of model step (the snapshot, baselines, the linear model, an
# AutoGluon specialist, the ensemble, the loader) and the forecast they publish; the other
# members' records are read as trained
DASK_TRAINED = ["models/zl_baselines", "models/zl_linear", "models/fx_specialist", "models/zl_ensemble"]
DASK_SELECTION = ["models/zl_training_snapshot", *DASK_TRAINED, "models/training_tables", "forecasts/zl_predictions"]


def test_models_retrained_on_a_dask_cluster_equal_the_in_process_run(two_runs, tmp_path, s3_endpoint):
    """A scheduler and two workers, each its own process on 127.0.0.1; the run is launched as a
    user would (`dagster asset materialize` with CBI_EXECUTOR=dask) against this module's instance
    and warehouse, with the model store in the bucket: a worker publishes what it trained, and the
    forecast step fetches it. Last in this module: it retrains the fixture's models."""
    import os

    from cbi_platform.lib.settings import PROJECT_ROOT
    from cbi_platform.lib.storage import S3_ENDPOINT_ENV
    from cbi_platform_tests.dask_cluster import dask_cluster, dask_environment, materialize
    from cbi_platform_tests.processes import free_port

    settings, _, second, *_ = two_runs
    port = free_port()
    env = dask_environment({**os.environ, "DAGSTER_HOME": str(settings.data_dir / "dagster_home"),
                            "CBI_DATA_DIR": str(settings.data_dir), "CBI_WAREHOUSE": str(settings.warehouse_path),
                            "CBI_SOURCE_MODE": "sample", "CBI_STORE": "s3://cbi-pipeline/dask", S3_ENDPOINT_ENV: s3_endpoint,
                            "AWS_ACCESS_KEY_ID": "test-access-key", "AWS_SECRET_ACCESS_KEY": "test-secret-key-never-shown",
                            "AWS_DEFAULT_REGION": "us-east-1", "CBI_MODEL_CACHE": str(tmp_path / "model_cache")},
                           port, PROJECT_ROOT)
    models = [key.replace("/", "__") for key in DASK_TRAINED]
    with dask_cluster(2, env, tmp_path / "dask", port) as cluster:
        launched = materialize(DASK_SELECTION, env, timeout=900)
    assert launched.returncode == 0, launched.stderr[-4000:]

    instance = dg.DagsterInstance.from_config(str(settings.data_dir / "dagster_home"))
    run = instance.get_runs(limit=1)[0]
    events = [record.dagster_event for record in instance.all_logs(run.run_id) if record.is_dagster_event]
    step_pids = {event.step_key: event.pid for event in events if event.event_type_value == "STEP_START"}
    assert set(step_pids) == {key.replace("/", "__") for key in DASK_SELECTION}
    assert set(step_pids.values()) == set(cluster.worker_pids)  # both workers took steps
    retrained = {event.step_key: event.event_specific_data.materialization.metadata["retrained"].value
                 for event in events if event.event_type_value == "ASSET_MATERIALIZATION" and event.step_key in models}
    assert retrained == dict.fromkeys(models, True)

    after = snapshot(settings.warehouse_path)
    for name in ("training.oof_predictions", "training.ensemble_weights", "forecasts.zl_predictions"):
        pd.testing.assert_frame_equal(after[name], second[name], obj=name)
    # the same registry rows, but the retrained versions now live in the bucket
    registry_after, registry_before = after["training.model_registry"], second["training.model_registry"]
    moved = registry_after["path"].str.startswith("s3://cbi-pipeline/dask/models/")
    assert set(registry_after.loc[moved, "model_asset"]) == set(DASK_TRAINED)
    pd.testing.assert_frame_equal(registry_after.drop(columns="path"), registry_before.drop(columns="path"))
