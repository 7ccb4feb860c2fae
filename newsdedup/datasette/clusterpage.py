"""The cluster page's content, built from plain rows: no Datasette, no SQLite here.

`build_page` turns a cluster's rows (read by the plugin) into `ClusterPage`, which the
template `cluster.html` renders: the members in publication order with their delay
after the first copy, each member's text compared with the representative
(`highlight.compare`), the containers quoting the story, and an inline SVG timeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any

from newsdedup.datasette.highlight import Comparison, Segment, compare


@dataclass
class Member:
    """One article of the cluster, as the page shows it."""

    article_id: str  # articles.id
    outlet: str  # articles.outlet
    title: str
    url: str
    published: str | None  # as stored (ISO 8601)
    when: datetime | None  # published parsed, UTC; None when missing or unreadable
    delay_minutes: int | None  # after the cluster's first dated copy
    agencies: list[str]  # credited agencies (articles.agencies)
    share: float | None  # cluster_members.share: part of its text shared with the cluster
    similarity: float | None  # cluster_members.similarity: Jaccard with the representative
    is_representative: bool
    exact_duplicate_of: str | None  # same normalized text as this article id
    comparison: Comparison  # its text against the representative's


@dataclass
class Container:
    """An article quoting the story (ticker, round-up) without being a copy of it."""

    article_id: str
    outlet: str
    title: str
    url: str
    published: str | None
    share: float  # largest share of one copy's text the container holds
    copies_quoted: int  # members it holds a share of
    quoted: list[str]  # its passages shared with the representative


@dataclass
class ClusterPage:
    """Everything `cluster.html` shows about one cluster."""

    cluster_id: str
    size: int
    exact_duplicates: int
    title: str  # the representative's title
    agencies: list[str]  # every agency a member credits, most credited first
    outlets: int  # distinct outlets among the members
    first_published: str | None
    span: str  # time from the first to the last dated copy, for people
    members: list[Member]  # publication order, undated last
    containers: list[Container]
    timeline_svg: str  # inline SVG, markup-safe (built from escaped strings)
    shingle_size: int  # n of the word n-grams used for highlighting
    undated: int = 0  # members without a readable publication time
    notes: list[str] = field(default_factory=list)


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 time as UTC; a date or a naive time is taken as UTC."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def format_duration(minutes: int) -> str:
    """`7 min`, `2 h 05 min`, `3 d 4 h`."""
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{minutes // 1440} d {minutes % 1440 // 60} h"


def format_delay(minutes: int | None) -> str:
    """A delay after the first copy: `first`, `+7 min`, `+2 h 05 min`; a dash when unknown."""
    if minutes is None:
        return "—"
    return "first" if minutes == 0 else "+" + format_duration(minutes)


def _agencies(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    try:
        parsed = json.loads(value or "[]")
    except (TypeError, ValueError):
        return []
    return [str(v) for v in parsed] if isinstance(parsed, list) else []


def build_page(
    cluster: dict[str, Any],
    members: list[dict[str, Any]],
    containers: list[dict[str, Any]],
    *,
    shingle_size: int = 5,
) -> ClusterPage:
    """Assemble the page from rows of `clusters`, members joined with `articles`
    (article_id, outlet, title, url, published, agencies, text, share, similarity,
    is_representative, exact_duplicate_of) and containers (article_id, outlet, title,
    url, published, text, share, copies_quoted)."""
    rep = next((m for m in members if m["is_representative"]), members[0] if members else None)
    rep_text = rep["text"] if rep else ""
    dated = [(parse_time(m["published"]), m) for m in members]
    times = [w for w, _ in dated if w is not None]
    first = min(times) if times else None
    out: list[Member] = []
    for when, m in dated:
        delay = round((when - first).total_seconds() / 60) if when and first else None
        out.append(
            Member(
                article_id=m["article_id"],
                outlet=m["outlet"],
                title=m["title"] or "",
                url=m["url"],
                published=m["published"],
                when=when,
                delay_minutes=delay,
                agencies=_agencies(m["agencies"]),
                share=m["share"],
                similarity=m["similarity"],
                is_representative=bool(m["is_representative"]),
                exact_duplicate_of=m["exact_duplicate_of"],
                comparison=compare(m["text"], rep_text, shingle_size),
            )
        )
    # Publication order; the undated last; ties by id so the page is stable.
    far = datetime.max.replace(tzinfo=UTC)
    out.sort(key=lambda m: (m.when is None, m.when or far, m.article_id))
    counts: dict[str, int] = {}
    for member in out:
        for a in member.agencies:
            counts[a] = counts.get(a, 0) + 1
    conts = []
    for c in containers:
        comp = compare(c["text"], rep_text, shingle_size)
        quoted = [s.text.strip() for p in comp.paragraphs for s in p if s.shared and len(s.text) > 20]
        conts.append(
            Container(
                article_id=c["article_id"],
                outlet=c["outlet"],
                title=c["title"] or "",
                url=c["url"],
                published=c["published"],
                share=float(c["share"]),
                copies_quoted=int(c["copies_quoted"]),
                quoted=quoted,
            )
        )
    last = max(times) if times else None
    span = format_duration(round((last - first).total_seconds() / 60)) if first and last else "—"
    return ClusterPage(
        cluster_id=cluster["cluster_id"],
        size=int(cluster["size"]),
        exact_duplicates=int(cluster["exact_duplicates"]),
        title=rep["title"] if rep and rep["title"] else "",
        agencies=sorted(counts, key=lambda a: (-counts[a], a)),
        outlets=len({m.outlet for m in out}),
        first_published=out[0].published if out and out[0].when else None,
        span=span,
        members=out,
        containers=conts,
        timeline_svg=timeline_svg(out),
        shingle_size=shingle_size,
        undated=sum(1 for m in out if m.when is None),
    )


# -- timeline ---------------------------------------------------------------------------

WIDTH, LABEL_W, ROW_H, PAD = 760, 170, 22, 12


def timeline_svg(members: list[Member]) -> str:
    """One row per outlet, one dot per copy at its publication time (UTC), with the
    first and last times and the delay between them on the axis. Plain SVG, no script."""
    dated = [m for m in members if m.when is not None]
    if not dated:
        return ""
    first = min(m.when for m in dated if m.when)
    last = max(m.when for m in dated if m.when)
    span = max((last - first).total_seconds(), 60.0)
    rows: list[str] = []
    for m in dated:
        if m.outlet not in rows:
            rows.append(m.outlet)
    plot_w = WIDTH - LABEL_W - 2 * PAD
    height = PAD + ROW_H * len(rows) + 34

    def x(when: datetime) -> float:
        return LABEL_W + PAD + plot_w * (when - first).total_seconds() / span

    parts = [
        f'<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-label="When each outlet published">'
    ]
    for i, outlet in enumerate(rows):
        y = PAD + ROW_H * i + ROW_H / 2
        parts.append(
            f'<text class="tl-outlet" x="{LABEL_W - 4}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="12">{escape(outlet)}</text>'
            f'<line x1="{LABEL_W + PAD}" x2="{WIDTH - PAD}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="#ddd" stroke-width="1"/>'
        )
    for m in dated:
        assert m.when is not None
        y = PAD + ROW_H * rows.index(m.outlet) + ROW_H / 2
        fill = "#b00" if m.is_representative else "#2a6ebb"
        label = f"{m.outlet} {m.when:%Y-%m-%d %H:%M} UTC ({format_delay(m.delay_minutes)})"
        parts.append(
            f'<circle class="tl-dot{" tl-representative" if m.is_representative else ""}" '
            f'data-article="{escape(m.article_id)}" cx="{x(m.when):.1f}" cy="{y:.1f}" r="6" '
            f'fill="{fill}" fill-opacity="0.85"><title>{escape(label)}</title></circle>'
        )
    axis_y = PAD + ROW_H * len(rows) + 6
    parts.append(
        f'<line x1="{LABEL_W + PAD}" x2="{WIDTH - PAD}" y1="{axis_y}" y2="{axis_y}" stroke="#666"/>'
        f'<text class="tl-start" x="{LABEL_W + PAD}" y="{axis_y + 18}" font-size="12">'
        f"{first:%Y-%m-%d %H:%M} UTC</text>"
        f'<text class="tl-end" x="{WIDTH - PAD}" y="{axis_y + 18}" text-anchor="end" font-size="12">'
        f"+{escape(format_duration(round((last - first).total_seconds() / 60)))}"
        f" ({last:%H:%M})</text></svg>"
    )
    return "".join(parts)


def segments_html(segments: list[Segment]) -> str:
    """A paragraph's segments as HTML: shared runs in <mark>, added runs in a span."""
    return "".join(
        f'<mark class="shared">{escape(s.text)}</mark>'
        if s.shared
        else f'<span class="added">{escape(s.text)}</span>'
        for s in segments
    )
