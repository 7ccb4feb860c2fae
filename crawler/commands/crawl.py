"""`scrapy crawl`, with the checks `newsdedup crawl` makes before Scrapy starts.

Scrapy builds the spider and its components inside a task, so a broken seeds file, an
unknown outlet, a bad `-a since=`, a database that is no SQLite file or a WARC directory
that cannot be made would end in a traceback logged as "Task exception was never
retrieved". For the `outlets` spider this command checks them first
(`crawler.run.check_arguments` and `check_files`) and stops with Scrapy's usage error:
one line, exit status 2. A database another crawl is using is one line too, exit
status 75 (`EXIT_LOCKED`), as with `newsdedup crawl`. Other spiders run as with
Scrapy's own command.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys

from scrapy.commands.crawl import Command as ScrapyCrawl
from scrapy.exceptions import UsageError

from crawler.run import check_arguments, check_files
from crawler.runlog import EXIT_LOCKED, RunLocked, acquire_lock, release_lock
from crawler.seeds import SeedsError
from crawler.spiders.outlets import OutletsSpider, outlet_ids
from crawler.store import database_problem


class Command(ScrapyCrawl):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if not (args and args[0] == OutletsSpider.name and self.settings is not None):
            super().run(args, opts)
            return
        spargs = opts.spargs
        outlets = outlet_ids(spargs.get("outlet"))
        db = self.settings.get("NEWSDEDUP_DB")
        try:
            check_arguments(
                self.settings,
                outlets=outlets or None,
                since=spargs.get("since"),
                since_option="-a since=",
            )
        except (SeedsError, ValueError, FileNotFoundError) as exc:
            raise UsageError(str(exc), print_help=False) from None
        # Held for the whole crawl (the spider's own ask shares it): a second run on the
        # database stops here with one line and EXIT_LOCKED, as `newsdedup crawl` does.
        try:
            lock = acquire_lock(db)
        except RunLocked as exc:
            print(f"Error: {exc}", file=sys.stderr)
            self.exitcode = EXIT_LOCKED
            return
        try:
            try:
                check_files(self.settings)
            except ValueError as exc:
                raise UsageError(str(exc), print_help=False) from None
            except sqlite3.DatabaseError as exc:
                problem = database_problem(db, exc)
                if problem is None:
                    raise
                raise UsageError(problem, print_help=False) from None
            super().run(args, opts)
        finally:
            release_lock(lock)
