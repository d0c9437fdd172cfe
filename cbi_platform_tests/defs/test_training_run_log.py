"""While a model step trains, lib's progress lines and training warnings reach the run's log (the
Dagster UI), and nothing else of lib's chatter does, nor anything after the step; the loggers'
levels are as they were."""

import logging
from types import SimpleNamespace

from cbi_platform.defs.models import training_logs_to_run_log


def test_progress_and_training_warnings_reach_the_run_log_while_training():
    calls = []
    context = SimpleNamespace(log=SimpleNamespace(info=lambda m: calls.append(("info", m)),
                                                  warning=lambda m: calls.append(("warning", m))))
    progress, ml = logging.getLogger("cbi_platform.progress"), logging.getLogger("cbi_platform.ml")
    levels = (progress.level, ml.level)
    ml.setLevel(logging.INFO)  # a user who wants lib's info lines on their console keeps them
    try:
        with training_logs_to_run_log(context):
            progress.info("zl_main 1w: 1 of 4 fits")
            ml.warning("zl_main 1w: missing up to {'CAT': 1}")
            ml.info("not for the run log")
            assert ml.level == logging.INFO
        progress.info("after the step")
        ml.warning("after the step")
        assert calls == [("info", "zl_main 1w: 1 of 4 fits"), ("warning", "zl_main 1w: missing up to {'CAT': 1}")]
        assert progress.level == levels[0]
    finally:
        ml.setLevel(levels[1])
