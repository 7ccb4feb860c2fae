"""`newsdedup ingest` end to end: real files, real SQLite, worker processes."""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from crawler.ingest import outlet_from_url
from newsdedup.cli import cli
from tests.test_extract import news_page


def _rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_outlet_from_url() -> None:
    assert outlet_from_url("https://www.spiegel.de/politik/a-1.html") == "spiegel.de"
    assert outlet_from_url("https://taz.de/!5928990/") == "taz.de"


def test_ingest_manifest_html_and_paths(tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "a.html").write_text(news_page(), encoding="utf-8")
    with gzip.open(pages / "b.html.gz", "wt", encoding="utf-8") as f:
        f.write(news_page().replace("Pendler", "Radfahrer"))
    short = "<html><head><title>Tagblatt</title></head><body><p>Kurz.</p></body></html>"
    manifest = tmp_path / "manifest.jsonl.gz"
    with gzip.open(manifest, "wt", encoding="utf-8") as f:
        for rec in (
            {"url": "https://www.tagblatt.example/politik/a.html", "path": "pages/a.html"},
            {"url": "https://www.tagblatt.example/politik/b.html", "path": "pages/b.html.gz"},
            {
                "url": "https://www.spiegel.de/politik/c.html",
                "html": news_page().replace("Pendler", "Bauern"),
            },
            {"url": "https://www.tagblatt.example/kurz.html", "html": short},
        ):
            f.write(json.dumps(rec) + "\n")
    db = tmp_path / "news.db"
    result = CliRunner().invoke(
        cli, ["ingest", "--db", str(db), "--workers", "2", "--no-dedup", str(manifest)]
    )
    assert result.exit_code == 0, result.output
    assert "stored   3" in result.output
    assert "too_short 1" in result.output
    rows = _rows(
        db, "SELECT url, outlet, title, agencies, published, source FROM articles ORDER BY url"
    )
    assert [(r[0], r[1]) for r in rows] == [
        ("https://www.spiegel.de/politik/c.html", "spiegel.de"),
        ("https://www.tagblatt.example/politik/a.html", "tagblatt.example"),
        ("https://www.tagblatt.example/politik/b.html", "tagblatt.example"),
    ]
    assert rows[2][2] == "Radfahrer werden entlastet"
    assert json.loads(rows[1][3]) == ["dpa"]
    assert rows[1][4] == "2024-04-22T15:26:46+02:00"
    assert {r[5] for r in rows} == {"ingest"}
    log = _rows(db, "SELECT url, outcome, reason FROM fetch_log")
    assert log == [("https://www.tagblatt.example/kurz.html", "skipped", "too_short")]
    # Idempotent: a second run replaces rows, it does not add them.
    result = CliRunner().invoke(
        cli, ["ingest", "--db", str(db), "--workers", "1", "--no-dedup", str(manifest)]
    )
    assert result.exit_code == 0, result.output
    assert _rows(db, "SELECT count(*) FROM articles") == [(3,)]


def test_ingest_directory_of_html_files_with_outlet_override(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "one.html").write_text(news_page(), encoding="utf-8")
    db = tmp_path / "news.db"
    result = CliRunner().invoke(
        cli,
        ["ingest", "--db", str(db), "--no-dedup", "--outlet", "tagblatt", str(tmp_path / "site")],
    )
    assert result.exit_code == 0, result.output
    # A bare file is named by its page's canonical URL.
    assert _rows(db, "SELECT url, outlet FROM articles") == [
        ("https://www.tagblatt.example/politik/pendler-100.html", "tagblatt")
    ]
    assert _rows(db, "SELECT id FROM outlets") == [("tagblatt",)]


def test_ingest_texts_get_cleanup_and_attribution(tmp_path: Path) -> None:
    docs = tmp_path / "docs.jsonl"
    text = "\n\n".join(
        [
            "Hamburg (dpa) - Ein Sturm hat in Norddeutschland Bäume entwurzelt und Dächer abgedeckt.",
            "Foto: picture alliance/dpa",
            "Die Feuerwehr rückte zu Hunderten Einsätzen aus. Verletzt wurde nach ersten Angaben niemand.",
            "Zur Startseite",
        ]
    )
    photo_only = (
        "Ein Bericht über den Hafen, den die Redaktion selbst geschrieben hat.\n\nFoto: picture alliance/dpa"
    )
    with open(docs, "w", encoding="utf-8") as f:
        f.write(
            json.dumps(
                {
                    "url": "https://a.example/1",
                    "outlet": "a",
                    "title": "Sturm",
                    "text": text,
                    "published": "2025-03-01T10:00:00+01:00",
                }
            )
            + "\n"
        )
        f.write(
            json.dumps(
                {
                    "url": "https://b.example/2",
                    "outlet": "b",
                    "title": "Hafen",
                    "text": photo_only,
                    "published": None,
                }
            )
            + "\n"
        )
    db = tmp_path / "news.db"
    result = CliRunner().invoke(cli, ["ingest", "--db", str(db), "--no-dedup", str(docs)])
    assert result.exit_code == 0, result.output
    rows = dict(_rows(db, "SELECT outlet, agencies FROM articles"))
    assert json.loads(rows["a"]) == ["dpa"]
    assert json.loads(rows["b"]) == []  # a photo credit is not a text credit
    (stored,) = _rows(db, "SELECT text FROM articles WHERE outlet = 'a'")[0]
    assert "Foto:" not in stored and "Zur Startseite" not in stored


def test_ingest_bad_manifest_line_is_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"url": "https://a.example/1"}\n', encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["ingest", "--db", str(tmp_path / "n.db"), "--no-dedup", str(bad)]
    )
    assert result.exit_code == 1
    assert 'needs "html", "path" or "text"' in result.output
    assert "Traceback" not in result.output
    # json.loads raises a plain ValueError (no position) for a number of 5,000 digits.
    bad.write_text('{"url": "https://a.example/1", "n": ' + "1" * 5000 + "}\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["ingest", "--db", str(tmp_path / "n.db"), "--no-dedup", str(bad)]
    )
    assert result.exit_code == 1, result.output
    assert f"{bad}:1: not a JSON object (Exceeds the limit (4300 digits)" in result.output
    assert "Traceback" not in result.output


def test_ingest_lone_surrogate_escape_is_mended_not_fatal(tmp_path: Path) -> None:
    """A JSON "\\ud800" (half a UTF-16 pair) can't be stored as UTF-8: it becomes U+FFFD,
    and neither that record nor the next one is lost."""
    docs = tmp_path / "docs.jsonl"
    body = "Ein Bericht, der lang genug ist, um als Artikel zu gelten, mit vielen Wörtern darin. " * 3
    docs.write_text(
        '{"url": "https://a.example/1", "outlet": "a", "title": "Kaputt \\ud800", '
        f'"text": "{body} \\udfff Ende."}}\n'
        f'{{"url": "https://a.example/2", "outlet": "a", "title": "Heil", "text": "{body}"}}\n',
        encoding="utf-8",
    )
    db = tmp_path / "news.db"
    result = CliRunner().invoke(cli, ["ingest", "--db", str(db), str(docs)])
    assert result.exit_code == 0, result.output
    rows = dict(_rows(db, "SELECT url, title || ' ' || text FROM articles"))
    assert len(rows) == 2
    assert "\ufffd" in rows["https://a.example/1"] and "\ufffd" not in rows["https://a.example/2"]


def _text_lines(n: int) -> bytes:
    body = "Ein Bericht, der lang genug ist, um als Artikel zu gelten, mit vielen Wörtern darin. " * 3
    return "".join(
        json.dumps({"url": f"https://a.example/{i}", "outlet": "a", "text": body}, ensure_ascii=False)
        + "\n"
        for i in range(n)
    ).encode("utf-8")


def test_ingest_manifest_line_ends_lf_crlf_or_lone_cr(tmp_path: Path) -> None:
    """Manifests written on Windows (CRLF) or classic Mac (a lone CR) are read line by
    line like LF ones, and an error names the line an editor shows."""
    lines = _text_lines(4).decode("utf-8").splitlines()
    for k, ending in enumerate(("\n", "\r\n", "\r")):
        docs = tmp_path / "docs.jsonl"
        docs.write_bytes((ending.join(lines) + ending).encode("utf-8"))
        db = tmp_path / f"news-{k}.db"
        result = CliRunner().invoke(cli, ["ingest", "--db", str(db), "--no-dedup", str(docs)])
        assert result.exit_code == 0, (repr(ending), result.output)
        assert _rows(db, "SELECT count(*) FROM articles") == [(4,)], repr(ending)
    bad = lines[:2] + ['{"url": "https://a.example/x"}'] + lines[2:]
    docs.write_bytes("\r".join(bad).encode("utf-8"))
    result = CliRunner().invoke(
        cli, ["ingest", "--db", str(tmp_path / "bad.db"), "--no-dedup", str(docs)]
    )
    assert result.exit_code == 1
    assert f"{docs}:3: a record needs" in result.output


def test_ingest_cut_or_corrupt_gzip_manifest_keeps_what_came_before_and_says_where(
    tmp_path: Path,
) -> None:
    data = gzip.compress(_text_lines(300))
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) // 2])
    db = tmp_path / "news.db"
    result = CliRunner().invoke(cli, ["ingest", "--db", str(db), "--no-dedup", "--workers", "2",
                                      str(cut)])
    assert result.exit_code == 1, result.output
    found = re.search(rf"Error: {re.escape(str(cut))}:(\d+): cannot read on \(Compressed file "
                      r"ended before the end-of-stream marker was reached\); the (\d+) lines "
                      r"before it were read", result.output)
    assert found, result.output
    line, before = int(found[1]), int(found[2])
    assert line == before + 1 and 50 < before < 300
    # Every record before the damage is stored, whichever worker extracted it.
    assert _rows(db, "SELECT count(*) FROM articles") == [(before,)]
    assert result.output.strip().endswith("lines before it were read")  # (--no-dedup)

    # Without --no-dedup, what was stored is clustered before the run fails, as after a
    # whole run (it used to wait for the next dedup).
    clustered = tmp_path / "clustered.db"
    result = CliRunner().invoke(cli, ["ingest", "--db", str(clustered), "--workers", "2",
                                      str(cut)])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines()[-1].endswith(
        f"the {before} lines before it were read; dedup: {before} articles indexed"
    ), result.output
    assert _rows(clustered, "SELECT count(*) FROM dedup_signatures") == [(before,)]
    assert _rows(clustered, "SELECT count(*) FROM cluster_members") == [(before,)]

    junk = tmp_path / "junk.jsonl.gz"
    junk.write_bytes(b"no gzip here\n")
    result = CliRunner().invoke(cli, ["ingest", "--db", str(db), "--no-dedup", str(junk)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        f"Error: {junk}:1: cannot read on (Not a gzipped file (b'no')); "
        "the 0 lines before it were read"
    )


def test_ingest_bytes_that_are_not_utf8_become_replacement_characters(tmp_path: Path) -> None:
    data = _text_lines(3)
    docs = tmp_path / "docs.jsonl"
    at = data.index("Wörtern".encode())  # inside the first record's text
    docs.write_bytes(data[:at] + b"\xff\xfe" + data[at:])
    db = tmp_path / "news.db"
    result = CliRunner().invoke(cli, ["ingest", "--db", str(db), "--no-dedup", str(docs)])
    assert result.exit_code == 0, result.output
    texts = dict(_rows(db, "SELECT url, text FROM articles"))
    assert len(texts) == 3
    assert "\ufffd\ufffdWörtern" in texts["https://a.example/0"]
    assert "\ufffd" not in texts["https://a.example/1"]


def test_ingest_progress_shows_reading_then_dedup_on_stderr(tmp_path: Path) -> None:
    docs = tmp_path / "docs.jsonl"
    docs.write_bytes(_text_lines(5))
    db = tmp_path / "news.db"
    result = CliRunner().invoke(cli, ["ingest", "--db", str(db), "--progress", str(docs)])
    assert result.exit_code == 0, result.output
    lines = result.stderr.split("\n")
    assert len(lines) == 3 and lines[2] == "", result.stderr
    assert lines[0].startswith("\r") and "stored" in lines[0]
    assert lines[1].rsplit("\r", 1)[1].startswith("dedup: 5 of 5 articles  committed")
    assert "Ingested into" in result.stdout and "\r" not in result.stdout


def test_ingest_progress_of_an_empty_input_leaves_stderr_empty(tmp_path: Path) -> None:
    docs = tmp_path / "empty.jsonl"
    docs.write_bytes(b"")
    result = CliRunner().invoke(cli, ["ingest", "--db", str(tmp_path / "n.db"), "--progress", str(docs)])
    assert result.exit_code == 0, result.output
    assert result.stderr == "" and "read     0" in result.stdout
