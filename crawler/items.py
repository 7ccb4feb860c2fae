"""Items passed from the spider to the pipeline."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FetchedPage:
    """One fetched article page, before extraction."""

    url: str  # canonical URL the article is stored under (rel=canonical honoured)
    listed_url: str  # canonical form of the URL the feed/sitemap/homepage listed
    outlet: str  # outlets.id from the seeds file; the store's `articles.outlet`
    html: str  # decoded page HTML; the pipeline hands it to `crawler.extract`
    status: int  # HTTP status of the final response (after redirects)
    fetched: str  # ISO 8601 UTC time of the response
    listed_title: str | None = None  # title the feed or news sitemap gave, a fallback
    listed_published: str | None = None  # date the feed or sitemap gave (ISO 8601), a fallback
