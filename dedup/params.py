"""Dedup parameters: one home, recorded in the database next to what they produced."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass(frozen=True)
class Params:
    """Every setting that changes signatures, pairs or clusters.

    Changing any of them means the stored index no longer matches: the database
    records them in `dedup_params` and `dedup.update` refuses a mismatch.
    """

    # Words per shingle. 5-grams ignore shared phrases ("nach Angaben der Polizei")
    # yet survive light edits; the usual choice for news near-duplicates.
    shingle_size: int = 5
    # Lines shorter than this many words are headlines, teasers, captions or furniture,
    # not agency body text, and are dropped before shingling.
    min_passage_words: int = 8
    # Passages longer than this are cut at sentence ends into chunks of about half
    # this size, so a page without paragraph breaks still has passages to match.
    max_passage_words: int = 120
    # MinHash permutations per passage and the LSH banding (bands * rows <= num_perm).
    # 8 bands of 1 row: every MinHash value is a bucket key, so two passages collide with
    # p = 1 - (1 - J)^8: 0.83 at Jaccard 0.2, 0.96 at 0.33 (Mining of Massive Datasets,
    # ch. 3.4). Rewritten passages of one wire text sit at 0.2-0.5, unrelated ones at 0;
    # the chance collisions this lets through are dropped by exact verification.
    num_perm: int = 8
    bands: int = 8
    rows: int = 1
    seed: int = 1
    # A passage counts as found in another article when this share of its shingles is there.
    passage_match: float = 0.5
    # Copies: each of the two articles shares at least this share of its (non-background)
    # shingles with the other. Rewrites of one wire story share 0.15-0.3 of their 5-grams
    # (seeds 000/001: ~0.25); unrelated stories ~0 once background passages are left out.
    # On the agency-dev sets ARI is flat from 0.12 to 0.15 and drops from 0.17 on.
    copy_threshold: float = 0.15
    # Containers: an article holding at least this share of another one that is not
    # its copy (a ticker quoting a story's lead) is linked to its cluster, never merged.
    contain_threshold: float = 0.2
    # A passage found in articles of this many unrelated groups is standard background
    # (an agency's boilerplate paragraph), not evidence of copying.
    background_groups: int = 3
    # LSH buckets holding more articles than this are boilerplate that survived cleanup
    # or a standard paragraph printed under many stories; they propose no candidates
    # (otherwise one paragraph would pair everything with it). One story reaches at most
    # the outlets crawled (61 in seeds/) and a few tickers, so its buckets stay below.
    # The cost of indexing grows with this bound: on bench/gen_corpus.py at 100k
    # articles, 200 left background paragraphs pairing their holders (920k pairs at 68k
    # articles, minutes per 1,000 added); 100 keeps 60k pairs and adds 1,000 in 2 s.
    max_bucket: int = 100
    # Which LSH entries propose pairs (`dedup.support`): not a setting, a version.
    # 1: every key in a bucket within `max_bucket`; 2: not the keys of a passage that
    # has a key in a hotter bucket (lightly edited copies of a standard paragraph).
    candidates: int = field(default=2, metadata={"option": False})
    # How words are hashed into shingles (`dedup.sketch`): not a setting, a version, so
    # that a database sketched with another scheme is refused instead of mixed.
    # 1: xxh3 per word; 2: polynomial hash over the batch's bytes.
    sketch: int = field(default=2, metadata={"option": False})
    # What `dedup_signatures` holds (`dedup.store`): not a setting, a version. 1: each
    # article's shingles too; 2: not them, made again from the article's text when an
    # indexed article is verified or counted once more (they were a sixth of the
    # database and a third of the bytes a build writes).
    store: int = field(default=2, metadata={"option": False})

    def __post_init__(self) -> None:
        for name in ("passage_match", "copy_threshold", "contain_threshold"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a share of shingles, from 0 to 1 (got {getattr(self, name)})")
        for name, least in (("num_perm", 1), ("bands", 1), ("rows", 1), ("background_groups", 2),
                            ("max_bucket", 2)):
            if getattr(self, name) < least:
                raise ValueError(f"{name} must be at least {least} (got {getattr(self, name)})")
        if self.max_passage_words < self.min_passage_words:
            raise ValueError(
                f"max_passage_words ({self.max_passage_words}) must be at least "
                f"min_passage_words ({self.min_passage_words})"
            )
        if self.bands * self.rows > self.num_perm:
            raise ValueError(
                f"bands * rows ({self.bands} * {self.rows}) must be at most num_perm "
                f"({self.num_perm}); raise num_perm or use fewer bands"
            )
        if self.shingle_size < 1 or self.min_passage_words < self.shingle_size:
            raise ValueError(
                f"min_passage_words ({self.min_passage_words}) must be at least shingle_size "
                f"({self.shingle_size}), which must be positive: every passage needs a shingle"
            )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_kwargs(cls, kwargs: dict[str, Any]) -> Params:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(f"unknown dedup parameter(s) {unknown}; known: {sorted(known)}")
        return cls(**kwargs)
