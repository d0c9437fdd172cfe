"""Serve the report directory over http on 127.0.0.1, read-only, so the report opens from the
UI's link in any browser (browsers refuse file:// links from a web page).

    make report          # http://127.0.0.1:8765/latest.html
"""

from __future__ import annotations

import argparse
import functools
import http.server
from pathlib import Path

DEFAULT_PORT = 8765


def report_url(port: int = DEFAULT_PORT) -> str:
    return f"http://127.0.0.1:{port}/latest.html"


class _ReadOnlyHandler(http.server.SimpleHTTPRequestHandler):
    def list_directory(self, path):  # no directory listings: the report and its charts only
        self.send_error(404, "not found")
        return None

    def do_PUT(self):
        self.send_error(405)

    do_POST = do_DELETE = do_PUT


def server(directory: Path, port: int = DEFAULT_PORT) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(_ReadOnlyHandler, directory=str(Path(directory).resolve()))
    return http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)


def main() -> None:
    from cbi_platform.lib.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args()
    directory = Settings.from_env().report_dir
    print(f"serving {directory} at {report_url(args.port)} (Ctrl-C stops)", flush=True)
    with server(directory, args.port) as httpd:
        try:
            httpd.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
