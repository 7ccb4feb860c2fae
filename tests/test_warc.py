"""WARC: a real crawl of the demo newsroom writes it, `newsdedup ingest` reads it back into
the same articles and clusters; rotation; truncated, corrupt and non-HTML input."""

from __future__ import annotations

import gzip
import io
import re
import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.demo.server import serve_newsroom
from crawler.demo.site import build_newsroom
from crawler.warc import RotatingWarcWriter, WarcReport, warc_records
from newsdedup.cli import cli
from tests.crawling import FAST, newsdedup, query
from tests.mockserver import article_html

NOW = datetime.now(UTC).replace(microsecond=0)
ARTICLE_COLUMNS = ("id, url, outlet, title, text, published, modified, language, authors, agencies, "
                   "site_name, description, keywords, image, paywall")


def records(path: Path) -> list:
    with open(path, "rb") as f:
        out = []
        for rec in ArchiveIterator(f):
            body = rec.content_stream().read()
            out.append((rec.rec_type, rec.rec_headers, rec.http_headers, body))
        return out


@pytest.mark.slow
def test_demo_crawl_writes_warc_and_ingesting_it_gives_the_same_articles_and_clusters(tmp_path):
    crawl_db, again_db, warc_dir = tmp_path / "crawl.db", tmp_path / "again.db", tmp_path / "warc"
    with serve_newsroom(build_newsroom(NOW)) as running:
        seeds = running.write_seeds(tmp_path / "demo-outlets.toml")
        running.reset_requests()
        result = newsdedup("crawl", "--db", str(crawl_db), "--seeds", str(seeds), "--warc-dir",
                           str(warc_dir), *FAST)
        assert result.returncode == 0, result.stderr[-3000:]
        served = sum(running.requests.values())
        robots = {u: n for u, n in running.requests.items() if u.endswith("/robots.txt")}
        # elbe-kurier names its sitemap only in robots.txt: the spider read it there.
        assert running.requests[running.outlets["elbe-kurier"] + "/sitemap-index.xml"] == 1
    # Each outlet's robots.txt is fetched once (by the TDM probe; Scrapy's robots.txt
    # middleware and the spider's look for `Sitemap:` lines get that response).
    assert len(robots) >= 5 and set(robots.values()) == {1}, robots
    assert f"raw pages: {warc_dir}/ (1 WARC files" in result.stdout

    files = sorted(warc_dir.iterdir())
    assert [f.name.endswith(".warc.gz") for f in files] == [True]  # closed: no `.open` left
    recs = records(files[0])
    types = [r[0] for r in recs]
    assert types[0] == "warcinfo"
    # Every request the newsroom answered is in the file, with the request that asked for it.
    assert types.count("response") == types.count("request") == served
    requests = [r for r in recs if r[0] == "request"]
    assert all(r[2].get_header("User-Agent").startswith("newsdedup/") for r in requests)
    assert any(r[1].get_header("WARC-Target-URI").endswith("/robots.txt") for r in requests)
    statuses = {r[2].get_statuscode() for r in recs if r[0] == "response"}
    assert {"200", "404"} <= statuses  # tdmrep.json of outlets without one is a 404, kept too

    result = CliRunner().invoke(cli, ["ingest", "--db", str(again_db), str(warc_dir)])
    assert result.exit_code == 0, result.output
    n = query(crawl_db, "SELECT count(*) FROM articles")[0][0]
    assert f"stored   {n}" in result.output
    assert "crawl_feed" in result.output and "crawl_tdm" in result.output

    def table(db, sql):
        return query(db, sql)

    articles = f"SELECT {ARTICLE_COLUMNS} FROM articles ORDER BY id"
    assert table(again_db, articles) == table(crawl_db, articles)
    for sql in ("SELECT * FROM clusters ORDER BY cluster_id",
                "SELECT * FROM cluster_members ORDER BY article_id"):
        assert table(again_db, sql) == table(crawl_db, sql)
    assert query(crawl_db, "SELECT count(*) FROM clusters WHERE size > 1")[0][0] >= 5
    # The demo's opted-out outlet was recorded on the way.
    assert query(crawl_db, "SELECT outlet FROM outlet_tdm WHERE opted_out = 1") == [("spree-depesche",)]


def _crawl_losing_the_warc_directory(tmp_path, at: int):
    """Crawl the newsroom into crawl.db with WARC files in warc/, which the newsroom
    removes as it answers request number `at`: a real file-system failure, no mock.
    Returns the crawl's result, the database, and the WARC files open at that moment."""
    db, warc_dir = tmp_path / "crawl.db", tmp_path / "warc"
    open_then: list = []
    with serve_newsroom(build_newsroom(NOW)) as running:
        seeds = running.write_seeds(tmp_path / "demo-outlets.toml")
        record = running.log.record
        answered = 0
        # (the outlets answer on threads of their own: an answer sent while the directory
        # is being removed would let the crawler open a file in it half-way)
        lock = threading.Lock()

        def record_and_remove(url: str, status: int) -> None:
            nonlocal answered
            with lock:
                answered += 1
                if answered == at:
                    open_then.extend(warc_dir.glob("*.warc.gz.open"))
                    shutil.rmtree(warc_dir)
            record(url, status)

        running.log.record = record_and_remove  # type: ignore[method-assign]
        result = newsdedup("crawl", "--db", str(db), "--seeds", str(seeds), "--warc-dir",
                           str(warc_dir), *FAST)
    assert answered > at
    assert result.returncode == 0, result.stderr[-3000:]
    # The run stays ok, and nothing else was lost: every article of the newsroom is stored.
    [(status, stored)] = query(db, "SELECT status, stored FROM crawl_runs")
    assert status == "ok" and stored == query(db, "SELECT count(*) FROM articles")[0][0] > 20
    return result, db, open_then


@pytest.mark.slow
def test_warc_writing_failing_mid_crawl_is_in_the_run_summary_and_the_crawl_goes_on(tmp_path):
    # The directory vanishes with the first answer, before any WARC file is opened: the
    # first write fails.
    result, db, open_then = _crawl_losing_the_warc_directory(tmp_path, at=1)
    assert not open_then
    assert re.search(r"^  error: WARC writing stopped at http://127\.0\.0\.1:\d+/\S+: .*No such file",
                     result.stdout, re.M), result.stdout
    assert "raw pages" not in result.stdout
    [(error,)] = query(db, "SELECT error FROM crawl_runs")
    assert error.startswith("WARC writing stopped at ")


@pytest.mark.slow
def test_warc_file_failing_to_close_is_in_the_run_summary(tmp_path):
    # The directory vanishes once the crawl has written into its file: the writes that
    # follow still land (in the open, now nameless file), and closing it at the end fails
    # for real, as the file cannot be given its final name.
    result, db, open_then = _crawl_losing_the_warc_directory(tmp_path, at=25)
    assert open_then
    assert re.search(r"^  error: closing the WARC file failed: .*No such file", result.stdout,
                     re.M), result.stdout
    [(error,)] = query(db, "SELECT error FROM crawl_runs")
    assert error.startswith("closing the WARC file failed: ")


def test_an_unusable_warc_directory_stops_the_crawl_before_it_starts(tmp_path):
    (tmp_path / "a-file").write_text("")
    seeds = tmp_path / "outlets.toml"
    seeds.write_text('[[outlet]]\nid = "x"\nname = "X"\nhomepage = "http://127.0.0.1:9/"\n'
                     'country = "DE"\nlanguage = "de"\n')
    result = newsdedup("crawl", "--db", str(tmp_path / "t.db"), "--seeds", str(seeds),
                       "--warc-dir", str(tmp_path / "a-file" / "warc"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: cannot write WARC files to {tmp_path}/a-file/warc/: Not a directory "
        "(choose another --warc-dir, or --no-warc)"
    ]
    assert not (tmp_path / "t.db").exists()


def exchange(writer: RotatingWarcWriter, url: str, body: bytes, *, status: int = 200,
             ctype: str = "text/html; charset=utf-8", meta: dict | None = None) -> None:
    writer.write(url=url, method="GET", request_headers=[("User-Agent", "test")], request_body=b"",
                 status=status, response_headers=[("Content-Type", ctype)], body=body, meta=meta)


def page(n: int) -> bytes:
    return article_html(n).encode("utf-8")


def test_files_rotate_and_are_renamed_when_complete(tmp_path):
    writer = RotatingWarcWriter(tmp_path, max_size=1500)
    for n in range(6):
        exchange(writer, f"http://127.0.0.1:1/a/{n}.html", page(n))
        open_files = [p for p in tmp_path.iterdir() if p.name.endswith(".open")]
        assert len(open_files) <= 1
    writer.close()
    files = sorted(tmp_path.iterdir())
    assert len(files) >= 3 and all(f.name.endswith(".warc.gz") for f in files)
    seen = []
    for f in files:
        recs = records(f)
        assert recs[0][0] == "warcinfo"
        seen += [r[1].get_header("WARC-Target-URI") for r in recs if r[0] == "response"]
    assert seen == [f"http://127.0.0.1:1/a/{n}.html" for n in range(6)]


def ingest(tmp_path, *inputs):
    tmp_path.mkdir(exist_ok=True)
    db = tmp_path / "news.db"
    result = CliRunner().invoke(cli, ["ingest", "--db", str(db), "--workers", "1", "--no-dedup",
                                      *map(str, inputs)])
    stored = query(db, "SELECT url FROM articles ORDER BY url") if db.exists() else []
    return result, [u for (u,) in stored]


def three_pages(path: Path) -> Path:
    writer = RotatingWarcWriter(path.parent, prefix=path.name)
    for n in range(3):
        exchange(writer, f"https://www.testblatt.example/a/{n}.html", page(n))
    writer.close()
    (file,) = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    return file


def test_truncated_warc_keeps_what_came_before_and_says_where(tmp_path):
    file = three_pages(tmp_path / "t")
    plain = tmp_path / "plain.warc"
    whole = gzip.decompress(file.read_bytes())
    plain.write_bytes(whole[: whole.rindex(b"WARC-Type: response") + 400])
    result, stored = ingest(tmp_path / "p", plain)
    assert result.exit_code == 1 and "ends" in result.output and "bytes early" in result.output
    assert len(stored) == 2
    with open(file, "rb") as f:
        it = ArchiveIterator(f)
        starts = [it.offset for rec in it if rec.rec_type == "response"]
    file.write_bytes(file.read_bytes()[: starts[-1] + 200])  # the last response cut short
    result, stored = ingest(tmp_path, file)
    assert result.exit_code == 1
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"Error: {file}: corrupt or truncated WARC after ")
    assert last.endswith("the pages before the damage were ingested")
    assert stored == [f"https://www.testblatt.example/a/{n}.html" for n in range(2)]


def test_corrupt_bytes_in_the_middle_and_a_file_that_is_no_warc(tmp_path):
    file = three_pages(tmp_path / "c")
    data = bytearray(file.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 40] = b"\x00garbage" * 5
    file.write_bytes(bytes(data))
    result, stored = ingest(tmp_path, file)
    assert result.exit_code == 1 and "corrupt or truncated WARC" in result.output
    assert 1 <= len(stored) < 3
    junk = tmp_path / "junk.warc.gz"
    junk.write_bytes(b"this is not a WARC file at all\n" * 20)
    report = WarcReport(str(junk))
    assert list(warc_records(junk, report)) == []
    assert report.error and report.error.startswith(f"{junk}: corrupt or truncated WARC after 0 records")
    assert "not a WARC or ARC file" in report.error
    gz_junk = tmp_path / "gz.warc.gz"
    gz_junk.write_bytes(gzip.compress(b"<html>not a warc</html>"))
    result, _ = ingest(tmp_path, gz_junk)
    assert result.exit_code == 1 and "corrupt or truncated WARC after 0 records" in result.output


def test_only_html_200_responses_are_pages(tmp_path):
    """A foreign (CC-NEWS-like) WARC: no Newsdedup-Meta, every kind of record; uncompressed."""
    path = tmp_path / "cc.warc"
    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=False)

        def response(url, body, ctype, status="200 OK"):
            headers = [("Content-Type", ctype)] if ctype else []
            w.write_record(w.create_warc_record(
                url, "response", payload=io.BytesIO(body),
                http_headers=StatusAndHeaders(status, headers, protocol="HTTP/1.1")))

        w.write_record(w.create_warcinfo_record("cc.warc", {"software": "test"}))
        response("https://www.taz.example/a/1.html", page(1), "text/html; charset=utf-8")
        response("https://www.taz.example/a/2.pdf", b"%PDF-1.4 ...", "application/pdf")
        response("https://www.taz.example/feed.json", b"{}", "application/json")
        response("https://www.taz.example/gone.html", page(5), "text/html", status="404 Not Found")
        response("https://www.taz.example/a/3.html", page(3), None)  # no type: sniffed as HTML
        response("https://www.taz.example/a/4.bin", b"\x00\x01\x02", None)
        w.write_record(w.create_warc_record(
            "https://www.taz.example/a/1.html", "request", payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders("GET /a/1.html HTTP/1.1", [("Host", "www.taz.example")],
                                          is_http_request=True)))
        w.write_record(w.create_warc_record("dns:www.taz.example", "resource",
                                            payload=io.BytesIO(b"1.2.3.4"),
                                            warc_content_type="text/dns"))
    result, stored = ingest(tmp_path, path)
    assert result.exit_code == 0, result.output
    assert stored == ["https://www.taz.example/a/1.html", "https://www.taz.example/a/3.html"]
    assert query(tmp_path / "news.db", "SELECT DISTINCT outlet FROM articles") == [("taz.example",)]
    assert "9 records, 2 HTML pages; not pages: (not_html 3, http_404 1, not_http_url 1)" in result.output


def test_own_meta_gives_outlet_and_listed_fallbacks(tmp_path):
    writer = RotatingWarcWriter(tmp_path / "w")
    html = re.sub(rb'<meta property="article:published_time"[^>]*>', b"", page(1))
    exchange(writer, "http://127.0.0.1:9/a/1.html", html, meta={
        "outlet": "testblatt", "kind": "article", "listed_published": "2025-03-14T09:00:00+00:00"})
    exchange(writer, "http://127.0.0.1:9/feed.xml", b"<rss/>", ctype="application/rss+xml",
             meta={"outlet": "testblatt", "kind": "feed"})
    writer.close()
    result, stored = ingest(tmp_path, tmp_path / "w")
    assert result.exit_code == 0, result.output
    row = query(tmp_path / "news.db", "SELECT outlet, published FROM articles")
    assert row == [("testblatt", "2025-03-14T09:00:00+00:00")]
    assert "crawl_feed 1" in result.output


def test_ingest_help_names_warc():
    out = CliRunner().invoke(cli, ["ingest", "--help"]).output
    assert ".warc.gz" in out and "Example:" in out
    assert "--no-warc" in CliRunner().invoke(cli, ["crawl", "--help"]).output



def test_arc_files_are_read_too(tmp_path):
    """ARC v1 (the format before WARC; older Common Crawl and Internet Archive files)."""

    def arc_record(url: str, ctype: str, http: bytes) -> bytes:
        return f"{url} 127.0.0.1 20250314120000 {ctype} {len(http)}\n".encode() + http + b"\n"

    head_body = b"1 0 newsdedup\nURL IP-address Archive-date Content-type Archive-length\n"
    head = arc_record("filedesc://test.arc", "text/plain", head_body)
    html = page(7)
    http = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            + f"Content-Length: {len(html)}\r\n\r\n".encode() + html)
    pdf = b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4"
    path = tmp_path / "old.arc.gz"
    path.write_bytes(b"".join(gzip.compress(r) for r in (
        head, arc_record("http://www.zeitung.example/a/7.html", "text/html", http),
        arc_record("http://www.zeitung.example/a/7.pdf", "application/pdf", pdf))))
    result, stored = ingest(tmp_path, path)
    assert result.exit_code == 0, result.output
    assert stored == ["http://www.zeitung.example/a/7.html"]
    assert "1 HTML pages; not pages: (not_html 1)" in result.output
