"""Kubernetes: every step of a run in its own Kubernetes Job (CBI_EXECUTOR=k8s, README "Scaling out").

One machine must be sized for the largest step; a Job per step gets what that step needs, on
whichever node has room: four CPUs for hours for an extreme-profile specialist, a fraction of one
for the baselines. config/k8s.yaml describes the Jobs: image, namespace, the ConfigMap and Secret
they read their environment from (by name only: no setting or key value passes through Dagster's
config or a Job spec), the shared data volume, and CPU/memory per step by training profile. Pods
are sized for the deployment's CBI_PROFILE, also when a run's config asks for another profile.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

from cbi_platform.lib.config import ConfigError, load_yaml
from cbi_platform.lib.ml.models import CPUS_ENV
from cbi_platform.lib.settings import Settings

CONFIG_FILE = "k8s.yaml"
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
# what a model step is, for its size: AutoGluon tabular fits, the ensemble, the MES time series, numpy
MODEL_KINDS = ("specialist", "ensemble", "timeseries", "light")
CONFIG_KEYS = ("image", "image_pull_policy", "namespace", "env_config_maps", "env_secrets", "data_volume",
               "default_resources", "profiles")
# a Kubernetes object name (RFC 1123 label): a ConfigMap, Secret or claim name, never a value
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")
_SCALE = {None: 1.0, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30,
          "Ti": 2.0**40}

Resources = dict[str, dict[str, str]]  # {"requests": {"cpu": "1", "memory": "3Gi"}, "limits": {...}}


@dataclass(frozen=True)
class K8sConfig:
    source: Path
    image: str
    image_pull_policy: str
    namespace: str
    env_config_maps: tuple[str, ...]
    env_secrets: tuple[str, ...]
    data_claim: str
    data_mount_path: str
    default_resources: Resources
    profiles: dict[str, dict[str, Resources]]  # training profile -> model kind -> resources


def quantity(value: str) -> float:
    """A Kubernetes quantity as a number: "500m" -> 0.5 (CPUs), "16Gi" -> 17179869184 (bytes)."""
    match = _QUANTITY.match(str(value))
    if not match:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    return float(match.group(1)) * _SCALE[match.group(2)]


def _name(source: Path, key: str, value: Any) -> str:
    if not isinstance(value, str) or not _NAME.match(value):
        raise ConfigError(f"{source}: {key} must be a Kubernetes object name, got {value!r}")
    return value


def _names(source: Path, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{source}: {key} must be a list of Kubernetes object names, got {value!r}")
    return tuple(_name(source, key, one) for one in value)


def _resources(source: Path, where: str, value: Any) -> Resources:
    """requests and limits, each of cpu and memory, as strings; a request above its limit is refused here
    rather than by the API server at the step's launch."""
    if not isinstance(value, dict) or set(value) != {"requests", "limits"}:
        raise ConfigError(f"{source}: {where} needs requests and limits, got {value!r}")
    resources: Resources = {}
    for bound in ("requests", "limits"):
        amounts = value[bound]
        if not isinstance(amounts, dict) or set(amounts) != {"cpu", "memory"}:
            raise ConfigError(f"{source}: {where}.{bound} needs cpu and memory, got {amounts!r}")
        try:
            for amount in amounts.values():
                quantity(amount)
        except ValueError as exc:
            raise ConfigError(f"{source}: {where}.{bound}: {exc}") from None
        resources[bound] = {name: str(amount) for name, amount in amounts.items()}
    for name in ("cpu", "memory"):
        if quantity(resources["requests"][name]) > quantity(resources["limits"][name]):
            raise ConfigError(f"{source}: {where} requests more {name} than its limit")
    return resources


def cores(resources: Resources) -> int:
    """The whole cores a model step's fits may use: its CPU limit, at least one. A pod sees every
    core of its node, so AutoGluon left to count them would run more threads than the limit allows."""
    return max(1, math.floor(quantity(resources["limits"]["cpu"])))


def load_k8s_config(config_dir: Path) -> K8sConfig:
    """config/k8s.yaml, validated; every training profile of config/training.yaml must be sized."""
    source = Path(config_dir) / CONFIG_FILE
    data = load_yaml(source)
    if set(data) != set(CONFIG_KEYS):
        unknown, missing = sorted(set(data) - set(CONFIG_KEYS)), sorted(set(CONFIG_KEYS) - set(data))
        raise ConfigError(f"{source}: unknown keys {unknown}, missing keys {missing}")
    if data["image_pull_policy"] not in PULL_POLICIES:
        raise ConfigError(f"{source}: image_pull_policy must be one of {', '.join(PULL_POLICIES)}")
    volume = data["data_volume"]
    if not isinstance(volume, dict) or set(volume) != {"claim", "mount_path"} or not str(volume["mount_path"]).startswith("/"):
        raise ConfigError(f"{source}: data_volume needs a claim and an absolute mount_path, got {volume!r}")
    profiles = data["profiles"]
    if not isinstance(profiles, dict) or not profiles:
        raise ConfigError(f"{source}: profiles must map each training profile to its model steps' resources")
    sized = {}
    for profile, kinds in profiles.items():
        if not isinstance(kinds, dict) or set(kinds) != set(MODEL_KINDS):
            raise ConfigError(f"{source}: profile {profile} must size exactly {', '.join(MODEL_KINDS)}")
        sized[profile] = {kind: _resources(source, f"profiles.{profile}.{kind}", kinds[kind]) for kind in MODEL_KINDS}
    unsized = sorted(set(load_yaml(Path(config_dir) / "training.yaml")["profiles"]) - set(sized))
    if unsized:
        raise ConfigError(f"{source}: no resources for the training profiles {', '.join(unsized)} of training.yaml")
    return K8sConfig(
        source=source,
        image=str(data["image"]),
        image_pull_policy=data["image_pull_policy"],
        namespace=_name(source, "namespace", data["namespace"]),
        env_config_maps=_names(source, "env_config_maps", data["env_config_maps"]),
        env_secrets=_names(source, "env_secrets", data["env_secrets"]),
        data_claim=_name(source, "data_volume.claim", volume["claim"]),
        data_mount_path=str(volume["mount_path"]),
        default_resources=_resources(source, "default_resources", data["default_resources"]),
        profiles=sized,
    )


def model_step_kinds() -> dict[str, str]:
    """Op name of every model asset (its key joined by "__": models__zl_main) -> its kind."""
    from cbi_platform.defs import models

    groups = {"specialist": [models.zl_main, *models.BUCKET_MODELS], "ensemble": [models.zl_ensemble],
              "timeseries": [models.mes_timeseries],
              "light": [models.zl_linear, models.zl_baselines, *models.SNAPSHOT_ASSETS, models.training_tables]}
    kinds = {asset.node_def.name: kind for kind, assets in groups.items() for asset in assets}
    unsized = [asset.node_def.name for asset in models.MODEL_ASSETS if asset.node_def.name not in kinds]
    if unsized:  # a new model would otherwise run in a pod sized for ingest
        raise ValueError(f"model steps without a kind in defs/k8s.py: {', '.join(unsized)}")
    return kinds


def model_step_resources(config: K8sConfig, profile: str) -> dict[str, Resources]:
    """Op name of every model step -> its CPU/memory requests and limits under this training profile."""
    if profile not in config.profiles:
        raise ValueError(f"{config.source}: no resources for training profile {profile!r} (CBI_PROFILE); "
                         f"it sizes {', '.join(config.profiles)}")
    return {op: config.profiles[profile][kind] for op, kind in model_step_kinds().items()}


def executor_config(settings: Settings) -> dict[str, Any]:
    """The k8s_job_executor's config for this deployment."""
    config = load_k8s_config(settings.config_dir)
    return {
        "job_image": config.image,
        "image_pull_policy": config.image_pull_policy,
        "job_namespace": config.namespace,
        "env_config_maps": list(config.env_config_maps),
        "env_secrets": list(config.env_secrets),
        "volumes": [{"name": config.data_claim, "persistent_volume_claim": {"claim_name": config.data_claim}}],
        "volume_mounts": [{"name": config.data_claim, "mount_path": config.data_mount_path}],
        "step_k8s_config": {"container_config": {"resources": config.default_resources}},
        "per_step_k8s_config": {op: {"container_config": {"resources": resources, "env": [
                                    {"name": CPUS_ENV, "value": str(cores(resources))}]}}
                                for op, resources in model_step_resources(config, settings.profile).items()},
    }


def k8s_executor(settings: Settings) -> dg.ExecutorDefinition:
    from dagster_k8s import k8s_job_executor  # the Kubernetes client loads only where steps run on Kubernetes

    return k8s_job_executor.configured(executor_config(settings), name="k8s")
