"""Acceptance on ../shared: the five seeds, and the labelled agency-dev sets."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import dedup
from crawler.store import Store
from newsdedup.cli import cli

pytestmark = pytest.mark.shared


def test_seeds_give_exactly_the_labels(shared: Path, tmp_path: Path) -> None:
    seeds = shared / "seeds"
    labels = json.loads((seeds / "labels.json").read_text())
    db = tmp_path / "seeds.db"
    with Store(db) as s:
        s.upsert_articles(
            {"url": f"https://seeds.example/{f.name}", "outlet": "seed", "text": f.read_text()}
            for f in sorted(seeds.glob("*.txt"))
        )
    dedup.update(sqlite3.connect(str(db), isolation_level=None))
    out = CliRunner().invoke(cli, ["clusters", "--db", str(db), "--format", "jsonl"])
    assert out.exit_code == 0, out.output
    lines = [json.loads(line) for line in out.output.splitlines()]
    pred = {d["url"].rsplit("/", 1)[1]: d["cluster"] for d in lines if "cluster" in d}
    links = {(d["container"].rsplit("/", 1)[1], d["contains"]) for d in lines if "container" in d}

    # Same partition as labels.json over the clustered seeds; containers stand alone.
    labelled = labels["clusters"]
    for a in labelled:
        for b in labelled:
            assert (pred[a] == pred[b]) == (labelled[a] == labelled[b]), (a, b)
    for container, stories in labels["containers"].items():
        assert all(pred[container] != pred[x] for x in labelled)
        expected = {pred[x] for x in labelled if labelled[x] in stories}
        assert {cid for name, cid in links if name == container} == expected
    assert {name for name, _ in links} == set(labels["containers"])


def _score(shared: Path, name: str, tmp_path: Path) -> dict:
    bench = shared / "bench" / name
    db = tmp_path / f"{name}.db"
    with Store(db) as s:
        s.upsert_articles(json.loads(line) for line in (bench / "docs.jsonl").open())
    dedup.update(sqlite3.connect(str(db), isolation_level=None))
    out = CliRunner().invoke(cli, ["clusters", "--db", str(db), "--format", "jsonl"])
    pred = tmp_path / f"{name}.jsonl"
    pred.write_text(out.output)
    score = subprocess.run(
        [
            sys.executable,
            str(shared / "tools" / "score_dedup.py"),
            str(bench / "gold.json"),
            str(pred),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(score.stdout)


@pytest.mark.parametrize("name", ["agency-dev-a", "agency-dev-b"])
def test_agency_dev_no_ticker_chains(shared: Path, tmp_path: Path, name: str) -> None:
    result = _score(shared, name, tmp_path)
    assert result["tickers_chaining"] == 0, result
    assert result["precision"] >= 0.95, result


# The bar. Measured 0.980 (a) and 0.981 (b) with the default Params.
@pytest.mark.parametrize("name", ["agency-dev-a", "agency-dev-b"])
def test_agency_dev_ari(shared: Path, tmp_path: Path, name: str) -> None:
    result = _score(shared, name, tmp_path)
    assert result["ari"] >= 0.95, result
