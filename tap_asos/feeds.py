"""The arrival feeds of a store's category tree: where a daily run finds what is new.

What the real API shows (``tests/fixtures/real/categories-list-2022.json``, US; the same
ids in a 2023 tree): each gender's navigation holds ``New in > NEW PRODUCTS > View all``
(27108 Women, 27110 Men), a listing like any other, sorted by go-live day with the
``freshness_band`` facet, that holds what went live in the last weeks; beside it a
``Back in stock`` list (17204 Women, 17010 Men in 2022; a 2023 tree has none).  So
what entered any leaf since yesterday is, normally, at the top of two or four listings,
not spread over 573 leaves.

Titles follow ``lang`` and the tree changes between years, so a feed is found by the
node's CMS ``alias`` first (``WW_NI_VA``/``MW_NI_VA``: language- and year-independent
keys, ``_NI`` the New-in section), then by the New-in section's title in the store's
language, and within the section, ``View all`` is its first category link.  Back in
stock has no alias: it is found by its title, in the New-in section only.  The
``feed_category_ids`` setting overrides whatever is found.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

Node = t.Mapping[str, t.Any]

NEW_IN = "new_in"
BACK_IN_STOCK = "back_in_stock"
VIEW_ALL_ALIAS_SUFFIX = "_NI_VA"
NEW_IN_ALIAS_SUFFIX = "_NI"
# Titles of the New-in section and of Back in stock in the languages ASOS serves
# (case-folded, compared after trimming): the fallback when a tree has no aliases.
NEW_IN_TITLES = frozenset(
    {"new in", "neu", "neuheiten", "nouveautés", "nouveautes", "novedades", "novità", "nyheter"}
)
BACK_IN_STOCK_TITLES = frozenset(
    {
        "back in stock",
        "restocked",
        "wieder da",
        "wieder verfügbar",
        "wieder auf lager",
        "de retour en stock",
        "à nouveau en stock",
        "de nuevo en stock",
        "otra vez en stock",
        "di nuovo disponibili",
        "di nuovo disponibile",
        "tillbaka i lager",
        "åter i lager",
    }
)


@dataclass(frozen=True)
class Feed:
    """One arrival feed of a store: a listing whose top holds what is new."""

    category_id: int
    kind: str  # NEW_IN or BACK_IN_STOCK
    gender: str  # title of the tree's top node ("Women", "Men", or as translated)


class FeedNotFoundError(Exception):
    """A gender's New-in feed is not in the tree; the message names the setting."""


def find_feeds(tree: Mapping[str, t.Any], store: str) -> list[Feed]:
    """The arrival feeds of ``tree``, a ``/categories/list`` body.

    One New in per gender, and Back in stock where the gender has it.

    Raises:
        FeedNotFoundError: a gender of the tree has no New-in feed the rule can find.
    """
    feeds: list[Feed] = []
    for top in tree.get("navigation") or []:
        if not isinstance(top, dict):
            continue
        gender = _title(top) or str(top.get("alias") or "")
        section = _new_in_section(top)
        view_all = _view_all(top, section)
        if view_all is None:
            msg = (
                f"No New-in 'View all' category found for {gender!r} in store {store}'s "
                "category tree: set feed_category_ids to the ids of its arrival feeds "
                "(see the categories stream), or read_feeds to false to read every leaf "
                "category daily."
            )
            raise FeedNotFoundError(msg)
        feeds.append(Feed(view_all, NEW_IN, gender))
        if section is not None:
            restocks = next(
                (
                    cid
                    for node in _walk(section)
                    if (cid := _category(node)) is not None
                    and _title(node).casefold() in BACK_IN_STOCK_TITLES
                ),
                None,
            )
            if restocks is not None and restocks != view_all:
                feeds.append(Feed(restocks, BACK_IN_STOCK, gender))
    return list({feed.category_id: feed for feed in feeds}.values())


def new_in_lists(tree: Mapping[str, t.Any]) -> set[int]:
    """Every category the New-in sections link: the feeds and their department lists.

    Their products are the leaves' own (newly live), so a run that reads every leaf meets
    them there again: ``--plan`` counts no child call for them in such a run.
    """
    found: set[int] = set()
    for top in tree.get("navigation") or []:
        if isinstance(top, dict) and (section := _new_in_section(top)) is not None:
            found.update(cid for node in _walk(section) if (cid := _category(node)) is not None)
    return found


def _new_in_section(top: Node) -> Node | None:
    """The gender's New-in section: by alias (``*_NI``), else by its title."""
    nodes = list(_walk(top))
    for node in nodes:
        if str(node.get("alias") or "").upper().endswith(NEW_IN_ALIAS_SUFFIX):
            return node
    for node in nodes:
        if node.get("children") and _title(node).casefold() in NEW_IN_TITLES:
            return node
    return None


def _view_all(top: Node, section: Node | None) -> int | None:
    """The gender's New-in ``View all``.

    By alias (``*_NI_VA``), else the section's first category link (``View all``
    leads the NEW PRODUCTS container).
    """
    for node in _walk(top):
        alias = str(node.get("alias") or "").upper()
        if alias.endswith(VIEW_ALL_ALIAS_SUFFIX) and (cid := _category(node)) is not None:
            return cid
    if section is None:
        return None
    return next((cid for node in _walk(section) if (cid := _category(node)) is not None), None)


def _category(node: Node) -> int | None:
    """``link.categoryId`` of a category link; None for anything else."""
    link = node.get("link") or {}
    if link.get("linkType") != "category" or link.get("categoryId") is None:
        return None
    return int(link["categoryId"])


def _title(node: Node) -> str:
    return str((node.get("content") or {}).get("title") or "").strip()


def _walk(node: Node) -> Iterator[Node]:
    """The node and its descendants, depth first, in the tree's order."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed([c for c in current.get("children") or [] if isinstance(c, dict)]))
