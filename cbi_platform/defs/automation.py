"""Jobs, schedules and sensors: how the platform runs day to day.

- every raw asset has a partitioned ingest job and a schedule at its source's release time
  (config/schedules.yaml, UTC), materialising the partition that holds the tick's date (a
  weekly or monthly source's current week or month, re-ingested through today; on a weekend,
  a business-day source's Friday; for hourly bars, the date of the bar that just closed);
- derived assets refresh by declarative automation when their upstream lands (conditions.py);
- models retrain weekly; a drift sensor requests retraining early when realised coverage of
  the live forecasts leaves its band;
- a news sensor polls the feeds with conditional GET and launches ingestion only when a feed
  changed; alert sensors post run failures and failed checks to a webhook (or log them).
"""

import datetime as dt
import json

import dagster as dg

from cbi_platform.defs.partitions import partition_key_on
from cbi_platform.defs.resources import SourceResource, Warehouse
from cbi_platform.defs.settings import SETTINGS
from cbi_platform.lib.config import load_yaml

# What fetches, recomputes or retrains follows CBI_AUTOMATION (on in the deployment, off for a
# local `make ui`); alerts only read and always run.
SCHEDULE_STATUS = dg.DefaultScheduleStatus.RUNNING if SETTINGS.automation else dg.DefaultScheduleStatus.STOPPED
SENSOR_STATUS = dg.DefaultSensorStatus.RUNNING if SETTINGS.automation else dg.DefaultSensorStatus.STOPPED

SCHEDULES = load_yaml(SETTINGS.config_dir / "schedules.yaml")


def ingest_job(asset: dg.AssetsDefinition):
    return dg.define_asset_job(f"ingest_{asset.node_def.name}", selection=dg.AssetSelection.assets(asset),
                               description=f"Ingest {', '.join(k.to_user_string() for k in sorted(asset.keys))} for one partition")


def ingest_schedule(asset: dg.AssetsDefinition, job) -> dg.ScheduleDefinition:
    name = asset.node_def.name
    spec = SCHEDULES["ingest"][name]

    lag_minutes = int(spec.get("lag_minutes", 0))
    lag = dt.timedelta(minutes=lag_minutes)
    held = f"the UTC date {lag_minutes} minutes before the tick" if lag_minutes else "the tick's UTC date"

    @dg.schedule(name=f"{name}_at_release", cron_schedule=spec["cron"], job=job, execution_timezone="UTC",
                 description=f"{spec['release']}. Runs the partition holding {held}.",
                 default_status=SCHEDULE_STATUS)
    def _schedule(context: dg.ScheduleEvaluationContext):
        tick = context.scheduled_execution_time.astimezone(dt.timezone.utc)
        return dg.RunRequest(partition_key=partition_key_on(asset.partitions_def, (tick - lag).date()),
                             run_key=f"{name}-{tick.isoformat()}")

    return _schedule


def retrain_job(model_assets, downstream):
    return dg.define_asset_job("retrain_models", selection=dg.AssetSelection.assets(*model_assets, *downstream),
                               description="Retrain every model (walk-forward, ensemble, MES), then publish forecasts, "
                                           "risk and the report")


def retrain_schedule(job) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(name="weekly_retraining", cron_schedule=SCHEDULES["models"]["retrain_cron"], job=job,
                                 execution_timezone="UTC", default_status=SCHEDULE_STATUS,
                                 description="Weekly retraining of all models (Saturday, markets closed)")


def news_sensor(news_job) -> dg.SensorDefinition:
    @dg.sensor(name="news_feeds_changed", job=news_job, minimum_interval_seconds=SCHEDULES["models"]["news_poll_seconds"],
               default_status=SENSOR_STATUS,
               description="Polls every RSS feed with conditional GET (ETag / Last-Modified); a run of today's news "
                           "partition only when a feed changed. A 304 everywhere launches nothing.")
    def _news(context: dg.SensorEvaluationContext, sources: SourceResource):
        from cbi_platform.lib.sources import news, news_config

        fetch_context = sources.fetch_context()
        config = news_config.load_config(fetch_context.config_dir)
        state = json.loads(context.cursor) if context.cursor else {}
        changed = []
        for feed in config.feeds:
            if feed.kind != "rss":
                continue
            result = news.poll(fetch_context, feed, state.get(feed.id))
            state[feed.id] = result.validators
            if result.payload is not None:
                changed.append(feed.id)
        context.update_cursor(json.dumps(state, sort_keys=True))
        if not changed:
            return dg.SkipReason("no feed changed (conditional GET answered 304)")
        today = fetch_context.today.isoformat()
        return dg.RunRequest(partition_key=today, run_key=f"news-{today}-{context.cursor}"[:240],
                             tags={"cbi/changed_feeds": ",".join(changed)[:200]})

    return _news


@dg.run_failure_sensor(name="alert_on_run_failure", default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Posts failed runs to the webhook in CBI_ALERT_WEBHOOK_URL (logs when unset)")
def alert_on_run_failure(context: dg.RunFailureSensorContext):
    from cbi_platform.lib import alerts

    how = alerts.send("cbi-platform run failed", {"job": context.dagster_run.job_name,
                                                   "run_id": context.dagster_run.run_id,
                                                   "error": (context.failure_event.message or "")[:300]})
    context.log.info(f"run failure alert delivered by {how}")


@dg.sensor(name="alert_on_check_failure", minimum_interval_seconds=120, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Posts every failed asset check (ERROR and WARN) to the webhook in CBI_ALERT_WEBHOOK_URL "
                       "(logs when unset)")
def alert_on_check_failure(context: dg.SensorEvaluationContext):
    """Reads the asset-check execution records (one table on SQLite and Postgres alike, unlike the
    run-sharded event log a global event cursor needs): one query for the latest execution of
    every check of this code location, then the history of those with a new one. The cursor is
    the last record id alerted per check."""
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

    from cbi_platform.lib import alerts

    storage = context.instance.event_log_storage
    seen: dict[str, int] = json.loads(context.cursor) if (context.cursor or "").startswith("{") else {}
    check_keys = list(context.repository_def.asset_graph.asset_check_keys)
    latest = storage.get_latest_asset_check_execution_by_key(check_keys)
    changed = [key for key, record in latest.items() if record.id > seen.get(key.to_user_string(), 0)]
    failed = 0
    for key in sorted(changed, key=lambda k: k.to_user_string()):
        name = key.to_user_string()
        history = storage.get_asset_check_execution_history(key, limit=100, status={AssetCheckExecutionRecordStatus.FAILED})
        for record in sorted((r for r in history if r.id > seen.get(name, 0)), key=lambda r: r.id):
            evaluation = record.event.dagster_event.event_specific_data if record.event else None
            failed += 1
            alerts.send("cbi-platform check failed", {
                "check": name, "severity": evaluation.severity.value if evaluation else "ERROR",
                "partition": record.partition or "-", "run_id": record.run_id})
        seen[name] = latest[key].id
    if changed:
        context.update_cursor(json.dumps(seen, sort_keys=True))
    return dg.SkipReason(f"{len(changed)} checks with new evaluations, {failed} failures alerted")


def drift_sensor(job) -> dg.SensorDefinition:
    settings = SCHEDULES["models"]["drift"]

    @dg.sensor(name="forecast_drift", job=job, minimum_interval_seconds=3600, default_status=SENSOR_STATUS,
               description=f"Requests retraining when the realised P10-P90 coverage of the last {settings['window']} "
                           f"{settings['horizon']} live forecasts with known outcomes leaves {settings['band']}")
    def _drift(context: dg.SensorEvaluationContext, warehouse: Warehouse):
        from cbi_platform.lib.drift import load_psi_limits, matrix_feature_drift, realised_coverage, retrain_requested

        limits = load_psi_limits(SETTINGS.config_dir)
        try:
            with warehouse.read_connection() as conn:
                drift = realised_coverage(conn, settings["horizon"], int(settings["window"]), int(settings["min_outcomes"]),
                                          tuple(settings["band"]))
                features = matrix_feature_drift(conn, limits)
        except FileNotFoundError as exc:
            return dg.SkipReason(str(exc))
        run_key = f"drift-{dt.date.today().isoformat()}"
        if drift.drifting:
            return dg.RunRequest(run_key=run_key,
                                 tags={"cbi/reason": f"coverage {drift.coverage:.2f} outside {settings['band']}"})
        if retrain_requested(features, limits):
            moved = features[features["level"] == "retrain"]
            return dg.RunRequest(run_key=run_key, tags={"cbi/reason": (
                f"{len(moved)} features with PSI > {limits.retrain} in the latest quarter: "
                + ", ".join(moved["feature"].head(5)))[:200]})
        coverage = (f"only {drift.outcomes} live forecasts with known outcomes; need {settings['min_outcomes']}"
                    if drift.coverage is None else
                    f"realised coverage {drift.coverage:.0%} over {drift.outcomes} outcomes is within band")
        shifted = int((features["level"] == "retrain").sum())
        return dg.SkipReason(f"{coverage}; {shifted} of {len(features)} features with PSI > {limits.retrain}")

    return _drift


refresh_sensor = dg.AutomationConditionSensorDefinition(
    "refresh_derived_assets",
    target=dg.AssetSelection.all(),
    default_status=SENSOR_STATUS,
    description="Evaluates the automation conditions: features, forecasts, risk and the report refresh when their "
                "upstream lands (never while the upstream's latest partition is missing)",
)
