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
