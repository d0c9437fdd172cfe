"""The report from the UI: charts inline in the asset's metadata, the full page served over http
(browsers refuse the file:// link a web page offers)."""

import base64
import datetime as dt
import threading
import urllib.error
import urllib.request

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from cbi_platform import report_server  # noqa: E402
from cbi_platform.lib.report import Report, _figure_png  # noqa: E402


def test_a_chart_is_inline_markdown_the_ui_renders(tmp_path):
    figure = plt.figure()
    plt.plot([1, 2, 3])
    png = tmp_path / "fan_chart.png"
    png.write_bytes(_figure_png(figure))
    plt.close(figure)
    built = Report(tmp_path / "latest.html", {"fan_chart": png}, dt.date(2026, 12, 1), "sample")
    markdown = built.markdown_image("fan_chart")
    assert markdown.startswith("![ZL history and P10/P50/P90 fan per horizon](data:image/png;base64,")
    assert base64.b64decode(markdown.split(",", 1)[1].rstrip(")")) == png.read_bytes()


def test_the_report_is_served_on_loopback_read_only(tmp_path):
    (tmp_path / "latest.html").write_text("<html>report</html>")
    (tmp_path.parent / "secret.txt").write_text("outside")
    httpd = report_server.server(tmp_path, port=0)
    port = httpd.server_address[1]
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        assert httpd.server_address[0] == "127.0.0.1"
        with urllib.request.urlopen(report_server.report_url(port)) as response:
            assert response.status == 200 and response.read() == b"<html>report</html>"
        for path, status in (("/", 404), ("/../secret.txt", 404)):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}")
                raise AssertionError(f"{path} was served")
            except urllib.error.HTTPError as error:
                assert error.code == status
        request = urllib.request.Request(report_server.report_url(port), data=b"x", method="POST")
        try:
            urllib.request.urlopen(request)
            raise AssertionError("POST accepted")
        except urllib.error.HTTPError as error:
            assert error.code == 405
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_the_note_says_in_words_whether_skill_and_earnings_are_beyond_noise():
    import pandas as pd

    from cbi_platform.lib.report import plain_words

    live = pd.DataFrame({"horizon": ["1w", "3m"], "target_date": [dt.date(2026, 12, 8), dt.date(2027, 3, 2)],
                         "p10_price": [65.9, 56.8], "p50_price": [68.9, 67.1], "p90_price": [72.3, 80.1],
                         "last_price": [68.6, 68.6]})
    risk = pd.DataFrame({"horizon": ["1w"], "var99_usd": [3108.0], "cvar99_usd": [3713.0]})
    skill = {"1w": {"skill": 0.005, "band": 0.013}, "3m": {"skill": -0.08, "band": 0.03}}
    summary = pd.DataFrame({"horizon": ["1w", "1w"], "rule": ["ensemble", "climatology"], "total_pnl_usd": [1033.0, 5.0],
                            "days": [504, 504], "sharpe": [0.89, 0.1], "sharpe_interval": [(0.29, 1.53), (-1.0, 1.2)]})
    lines = plain_words(live, risk, skill, summary, "cents/lb", "files")
    assert lines[0] == ("1w (to 2026-12-08): median 68.90 cents/lb, 80% between 65.90 and 72.30 (last 68.60); no evidence "
                        "of beating climatology (+0.5%, within the noise band of 1.3%).")
    assert "worse than climatology beyond the noise band (-8.0%, band 3.0%)" in lines[1]
    assert "$3,108 or worse (VaR99), $3,713" in lines[2]
    assert lines[3] == ("Trading the 1w forecast by the documented rule would have earned $1,033 per contract after costs "
                        "over 504 days: Sharpe 0.89 (90% interval 0.29 to 1.53: above zero beyond noise).")
    assert len(lines) == 6 and "real market data" in lines[4]
    assert "SAMPLE WORLD" in plain_words(live, risk, {}, summary.iloc[0:0], "cents/lb", "sample")[-2]
    few = summary.assign(judged=False, independent_periods=8.0)
    assert plain_words(live, risk, skill, few, "cents/lb", "files")[3].endswith(
        "Sharpe 0.89 (90% interval 0.29 to 1.53), but only 8 independent holding periods: too few to judge.")
