"""Dedup parameters: one home, recorded in the database next to what they produced."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
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
    # 10 bands of 3 rows: passages with Jaccard >= 0.6 collide with p > 0.9,
    # those at 0.1 with p ~ 0.01 (Mining of Massive Datasets, ch. 3.4).
    num_perm: int = 30
    bands: int = 10
    rows: int = 3
    seed: int = 1
    # A passage counts as found in another article when this share of its shingles is there.
    passage_match: float = 0.5
    # Copies: each of the two articles shares at least this share of its (non-background)
    # shingles with the other. Rewrites of one wire story share 0.2-0.3 of their 5-grams.
    copy_threshold: float = 0.2
    # Containers: an article holding at least this share of another one that is not
    # its copy (a ticker quoting a story's lead) is linked to its cluster, never merged.
    contain_threshold: float = 0.2
    # A passage found in articles of this many unrelated groups is standard background
    # (an agency's boilerplate paragraph), not evidence of copying.
    background_groups: int = 3
    # LSH buckets holding more articles than this are boilerplate that survived cleanup;
    # they propose no candidates (otherwise one paragraph would pair everything with it).
    max_bucket: int = 200

    def __post_init__(self) -> None:
        if self.bands * self.rows > self.num_perm:
            raise ValueError(
                f"bands * rows ({self.bands} * {self.rows}) must be at most num_perm "
                f"({self.num_perm}); raise num_perm or use fewer bands"
            )
        if self.shingle_size < 1 or self.min_passage_words < 1:
            raise ValueError("shingle_size and min_passage_words must be positive")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_kwargs(cls, kwargs: dict[str, Any]) -> Params:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - known)
        if unknown:
            raise TypeError(f"unknown dedup parameter(s) {unknown}; known: {sorted(known)}")
        return cls(**kwargs)
