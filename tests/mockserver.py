"""A hostile little outlet on 127.0.0.1 for crawl tests: every kind of bad input a real
crawl meets, each behind its own path, plus a few good articles to show the crawl goes on.

Used by the tests as a context manager (`with HostileOutlet() as site: site.url("/x")`);
it counts requests per path so tests can check what a crawl fetched.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SENTENCES = [
    "Der Stadtrat hat am Dienstagabend nach langer Debatte einen neuen Haushalt beschlossen.",
    "Die Opposition kritisierte die geplanten Kürzungen bei den Bibliotheken scharf.",
    "Nach Angaben der Kämmerin fehlen im kommenden Jahr rund zwölf Millionen Euro.",
    "Die Gewerbesteuer soll deshalb um fünf Punkte steigen, was der Handel ablehnt.",
    "Ein Sprecher der Industrie- und Handelskammer sprach von einem falschen Signal.",
    "Die Verwaltung verweist auf gestiegene Energiekosten und höhere Tarifabschlüsse.",
    "Im Frühjahr soll ein Bürgerforum über weitere Sparvorschläge beraten.",
    "Die Schulen sind von den Kürzungen ausdrücklich ausgenommen, betonte der Bürgermeister.",
]


def article_html(n: int, *, charset: str = "utf-8", title: str | None = None) -> str:
    title = title or f"Haushalt beschlossen: Stadtrat streitet über Kürzungen, Teil {n}"
    paras = "\n".join(
        f"<p>{SENTENCES[(n + i) % len(SENTENCES)]} {SENTENCES[(n + i + 3) % len(SENTENCES)]} "
        f"Meldung {n}, Absatz {i}.</p>"
        for i in range(8)
    )
    return f"""<!DOCTYPE html>
<html lang="de"><head><meta charset="{charset}"><title>{title} | Testblatt</title>
<meta property="og:title" content="{title}">
<meta property="article:published_time" content="2025-03-14T10:{n % 60:02d}:00+01:00">
</head><body><nav><a href="/">Start</a> <a href="/politik/">Politik</a></nav>
<article><h1>{title}</h1>{paras}</article>
<footer>Impressum · Datenschutz</footer></body></html>"""


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = self.path.split("?", 1)[0]
        with self.server.lock:
            self.server.requests[path] += 1
            self.server.times.setdefault(path, []).append(time.monotonic())
            count = self.server.requests[path]
        route = self.server.routes.get(path)
        if route is None and path.startswith("/many/"):
            route = ("html", article_html(int(path.rsplit("/", 1)[1].split(".")[0])))
        if route is None:
            return self._send(404, b"not found", "text/plain")
        kind, payload = route
        if kind == "html":
            extra = {"tdm-reservation": self.server.tdm_header} if self.server.tdm_header else {}
            return self._send(200, payload.encode("utf-8"), "text/html; charset=utf-8", extra)
        if kind == "bytes":
            body, ctype = payload
            return self._send(200, body, ctype)
        if kind == "status":
            return self._send(payload, b"", "text/plain")
        if kind == "redirect":
            self.send_response(302)
            self.send_header("Location", payload)
            self.send_header("Content-Length", "0")
            return self.end_headers()
        if kind == "slow":
            time.sleep(payload)
            return self._send(200, article_html(99).encode(), "text/html; charset=utf-8")
        if kind == "huge":
            return self._stream_huge(payload)
        if kind == "retry_after":
            # First answer: 429/503 with Retry-After; afterwards the article.
            status, wait, body = payload
            if count == 1:
                self.send_response(status)
                self.send_header("Retry-After", str(wait))
                self.send_header("Content-Length", "0")
                return self.end_headers()
            return self._send(200, body.encode(), "text/html; charset=utf-8")
        raise AssertionError(kind)

    def _send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _stream_huge(self, limit: int) -> None:
        # No Content-Length: the client only learns the size by reading. Stops by itself
        # after `limit` bytes so a client that never gives up can't keep us busy.
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Connection", "close")
        self.end_headers()
        chunk = b"<p>" + b"Endlos " * 1000 + b"</p>\n"
        sent = 0
        try:
            self.wfile.write(b"<html><body>")
            while sent < limit:
                self.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients hanging up on the slow and huge pages is the point of those pages
    routes: dict[str, tuple[str, Any]]
    requests: Counter[str]
    times: dict[str, list[float]]  # path -> monotonic time of each request
    lock: threading.Lock
    tdm_header: str | None  # a `tdm-reservation` header on every article page


class HostileOutlet:
    """One outlet whose feed lists every kind of bad page, and some good ones."""

    def __init__(self, *, robots: str = "User-agent: *\nDisallow: /intern/\n", many: int = 0,
                 slow_seconds: float = 4.0, huge_bytes: int = 50 * 1024 * 1024,
                 tdmrep: bytes | None = None, tdm_header: str | None = None) -> None:
        self.robots = robots
        self.tdmrep = tdmrep  # body of /.well-known/tdmrep.json (404 when None)
        self.tdm_header = tdm_header
        self.many = many
        self.slow_seconds = slow_seconds
        self.huge_bytes = huge_bytes
        self.server: _Server | None = None

    def __enter__(self) -> HostileOutlet:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.requests = Counter()
        server.times = {}
        server.lock = threading.Lock()
        server.tdm_header = self.tdm_header
        self.server = server
        self.base = f"http://127.0.0.1:{server.server_address[1]}"
        server.routes = self._routes()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    @property
    def requests(self) -> Counter[str]:
        assert self.server is not None
        return self.server.requests

    @property
    def times(self) -> dict[str, list[float]]:
        assert self.server is not None
        return self.server.times

    def url(self, path: str) -> str:
        return self.base + path

    # Paths the feed lists, with what each should end as in the crawl.
    BAD_ARTICLES = {
        "/good/1.html": "stored",
        "/good/2.html": "stored",
        "/latin1.html": "stored",  # header says utf-8, bytes are latin-1
        "/malformed.html": "stored",  # unclosed tags, truncated mid-element
        "/empty.html": "skipped",
        "/binary.pdf": "skipped",
        "/missing.html": "failed",
        "/gone.html": "failed",
        "/error.html": "failed",
        "/loop1.html": "failed",
        "/slow.html": "failed",
        "/huge.html": "failed",
        "/intern/secret.html": "skipped",  # robots.txt disallows it
        "/ratelimited.html": "stored",  # 429 with Retry-After: 1, then 200
        "/unavailable.html": "failed",  # 503 with a Retry-After of an hour: given up
    }

    def _routes(self) -> dict[str, tuple[str, Any]]:
        latin1 = article_html(3, title="Bürgerforum über Kürzungen: Grüße aus Köln").encode("latin-1")
        routes: dict[str, tuple[str, Any]] = {
            "/robots.txt": ("bytes", (self.robots.encode(), "text/plain")),
            "/": ("html", "<html><body><a href='/good/1.html'>eins</a></body></html>"),
            "/good/1.html": ("html", article_html(1)),
            "/good/2.html": ("html", article_html(2)),
            "/latin1.html": ("bytes", (latin1, "text/html; charset=utf-8")),
            "/malformed.html": ("bytes", (article_html(4).encode()[:-400].replace(b"</p>", b""),
                                          "text/html")),
            "/empty.html": ("bytes", (b"", "text/html; charset=utf-8")),
            "/binary.pdf": ("bytes", (b"%PDF-1.4\n" + bytes(range(256)) * 20, "application/pdf")),
            "/gone.html": ("status", 410),
            "/error.html": ("status", 500),
            "/moved.html": ("redirect", "/many/42.html"),
            "/loop1.html": ("redirect", "/loop2.html"),
            "/loop2.html": ("redirect", "/loop1.html"),
            "/slow.html": ("slow", self.slow_seconds),
            "/huge.html": ("huge", self.huge_bytes),
            "/intern/secret.html": ("html", article_html(5)),
            "/ratelimited.html": ("retry_after", (429, 1, article_html(6))),
            "/unavailable.html": ("retry_after", (503, 3600, article_html(7))),
            "/feed.xml": ("bytes", (self._feed(list(self.BAD_ARTICLES)), "application/rss+xml")),
            "/ratelimit-feed.xml": ("bytes", (self._feed(
                # Listed last: Scrapy's default LIFO queue fetches it first.
                [f"/many/{i}.html" for i in range(6)] + ["/ratelimited.html"]),
                "application/rss+xml")),
            "/rerun-feed.xml": ("bytes", (self._feed(["/moved.html", "/", "/good/1.html",
                                                      "/missing.html"]), "application/rss+xml")),
            "/broken-feed.xml": ("bytes", (b"<rss><channel><item><title>Abgeschnitt", "text/xml")),
            "/broken-feed.json": ("bytes", (b'{"version": "https://jsonfeed.org/version/1.1", '
                                            b'"items": [{"id": "1", "url": "/good/',
                                            "application/feed+json")),
            "/not-a-feed.xml": ("bytes", (b"\x00\x01garbage\xff" * 50, "application/xml")),
            "/sitemap.xml.gz": ("bytes", (b"\x1f\x8b\x08\x00" + bytes(range(7, 250)) * 4,
                                          "application/x-gzip")),
        }
        if self.tdmrep is not None:
            routes["/.well-known/tdmrep.json"] = ("bytes", (self.tdmrep, "application/json"))
        if self.many:
            routes["/many-feed.xml"] = (
                "bytes", (self._feed([f"/many/{i}.html" for i in range(self.many)]),
                          "application/rss+xml"))
        return routes

    def _feed(self, paths: list[str]) -> bytes:
        now = formatdate(usegmt=True)
        items = "".join(
            f"<item><title>Meldung {i}</title><link>{self.base}{p}</link>"
            f"<pubDate>{now}</pubDate></item>"
            for i, p in enumerate(paths)
        )
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>Testblatt</title><link>{self.base}/</link>{items}</channel></rss>").encode()

    def seeds_toml(self, outlet_id: str = "testblatt", *, feeds: list[str] | None = None,
                   sitemaps: list[str] | None = None) -> str:
        feeds = feeds if feeds is not None else ["/feed.xml"]
        return "\n".join([
            "[[outlet]]",
            f'id = "{outlet_id}"',
            'name = "Testblatt"',
            f'homepage = "{self.base}/"',
            'country = "DE"',
            'language = "de"',
            "feeds = [" + ", ".join(f'"{self.base}{f}"' for f in feeds) + "]",
            "news_sitemaps = []",
            "sitemaps = [" + ", ".join(f'"{self.base}{s}"' for s in (sitemaps or [])) + "]",
            "",
        ])
