"""`newsdedup export` on a real SQLite file clustered by the real dedup: every format
loads with its standard reader, each dedup mode and filter, bad output paths, a full disk."""

from __future__ import annotations

import csv
import errno
import gzip
import io
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import dedup
from crawler.export import ExportError, PassageFilter, export, format_of
from crawler.store import Store
from newsdedup.cli import cli
from tests.crawling import ROOT

WORDS = ("Regierung Bundestag Haushalt Gemeinde Bahn Streik Zentralbank Zinsen Energie Preise "
         "Kommission Minister Verband Region Stadt Gericht Urteil Klage Bericht Zahlen Wachstum "
         "Schulen Kliniken Pflege Wetter Sturm Hafen Export Industrie Forschung Rakete Satellit "
         "Klima Konferenz Einigung Vertrag Reform Steuer Rente Wohnungen Mieten Verkehr").split()


def paragraph(rng: random.Random, n: int = 30) -> str:
    words = [rng.choice(WORDS).lower() for _ in range(n)]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def story(seed: int, n: int = 5) -> list[str]:
    rng = random.Random(seed)
    return [paragraph(rng) for _ in range(n)]


def art(n: int, outlet: str, paras: list[str], published: str | None, **kw) -> dict:
    return {"url": f"https://{outlet}.example/a/{n}.html", "outlet": outlet, "title": f"Titel {n}",
            "text": "\n\n".join(paras), "published": published, "language": kw.get("language", "de"),
            "agencies": kw.get("agencies", []), "source": "ingest"}


WIRE = story(1)  # one dpa story, copied by three outlets
OTHER = story(2)  # an AFP story, copied by two
BOILER = "Foto: dpa"  # furniture every outlet prints


def corpus() -> list[dict]:
    return [
        art(1, "nordblatt", [BOILER, *WIRE], "2025-03-14T10:00:00+01:00", agencies=["dpa"]),
        art(2, "suedkurier", [*WIRE, paragraph(random.Random(9))], "2025-03-14T09:30:00Z",
            agencies=["dpa"]),  # 10:30 Berlin time: after article 1
        art(3, "ostpost", [BOILER, *WIRE[:3]], "2025-03-14T12:00:00+01:00", agencies=["dpa"]),
        art(4, "nordblatt", OTHER, "2025-03-15T08:00:00+01:00", agencies=["AFP"]),
        art(5, "ostpost", OTHER, "2025-03-15T09:00:00+01:00", agencies=["AFP"], language="en"),
        art(6, "ostpost", story(3), "2025-03-16T09:00:00+01:00"),
        art(7, "suedkurier", story(4), None),  # no date: exported last
        art(8, "suedkurier", [], "2025-03-16T10:00:00+01:00"),  # no text: never exported
    ]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "news.db"
    with Store(path) as store:
        store.upsert_articles(corpus())
        dedup.update(store.conn)
    return path


def zstd_open(path: Path, mode: str, **kw):
    """The reader a user has: compression.zstd from Python 3.14, else backports.zstd."""
    try:
        from compression import zstd  # type: ignore[import-not-found]
    except ImportError:
        from backports import zstd  # type: ignore[no-redef]
    return zstd.open(path, mode, **kw)


def run(*args: str):
    return CliRunner().invoke(cli, ["export", *args], catch_exceptions=False)


def read_jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def urls(records: list[dict]) -> list[str]:
    return [r["url"].split("/")[2].split(".")[0] + "/" + r["url"].rsplit("/", 1)[1] for r in records]


def test_clusters_exist(db: Path) -> None:
    with Store(db) as store:
        sizes = sorted(r[0] for r in store.conn.execute("SELECT size FROM clusters"))
    assert sizes == [1, 1, 1, 2, 3]  # the article without text is a singleton too


def test_every_format_loads_with_its_standard_reader(db: Path, tmp_path: Path) -> None:
    out = {}
    for name in ("c.jsonl", "c.jsonl.gz", "c.jsonl.zst", "c.parquet", "c.csv"):
        result = run("--db", str(db), "--dedup", "none", str(tmp_path / name))
        assert result.exit_code == 0, result.output
        assert "Exported 7 records" in result.output
    out["jsonl"] = read_jsonl(tmp_path / "c.jsonl")
    out["gz"] = read_jsonl(tmp_path / "c.jsonl.gz")
    with zstd_open(tmp_path / "c.jsonl.zst", "rt", encoding="utf-8") as f:
        out["zst"] = [json.loads(line) for line in f]
    table = pq.read_table(tmp_path / "c.parquet")
    assert str(table.schema.field("agencies").type) == "list<element: string>"
    out["parquet"] = table.to_pylist()
    with open(tmp_path / "c.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        r["agencies"] = json.loads(r["agencies"])
        r["cluster_size"] = int(r["cluster_size"])
        r["published"] = r["published"] or None
    out["csv"] = rows
    first = out["jsonl"]
    assert set(first[0]) == {"id", "url", "outlet", "title", "text", "published", "language",
                             "agencies", "cluster_id", "cluster_size"}
    for name, records in out.items():
        assert records == first, name
    # Earliest published first, by instant (09:30Z is after 10:00+01:00), undated last.
    assert urls(first) == ["nordblatt/1.html", "suedkurier/2.html", "ostpost/3.html",
                           "nordblatt/4.html", "ostpost/5.html", "ostpost/6.html", "suedkurier/7.html"]
    assert first[0]["agencies"] == ["dpa"] and first[0]["cluster_size"] == 3
    assert first[0]["cluster_id"] == first[1]["cluster_id"] == first[2]["cluster_id"]
    assert "no text" in run("--db", str(db), "--dedup", "none", "--overwrite",
                            str(tmp_path / "c.jsonl")).output


def test_cluster_mode_exports_each_story_once_with_its_members(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.jsonl"
    result = run("--db", str(db), str(out))  # --dedup cluster is the default
    assert result.exit_code == 0, result.output
    records = read_jsonl(out)
    assert len(records) == 4 == len({r["cluster_id"] for r in records})
    with Store(db) as store:
        reps = {r[0] for r in store.conn.execute(
            "SELECT representative FROM clusters c JOIN articles a ON a.id = c.representative "
            "WHERE a.text != ''")}
    assert {r["id"] for r in records} == reps
    wire = next(r for r in records if r["cluster_size"] == 3)
    assert sorted(urls([{"url": u} for u in wire["member_urls"]])) == [
        "nordblatt/1.html", "ostpost/3.html", "suedkurier/2.html"]
    assert "3  another article of its cluster exported" in result.output
    # Filtered to one outlet: its own member stands for the cluster.
    result = run("--db", str(db), "--outlet", "ostpost", "--overwrite", str(out))
    records = read_jsonl(out)
    assert urls(records) == ["ostpost/3.html", "ostpost/5.html", "ostpost/6.html"]
    assert records[0]["cluster_size"] == 3 and len(records[0]["member_urls"]) == 3


def test_passage_mode_removes_paragraphs_published_earlier(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "p.jsonl"
    result = run("--db", str(db), "--dedup", "passage", str(out))
    assert result.exit_code == 0, result.output
    by_url = {u: r for u, r in zip(urls(read_jsonl(out)), read_jsonl(out), strict=True)}
    assert by_url["nordblatt/1.html"]["text"] == "\n\n".join([BOILER, *WIRE])
    assert by_url["nordblatt/1.html"]["paragraphs_removed"] == 0
    # The copy keeps only what it added; the cut copy and the second AFP copy add nothing.
    assert by_url["suedkurier/2.html"]["text"] == paragraph(random.Random(9))
    assert by_url["suedkurier/2.html"]["paragraphs_removed"] == 5
    assert "ostpost/3.html" not in by_url and "ostpost/5.html" not in by_url
    assert "2  every paragraph already exported" in result.output
    assert "paragraphs: 22 kept, 14 removed" in result.output


def test_passage_filter_compares_after_the_dedup_normalization() -> None:
    f = PassageFilter()
    assert f("„Zitat“ – so (dpa) sagte er.\n\nZweiter Absatz.")[1] == 0
    text, removed = f('"Zitat" - so sagte er.\n\nNeu hier.')
    assert (text, removed) == ("Neu hier.", 1)


@pytest.mark.parametrize(
    ("args", "expected", "reason"),
    [
        (["--outlet", "nordblatt"], ["nordblatt/1.html", "nordblatt/4.html"], "not one of --outlet"),
        (["--language", "EN"], ["ostpost/5.html"], "not one of --language"),
        (["--agency", "afp"], ["nordblatt/4.html", "ostpost/5.html"], "credits none of --agency"),
        (["--since", "2025-03-14T10:15:00+01:00", "--until", "2025-03-16"],
         ["suedkurier/2.html", "ostpost/3.html", "nordblatt/4.html", "ostpost/5.html"],
         "published outside --since/--until"),
    ],
)
def test_filters(db: Path, tmp_path: Path, args: list[str], expected: list[str], reason: str) -> None:
    out = tmp_path / "f.jsonl"
    result = run("--db", str(db), "--dedup", "none", *args, str(out))
    assert result.exit_code == 0, result.output
    assert urls(read_jsonl(out)) == expected
    assert reason in result.output
    if "--since" in args:
        assert "1  no published date" in result.output


def test_opted_out_outlets_are_left_out_unless_asked(db: Path, tmp_path: Path) -> None:
    with Store(db) as store:
        store.save_tdm({"outlet": "ostpost", "opted_out": 1,
                        "reasons": ["robots.txt disallows GPTBot"]})
        store.save_tdm({"outlet": "nordblatt", "opted_out": 0, "reasons": []})
    out = tmp_path / "o.jsonl"
    result = run("--db", str(db), "--dedup", "none", str(out))
    assert not any(r["outlet"] == "ostpost" for r in read_jsonl(out))
    assert "3  outlet opted out of text and data mining" in result.output
    assert "ostpost: robots.txt disallows GPTBot" in result.output
    result = run("--db", str(db), "--dedup", "none", "--include-opted-out", "--overwrite", str(out))
    assert sum(r["outlet"] == "ostpost" for r in read_jsonl(out)) == 3


def test_articles_not_clustered_yet_are_singletons(db: Path, tmp_path: Path) -> None:
    with Store(db) as store:
        store.upsert_articles([art(9, "nordblatt", story(5), "2025-03-17T09:00:00+01:00")])
    out = tmp_path / "u.jsonl"
    result = run("--db", str(db), str(out))
    last = read_jsonl(out)[-2]  # the undated article 7 comes after it
    assert urls([last]) == ["nordblatt/9.html"]
    assert last["cluster_id"] == last["id"] and last["cluster_size"] == 1
    assert last["member_urls"] == [last["url"]]
    assert "1 exported articles are not clustered yet" in result.output


def test_same_database_gives_the_same_bytes(db: Path, tmp_path: Path) -> None:
    for name in ("a.jsonl.gz", "b.jsonl.gz"):
        assert run("--db", str(db), "--dedup", "passage", str(tmp_path / name)).exit_code == 0
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()


def test_existing_output_is_refused_and_kept(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.parquet"
    out.write_bytes(b"precious")
    result = CliRunner().invoke(cli, ["export", "--db", str(db), str(out)])
    assert result.exit_code == 1
    assert result.output.strip() == f"Error: {out}: already exists; pass --overwrite to replace it"
    assert out.read_bytes() == b"precious"
    assert run("--db", str(db), "--overwrite", str(out)).exit_code == 0
    assert pq.read_table(out).num_rows == 4
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["corpus.txt"], "cannot tell the format from the extension"),
        (["--format", "parquet", "corpus.gz"], "Parquet compresses its own columns"),
        (["--since", "gestern", "c.jsonl"], "--since 'gestern': give a duration"),
        (["--db", "missing.db", "c.jsonl"], "missing.db: no such database"),
        (["nowhere/c.jsonl"], "nowhere: no such directory"),
        (["news.db/c.jsonl"], "news.db/c.jsonl: cannot write in news.db/ (Not a directory)"),
    ],
)
def test_bad_arguments_are_one_clear_line(db: Path, tmp_path: Path, monkeypatch, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    if "--db" not in args:
        args = ["--db", str(db), *args]
    result = CliRunner().invoke(cli, ["export", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not [p for p in tmp_path.iterdir() if p.name not in ("news.db", "news.db-wal", "news.db-shm")]


class FullDisk(io.FileIO):
    """A file that fails like a full disk after `room` bytes (a simulated ENOSPC)."""

    room = 600

    def write(self, b) -> int:  # type: ignore[override]
        if self.tell() + len(b) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        return super().write(b)


@pytest.mark.parametrize("name", ["c.jsonl", "c.jsonl.gz", "c.parquet", "c.csv"])
def test_full_disk_simulated_leaves_nothing(db: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / "out" / name
    out.parent.mkdir()
    with Store(db) as store, pytest.raises(ExportError, match="the disk is full"):
        export(store, out, dedup="none", batch_size=1, opener=lambda p: FullDisk(p, "wb"))
    assert list(out.parent.iterdir()) == []


def test_full_disk_on_a_real_tmpfs(tmp_path: Path) -> None:
    """A 256 KiB tmpfs in a user+mount namespace: the kernel's own ENOSPC."""
    if not shutil.which("unshare"):
        pytest.skip("no unshare(1)")
    probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "true"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip("unprivileged user and mount namespaces are not available here")
    db = tmp_path / "big.db"
    with Store(db) as store:
        store.upsert_articles(art(i, "nordblatt", story(100 + i, 8), f"2025-03-14T10:{i % 60:02d}:00Z")
                              for i in range(400))
    small = tmp_path / "small"
    small.mkdir()
    script = (f"mount -t tmpfs -o size=256k tmpfs {small} && "
              f"{sys.executable} -m newsdedup export --db {db} --dedup none {small}/c.jsonl; "
              f"rc=$?; echo files: $(ls -A {small}); exit $rc")
    result = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "the disk is full" in result.stderr
    assert "partial file is removed" in result.stderr
    assert result.stdout.strip() == "files:"


def test_format_of() -> None:
    assert format_of("x.JSONL.GZ") == ("jsonl", "gzip")
    assert format_of("x.ndjson.zst") == ("jsonl", "zstd")
    assert format_of("x.data", "csv") == ("csv", None)
    with pytest.raises(ExportError):
        format_of("x.json")


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["export", "--help"])
    assert "Example:" in result.output and "newsdedup export" in result.output


def test_the_readme_examples_run(db: Path, tmp_path: Path, monkeypatch) -> None:
    import shlex

    monkeypatch.chdir(tmp_path)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = [line.split("#")[0].split() for line in readme.splitlines()
                if line.startswith("newsdedup export ")]
    assert len(examples) == 2
    for words in examples:
        args = [str(db) if w == "news.db" else w for w in words[2:]]
        result = run(*args)
        assert result.exit_code == 0, (shlex.join(words), result.output)
    assert pq.read_table(tmp_path / "corpus.parquet").num_rows == 4
    with zstd_open(tmp_path / "dpa.jsonl.zst", "rt", encoding="utf-8") as f:
        assert [json.loads(line)["agencies"] for line in f] == [["dpa"], ["dpa"]]


def test_progress_line_is_ended_once_and_only_if_drawn(db: Path, tmp_path: Path) -> None:
    """--progress draws one stderr line and ends it; an export that writes nothing
    draws none and leaves stderr empty (no stray blank line)."""
    none = CliRunner().invoke(
        cli, ["export", "--db", str(db), "--progress", "--since", "2099-01-01", str(tmp_path / "n.jsonl")]
    )
    assert none.exit_code == 0, none.output
    assert none.stderr == ""
    some = CliRunner().invoke(cli, ["export", "--db", str(db), "--progress", str(tmp_path / "s.jsonl")])
    assert some.exit_code == 0, some.output
    assert some.stderr.startswith("\r") and "written" in some.stderr
    assert some.stderr.count("\n") == 1 and some.stderr.endswith("\n"), repr(some.stderr)
