"""Text-and-data-mining opt-outs: what an outlet says to AI/TDM crawlers. Pure functions.

Three signals, read at crawl time by `crawler.middlewares.TdmOptOutMiddleware` and
stored per outlet in `outlet_tdm` (crawler/store.py):

- robots.txt groups for the crawlers that gather text for AI training and mining
  (GPTBot, CCBot, Google-Extended ...; the list is NEWSDEDUP_TDM_AGENTS in
  crawler/settings.py): an agent that may not fetch the outlet's homepage is shut out;
- TDMRep (W3C Community Group, https://www.w3.org/community/reports/tdmrep/CG-FINAL-tdmrep-20240510/):
  `/.well-known/tdmrep.json` rules with `"tdm-reservation": 1`, and the
  `tdm-reservation` response header or `<meta name="tdm-reservation">` on a page.

The verdict is conservative: any one of them reserves the rights (`opted_out`), and
the reasons say which. A TDMRep rule for only part of a site counts too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from protego import Protego

# A user agent no rule names: what robots.txt says to every crawler (the `*` group).
_ANY_AGENT = "newsdedup-tdm-probe-anyone"
_META = re.compile(
    rb"""<meta\s[^>]*name\s*=\s*["']?tdm-reservation["']?[^>]*>""", re.IGNORECASE
)
_CONTENT = re.compile(rb"""content\s*=\s*["']?\s*([01])""", re.IGNORECASE)


@dataclass
class TdmState:
    """Everything known about one outlet's TDM signals; `row()` is its `outlet_tdm` row."""

    outlet: str
    robots_status: int | None = None  # HTTP status of robots.txt; None: not reached
    robots_disallowed: list[str] = field(default_factory=list)  # AI/TDM agents shut out
    robots_everyone: bool = False  # the shut-out comes from a rule for every crawler
    tdmrep_status: int | None = None  # HTTP status of /.well-known/tdmrep.json
    tdmrep: list[dict[str, Any]] | None = None  # its rules, when it parsed
    tdmrep_error: str | None = None  # why it did not parse
    header_reservation: str | None = None  # a tdm-reservation header or meta value seen
    header_policy: str | None = None  # the tdm-policy beside it
    header_url: str | None = None  # where it was seen

    def reasons(self) -> list[str]:
        out = []
        if self.robots_disallowed:
            who = ", ".join(self.robots_disallowed)
            out.append(f"robots.txt disallows {who}" + (" (a rule for every crawler)"
                                                        if self.robots_everyone else ""))
        reserved = [r for r in self.tdmrep or [] if _reserves(r.get("tdm-reservation"))]
        if reserved:
            where = ", ".join(str(r.get("location", "?")) for r in reserved)
            out.append(f"tdmrep.json reserves TDM rights for {where}")
        if _reserves(self.header_reservation):
            out.append(f"tdm-reservation: 1 on {self.header_url}")
        return out

    def row(self) -> dict[str, Any]:
        reasons = self.reasons()
        return {
            "outlet": self.outlet,
            "opted_out": int(bool(reasons)),
            "reasons": reasons,
            "robots_status": self.robots_status,
            "robots_disallowed": self.robots_disallowed,
            "tdmrep_status": self.tdmrep_status,
            "tdmrep": self.tdmrep if self.tdmrep is not None else (
                {"error": self.tdmrep_error} if self.tdmrep_error else None),
            "header_reservation": self.header_reservation,
            "header_policy": self.header_policy,
            "header_url": self.header_url,
        }


def _reserves(value: Any) -> bool:
    return str(value).strip() == "1"


def robots_shut_out(robots_txt: str, url: str, agents: list[str]) -> tuple[list[str], bool]:
    """(the `agents` robots.txt forbids to fetch `url`, whether every crawler is forbidden)."""
    rp = Protego.parse(robots_txt)
    disallowed = [a for a in agents if not rp.can_fetch(url, a)]
    return disallowed, not rp.can_fetch(url, _ANY_AGENT)


def parse_tdmrep(body: bytes) -> list[dict[str, Any]]:
    """The rules of a tdmrep.json: a JSON array of {"location", "tdm-reservation", "tdm-policy"}.

    Raises ValueError with a one-line reason when it is not one.
    """
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise ValueError(f"not JSON ({e.__class__.__name__})") from None
    if isinstance(data, dict):  # some sites serve one rule as an object
        data = [data]
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ValueError("not an array of rules")
    return [{k: r[k] for k in ("location", "tdm-reservation", "tdm-policy") if k in r} for r in data]


def meta_reservation(html_head: bytes) -> str | None:
    """The content of `<meta name="tdm-reservation" content="1">` in a page, if any."""
    m = _META.search(html_head)
    if not m:
        return None
    c = _CONTENT.search(m.group(0))
    return c.group(1).decode() if c else None
