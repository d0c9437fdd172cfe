"""The landing zone and the reports on an S3-compatible object store: a real server (moto's) on
127.0.0.1, started for these tests; the same code as on a local directory."""

import dataclasses
import datetime as dt
import json

import boto3
import httpx
import pandas as pd
import pytest

from cbi_platform.lib.ingest import ingest
from cbi_platform.lib.landing import LandingZone
from cbi_platform.lib.sources import databento, fred
from cbi_platform.lib.sources.base import Payload, SourceError
from cbi_platform.lib.storage import S3_ENDPOINT_ENV, Location, StorageError
from cbi_platform.lib.window import Window
from cbi_platform_tests.conftest import sample_context

WINDOW = Window(dt.date(2024, 3, 4), dt.date(2024, 3, 6))


def objects(bucket_url: str) -> dict[str, bytes]:
    """Every object of the bucket but folder markers ("reports/zl/"), which the S3 client keeps
    for folders it emptied."""
    import os

    client = boto3.client("s3", endpoint_url=os.environ[S3_ENDPOINT_ENV], region_name="us-east-1")
    bucket = bucket_url.removeprefix("s3://")
    keys = [item["Key"] for item in client.list_objects_v2(Bucket=bucket).get("Contents", []) if not item["Key"].endswith("/")]
    return {key: client.get_object(Bucket=bucket, Key=key)["Body"].read() for key in keys}


def table(conn, name):
    return conn.execute(f"SELECT * EXCLUDE (ingested_at) FROM {name} ORDER BY ALL").df()


def test_a_replay_from_an_s3_landing_zone_equals_the_fetch(tmp_path, conn, s3_bucket):
    ctx = dataclasses.replace(sample_context(tmp_path), landing=LandingZone(f"{s3_bucket}/landing"))
    for spec in (databento.spec("ohlcv-1d"), fred.spec()):
        ingest(spec, WINDOW, ctx, conn)
    fetched = {name: table(conn, name) for name in ("raw.futures_ohlcv_1d", "raw.fred_observations")}
    conn.execute("DELETE FROM raw.futures_ohlcv_1d; DELETE FROM raw.fred_observations")

    def no_network(request):
        raise AssertionError(f"replay must not fetch {request.url}")

    replay = dataclasses.replace(ctx, mode="replay", transport=httpx.MockTransport(no_network))
    for spec in (databento.spec("ohlcv-1d"), fred.spec()):
        ingest(spec, WINDOW, replay, conn)
    for name, frame in fetched.items():
        assert len(frame) > 0
        pd.testing.assert_frame_equal(frame, table(conn, name), obj=name)
    stored = objects(s3_bucket)
    assert any(key.startswith("landing/databento/") for key in stored) and any(key.startswith("landing/fred/") for key in stored)
    assert not (tmp_path / "landing").exists()  # nothing went to the local disk
    assert not any(b"test-secret-key-never-shown" in body for body in stored.values())


def payload(name: str, body: bytes, etag: str | None) -> Payload:
    return Payload(source="news", name=name, format="rss", body=body, request="GET https://example.org/feed",
                   window=Window(dt.date(2024, 3, 4), dt.date(2024, 3, 5)), meta={"etag": etag} if etag else {})


def test_the_newest_landed_copy_with_validators_is_found_on_s3(s3_bucket):
    zone = LandingZone(f"{s3_bucket}/landing")
    zone.write(payload("feed.xml", b"<rss>old</rss>", '"v1"'))
    later = dataclasses.replace(payload("feed.xml", b"<rss>new</rss>", '"v2"'), window=Window(dt.date(2024, 3, 5), dt.date(2024, 3, 6)))
    zone.write(later)
    assert zone.newest("news", "feed.xml", with_any_of=("etag",)) == (b"<rss>new</rss>", {"etag": '"v2"'})
    unvalidated = dataclasses.replace(payload("feed.xml", b"<rss>newest</rss>", None),
                                      window=Window(dt.date(2024, 3, 6), dt.date(2024, 3, 7)))
    zone.write(unvalidated)
    assert zone.newest("news", "feed.xml", with_any_of=("etag",))[0] == b"<rss>new</rss>"  # a copy a 304 can stand for
    assert zone.newest("news", "other.xml") is None


def test_a_landed_record_missing_its_payload_is_an_error_naming_it(s3_bucket):
    zone = LandingZone(f"{s3_bucket}/landing")
    zone.write(payload("feed.xml", b"<rss/>", '"v1"'))
    target = zone.location.path("news", "2024-03-04", "feed.xml")
    zone.location.fs.rm(target)
    with pytest.raises(SourceError, match="feed.xml is missing but its metadata exists"):
        zone.read("news", Window(dt.date(2024, 3, 4), dt.date(2024, 3, 5)))


def test_names_from_payloads_stay_inside_the_zone(s3_bucket):
    zone = LandingZone(f"{s3_bucket}/landing")
    with pytest.raises(SourceError, match="not a plain file or folder name"):
        zone.write(payload("../../escape.xml", b"x", None))
    assert objects(s3_bucket) == {}


def test_credentials_belong_in_the_environment_not_the_url(s3_bucket):
    with pytest.raises(StorageError, match="AWS_ACCESS_KEY_ID") as refused:
        Location("s3://AKIAEXAMPLE:very-secret@bucket/landing")
    assert "very-secret" not in str(refused.value)
    with pytest.raises(StorageError, match="AWS_SECRET_ACCESS_KEY") as refused:
        Location("s3://bucket/landing?access_key=AKIAEXAMPLE&secret_key=very-secret")
    assert "very-secret" not in str(refused.value)
    with pytest.raises(StorageError, match="unsupported storage URL scheme 'gs'"):
        Location("gs://user:very-secret@bucket/landing")


def test_a_symlink_out_of_a_local_landing_zone_is_refused(tmp_path):
    zone = LandingZone(tmp_path / "landing")
    zone.write(payload("feed.xml", b"<rss/>", '"v1"'))
    secret = tmp_path / "credentials"
    secret.write_text("aws_secret_access_key = outside")
    body = tmp_path / "landing" / "news" / "2024-03-04" / "feed.xml"
    body.unlink()
    body.symlink_to(secret)  # a zone restored from an archive someone else made
    with pytest.raises(SourceError, match="leaves the landing zone"):
        zone.read("news", Window(dt.date(2024, 3, 4), dt.date(2024, 3, 5)))
    assert zone.newest("news", "feed.xml") is None


def test_a_folder_uploaded_to_s3_replaces_what_was_there(tmp_path, s3_bucket):
    location = Location(f"{s3_bucket}/reports")
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "img").mkdir(parents=True)
    (first / "latest.html").write_text("<p>one</p>")
    (first / "img" / "fan.png").write_bytes(b"png1")
    location.upload_folder(first, location.path("zl"))
    assert objects(s3_bucket) == {"reports/zl/latest.html": b"<p>one</p>", "reports/zl/img/fan.png": b"png1"}
    second.mkdir()
    (second / "latest.html").write_text("<p>two</p>")
    location.upload_folder(second, location.path("zl"))
    assert json.dumps(sorted(objects(s3_bucket))) == json.dumps(["reports/zl/latest.html"])


def test_a_report_built_for_the_bucket_is_uploaded_whole_and_nothing_stays_local(s3_bucket, monkeypatch):
    from cbi_platform.lib import report

    scratch = []

    def build(conn, out_dir, config_dir=None):  # the real build needs published forecasts; its output is files
        scratch.append(out_dir)
        (out_dir / "fan_chart.png").write_bytes(b"png")
        (out_dir / "latest.html").write_text("<p>note</p>")
        return report.Report(out_dir / "latest.html", {"fan_chart": out_dir / "fan_chart.png"}, dt.date(2026, 12, 1), "sample")

    monkeypatch.setattr(report, "build", build)
    location = Location(f"{s3_bucket}/reports")
    with report.built_at(None, location) as built:
        assert built.markdown_image("fan_chart").endswith(")")  # readable while the block runs
    assert objects(s3_bucket) == {"reports/fan_chart.png": b"png", "reports/latest.html": b"<p>note</p>"}
    assert not scratch[0].exists()
    assert location.url_for("latest.html") == f"{s3_bucket}/reports/latest.html"
