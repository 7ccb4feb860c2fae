"""The outlet list (`seeds/outlets.toml`): load it, validate it, report mistakes by line.

The file is edited by hand, so every mistake is reported with file, line, outlet and
field and says what to fix; `check_outlets` collects all of them at once so one run of
`newsdedup outlets --check` shows everything that is wrong.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Where the CLI looks when neither --seeds nor NEWSDEDUP_SEEDS says otherwise.
DEFAULT_SEEDS = Path("seeds") / "outlets.toml"
SEEDS_ENV = "NEWSDEDUP_SEEDS"

COUNTRIES = ("DE", "AT", "CH")
REQUIRED = ("id", "name", "country", "language")
URL_LISTS = ("feeds", "news_sitemaps", "sitemaps")
PATTERN_LISTS = ("allow", "deny")
FIELDS = ("id", "name", "homepage", "country", "language", *URL_LISTS, *PATTERN_LISTS)

_SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_LANGUAGE = re.compile(r"^[a-z]{2}$")
_HEADER = re.compile(r"^\s*\[\[\s*outlet\s*\]\]")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(?!\d)")  # "mailto:", not "host:8080"
_TABLE = re.compile(r"^\s*\[")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


class SeedsError(Exception):
    """The outlet list cannot be used; `problems` holds every mistake found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Problem:
    """One mistake in the outlet list, located as precisely as the file allows."""

    path: str  # the seeds file as the user named it
    line: int | None  # 1-based line of the field (or of the outlet's header), None if unknown
    outlet: str | None  # the outlet's id, or "#N" (1-based) when it has no usable id
    field: str | None  # field name, with an index for list items: "feeds[1]"
    message: str  # what is wrong and how to fix it, without the location

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        who = f' outlet "{self.outlet}":' if self.outlet else ""
        return f"{where}:{who} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Outlet:
    """One news outlet to crawl, as listed in seeds/outlets.toml."""

    id: str  # slug [a-z0-9-]; outlets.id and articles.outlet in the database
    name: str  # display name, shown by `newsdedup outlets`, stored in outlets.name
    country: str  # DE | AT | CH
    language: str  # ISO 639-1 code ("de"); articles.language when the page names none
    homepage: str | None = None  # front page; depth-1 link crawl if nothing else is listed
    feeds: list[str] = field(default_factory=list)  # RSS / Atom / JSON Feed URLs, read first
    news_sitemaps: list[str] = field(default_factory=list)  # Google News: dates before fetching
    sitemaps: list[str] = field(default_factory=list)  # plain sitemaps or sitemap indexes
    allow: list[str] = field(default_factory=list)  # regexes; if any, a URL must match one
    deny: list[str] = field(default_factory=list)  # regexes; a URL matching one is skipped

    def to_row(self) -> dict[str, Any]:
        """The row for `Store.upsert_outlets` (lists are JSON-encoded there)."""
        return {
            "id": self.id,
            "name": self.name,
            "homepage": self.homepage,
            "country": self.country,
            "language": self.language,
            "feeds": list(self.feeds),
            "news_sitemaps": list(self.news_sitemaps),
            "sitemaps": list(self.sitemaps),
            "allow": list(self.allow),
            "deny": list(self.deny),
        }

    def sources(self) -> Iterator[tuple[str, str]]:
        """(kind, url) of every listing, kinds as in fetch_log: feed, news_sitemap, sitemap."""
        for url in self.feeds:
            yield "feed", url
        for url in self.news_sitemaps:
            yield "news_sitemap", url
        for url in self.sitemaps:
            yield "sitemap", url

    @cached_property
    def _allow_re(self) -> list[re.Pattern[str]]:
        return [re.compile(p) for p in self.allow]

    @cached_property
    def _deny_re(self) -> list[re.Pattern[str]]:
        return [re.compile(p) for p in self.deny]

    def accepts(self, url: str) -> bool:
        """True if `url` passes this outlet's allow and deny patterns (`re.search`)."""
        if self._allow_re and not any(p.search(url) for p in self._allow_re):
            return False
        return not any(p.search(url) for p in self._deny_re)


def resolve_seeds_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The seeds file to use: `path`, else $NEWSDEDUP_SEEDS, else seeds/outlets.toml.

    The default is looked up in the working directory first, then beside the installed
    package (a source checkout), so `newsdedup outlets` works from any directory there.
    """
    if path:
        return Path(path)
    if os.environ.get(SEEDS_ENV):
        return Path(os.environ[SEEDS_ENV])
    if DEFAULT_SEEDS.exists():
        return DEFAULT_SEEDS
    beside = Path(__file__).resolve().parent.parent / DEFAULT_SEEDS
    return beside if beside.exists() else DEFAULT_SEEDS


# -- locating fields in the text --------------------------------------------------------


class _Lines:
    """Line numbers of `[[outlet]]` headers and their fields, found by scanning the text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.blocks: list[tuple[int, int]] = []  # (header index, end index exclusive), 0-based
        start: int | None = None
        for i, line in enumerate(self.lines):
            if _HEADER.match(line) or (_TABLE.match(line) and start is not None):
                if start is not None:
                    self.blocks.append((start, i))
                start = i if _HEADER.match(line) else None
        if start is not None:
            self.blocks.append((start, len(self.lines)))

    def header(self, index: int) -> int | None:
        if index < len(self.blocks):
            return self.blocks[index][0] + 1
        return None

    def field(self, index: int, name: str) -> int | None:
        if index >= len(self.blocks):
            return None
        start, end = self.blocks[index]
        pattern = re.compile(rf"""^\s*(["']?){re.escape(name)}\1\s*=""")
        for i in range(start, end):
            if pattern.match(self.lines[i]):
                return i + 1
        return None

    def item(self, index: int, name: str, value: str) -> int | None:
        """Line of one list item: the first line from the field on that holds the value."""
        first = self.field(index, name)
        if first is None:
            return None
        _, end = self.blocks[index]
        for i in range(first - 1, end):
            if f'"{value}"' in self.lines[i] or f"'{value}'" in self.lines[i]:
                return i + 1
        return first


# -- validation -------------------------------------------------------------------------


def _url_problem(value: object) -> str | None:
    """What is wrong with a listed URL, with the fix; None if it is fine."""
    if not isinstance(value, str):
        return f"{value!r} is not a string — put the URL in double quotes"
    if not value.strip():
        return "is empty — remove it or fill in the URL"
    if any(c.isspace() for c in value):
        return f'"{value}" contains whitespace — remove it or percent-encode it (%20)'
    if "{" in value or "}" in value:
        return f'"{value}" is a template — write the URL it expands to, or drop it'
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f'"{value}" is not a valid URL ({exc}) — fix it'
    scheme = parts.scheme.lower()
    if "://" not in value and not _SCHEME.match(value):
        return f'"{value}" has no scheme — write it as https://{value.lstrip("/")}'
    if scheme not in ("http", "https"):
        return f'"{value}" is not an http(s) URL — fix the scheme'
    if not parts.hostname:
        return f'"{value}" has no host name — write the full URL, e.g. https://www.example.de/feed'
    return None


def _suggest(name: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    if close:
        return f' — did you mean "{close[0]}"?'
    return f" — known fields: {', '.join(choices)}"


def _slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "my-outlet"


def check_outlets(path: str | os.PathLike[str]) -> list[Problem]:
    """Every problem in the seeds file at `path` (empty list: the file is fine)."""
    problems, _ = _check(Path(path), str(path))
    return problems


def load_outlets(path: str | os.PathLike[str]) -> list[Outlet]:
    """The outlets of the seeds file at `path`; raises `SeedsError` listing every problem."""
    problems, outlets = _check(Path(path), str(path))
    if problems:
        raise SeedsError(problems)
    return outlets


def _check(path: Path, shown: str) -> tuple[list[Problem], list[Outlet]]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # (a BOM, as Windows editors add, is no error)
    except FileNotFoundError:
        msg = f"no such file — pass --seeds PATH or set {SEEDS_ENV}"
        return [Problem(shown, None, None, None, msg)], []
    except UnicodeDecodeError as exc:
        msg = f"is not UTF-8 ({exc.reason} at byte {exc.start}) — save the file as UTF-8"
        return [Problem(shown, None, None, None, msg)], []
    except OSError as exc:
        return [Problem(shown, None, None, None, f"cannot be read: {exc.strerror}")], []
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        pos = _TOML_POSITION.search(message)
        line = int(pos.group(1)) if pos else None
        detail = _TOML_POSITION.sub("", message).strip()
        if pos:
            detail += f" at column {pos.group(2)}"
        hint = "check quotes, commas and brackets (strings need quotes, lists are [...])"
        return [Problem(shown, line, None, None, f"TOML syntax error: {detail} — {hint}")], []

    lines = _Lines(text)
    problems: list[Problem] = []
    for key in data:
        if key != "outlet":
            hint = _suggest(key, ("outlet",)) if key != "outlets" else " — write [[outlet]]"
            problems.append(
                Problem(shown, None, None, None, f'unknown top-level key "{key}"{hint}')
            )
    entries = data.get("outlet")
    if entries is None:
        problems.append(
            Problem(
                shown, None, None, None, "lists no outlets — add an [[outlet]] table per outlet"
            )
        )
        return problems, []
    if not isinstance(entries, list):
        msg = "outlet must be a list of tables — write [[outlet]] (double brackets), not [outlet]"
        return [*problems, Problem(shown, lines.header(0), None, None, msg)], []

    outlets: list[Outlet] = []
    first_line_of_id: dict[str, int | None] = {}
    for index, entry in enumerate(entries):
        found = _check_outlet(index, entry, lines, shown, first_line_of_id)
        problems.extend(found[0])
        if found[1] is not None:
            outlets.append(found[1])
    # In file order, so fixing from the top down works; stable for one line's problems.
    problems.sort(key=lambda p: p.line or 0)
    return problems, outlets


def _check_outlet(
    index: int,
    entry: object,
    lines: _Lines,
    shown: str,
    first_line_of_id: dict[str, int | None],
) -> tuple[list[Problem], Outlet | None]:
    header = lines.header(index)
    if not isinstance(entry, dict):
        msg = "is not a table — each outlet is an [[outlet]] table of key = value lines"
        return [Problem(shown, header, f"#{index + 1}", None, msg)], None
    raw_id = entry.get("id")
    who = raw_id if isinstance(raw_id, str) and raw_id else f"#{index + 1}"
    problems: list[Problem] = []

    def report(field_name: str | None, message: str, line: int | None = None) -> None:
        if line is None and field_name:
            line = lines.field(index, field_name.split("[", 1)[0])
        problems.append(Problem(shown, line or header, who, field_name, message))

    for key in entry:
        if key not in FIELDS:
            report(key, f'unknown field "{key}"{_suggest(key, FIELDS)}')
    for key in REQUIRED:
        if key not in entry:
            report(key, f'{key} is missing — add {key} = "..." to this outlet', header)
        elif not isinstance(entry[key], str) or not entry[key].strip():
            report(key, f"{key} must be a non-empty string in double quotes")

    if isinstance(raw_id, str) and raw_id:
        if not _SLUG.match(raw_id):
            report(
                "id",
                f'id "{raw_id}" is not a slug — use lowercase letters, digits and hyphens, '
                f'e.g. "{_slugify(raw_id)}"',
            )
        id_line = lines.field(index, "id")
        if raw_id in first_line_of_id:
            earlier = first_line_of_id[raw_id]
            where = f"line {earlier}" if earlier else "an earlier outlet"
            report("id", f'id "{raw_id}" is already used at {where} — ids must be unique')
        else:
            first_line_of_id[raw_id] = id_line

    country = entry.get("country")
    if isinstance(country, str) and country.strip() and country not in COUNTRIES:
        hint = f' — write "{country.upper()}"' if country.upper() in COUNTRIES else ""
        report("country", f'country "{country}" must be one of {", ".join(COUNTRIES)}{hint}')
    language = entry.get("language")
    if isinstance(language, str) and language.strip() and not _LANGUAGE.match(language):
        report(
            "language",
            f'language "{language}" is not an ISO 639-1 code — '
            'write two lowercase letters, e.g. "de"',
        )

    homepage = entry.get("homepage")
    if homepage is not None:
        problem = _url_problem(homepage)
        if problem:
            report("homepage", f"homepage {problem}")

    lists: dict[str, list[str]] = {}
    for key in (*URL_LISTS, *PATTERN_LISTS):
        value = entry.get(key, [])
        if isinstance(value, str):
            report(key, f'{key} must be a list — write {key} = ["{value}"]')
            continue
        if not isinstance(value, list):
            report(key, f"{key} must be a list of strings, e.g. {key} = []")
            continue
        good: list[str] = []
        seen: set[str] = set()
        for i, item in enumerate(value):
            name = f"{key}[{i}]"
            line = lines.item(index, key, item) if isinstance(item, str) else None
            if key in URL_LISTS:
                problem = _url_problem(item)
                if problem:
                    report(name, f"{name} {problem}", line)
                    continue
            elif not isinstance(item, str):
                report(name, f"{name} {item!r} is not a string — quote the pattern", line)
                continue
            else:
                try:
                    re.compile(item)
                except re.error as exc:
                    report(
                        name,
                        f"{name} '{item}' is not a valid regular expression ({exc}) — fix the "
                        "pattern (use single quotes so backslashes stay literal)",
                        line,
                    )
                    continue
            assert isinstance(item, str)
            if item in seen:
                report(name, f'{name} "{item}" is listed twice in {key} — remove one', line)
                continue
            seen.add(item)
            good.append(item)
        lists[key] = good

    # A malformed list counts as present: its own problem is already reported.
    has_listing = any(entry.get(k) for k in URL_LISTS)
    if not has_listing and not homepage:
        report(
            None,
            "has no feeds, news_sitemaps, sitemaps or homepage — add at least one so the "
            "crawler can find its articles",
            header,
        )

    if problems:
        return problems, None
    outlet = Outlet(
        id=entry["id"],
        name=entry["name"].strip(),
        country=entry["country"],
        language=entry["language"],
        homepage=homepage,
        feeds=lists.get("feeds", []),
        news_sitemaps=lists.get("news_sitemaps", []),
        sitemaps=lists.get("sitemaps", []),
        allow=lists.get("allow", []),
        deny=lists.get("deny", []),
    )
    return [], outlet
