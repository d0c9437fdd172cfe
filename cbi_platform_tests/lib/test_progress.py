import logging

from cbi_platform.lib.progress import Progress


def test_progress_line_counts_elapsed_and_estimates_what_is_left(caplog):
    now = [100.0]
    progress = Progress("zl_main 1w", 4, "fits", clock=lambda: now[0])
    now[0] = 130.0
    with caplog.at_level(logging.INFO, logger="cbi_platform.progress"):
        first = progress.advance(detail="walk-forward fold 1 of 3")
        now[0] = 160.0
        last = progress.advance(3, "final fit")
    assert first == "zl_main 1w: 1 of 4 fits (walk-forward fold 1 of 3), 30 s elapsed, ~90 s left"
    assert last == "zl_main 1w: 4 of 4 fits (final fit), 60 s elapsed, ~0 s left"
    assert [r.getMessage() for r in caplog.records] == [first, last]
