"""`newsdedup dedup` and `newsdedup clusters` through click's CliRunner."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

import dedup
from crawler.store import Store
from newsdedup.cli import cli
from tests.test_dedup_core import story


def _db(tmp_path: Path) -> Path:
    db = tmp_path / "news.db"
    texts = {"a": story(1), "a2": story(1) + "\n\n" + story(9, 1), "b": story(2)}
    with Store(db) as s:
        s.upsert_articles(
            {"url": f"https://example.org/{k}", "outlet": "t", "title": k, "text": v}
            for k, v in texts.items()
        )
    return db


def test_help_has_examples() -> None:
    for cmd in ("dedup", "clusters"):
        out = CliRunner().invoke(cli, [cmd, "--help"])
        assert out.exit_code == 0 and "Example:" in out.output, out.output


def test_dedup_then_clusters(tmp_path: Path) -> None:
    db = str(_db(tmp_path))
    runner = CliRunner()
    out = runner.invoke(cli, ["dedup", "--db", db])
    assert out.exit_code == 0, out.output
    assert "indexed 3 articles" in out.output and "2 clusters (1 with copies)" in out.output

    out = runner.invoke(cli, ["clusters", "--db", db, "--format", "jsonl"])
    rows = [json.loads(line) for line in out.output.splitlines()]
    got = {r["url"].rsplit("/", 1)[1]: r["cluster"] for r in rows}
    assert got["a"] == got["a2"] != got["b"]

    out = runner.invoke(cli, ["clusters", "--db", db, "--format", "table"])
    assert out.exit_code == 0
    assert out.output.splitlines()[0] == "3 articles, 2 clusters (1 with copies), 0 containers"
    assert "   2    0    0  t: a" in out.output

    # Nothing new: a second run indexes nothing; other params need --rebuild.
    assert "indexed 0 articles" in runner.invoke(cli, ["dedup", "--db", db]).output
    out = runner.invoke(cli, ["dedup", "--db", db, "--shingle-size", "4"])
    assert out.exit_code == 1 and "newsdedup dedup --rebuild" in out.output
    out = runner.invoke(cli, ["dedup", "--db", db, "--shingle-size", "4", "--rebuild"])
    assert out.exit_code == 0 and "indexed 3 articles" in out.output


def test_a_changed_text_moves_its_article_to_its_new_cluster(tmp_path: Path) -> None:
    """a2 was a copy of a; stored again with b's text, the next `newsdedup dedup` says
    so and puts it with b."""
    db = str(_db(tmp_path))
    runner = CliRunner()
    assert runner.invoke(cli, ["dedup", "--db", db]).exit_code == 0
    with Store(Path(db)) as s:
        s.upsert_articles([{"url": "https://example.org/a2", "outlet": "t", "title": "a2",
                            "text": story(2) + "\n\n" + story(9, 1)}])
    out = runner.invoke(cli, ["dedup", "--db", db])
    assert out.exit_code == 0, out.output
    assert "indexed 1 articles (1 changed or deleted since)" in out.output
    out = runner.invoke(cli, ["clusters", "--db", db, "--format", "jsonl"])
    got = {json.loads(line)["url"].rsplit("/", 1)[1]: json.loads(line)["cluster"]
           for line in out.output.splitlines()}
    assert got["a2"] == got["b"] != got["a"]


def test_missing_database_is_one_clear_line(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["clusters", "--db", str(tmp_path / "nope.db")])
    assert out.exit_code == 1 and "no such database" in out.output


def test_batches_and_commits_of_no_articles_are_refused_not_looped_on(tmp_path: Path) -> None:
    # (a commit of 0 articles used to loop for ever)
    db = _db(tmp_path)
    runner = CliRunner()
    for option in ("--commit-every", "--batch-size"):
        for value in ("0", "-5"):
            out = runner.invoke(cli, ["dedup", "--db", str(db), option, value])
            assert out.exit_code == 2 and f"Invalid value for '{option}'" in out.output
    conn = sqlite3.connect(db)
    for kwargs in ({"commit_every": 0}, {"batch_size": 0}, {"commit_every": 2.5}):
        for run in (dedup.update, dedup.rebuild):
            with pytest.raises(ValueError, match="must be a whole number of articles"):
                run(conn, **kwargs)
    assert dedup.update(conn, commit_every=1, batch_size=1)["indexed"] == 3
    conn.close()


def test_the_command_line_starts_without_the_dedup_engine() -> None:
    """`newsdedup --help` and the option lists load no numba, datasketch or numpy-heavy
    engine (a second of imports); `dedup.update` loads it on first use."""
    import subprocess
    import sys

    code = (
        "import sys, newsdedup.cli, dedup\n"
        "heavy = {'numba', 'datasketch', 'dedup.engine'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "dedup.update\n"
        "assert 'dedup.engine' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


def test_progress_line_on_request(tmp_path: Path) -> None:
    """--progress draws one stderr line, rewritten in place and ended once; stdout keeps
    only the summary. --rebuild shows it too, from the whole queue."""
    db = str(_db(tmp_path))
    for args in ([], ["--rebuild"]):
        out = CliRunner().invoke(cli, ["dedup", "--db", db, "--progress", *args])
        assert out.exit_code == 0, out.output
        assert out.stdout.startswith("indexed 3 articles")
        assert out.stderr.startswith("\rdedup: ") and out.stderr.endswith("\n")
        assert out.stderr.count("\n") == 1
        last = out.stderr.rstrip().rsplit("\r", 1)[1]
        assert last.startswith("dedup: 3 of 3 articles  committed"), out.stderr
    # Nothing to do: no line at all; --no-progress: none either.
    out = CliRunner().invoke(cli, ["dedup", "--db", db, "--progress"])
    assert out.exit_code == 0 and out.stderr == ""
    out = CliRunner().invoke(cli, ["dedup", "--db", db, "--rebuild", "--no-progress"])
    assert out.exit_code == 0 and out.stderr == ""
