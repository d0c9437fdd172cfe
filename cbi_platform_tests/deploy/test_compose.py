"""docker-compose.yml on paper: Docker does not run here, so check every service, port, volume
and variable against the files it references."""

import re

import pytest
import yaml

from cbi_platform.lib.settings import PROJECT_ROOT

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
ENV_EXAMPLE = PROJECT_ROOT / "deploy" / ".env.example"


def env_names() -> set[str]:
    names = set()
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.match(r"^([A-Z][A-Z0-9_]*)=", line)
        if match:
            names.add(match.group(1))
    return names


def test_the_canonical_services_exist():
    assert set(COMPOSE["services"]) == {"cbi_postgres", "cbi_user_code", "cbi_webserver", "cbi_daemon"}


def test_postgres_has_a_healthcheck_and_persistent_volume():
    postgres = COMPOSE["services"]["cbi_postgres"]
    assert postgres["image"].startswith("postgres:15")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])


def test_webserver_binds_to_localhost_unless_told_otherwise():
    (port,) = COMPOSE["services"]["cbi_webserver"]["ports"]
    assert port == "${CBI_UI_BIND:-127.0.0.1}:3000:3000"


def test_daemon_and_webserver_wait_for_postgres_and_load_the_grpc_server():
    for name in ("cbi_webserver", "cbi_daemon"):
        service = COMPOSE["services"][name]
        assert service["depends_on"]["cbi_postgres"]["condition"] == "service_healthy"
        assert "/opt/dagster/dagster_home/workspace.yaml" in service["entrypoint"]
    workspace = yaml.safe_load((PROJECT_ROOT / "deploy" / "workspace.yaml").read_text())
    (location,) = workspace["load_from"]
    assert location["grpc_server"]["host"] == "cbi_user_code"
    code_server = COMPOSE["services"]["cbi_user_code"]["command"]
    assert code_server[:3] == ["dagster", "code-server", "start"]
    assert str(location["grpc_server"]["port"]) == code_server[code_server.index("-p") + 1]
    assert code_server[code_server.index("-m") + 1] == "cbi_platform.definitions"


def test_the_deployment_runs_its_schedules_and_sensors():
    """Locally they start stopped (CBI_AUTOMATION off); the code server a daemon ticks is on."""
    for name in ("cbi_user_code", "cbi_daemon"):
        assert COMPOSE["services"][name]["environment"]["CBI_AUTOMATION"] == "${CBI_AUTOMATION:-on}"


def test_every_variable_is_documented_in_env_example():
    text = (PROJECT_ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"(?<!\$)\$\{([A-Z][A-Z0-9_]*)", text))  # $${...} is the container's own
    assert used <= env_names(), used - env_names()
    settings_vars = set(re.findall(r'_(?:env|flag|choice)\("([A-Z_]+)"', (PROJECT_ROOT / "cbi_platform/lib/settings.py").read_text()))
    assert settings_vars <= env_names(), settings_vars - env_names()


def test_instance_config_uses_postgres_the_queue_and_the_warehouse_pool():
    config = yaml.safe_load((PROJECT_ROOT / "deploy" / "dagster.yaml").read_text())
    assert set(config["storage"]) == {"postgres"}
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["concurrency"]["pools"]["default_limit"] == 1
    for key in ("hostname", "username", "password", "db_name"):
        assert config["storage"]["postgres"]["postgres_db"][key]["env"] in env_names()


def test_volumes_hold_warehouse_landing_and_models():
    volumes = COMPOSE["volumes"]
    for service in ("cbi_user_code", "cbi_webserver", "cbi_daemon"):
        mounts = COMPOSE["services"][service]["volumes"]
        assert "cbi_data:/opt/cbi/data" in mounts
    assert "cbi_data" in volumes and "postgres_data" in volumes


@pytest.mark.parametrize("source", ["cbi_platform", "config", "sql", "pyproject.toml", "requirements.lock",
                                    "deploy/dagster.yaml", "deploy/workspace.yaml"])
def test_dockerfile_copies_what_exists(source):
    dockerfile = (PROJECT_ROOT / "deploy" / "Dockerfile").read_text()
    assert source.split("/")[-1] in dockerfile
    assert (PROJECT_ROOT / source).exists()
    build = COMPOSE["services"]["cbi_user_code"]["build"]
    assert (PROJECT_ROOT / build["context"] / build["dockerfile"]).exists()
