"""WARC files: write a crawl's raw requests and responses, read pages back for ingest.

Writing (`RotatingWarcWriter`): gzipped WARC 1.1 files (ISO 28500) through warcio, one
gzip member per record, rotated at a maximum size. A file being written is named
`*.warc.gz.open` and renamed to `*.warc.gz` when it is closed, so a file without
`.open` is complete (a killed crawl leaves an `.open` file that is still readable
up to its last whole record). The Scrapy side is `crawler.middlewares.WarcMiddleware`.

Reading (`warc_records`): the HTML responses of a WARC or ARC file (plain or gzipped,
e.g. Common Crawl's CC-NEWS) as `crawler.ingest.Record`s, for the same extract, store
and dedup path as HTML-file ingest. Our own files carry a `Newsdedup-Meta` header on
each response (outlet, kind of request, the title and date the feed listed), so an
ingested crawl stores the same rows the crawl did.

Spec: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/
"""

from __future__ import annotations

import gzip
import io
import json
import os
import socket
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

if TYPE_CHECKING:
    from crawler.ingest import Record

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".warc.gz.open")
META_HEADER = "Newsdedup-Meta"
# Hop-by-hop framing the downloader already undid: the stored body is de-chunked.
_DROP_RESPONSE_HEADERS = {"transfer-encoding"}


class RotatingWarcWriter:
    """Append request/response pairs to `directory/PREFIX-TIMESTAMP-SERIAL-PID.warc.gz`."""

    def __init__(self, directory: str | Path, *, max_size: int = 1024**3, prefix: str = "newsdedup",
                 info: dict[str, str] | None = None) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_size = max(1, int(max_size))
        self.prefix = prefix
        self.info = info or {}
        self.serial = 0
        self.stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self.fh: IO[bytes] | None = None
        self.path: Path | None = None  # final name of the file being written
        self.writer: WARCWriter | None = None
        self.closed_files: list[Path] = []
        self.records = 0

    def _open(self) -> None:
        self.serial += 1
        name = f"{self.prefix}-{self.stamp}-{self.serial:05d}-{os.getpid()}.warc.gz"
        self.path = self.directory / name
        self.fh = open(f"{self.path}.open", "wb")  # noqa: SIM115 - closed in _close_file
        self.writer = WARCWriter(self.fh, gzip=True, warc_version="WARC/1.1")
        info = {"software": "newsdedup (warcio)", "format": "WARC File Format 1.1",
                "hostname": socket.gethostname(), **self.info}
        self.writer.write_record(self.writer.create_warcinfo_record(name, info))

    def _close_file(self) -> None:
        if self.fh is None or self.path is None:
            return
        fh, path = self.fh, self.path
        self.fh = self.writer = self.path = None  # (not tried twice if this fails)
        fh.close()
        os.replace(f"{path}.open", path)
        self.closed_files.append(path)

    def write(self, *, url: str, method: str, request_headers: list[tuple[str, str]],
              request_body: bytes, status: int, response_headers: list[tuple[str, str]],
              body: bytes, meta: dict[str, Any] | None = None) -> None:
        """One request record and its response record (WARC-Concurrent-To links them)."""
        if self.fh is None:
            self._open()
        assert self.writer is not None and self.fh is not None
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        req_headers = list(request_headers)
        if not any(k.lower() == "host" for k, _ in req_headers):
            req_headers.insert(0, ("Host", parts.netloc))
        req = self.writer.create_warc_record(
            url, "request", payload=io.BytesIO(request_body),
            http_headers=StatusAndHeaders(f"{method} {target} HTTP/1.1", req_headers,
                                          is_http_request=True),
        )
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        resp_headers = [(k, v) for k, v in response_headers if k.lower() not in _DROP_RESPONSE_HEADERS]
        extra = {META_HEADER: json.dumps(meta, ensure_ascii=True, sort_keys=True)} if meta else None
        resp = self.writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), warc_headers_dict=extra,
            http_headers=StatusAndHeaders(f"{status} {reason}", resp_headers, protocol="HTTP/1.1"),
        )
        self.writer.write_request_response_pair(req, resp)
        self.records += 2
        if self.fh.tell() >= self.max_size:
            self._close_file()

    def close(self) -> None:
        self._close_file()


# -- reading -----------------------------------------------------------------------------


@dataclass
class WarcReport:
    """What reading one WARC file found; the ingest summary prints it."""

    path: str
    records: int = 0  # WARC records read, of any type
    pages: int = 0  # HTML responses handed to extraction
    skipped: Counter[str] = field(default_factory=Counter)  # why a response was not a page
    types: Counter[str] = field(default_factory=Counter)  # records by WARC-Type
    error: str | None = None  # the damage that ended reading early, one line


def is_warc(path: str | Path) -> bool:
    return Path(path).name.lower().endswith(WARC_SUFFIXES)


def _looks_like_html(head: bytes) -> bool:
    head = head.lstrip()[:512].lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def warc_records(path: str | Path, report: WarcReport | None = None, *,
                 article_kinds: tuple[str, ...] = ("article",)) -> Iterator[Record]:
    """The HTML 200 responses of a WARC/ARC file as ingest records, in file order.

    Responses our own crawl wrote for feeds, sitemaps, robots.txt and homepages (their
    `Newsdedup-Meta` kind is not in `article_kinds`) are skipped, as are non-HTML
    bodies and other statuses, each counted in `report.skipped`. A corrupt or truncated
    file ends the iteration with `report.error` set; the records before it are yielded.
    """
    from crawler.ingest import Record

    path = Path(path)
    report = report if report is not None else WarcReport(str(path))
    offset = 0
    try:
        with _open_stream(path) as fh:
            it = ArchiveIterator(fh, arc2warc=True)
            for rec in it:
                report.records += 1
                offset = it.offset
                record = _page(rec, report, article_kinds)
                _drain(rec)  # reads what was not read, to see whether the record is whole
                if record is not None:
                    url, meta, body, ctype = record
                    report.pages += 1
                    yield Record(
                        "html", url, meta.get("outlet"), body=body, content_type=ctype,
                        canonical=True, title=meta.get("listed_title"),
                        published=meta.get("listed_published"),
                        fetched=_iso(rec.rec_headers.get_header("WARC-Date")),
                        source=f"{path}@{offset}",
                    )
    except (ArchiveLoadFailed, zlib.error, EOFError, OSError, ValueError) as e:
        detail = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        report.error = (
            f"{path}: corrupt or truncated WARC after {report.records} records "
            f"(byte {offset} of the uncompressed stream): {detail[:200]}"
        )


def _open_stream(path: Path) -> IO[bytes]:
    """The file's uncompressed bytes. Gzip is undone by the standard library, which (unlike
    warcio's reader) raises on a truncated member or a bad CRC; the first bytes must start
    a WARC or ARC record."""
    raw = open(path, "rb")  # noqa: SIM115 - returned, closed by the caller
    if raw.read(2) == b"\x1f\x8b":
        raw.seek(0)
        stream: IO[bytes] = _Strict(gzip.GzipFile(fileobj=raw, mode="rb"))  # type: ignore[assignment]
    else:
        raw.seek(0)
        stream = raw
    head = stream.read(16)
    if head and not head.lstrip().startswith((b"WARC/", b"filedesc://")):
        stream.close()
        raw.close()
        raise ValueError(f"not a WARC or ARC file (it starts with {head[:12]!r})")
    stream.seek(0)
    return stream


class Damaged(ValueError):
    """The compressed stream ends early: raised where warcio would take EOFError for the end."""


class _Strict(io.RawIOBase):
    """A GzipFile whose truncation is an error, not a quiet end of file."""

    def __init__(self, inner: gzip.GzipFile) -> None:
        self.inner = inner

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, pos: int, whence: int = 0) -> int:
        return self.inner.seek(pos, whence)

    def tell(self) -> int:
        return self.inner.tell()

    def read(self, size: int = -1) -> bytes:
        try:
            # read1: what one chunk of input gives, so the data before damage comes out first.
            return self.inner.read1(size if size is not None and size >= 0 else 1 << 16)
        except EOFError as e:
            raise Damaged(f"the gzip stream ends early ({e})") from None

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.inner.close()
        super().close()


def _drain(rec: Any) -> None:
    raw = rec.raw_stream
    while raw.read(1 << 16):
        pass
    if getattr(raw, "limit", 0) > 0:
        raise EOFError(f"the record of {rec.rec_headers.get_header('WARC-Target-URI') or '?'} "
                       f"ends {raw.limit} bytes early")


def _page(rec: Any, report: WarcReport, article_kinds: tuple[str, ...]
          ) -> tuple[str, dict[str, Any], bytes, str | None] | None:
    """(url, our meta, body, content type) when the record is an HTML page, else None
    (with the reason counted in `report.skipped` for responses)."""
    rtype = rec.rec_type
    report.types[rtype] += 1
    if rtype not in ("response", "resource"):
        return None
    url = rec.rec_headers.get_header("WARC-Target-URI") or ""
    meta = _meta(rec.rec_headers.get_header(META_HEADER))
    if meta.get("kind") and meta["kind"] not in article_kinds:
        report.skipped[f"crawl_{meta['kind']}"] += 1
        return None
    status, ctype = 200, None
    if rtype == "response":
        if rec.http_headers is None:
            report.skipped["not_http"] += 1
            return None
        code = rec.http_headers.get_statuscode() or "0"
        status = int(code) if code.isdigit() else 0
        ctype = rec.http_headers.get_header("Content-Type")
    else:
        ctype = rec.rec_headers.get_header("Content-Type")
    if status != 200:
        report.skipped[f"http_{status}"] += 1
        return None
    if not url.startswith(("http://", "https://")):
        report.skipped["not_http_url"] += 1
        return None
    if ctype and "html" not in ctype.lower():
        report.skipped["not_html"] += 1
        return None
    body = rec.content_stream().read()
    if not ctype and not _looks_like_html(body):
        report.skipped["not_html"] += 1
        return None
    if not body.strip():
        report.skipped["empty"] += 1
        return None
    return url, meta, body, ctype


def _meta(value: str | None) -> dict[str, Any]:
    if not value:
        return {}
    try:
        meta = json.loads(value)
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _iso(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).isoformat(
            timespec="seconds")
    except ValueError:
        return None
