"""Schedules and sensors, evaluated the way the daemon evaluates them."""

import datetime as dt
import http.server
import json
import os
import subprocess
import sys
import threading

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from cbi_platform import definitions as cbi
from cbi_platform.lib import warehouse
from cbi_platform.lib.settings import Settings
from cbi_platform_tests.conftest import SQL_DIR

REPOSITORY = cbi.defs.get_repository_def()


def sensor(name):
    return REPOSITORY.get_sensor_def(name)


def test_every_raw_asset_has_a_release_time_schedule_for_the_partition_holding_its_day():
    """A Friday tick runs that day's partition of a daily source, the week's (from Sunday) of a
    weekly one, the month's of WASDE."""
    schedules = {s.name: s for s in REPOSITORY.schedule_defs}
    expected = {"fred": "2026-11-20", "databento_ohlcv_1d": "2026-11-20", "news": "2026-11-20", "cftc": "2026-11-15",
                "usda_esr": "2026-11-15", "eia": "2026-11-15", "epa_rin": "2026-11-15", "usda_wasde": "2026-11-01"}
    keys = {}
    for asset in cbi.RAW_ASSETS:
        schedule = schedules[f"{asset.node_def.name}_at_release"]
        assert schedule.execution_timezone == "UTC"
        tick = dt.datetime(2026, 11, 20, 22, 30, tzinfo=dt.timezone.utc)
        with dg.build_schedule_context(scheduled_execution_time=tick, repository_def=REPOSITORY) as context:
            (request,) = schedule.evaluate_tick(context).run_requests
        keys[asset.node_def.name] = request.partition_key
    assert {name: keys[name] for name in expected} == expected
    assert {key for name, key in keys.items() if name not in expected} == {"2026-11-20"}  # the other daily ones
    assert schedules["weekly_retraining"].cron_schedule == "0 6 * * 6"


def test_the_hourly_schedule_runs_the_partition_of_the_bar_that_just_closed():
    """At 00:05 UTC the new day has no closed bar, while the previous day's 23:00 bar has just
    closed: that run completes the previous day (a run of the new day would find it empty and,
    on a session day, fail rows_present; the 23:00 bar would never be fetched)."""
    schedule = REPOSITORY.get_schedule_def("databento_ohlcv_1h_at_release")
    day = dt.date.today() - dt.timedelta(days=3)  # inside the tests' partitions (the last six weeks)
    keys = {}
    for hour in (0, 1, 23):
        tick = dt.datetime.combine(day, dt.time(hour, 5), dt.timezone.utc)
        with dg.build_schedule_context(scheduled_execution_time=tick, repository_def=REPOSITORY) as context:
            (request,) = schedule.evaluate_tick(context).run_requests
        keys[hour] = request.partition_key
    assert keys == {0: (day - dt.timedelta(days=1)).isoformat(), 1: day.isoformat(), 23: day.isoformat()}


def test_every_source_runs_each_day_so_the_derived_assets_refresh_each_day():
    """A derived asset refreshes only once every upstream's latest partition (today's, this week's,
    this month's) exists. So each raw schedule ticks every day, weekends included, for the partition
    holding that day; then, on a Tuesday (no COT release), the feature view that reads the weekly
    COT refreshes."""
    from dagster._utils.schedules import cron_string_iterator

    schedules = {s.name: s for s in REPOSITORY.schedule_defs}
    tuesday = dt.date(2026, 11, 17)
    requested = {}
    for offset in range(7):
        day = dt.date(2026, 11, 16) + dt.timedelta(days=offset)
        start = dt.datetime.combine(day, dt.time(), dt.timezone.utc)
        for asset in cbi.RAW_ASSETS:
            schedule = schedules[f"{asset.node_def.name}_at_release"]
            tick = next(cron_string_iterator(start.timestamp(), schedule.cron_schedule, "UTC"))
            assert tick.date() == day, f"{schedule.name} does not run on {day:%A}"
            with dg.build_schedule_context(scheduled_execution_time=tick, repository_def=REPOSITORY) as context:
                (request,) = schedule.evaluate_tick(context).run_requests
            if day == tuesday:
                requested[asset] = request.partition_key
    graph = cbi.defs.resolve_asset_graph()
    cot = dg.AssetKey(["raw", "cftc_cot"])
    view = next(key for key in graph.get_all_asset_keys() if cot in graph.get(key).parent_keys
                and not graph.get(key).is_partitioned)
    instance = dg.DagsterInstance.ephemeral()
    for key in [*graph.get(view).parent_keys, view]:
        if not graph.get(key).is_partitioned:
            instance.report_runless_asset_event(dg.AssetMaterialization(key))

    def evaluate(cursor=None):
        return dg.evaluate_automation_conditions(defs=cbi.defs, instance=instance, asset_selection=dg.AssetSelection.assets(view),
                                                 evaluation_time=dt.datetime(2026, 11, 17, 23, 55, tzinfo=dt.timezone.utc),
                                                 cursor=cursor)

    before = evaluate()
    for asset, day in requested.items():  # what Tuesday's ticks ran
        for key in asset.keys:
            instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=day))
    assert before.total_requested == 0 and evaluate(before.cursor).total_requested == 1


@pytest.fixture
def sample_resources(tmp_path):
    settings = Settings.from_env().with_overrides(data_dir=tmp_path / "data", warehouse_path=str(tmp_path / "data" / "w.duckdb"),
                                                  source_mode="sample")
    return cbi.resources(settings)


def test_news_sensor_launches_only_when_a_feed_changed(sample_resources):
    news = sensor("news_feeds_changed")
    with dg.build_sensor_context(resources=sample_resources, repository_def=REPOSITORY) as first:
        result = news.evaluate_tick(first)
    (request,) = result.run_requests
    assert request.partition_key == dt.date.today().isoformat()
    cursor = result.cursor
    assert json.loads(cursor)  # validators kept per feed
    # the same validators again: every feed answers 304, nothing launches
    with dg.build_sensor_context(cursor=cursor, resources=sample_resources, repository_def=REPOSITORY) as second:
        again = news.evaluate_tick(second)
    assert again.run_requests == [] and "304" in again.skip_message


def _archive(conn, coverage_hits: list[bool]):
    days = pd.bdate_range("2026-01-05", periods=len(coverage_hits))
    rows, matrix = [], []
    for day, hit in zip(days, coverage_hits):
        rows.append({"as_of_date": day.date(), "horizon": "1w", "horizon_days": 5, "target_date": day.date(),
                     "q05": -0.05, "q10": -0.02, "q50": 0.0, "q90": 0.02, "q95": 0.05, "last_price": 50.0,
                     "model_version": "v1", "data_mode": "sample", "published_at": pd.Timestamp("2026-01-01")})
        matrix.append({"trade_date": day.date(), "target_1w": 0.0 if hit else 0.04})
    warehouse.replace_rows(conn, "forecasts.zl_forecast_archive", pd.DataFrame(rows))
    conn.execute("CREATE SCHEMA IF NOT EXISTS features")
    conn.register("_m", pd.DataFrame(matrix))
    conn.execute("CREATE OR REPLACE TABLE features.zl_daily_matrix AS SELECT trade_date, target_1w, "
                 "NULL::DOUBLE AS target_1m, NULL::DOUBLE AS target_3m, NULL::DOUBLE AS target_6m FROM _m")


@pytest.mark.parametrize("hits, retrain", [([True] * 40 + [False] * 10, False), ([True] * 20 + [False] * 30, True)])
def test_drift_sensor_requests_retraining_when_coverage_leaves_its_band(sample_resources, hits, retrain):
    path = sample_resources["warehouse"].database
    with warehouse.connection(path) as conn:
        warehouse.apply_migrations(conn, SQL_DIR)
        _archive(conn, hits)
    with dg.build_sensor_context(resources=sample_resources) as context:
        result = sensor("forecast_drift").evaluate_tick(context)
    assert bool(result.run_requests) == retrain
    if retrain:
        assert "coverage 0.40" in result.run_requests[0].tags["cbi/reason"]


def test_drift_sensor_requests_retraining_when_many_features_shift(sample_resources):
    """Coverage within band, but the latest quarter of two features of three moved by two
    standard deviations: PSI asks for a retrain."""
    path = sample_resources["warehouse"].database
    rng = np.random.default_rng(0)
    with warehouse.connection(path) as conn:
        warehouse.apply_migrations(conn, SQL_DIR)
        _archive(conn, [True] * 40 + [False] * 10)
        days = pd.bdate_range("2020-01-01", periods=1500)
        features = pd.DataFrame({"trade_date": days.date, "a": rng.standard_normal(1500), "b": rng.standard_normal(1500),
                                 "c": rng.standard_normal(1500)})
        features.loc[1500 - 63:, ["a", "b"]] += 2.0
        conn.register("_f", features)
        conn.execute("CREATE OR REPLACE TABLE features.zl_daily_matrix AS SELECT f.*, m.target_1w, m.target_1m, "
                     "m.target_3m, m.target_6m FROM _f f LEFT JOIN features.zl_daily_matrix m USING (trade_date)")
    with dg.build_sensor_context(resources=sample_resources) as context:
        result = sensor("forecast_drift").evaluate_tick(context)
    (request,) = result.run_requests
    assert request.tags["cbi/reason"].startswith("2 features with PSI > 0.25 in the latest quarter: ")


class _Capture(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Capture.received.append((self.path, json.loads(body)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_failed_checks_are_posted_to_the_webhook(monkeypatch, caplog):
    server = http.server.HTTPServer(("127.0.0.1", 0), _Capture)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret_path = "/hooks/T000-secret-token"
    monkeypatch.setenv("CBI_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}{secret_path}")

    @dg.asset(check_specs=[dg.AssetCheckSpec("always_fails", asset="broken")])
    def broken():
        return dg.MaterializeResult(check_results=[dg.AssetCheckResult(check_name="always_fails", passed=False)])

    defs = dg.Definitions(assets=[broken], sensors=[sensor("alert_on_check_failure")])
    instance = dg.DagsterInstance.ephemeral()
    dg.materialize([broken], instance=instance, raise_on_error=False)
    with caplog.at_level("INFO"), dg.build_sensor_context(instance=instance, definitions=defs) as context:
        result = sensor("alert_on_check_failure").evaluate_tick(context)
    server.shutdown()
    assert "1 failures alerted" in result.skip_message
    ((path, body),) = _Capture.received
    assert path == secret_path and "broken:always_fails" in body["text"]
    assert "T000-secret-token" not in caplog.text


def test_check_alerts_keep_working_tick_after_tick_on_a_sqlite_instance(monkeypatch, tmp_path):
    """The local instance (SQLite, run-sharded event log) rejected the global event cursor from
    the second tick on: every later failure went unalerted. (deploy/test_postgres_instance.py
    runs the same ticks on the deployed Postgres instance.)"""
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        assert type(instance.event_log_storage).__name__ == "SqliteEventLogStorage"
        check_alerts_keep_working_tick_after_tick(instance, monkeypatch)


def check_alerts_keep_working_tick_after_tick(instance: dg.DagsterInstance, monkeypatch) -> None:
    """Five ticks of alert_on_check_failure with check failures arriving between them: each tick
    alerts exactly the new failures."""
    from cbi_platform.lib import alerts

    sent = []
    monkeypatch.setattr(alerts, "send", lambda title, fields: sent.append(fields))
    verdicts = {"flaky": True, "steady": True}

    @dg.asset(check_specs=[dg.AssetCheckSpec("flaky", asset="watched"), dg.AssetCheckSpec("steady", asset="watched",
                                                                                           blocking=False)])
    def watched():
        return dg.MaterializeResult(check_results=[
            dg.AssetCheckResult(check_name=name, passed=ok, severity=dg.AssetCheckSeverity.WARN if name == "steady"
                                else dg.AssetCheckSeverity.ERROR) for name, ok in verdicts.items()])

    alert = sensor("alert_on_check_failure")
    defs = dg.Definitions(assets=[watched], sensors=[alert])
    cursor = None

    def tick(flaky: bool, steady: bool, runs: int = 1):
        nonlocal cursor
        verdicts.update(flaky=flaky, steady=steady)
        for _ in range(runs):
            dg.materialize([watched], instance=instance, raise_on_error=False)
        sent.clear()
        with dg.build_sensor_context(instance=instance, definitions=defs, cursor=cursor) as context:
            result = alert.evaluate_tick(context)
            cursor = context.cursor
        return result.skip_message, sorted((f["check"], f["severity"]) for f in sent)

    assert tick(flaky=False, steady=True)[1] == [("watched:flaky", "ERROR")]
    assert tick(flaky=True, steady=True, runs=0) == ("0 checks with new evaluations, 0 failures alerted", [])
    assert tick(flaky=True, steady=False, runs=2)[1] == [("watched:steady", "WARN"), ("watched:steady", "WARN")]
    assert tick(flaky=True, steady=True)[1] == []
    assert tick(flaky=False, steady=False)[1] == [("watched:flaky", "ERROR"), ("watched:steady", "WARN")]


def _statuses(repository) -> dict[str, str]:
    instigators = [*repository.schedule_defs, *repository.sensor_defs]
    return {i.name: i.default_status.value for i in instigators}


ALWAYS_ON = {"alert_on_run_failure", "alert_on_check_failure"}  # they only read and post


def test_opening_the_ui_locally_recomputes_nothing():
    """A person who runs `make ui` to look: nothing fetches, recomputes or retrains until they
    turn it on (the news sensor's first tick used to ingest today and set off ~8 minutes of
    rebuilds)."""
    statuses = _statuses(REPOSITORY)
    assert {n for n, s in statuses.items() if s == "RUNNING"} == ALWAYS_ON
    assert statuses["news_feeds_changed"] == statuses["refresh_derived_assets"] == "STOPPED"
    assert statuses["weekly_retraining"] == statuses["fred_at_release"] == "STOPPED"


def test_a_deployment_with_automation_on_runs_every_schedule_and_sensor():
    code = ("from cbi_platform import definitions as d; r = d.defs.get_repository_def(); "
            "print(sorted({i.default_status.value for i in [*r.schedule_defs, *r.sensor_defs]}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "CBI_AUTOMATION": "on"}).stdout
    assert out.strip() == "['RUNNING']"
