"""The user-code gRPC server of docker-compose.yml, started as a subprocess the way the
cbi_user_code service starts it, and the definitions loaded through it."""

import os
import sys
import time
from pathlib import Path

import pytest

from cbi_platform_tests.deploy.conftest import free_port, server_failed, start_server, stop_server

DAGSTER = Path(sys.executable).with_name("dagster")


@pytest.fixture(scope="module")
def code_server(tmp_path_factory):
    port = free_port()
    home = tmp_path_factory.mktemp("grpc_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(home), "CBI_DATA_DIR": str(home / "data")}
    log = home / "code_server.log"
    process = start_server([str(DAGSTER), "code-server", "start", "-h", "127.0.0.1", "-p", str(port),
                            "-m", "cbi_platform.definitions"], env, log)
    from dagster._grpc.client import DagsterGrpcClient  # the client Dagster's own webserver and daemon use

    client = DagsterGrpcClient(port=port, host="127.0.0.1")
    deadline = time.monotonic() + 120
    while True:
        try:
            client.ping("hello")
            break
        except Exception:
            if process.poll() is not None or time.monotonic() > deadline:
                raise server_failed(process, log, "code server") from None
            time.sleep(0.5)
    yield client, port
    stop_server(process, log)


def test_code_server_serves_the_definitions(code_server):
    client, port = code_server
    assert client.ping("ping")["echo"] == "ping"
    import dagster as dg
    from dagster._core.remote_origin import GrpcServerCodeLocationOrigin  # what workspace.yaml grpc_server entries build

    origin = GrpcServerCodeLocationOrigin(host="127.0.0.1", port=port, location_name="cbi_platform")
    with dg.DagsterInstance.ephemeral() as instance:
        with origin.create_location(instance) as location:
            (repository,) = location.get_repositories().values()
            keys = {node.asset_key.to_user_string() for node in repository.get_asset_node_snaps()}
            schedules = {s.name for s in repository.get_schedules()}
            sensors = {s.name for s in repository.get_sensors()}
    assert {"raw/futures_ohlcv_1d", "features/zl_daily_matrix", "models/zl_ensemble", "risk/risk_metrics"} <= keys
    assert "weekly_retraining" in schedules and "fred_at_release" in schedules
    assert {"news_feeds_changed", "alert_on_run_failure", "forecast_drift"} <= sensors
