"""Kubernetes without a cluster: the retrain job of the code location, with the executor
CBI_EXECUTOR=k8s gives it, launches each step through dagster-k8s's own K8sStepHandler against a
mocked Kubernetes API, and the Job bodies it would create are checked (image, command, namespace,
per-step resources by training profile, settings and keys by reference only). The Helm values and
manifests under deploy/k8s/ must name what config/k8s.yaml names."""

from __future__ import annotations

import base64
import json
import math
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path
from unittest import mock

import pytest
import yaml

from cbi_platform.lib.settings import PROJECT_ROOT, Settings

K8S_DIR = PROJECT_ROOT / "deploy" / "k8s"
EXECUTOR_CONFIG = yaml.safe_load((PROJECT_ROOT / "config" / "k8s.yaml").read_text())
VALUES = yaml.safe_load((K8S_DIR / "values.yaml").read_text())
# what the pods' environment holds in production, set in this process's: none may reach a Job spec
SECRET_VALUES = {
    "FRED_API_KEY": "sekrit-value-123",
    "DATABENTO_API_KEY": "db-sekrit-value-456",
    "EIA_API_KEY": "eia-sekrit-value-789",
    "USDA_FAS_API_KEY": "usda-sekrit-value-012",
    "CFTC_APP_TOKEN": "cftc-sekrit-value-345",
    "MOTHERDUCK_TOKEN": "md-sekrit-value-678",
    "AWS_ACCESS_KEY_ID": "AKIASEKRITVALUE234",
    "AWS_SECRET_ACCESS_KEY": "aws-sekrit-value-567",
    "CBI_ALERT_WEBHOOK_URL": "https://hooks.example/sekrit-value-901",
}
# a K8sRunLauncher with nothing of its own to add, so each Job shows only what the executor sets
BARE_RUN_LAUNCHER = {"module": "dagster_k8s", "class": "K8sRunLauncher",
                     "config": {"service_account_name": "dagster", "instance_config_map": "dagster-instance",
                                "dagster_home": "/opt/dagster/dagster_home"}}
RELEASE = "cbi"


def model_ops_by_kind() -> dict[str, list[str]]:
    from cbi_platform.defs import models

    ops = {"specialist": [models.zl_main, *models.BUCKET_MODELS], "ensemble": [models.zl_ensemble],
           "timeseries": [models.mes_timeseries],
           "light": [models.zl_linear, models.zl_baselines, *models.SNAPSHOT_ASSETS, models.training_tables]}
    return {kind: [asset.node_def.name for asset in assets] for kind, assets in ops.items()}


def as_strings(resources: dict) -> dict:
    return {bound: {name: str(amount) for name, amount in amounts.items()} for bound, amounts in resources.items()}


def retrain_job(settings: Settings):
    """The code location's retrain job, with the executor the Definitions get from CBI_EXECUTOR=k8s."""
    import dagster as dg

    from cbi_platform import definitions
    from cbi_platform.defs.k8s import k8s_executor

    defs = dg.Definitions(assets=definitions.ALL_ASSETS, jobs=[definitions.RETRAIN_JOB],
                          resources=definitions.resources(settings), executor=k8s_executor(settings))
    return defs.resolve_job_def(definitions.RETRAIN_JOB.name)


def launch_steps(settings: Settings, run_launcher: dict, container_context: dict | None = None) -> dict:
    """Step key -> (namespace, V1Job) of every step of the retrain job, as the k8s executor's step
    handler hands them to the Kubernetes API (mocked: nothing leaves this process)."""
    from dagster._core.definitions.executor_definition import check_cross_process_constraints
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.execution.api import create_execution_plan
    from dagster._core.execution.context.system import PlanData, PlanOrchestrationContext
    from dagster._core.execution.context_creation_job import create_context_free_log_manager
    from dagster._core.execution.retries import RetryMode
    from dagster._core.executor.init import InitExecutorContext
    from dagster._core.executor.step_delegating import StepHandlerContext
    from dagster._core.system_config.objects import ResolvedRunConfig
    from dagster._core.test_utils import create_run_for_test, instance_for_test
    from dagster._grpc.types import ExecuteStepArgs
    from dagster_k8s.executor import K8sStepHandler

    job = retrain_job(settings)
    # where the step pods load the job from: the module the user code deployment serves
    recon_job = ReconstructableRepository.for_module("cbi_platform.definitions", "defs", working_directory=str(PROJECT_ROOT),
                                                     container_context=container_context).get_reconstructable_job(job.name)
    batch_api = mock.MagicMock()
    with mock.patch("kubernetes.config.load_incluster_config"), mock.patch("kubernetes.config.load_kube_config"), \
            mock.patch("kubernetes.client.BatchV1Api", return_value=batch_api), mock.patch("kubernetes.client.CoreV1Api"), \
            instance_for_test(overrides={"run_launcher": run_launcher}) as instance:
        run = create_run_for_test(instance, job_name=job.name, job_code_origin=recon_job.get_python_origin())
        # the executor as a run creates it: its config resolved through Dagster's config system
        init = InitExecutorContext(job=recon_job, executor_def=job.executor_def, instance=instance,
                                   executor_config=ResolvedRunConfig.build(job, {}).execution.execution_engine_config)
        check_cross_process_constraints(init)
        executor = job.executor_def.executor_creation_fn(init)
        step_handler = executor._step_handler
        assert isinstance(step_handler, K8sStepHandler)  # dagster-k8s's own, built from our executor's config
        plan = create_execution_plan(job, run_config={})
        plan_context = PlanOrchestrationContext(
            plan_data=PlanData(job=recon_job, dagster_run=run, instance=instance, execution_plan=plan,
                               raise_on_error=True, retry_mode=RetryMode.DISABLED),
            log_manager=create_context_free_log_manager(instance, run), executor=executor, output_capture=None)
        for step_key in plan.step_keys_to_execute:
            args = ExecuteStepArgs(job_origin=recon_job.get_python_origin(), run_id=run.run_id, step_keys_to_execute=[step_key],
                                   instance_ref=instance.get_ref())
            context = StepHandlerContext(instance=instance, plan_context=plan_context, steps=[plan.get_step_by_key(step_key)],
                                         execute_step_args=args, dagster_run=run)
            list(step_handler.launch_step(context))
    calls = batch_api.create_namespaced_job.call_args_list
    return {call.kwargs["body"].metadata.labels["dagster/op"]: (call.kwargs["namespace"], call.kwargs["body"]) for call in calls}


@pytest.fixture(scope="module")
def secrets_in_environment():
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SECRET_VALUES.items():
            patch.setenv(name, value)
        yield


@pytest.fixture(scope="module")
def step_jobs(secrets_in_environment) -> dict[str, dict]:
    """Profile -> step key -> (namespace, V1Job), for the lightest and the heaviest training profile."""
    base = Settings.from_env().with_overrides(executor="k8s")
    return {profile: launch_steps(base.with_overrides(profile=profile), BARE_RUN_LAUNCHER) for profile in ("fast", "extreme")}


def container(job):
    (only,) = job.spec.template.spec.containers
    return only


def resources(job) -> dict:
    requirements = container(job).resources
    return {"requests": requirements.requests, "limits": requirements.limits}


def test_every_model_step_is_a_job_of_the_image_running_execute_step(step_jobs):
    jobs = step_jobs["extreme"]
    model_ops = [op for ops in model_ops_by_kind().values() for op in ops]
    assert set(model_ops) <= set(jobs)
    for op in model_ops:
        namespace, job = jobs[op]
        assert namespace == EXECUTOR_CONFIG["namespace"]
        assert container(job).image == EXECUTOR_CONFIG["image"]
        assert container(job).image_pull_policy == EXECUTOR_CONFIG["image_pull_policy"]
        assert container(job).args == ["dagster", "api", "execute_step"]
        env = {var.name: var.value for var in container(job).env}
        assert env["DAGSTER_RUN_STEP_KEY"] == op


@pytest.mark.parametrize("profile", ["fast", "extreme"])
def test_each_model_step_gets_its_kinds_resources_under_the_profile(step_jobs, profile):
    from kubernetes.utils.quantity import parse_quantity  # the Kubernetes client's own reading

    jobs = step_jobs[profile]
    for kind, ops in model_ops_by_kind().items():
        expected = as_strings(EXECUTOR_CONFIG["profiles"][profile][kind])
        # the fits use the cores the pod may use, not the node's (whole ones, at least one)
        cores = str(max(1, math.floor(parse_quantity(expected["limits"]["cpu"]))))
        for op in ops:
            assert resources(jobs[op][1]) == expected, op
            assert {var.name: var.value for var in container(jobs[op][1]).env}["CBI_TRAINING_CPUS"] == cores, op
    model_ops = {op for ops in model_ops_by_kind().values() for op in ops}
    other_steps = set(jobs) - model_ops
    assert other_steps  # forecasts, risk and the report run in the same retrain
    for step in other_steps:
        assert resources(jobs[step][1]) == as_strings(EXECUTOR_CONFIG["default_resources"]), step
        assert "CBI_TRAINING_CPUS" not in {var.name for var in container(jobs[step][1]).env}, step


def test_extreme_sizes_the_specialists_above_fast_and_above_the_baselines(step_jobs):
    from kubernetes.utils.quantity import parse_quantity  # the Kubernetes client's own reading

    def amount(job, bound, name):
        return parse_quantity(resources(job)[bound][name])

    kinds = model_ops_by_kind()
    for op in kinds["specialist"]:
        fast, extreme = step_jobs["fast"][op][1], step_jobs["extreme"][op][1]
        for bound in ("requests", "limits"):
            for name in ("cpu", "memory"):
                assert amount(extreme, bound, name) > amount(fast, bound, name), (op, bound, name)
    for profile in ("fast", "extreme"):
        jobs = step_jobs[profile]
        for specialist in kinds["specialist"]:
            for light in kinds["light"]:
                assert amount(jobs[specialist][1], "limits", "memory") > amount(jobs[light][1], "limits", "memory")


def test_steps_take_settings_and_keys_from_the_configmap_and_secret_by_name(step_jobs):
    volume = EXECUTOR_CONFIG["data_volume"]
    for _, job in step_jobs["extreme"].values():
        env_from = container(job).env_from
        assert [source.config_map_ref.name for source in env_from if source.config_map_ref] == EXECUTOR_CONFIG["env_config_maps"]
        assert [source.secret_ref.name for source in env_from if source.secret_ref] == EXECUTOR_CONFIG["env_secrets"]
        assert not {var.name for var in container(job).env} & set(SECRET_VALUES)
        # the shared data directory, so a model trained in one pod is found by the next
        assert [(v.name, v.persistent_volume_claim.claim_name) for v in job.spec.template.spec.volumes] == \
            [(volume["claim"], volume["claim"])]
        assert [(m.name, m.mount_path) for m in container(job).volume_mounts] == [(volume["claim"], volume["mount_path"])]


def test_no_secret_value_reaches_a_job_spec(step_jobs):
    from kubernetes.client import ApiClient

    for profile, jobs in step_jobs.items():
        for step, (_, job) in jobs.items():
            spec = json.dumps(ApiClient().sanitize_for_serialization(job))
            # the step's arguments travel compressed in the environment: read them too
            packed = next(var.value for var in container(job).env if var.name == "DAGSTER_COMPRESSED_EXECUTE_STEP_ARGS")
            step_args = zlib.decompress(base64.b64decode(packed)).decode()
            for name, value in SECRET_VALUES.items():
                assert value not in spec, (profile, step, name)
                assert value not in step_args, (profile, step, name)


def chart_run_launcher(namespace: str) -> dict:
    """The K8sRunLauncher the chart configures from values.yaml's runLauncher (its instance ConfigMap)."""
    launcher = VALUES["runLauncher"]["config"]["k8sRunLauncher"]
    return {"module": "dagster_k8s", "class": "K8sRunLauncher", "config": {
        "load_incluster_config": launcher["loadInclusterConfig"],
        "job_namespace": launcher.get("jobNamespace") or namespace,
        "image_pull_policy": launcher["imagePullPolicy"],
        "service_account_name": f"{RELEASE}-dagster",
        "dagster_home": "/opt/dagster/dagster_home",
        "instance_config_map": f"{RELEASE}-dagster-instance",
        "postgres_password_secret": VALUES["global"]["postgresqlSecretName"],
        "env_config_maps": [source["name"] for source in launcher["envConfigMaps"]],
        "env_secrets": [source["name"] for source in launcher["envSecrets"]],
    }}


def chart_container_context(namespace: str) -> dict:
    """What the chart hands every run of the user code deployment (includeConfigInLaunchedRuns):
    the deployment's own env, ConfigMaps, Secrets, volumes and resources."""
    (deployment,) = VALUES["dagster-user-deployments"]["deployments"]
    return {"k8s": {
        "image_pull_policy": deployment["image"]["pullPolicy"],
        "env_config_maps": [f"{RELEASE}-{deployment['name']}-user-env", *[c["name"] for c in deployment["envConfigMaps"]]],
        "env_secrets": [source["name"] for source in deployment["envSecrets"]],
        "volume_mounts": deployment["volumeMounts"],
        "volumes": deployment["volumes"],
        "resources": deployment["resources"],
        "namespace": namespace,
        "service_account_name": f"{RELEASE}-dagster-user-deployments",
        "env": deployment["env"],
        "run_k8s_config": {"pod_spec_config": {"automount_service_account_token": True}},
    }}


def test_under_the_helm_chart_a_step_job_mounts_and_references_each_thing_once(secrets_in_environment):
    namespace = EXECUTOR_CONFIG["namespace"]
    settings = Settings.from_env().with_overrides(executor="k8s", profile="extreme")
    jobs = launch_steps(settings, chart_run_launcher(namespace), chart_container_context(namespace))
    for op in model_ops_by_kind()["specialist"]:
        job_namespace, job = jobs[op]
        assert job_namespace == namespace
        pod = job.spec.template.spec
        assert [volume.name for volume in pod.volumes] == [EXECUTOR_CONFIG["data_volume"]["claim"]]
        assert [mount.mount_path for mount in container(job).volume_mounts] == [EXECUTOR_CONFIG["data_volume"]["mount_path"]]
        references = [(source.config_map_ref or source.secret_ref).name for source in container(job).env_from]
        assert len(references) == len(set(references))
        assert set(EXECUTOR_CONFIG["env_config_maps"]) | set(EXECUTOR_CONFIG["env_secrets"]) <= set(references)
        # the step's own size, not the code server's it inherits
        assert resources(job) == as_strings(EXECUTOR_CONFIG["profiles"]["extreme"]["specialist"])
        env = {var.name: var.value for var in container(job).env}
        assert env["CBI_EXECUTOR"] == "k8s"


def test_the_helm_values_deploy_what_config_k8s_names():
    (deployment,) = VALUES["dagster-user-deployments"]["deployments"]
    assert VALUES["dagster-user-deployments"]["enabled"] is True
    assert deployment["name"] == "cbi-platform"
    image = deployment["image"]
    assert f"{image['repository']}:{image['tag']}" == EXECUTOR_CONFIG["image"]
    assert image["pullPolicy"] == EXECUTOR_CONFIG["image_pull_policy"]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "cbi_platform.definitions"]
    assert deployment["port"] == 3030
    assert {"name": "CBI_EXECUTOR", "value": "k8s"} in deployment["env"]
    assert [source["name"] for source in deployment["envConfigMaps"]] == EXECUTOR_CONFIG["env_config_maps"]
    assert [source["name"] for source in deployment["envSecrets"]] == EXECUTOR_CONFIG["env_secrets"]
    claim, mount_path = EXECUTOR_CONFIG["data_volume"]["claim"], EXECUTOR_CONFIG["data_volume"]["mount_path"]
    assert deployment["volumes"] == [{"name": claim, "persistentVolumeClaim": {"claimName": claim}}]
    assert deployment["volumeMounts"] == [{"name": claim, "mountPath": mount_path}]

    launcher = VALUES["runLauncher"]
    assert launcher["type"] == "K8sRunLauncher"
    k8s = launcher["config"]["k8sRunLauncher"]
    assert k8s["jobNamespace"] == EXECUTOR_CONFIG["namespace"]
    assert [source["name"] for source in k8s["envConfigMaps"]] == EXECUTOR_CONFIG["env_config_maps"]
    assert [source["name"] for source in k8s["envSecrets"]] == EXECUTOR_CONFIG["env_secrets"]

    coordinator = VALUES["dagsterDaemon"]["runCoordinator"]
    assert coordinator["enabled"] is True and coordinator["type"] == "QueuedRunCoordinator"
    # the instance's Postgres password from a Secret, never from these values
    assert VALUES["generatePostgresqlPasswordSecret"] is False
    assert VALUES["global"]["postgresqlSecretName"]
    assert not VALUES["postgresql"]["postgresqlPassword"]


def test_the_manifests_name_what_config_k8s_names():
    settings = yaml.safe_load((K8S_DIR / "configmap.yaml").read_text())
    assert [settings["kind"], settings["metadata"]["name"]] == ["ConfigMap", *EXECUTOR_CONFIG["env_config_maps"]]
    assert settings["data"]["CBI_EXECUTOR"] == "k8s"
    assert settings["data"]["CBI_WAREHOUSE"].startswith("md:")  # pods share no disk
    assert settings["data"]["CBI_DATA_DIR"] == EXECUTOR_CONFIG["data_volume"]["mount_path"]
    assert settings["data"]["CBI_PROFILE"] in EXECUTOR_CONFIG["profiles"]
    assert not set(settings["data"]) & set(SECRET_VALUES)

    api_keys, postgres = yaml.safe_load_all((K8S_DIR / "secret.example.yaml").read_text())
    assert [api_keys["kind"], api_keys["metadata"]["name"]] == ["Secret", *EXECUTOR_CONFIG["env_secrets"]]
    assert set(api_keys["stringData"]) == set(SECRET_VALUES)
    assert postgres["metadata"]["name"] == VALUES["global"]["postgresqlSecretName"]
    assert set(postgres["stringData"]) == {"postgresql-password"}
    assert not any([*api_keys["stringData"].values(), *postgres["stringData"].values()])  # placeholders only

    claim = yaml.safe_load((K8S_DIR / "pvc.yaml").read_text())
    assert claim["metadata"]["name"] == EXECUTOR_CONFIG["data_volume"]["claim"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]


def test_the_code_location_runs_its_jobs_on_kubernetes_when_CBI_EXECUTOR_is_k8s():
    script = (
        "import json\n"
        "from dagster._core.system_config.objects import ResolvedRunConfig\n"
        "from cbi_platform.definitions import defs\n"
        "job = defs.resolve_job_def('retrain_models')\n"
        "config = ResolvedRunConfig.build(job, {}).execution.execution_engine_config\n"
        "print(json.dumps({'executor': job.executor_def.name, 'image': config['job_image'],\n"
        "                  'zl_main': config['per_step_k8s_config']['models__zl_main']['container_config']}))\n"
    )
    env = {**os.environ, "CBI_EXECUTOR": "k8s", "CBI_PROFILE": "extreme"}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == {"executor": "k8s", "image": EXECUTOR_CONFIG["image"],
                      "zl_main": {"resources": as_strings(EXECUTOR_CONFIG["profiles"]["extreme"]["specialist"]),
                                  "env": [{"name": "CBI_TRAINING_CPUS", "value": "4"}]}}


@pytest.fixture
def config_dir(tmp_path) -> Path:
    for name in ("k8s.yaml", "training.yaml"):
        shutil.copy(PROJECT_ROOT / "config" / name, tmp_path / name)
    return tmp_path


def edit_k8s_yaml(config_dir: Path, change) -> None:
    data = yaml.safe_load((config_dir / "k8s.yaml").read_text())
    change(data)
    (config_dir / "k8s.yaml").write_text(yaml.safe_dump(data))


def test_an_unknown_profile_is_refused_naming_the_file(config_dir):
    from cbi_platform.defs.k8s import k8s_executor

    settings = Settings.from_env().with_overrides(executor="k8s", profile="turbo", config_dir=config_dir)
    with pytest.raises(ValueError, match=r"k8s\.yaml.*'turbo'"):
        k8s_executor(settings)


@pytest.mark.parametrize(("change", "complaint"), [
    (lambda data: data["profiles"]["extreme"]["specialist"]["requests"].update(memory="32Gi"), "more memory than its limit"),
    (lambda data: data["profiles"]["fast"].pop("timeseries"), "profile fast must size exactly"),
    (lambda data: data["profiles"].pop("best"), "training profiles best"),
    (lambda data: data.update(env_secrets=["FRED_API_KEY=sekrit-value-123"]), "env_secrets must be a Kubernetes object name"),
    (lambda data: data.update(env_vars=["FRED_API_KEY"]), r"unknown keys \['env_vars'\]"),
    (lambda data: data.update(image_pull_policy="Sometimes"), "image_pull_policy must be one of"),
    (lambda data: data["data_volume"].update(mount_path="data"), "absolute mount_path"),
    (lambda data: data["default_resources"]["limits"].update(cpu="two"), "not a Kubernetes quantity"),
], ids=["request-above-limit", "kind-missing", "training-profile-unsized", "secret-value-as-name", "unknown-key",
        "pull-policy", "relative-mount", "bad-quantity"])
def test_a_malformed_k8s_yaml_is_refused_naming_the_file(config_dir, change, complaint):
    from cbi_platform.defs.k8s import load_k8s_config

    edit_k8s_yaml(config_dir, change)
    with pytest.raises(ValueError, match=complaint) as refused:
        load_k8s_config(config_dir)
    assert str(config_dir / "k8s.yaml") in str(refused.value)
