"""Links between a scope's reports that only point to files a run made: each link of a report's heading (to the
index, to the scope's other step reports, to the steps of a pack) is marked with the address it stands for, and
`relink_reports` shows it as a link when that file exists beside the page and hides it when it does not (a run of
some steps only, a step that failed). Run again after every run, it turns links on as their reports appear."""

from __future__ import annotations

__all__ = ["HEADER_END", "REPORT_LINK", "current_item", "link_item", "relink_page", "relink_reports", "resolves"]

import html
import re
from collections.abc import Iterable
from pathlib import Path

from kpi_workbook.core.atomic_files import write_text_atomically

REPORT_LINK = "data-kpi-report"  # the attribute that marks an element holding a link to another report
HEADER_END = "</header>"  # the links are in the report's heading: nothing after it is looked at
_ITEM = re.compile(rf'<(li|span) {REPORT_LINK}="([^"]*)"(?: hidden)?>'
                   r'(?:<a href="[^"]*">(.*?)</a>|<span>(.*?)</span>)</\1>', re.DOTALL)


def link_item(href: str, label: str, tag: str = "li", present: bool = True) -> str:
    """A marked link to the report at `href` with the text `label` (both plain text, escaped here); hidden, with its
    text and no link, when the report is not `present`."""
    return _item(tag, html.escape(href), html.escape(label), present)


def current_item(label: str) -> str:
    """The list item of the page itself: its text, marked as the current page, never a link."""
    return f'<li><strong aria-current="page">{html.escape(label)}</strong></li>'


def _item(tag: str, href: str, label: str, present: bool) -> str:
    """The markup of a marked link from escaped `href` and `label`."""
    if present:
        return f'<{tag} {REPORT_LINK}="{href}"><a href="{href}">{label}</a></{tag}>'
    return f'<{tag} {REPORT_LINK}="{href}" hidden><span>{label}</span></{tag}>'


def resolves(page: Path, href: str) -> bool:
    """Whether a relative address on `page` names a file that exists."""
    return (page.parent / href).is_file()


def relink_page(page: Path) -> bool:
    """Show each marked link of a report's heading when its file exists, hide it when not; True when the page
    changed (it is written again, atomically)."""
    text = page.read_text(encoding="utf-8")
    end = text.find(HEADER_END)
    head = text[:end] if end >= 0 else text

    def swap(found: re.Match) -> str:
        label = found[3] if found[3] is not None else found[4]
        return _item(found[1], found[2], label, resolves(page, html.unescape(found[2])))

    linked = _ITEM.sub(swap, head)
    if linked == head:
        return False
    write_text_atomically(page, linked + text[len(head):])
    return True


def relink_reports(pages: Iterable[Path]) -> int:
    """Relink every page given (see relink_page) that exists; returns how many changed."""
    return sum(relink_page(page) for page in pages if page.is_file())
