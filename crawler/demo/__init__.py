"""The offline demo newsroom: fictional German outlets republishing wire copy.

`build_newsroom(now)` builds every page, feed and sitemap plus the ground truth
(`Newsroom.expected`); `serve_newsroom(newsroom)` serves each outlet on its own
127.0.0.1 port. `python -m crawler.demo.server` runs it in the foreground.
"""

from __future__ import annotations

from crawler.demo.model import ArticleTruth, Expected, Newsroom, OutletSite
from crawler.demo.server import RunningNewsroom, serve_newsroom
from crawler.demo.site import build_newsroom

__all__ = [
    "ArticleTruth",
    "Expected",
    "Newsroom",
    "OutletSite",
    "RunningNewsroom",
    "build_newsroom",
    "serve_newsroom",
]
