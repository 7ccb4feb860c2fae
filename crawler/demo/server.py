"""Serve the demo newsroom on loopback: one ThreadingHTTPServer per outlet, each on a free port.

Feeds and sitemaps answer with ETag and Last-Modified and reply 304 to a matching
conditional GET; every request is counted so tests can see what a second crawl fetched.

Run in the foreground (for benchmarks that want the server in its own process):

    python -m crawler.demo.server --extra 500 --seeds-out demo-seeds.toml
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from email.message import Message
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from crawler.demo.model import Newsroom, Served

NOT_FOUND = (
    b'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Seite nicht gefunden'
    b"</title></head><body><h1>404 \xe2\x80\x93 Seite nicht gefunden</h1>"
    b'<p><a href="/">Zur Startseite</a></p></body></html>'
)


class RequestLog:
    """Thread-safe counts of requests by URL (path and query included) and by status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._urls: Counter[str] = Counter()
        self._statuses: Counter[tuple[str, int]] = Counter()

    def record(self, url: str, status: int) -> None:
        with self._lock:
            self._urls[url] += 1
            self._statuses[(url, status)] += 1

    def urls(self) -> Counter[str]:
        with self._lock:
            return Counter(self._urls)

    def statuses(self) -> Counter[tuple[str, int]]:
        with self._lock:
            return Counter(self._statuses)

    def clear(self) -> None:
        with self._lock:
            self._urls.clear()
            self._statuses.clear()


class _OutletServer(ThreadingHTTPServer):
    daemon_threads = True
    # Benchmarks open many connections at once; the default backlog of 5 drops some.
    request_queue_size = 128

    def __init__(self, host: str, files: Mapping[str, Served] | None, log: RequestLog) -> None:
        super().__init__((host, 0), _Handler)
        self.base = f"http://{host}:{self.server_address[1]}"
        self.files: Mapping[str, Served] = files or {}
        self.log = log


def _not_modified(served: Served, headers: Message) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match wins over If-Modified-Since."""
    inm = headers.get("If-None-Match")
    if inm is not None:
        if served.etag is None:
            return False
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or served.etag in tags
    ims = headers.get("If-Modified-Since")
    if ims is None or served.last_modified is None:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False  # an unparsable date is ignored, as the RFC says
    if since.tzinfo is None:
        return False
    return served.last_modified.replace(microsecond=0) <= since


class _Handler(BaseHTTPRequestHandler):
    server: _OutletServer
    protocol_version = "HTTP/1.1"
    server_version = "newsdedup-demo/1"

    def do_GET(self) -> None:
        self._respond(send_body=True)

    def do_HEAD(self) -> None:
        self._respond(send_body=False)

    def _respond(self, send_body: bool) -> None:
        # Real sites ignore tracking parameters: /a.html?utm_source=x serves /a.html.
        path = urlsplit(self.path).path
        served = self.server.files.get(path)
        if served is None:
            status, body, ctype = 404, NOT_FOUND, "text/html; charset=utf-8"
        elif _not_modified(served, self.headers):
            status, body, ctype = 304, b"", served.content_type
        else:
            status, body, ctype = 200, served.body, served.content_type
        self.server.log.record(self.server.base + self.path, status)
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
        if served is not None and served.etag:
            self.send_header("ETag", served.etag)
        if served is not None and served.last_modified:
            self.send_header("Last-Modified", format_datetime(served.last_modified, usegmt=True))
        self.end_headers()
        if send_body and status != 304:
            self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the RequestLog keeps what tests need; stderr stays quiet


class RunningNewsroom:
    """A newsroom being served; use as a context manager, or call close()."""

    def __init__(self, newsroom: Newsroom, host: str = "127.0.0.1") -> None:
        self.newsroom = newsroom
        self.log = RequestLog()
        self._servers: dict[str, _OutletServer] = {}
        self._threads: list[threading.Thread] = []
        try:
            for oid, site in newsroom.outlets.items():
                server = _OutletServer(host, None, self.log)
                server.files = {p: Served.of(r, server.base) for p, r in site.resources.items()}
                self._servers[oid] = server
                thread = threading.Thread(
                    target=server.serve_forever, name=f"demo-{oid}", daemon=True
                )
                thread.start()
                self._threads.append(thread)
        except BaseException:
            self.close()
            raise

    @property
    def outlets(self) -> dict[str, str]:
        """Outlet id -> base URL (http://127.0.0.1:PORT, no trailing slash)."""
        return {oid: s.base for oid, s in self._servers.items()}

    @property
    def requests(self) -> Counter[str]:
        """Requests so far by URL as requested (with query); a copy."""
        return self.log.urls()

    @property
    def statuses(self) -> Counter[tuple[str, int]]:
        """Requests so far by (URL, HTTP status); a copy."""
        return self.log.statuses()

    def reset_requests(self) -> None:
        self.log.clear()

    def url(self, outlet: str, path: str) -> str:
        return self.outlets[outlet] + path

    def seeds_toml(self) -> str:
        return self.newsroom.seeds_toml(self.outlets)

    def write_seeds(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.seeds_toml(), encoding="utf-8")
        return path

    def close(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> RunningNewsroom:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def serve_newsroom(newsroom: Newsroom, host: str = "127.0.0.1") -> RunningNewsroom:
    """Start serving every outlet of `newsroom` on its own free port of `host`."""
    return RunningNewsroom(newsroom, host)


def main(argv: list[str] | None = None) -> int:
    from crawler.demo.site import build_newsroom

    parser = argparse.ArgumentParser(
        prog="python -m crawler.demo.server",
        description="Serve the newsdedup demo newsroom on loopback until SIGTERM or Ctrl-C.",
        epilog="Example: python -m crawler.demo.server --extra 500 --seeds-out demo-seeds.toml",
    )
    parser.add_argument("--extra", type=int, default=0, help="generated articles to add")
    parser.add_argument("--seeds-out", type=Path, help="where to write the seeds file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--now",
        type=datetime.fromisoformat,
        help="the newsroom's clock, ISO 8601 with offset (default: now)",
    )
    args = parser.parse_args(argv)
    try:
        newsroom = build_newsroom(args.now, extra_articles=args.extra)
    except ValueError as exc:
        parser.error(str(exc))
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with serve_newsroom(newsroom, args.host) as running:
        seeds = args.seeds_out
        if seeds is None:
            # A temporary seeds file lives as long as the server it describes.
            fd, name = tempfile.mkstemp(prefix="newsdedup-demo-", suffix=".toml")
            os.close(fd)
            seeds = Path(name)
        running.write_seeds(seeds)
        counts = f"{len(running.outlets)} outlets, {len(newsroom.expected.articles)} articles"
        print(
            f"newsroom ready: {counts}, seeds in {seeds}",
            flush=True,
        )
        try:
            while not stop.wait(0.5):
                pass
        finally:
            if args.seeds_out is None:
                seeds.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
