"""Scrapy settings of the newsdedup crawl: every crawl setting has its home here.

`newsdedup crawl`, `newsdedup demo` and `scrapy crawl outlets` all start from this
module; the CLI overrides only what its options name (database, seeds, window) and,
for the loopback demo, the delay.
"""

from __future__ import annotations

import os

BOT_NAME = "newsdedup"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
# `scrapy crawl` checks the seeds, database and WARC directory before it starts
# (crawler/commands/crawl.py).
COMMANDS_MODULE = "crawler.commands"

# --- What to crawl and where to store it -------------------------------------------
# The SQLite file, the outlet list and the crawl window; the CLI sets them from its options.
NEWSDEDUP_DB = os.environ.get("NEWSDEDUP_DB", "news.db")
NEWSDEDUP_SEEDS = os.environ.get("NEWSDEDUP_SEEDS", "seeds/outlets.toml")
# Articles published earlier than this many hours ago (by feed/sitemap date) are not fetched.
NEWSDEDUP_SINCE_HOURS = 48
# At most this many new article URLs per outlet and run: a feed listing 10,000 URLs
# or a sitemap of the whole archive must not turn one hourly run into a day-long one.
NEWSDEDUP_MAX_ARTICLES_PER_OUTLET = 500
# Child sitemaps followed per sitemap index (archives list hundreds of monthly files).
NEWSDEDUP_MAX_CHILD_SITEMAPS = 20
# Cluster new articles every this many stored articles (and once at the end of the run).
NEWSDEDUP_DEDUP_EVERY = 200
# Print per-outlet progress to stderr (the CLI turns it on when stderr is a terminal).
NEWSDEDUP_PROGRESS = False

# --- Politeness ---------------------------------------------------------------------
# https://docs.scrapy.org/en/latest/topics/settings.html#robotstxt-obey
ROBOTSTXT_OBEY = True
# A descriptive User-Agent; set NEWSDEDUP_USER_AGENT to add your contact address.
USER_AGENT = os.environ.get(
    "NEWSDEDUP_USER_AGENT",
    "newsdedup/0.1 (news research crawler; finds agency copy; obeys robots.txt)",
)
# Requests are grouped per outlet (the spider sets `download_slot`), so these limits hold
# per outlet even when an outlet spreads over several hosts.
# https://docs.scrapy.org/en/latest/topics/settings.html#concurrent-requests-per-domain
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
# Each wait is DOWNLOAD_DELAY ±50%, so requests don't arrive on a fixed beat.
DOWNLOAD_DELAY_JITTER = 0.5
# https://docs.scrapy.org/en/latest/topics/autothrottle.html
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
# Honour Retry-After on 429/503 (Scrapy's RetryMiddleware ignores it): wait that long,
# up to this cap; a longer wait gives the request up as failed.
NEWSDEDUP_RETRY_AFTER_MAX = 300

# --- Limits -------------------------------------------------------------------------
# https://docs.scrapy.org/en/latest/topics/settings.html#download-timeout
DOWNLOAD_TIMEOUT = 30
# A news page is well under 2 MiB; anything above 10 MiB is cut off and recorded as failed.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [408, 429, 500, 502, 503, 504, 522, 524]
REDIRECT_MAX_TIMES = 5
# Consent cookies would follow us between outlets; articles don't need them.
COOKIES_ENABLED = False
# No consoles: neither telnet nor Scrapy's remote-control HTTP server listens during a crawl.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# --- Text-and-data-mining opt-outs ---------------------------------------------------
# Per outlet, what robots.txt says to these crawlers and whether TDMRep reserves TDM rights
# (/.well-known/tdmrep.json, the tdm-reservation header); stored in `outlet_tdm`, used by
# `newsdedup export`. Two extra requests per outlet and run (robots.txt, tdmrep.json).
# https://www.w3.org/community/reports/tdmrep/CG-FINAL-tdmrep-20240510/
NEWSDEDUP_TDM_CHECK = True
# Crawlers that gather text for AI training or mining, as named in robots.txt files.
NEWSDEDUP_TDM_AGENTS = [
    "GPTBot", "CCBot", "Google-Extended", "ClaudeBot", "anthropic-ai", "Applebot-Extended",
    "Bytespider", "meta-externalagent", "cohere-ai", "Amazonbot", "PerplexityBot", "Diffbot",
    "Omgilibot", "AI2Bot",
]

# --- Raw pages as WARC ---------------------------------------------------------------
# Every request and response (feeds, robots.txt, redirects and errors included) goes to
# gzipped WARC files (warcio) so extraction can be redone later: `newsdedup ingest
# FILE.warc.gz`. A file being written ends in `.open`; files rotate at the maximum size.
# https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/
NEWSDEDUP_WARC = True
# Empty: `<database name>-warc/` beside the database (news.db -> news-warc/).
NEWSDEDUP_WARC_DIR = os.environ.get("NEWSDEDUP_WARC_DIR", "")
NEWSDEDUP_WARC_MAX_SIZE = 1024**3  # bytes per file (1 GiB, as Heritrix and Common Crawl)

# --- Components ---------------------------------------------------------------------
DOWNLOADER_MIDDLEWARES = {
    # Responses pass middlewares from high to low numbers: Retry-After must see the
    # 429/503 before RetryMiddleware (550) retries it at once.
    "crawler.middlewares.RetryAfterMiddleware": 560,
    # Conditional GET headers are added late so nothing rewrites them.
    "crawler.middlewares.ConditionalGetMiddleware": 580,
    # Before RobotsTxtMiddleware (100): an outlet's first request waits for its TDM probe.
    "crawler.middlewares.TdmOptOutMiddleware": 90,
    # Next to the downloader: the request as sent, the response as received (still
    # compressed, before redirects are followed). Off with NEWSDEDUP_WARC = False.
    "crawler.middlewares.WarcMiddleware": 900,
}
ITEM_PIPELINES = {
    "crawler.pipelines.ExtractStorePipeline": 300,
}
EXTENSIONS = {
    "crawler.progress.Progress": 500,
}

# --- Engine -------------------------------------------------------------------------
# Scrapy reads each callback's source to warn about `return value` in generators; our
# callbacks have none, and the check cost ~7% of a loopback crawl.
WARN_ON_GENERATOR_RETURN_VALUE = False
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
LOG_LEVEL = os.environ.get("NEWSDEDUP_LOG_LEVEL", "INFO")
# Requests are deduplicated by the spider against the database; Scrapy's fingerprint
# filter still drops repeats inside one run.
DUPEFILTER_DEBUG = False
