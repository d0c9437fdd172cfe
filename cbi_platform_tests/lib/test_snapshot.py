"""Snapshots: a feature table frozen as Parquet, named by its bytes, read back only whole."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cbi_platform.lib import snapshot, warehouse


def matrix() -> pd.DataFrame:
    conn = warehouse.connect(":memory:")
    frame = conn.execute("""SELECT (DATE '2024-01-01' + i::INTEGER) AS trade_date, i * 0.5 AS feature,
                                   CASE WHEN i < 8 THEN i * 0.01 END AS target_1w
                            FROM range(10) t(i)""").df()  # as the warehouse hands a training step its rows
    conn.close()
    return frame


def test_the_same_rows_give_the_same_file_and_read_back_as_they_were(tmp_path):
    frame = matrix()
    first = snapshot.write(str(tmp_path), "zl_daily_matrix", frame)
    assert first.url == str(tmp_path / "zl_daily_matrix" / f"{first.fingerprint}.parquet") and first.rows == 10
    written = (tmp_path / "zl_daily_matrix" / f"{first.fingerprint}.parquet").stat().st_mtime_ns
    again = snapshot.write(str(tmp_path), "zl_daily_matrix", frame)
    assert again == first
    assert (tmp_path / "zl_daily_matrix" / f"{first.fingerprint}.parquet").stat().st_mtime_ns == written  # not rewritten
    back = snapshot.read(first)
    pd.testing.assert_frame_equal(back, frame)  # dtypes too: a model's version hashes them
    assert back["trade_date"].iloc[0] == pd.Timestamp(dt.date(2024, 1, 1))

    moved = frame.assign(feature=frame["feature"] + np.r_[np.zeros(9), 1e-12])
    assert snapshot.write(str(tmp_path), "zl_daily_matrix", moved).fingerprint != first.fingerprint
    assert len(list((tmp_path / "zl_daily_matrix").iterdir())) == 2


@pytest.mark.parametrize("damage", ["truncated", "replaced", "gone"])
def test_a_damaged_snapshot_is_refused_naming_it(tmp_path, damage):
    taken = snapshot.write(str(tmp_path), "bucket_fx", matrix())
    path = tmp_path / "bucket_fx" / f"{taken.fingerprint}.parquet"
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:-100])
    elif damage == "replaced":
        other = snapshot.write(str(tmp_path / "other"), "bucket_fx", matrix().head(3))
        path.write_bytes((tmp_path / "other" / "bucket_fx" / f"{other.fingerprint}.parquet").read_bytes())
    else:
        path.unlink()
    with pytest.raises(snapshot.SnapshotError, match=r"snapshot bucket_fx \(.*bucket_fx/"):
        snapshot.read(taken)


def test_a_snapshot_in_an_object_store_is_read_back_checked(s3_bucket):
    taken = snapshot.write(f"{s3_bucket}/snapshots", "mes_hourly", matrix())
    assert taken.url == f"{s3_bucket}/snapshots/mes_hourly/{taken.fingerprint}.parquet"
    pd.testing.assert_frame_equal(snapshot.read(taken), matrix())
    with pytest.raises(snapshot.SnapshotError, match="does not match its fingerprint"):
        snapshot.read(snapshot.Snapshot("mes_hourly", taken.url, "0" * 16, taken.rows))


def test_taking_the_snapshot_again_mends_a_damaged_file(tmp_path):
    taken = snapshot.write(str(tmp_path), "zl_daily_matrix", matrix())
    path = tmp_path / "zl_daily_matrix" / f"{taken.fingerprint}.parquet"
    path.write_bytes(path.read_bytes()[:-100])
    assert snapshot.write(str(tmp_path), "zl_daily_matrix", matrix()) == taken
    pd.testing.assert_frame_equal(snapshot.read(taken), matrix())


def test_the_hourly_panels_types_come_back_as_the_warehouse_gave_them(tmp_path):
    """What a model's version hashes: a changed dtype would retrain every model for nothing."""
    conn = warehouse.connect(":memory:")
    panel = conn.execute("""SELECT 'MES' AS item_id, TIMESTAMPTZ '2026-01-05 14:00:00+00' + i * INTERVAL 1 HOUR AS timestamp,
                                   TIMESTAMP '2026-01-05 14:00:00' + i * INTERVAL 1 HOUR AS bar_time,
                                   CASE WHEN i > 2 THEN i::INTEGER END AS volume, i * 1.5 AS target,
                                   (i % 2 = 0) AS session_open
                            FROM range(6) t(i)""").df()
    conn.close()
    back = snapshot.read(snapshot.write(str(tmp_path), "mes_hourly", panel))
    pd.testing.assert_frame_equal(back, panel)
    assert list(back.dtypes.astype(str)) == list(panel.dtypes.astype(str))
