"""Every model family a training profile lists is installed, so no profile silently trains fewer
families than it says (AutoGluon skips a family whose package is missing, with a log line)."""

import importlib.util

import pytest

from cbi_platform.lib.config import load_yaml
from cbi_platform_tests.conftest import CONFIG_DIR

FAMILY_PACKAGE = {"GBM": "lightgbm", "CAT": "catboost", "XGB": "xgboost", "XT": "sklearn", "RF": "sklearn",
                  "NN_TORCH": "torch", "FASTAI": "fastai", "KNN": "sklearn", "LR": "sklearn"}
PROFILES = load_yaml(CONFIG_DIR / "training.yaml")["profiles"]


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_every_family_a_profile_lists_is_installed(profile):
    families = PROFILES[profile]["hyperparameters"]
    assert set(families) <= set(FAMILY_PACKAGE), f"{profile}: unknown families {set(families) - set(FAMILY_PACKAGE)}"
    missing = {family: FAMILY_PACKAGE[family] for family in families if importlib.util.find_spec(FAMILY_PACKAGE[family]) is None}
    assert not missing, f"{profile} lists model families whose package is not installed: {missing}"
