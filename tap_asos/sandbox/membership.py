"""Which navigation listings a product is on: its department leaf and the lists beside it.

What the real API shows (../shared/asos-api/README.md, "Where arrivals and memberships
show"; tests/fixtures/real): a detail's ``plpIds`` names every listing page the product is
on, 13 to 17 of them in real details, 6 to 10 of which are in the same year's navigation
tree.  The real 2023 detail (an outlet markdown, Men) names 14: 10 are links of the 2022
tree, all beside its product type rather than on it: ``SALE View all`` and
``SALE Hoodies & Sweatshirts``, two sale edits (``Final sale``, ``Sale under $15``),
``Outlet > View all``, ``Outlet > Hoodies & Sweatshirts``, an outlet New-in list, an
outlet edit, two ``Tracksuits`` lists; the other 4 (its brand page among them) are not in
that tree.  So one product sits on its department leaf, that section's ``View all``
(a View all lists its section's product-type leaves: 4209 lists 1,782 products, the sum
of its product-type facet), and cross-cutting lists: sale ones while it is marked down,
outlet ones, edits, brand-like lists (Topshop, SHOP BY BRAND), body-fit lists.

How the sandbox draws it, from (seed, product) only, so it is the same every day:

- a *home*: a department leaf (SHOP BY PRODUCT of Clothing, Shoes, ...), uniformly; its
  gender and kind are the product's.  ``EDIT_ONLY_PERCENT`` of the products instead sit
  on one *small edit* only (a quarter of the edits outside SHOP BY PRODUCT hold only
  those): no department leaf,
  no View all, no sale list, so a client reading only the big lists misses them;
- a count ``n`` whose mean makes the listings per product average ``listings_per_product``
  (sale lists and the one-edit products included), up to ``SPREAD`` either side;
- then units, each a leaf and its section's View all if it has one, added in this order
  while they fit in ``n``: the home, a brand-like list chosen by the product's brand, an
  outlet list (``OUTLET_PERCENT``, half of them on an outlet edit too), a body-fit list
  (``FIT_PERCENT``), a second department leaf of its kind (``SECOND_PERCENT``), then
  edits (of its kind first) until ``n`` is reached (on the small tree, which has none,
  other leaves of its gender);
- a sale unit (a sale leaf of its kind, SALE View all, half the time a sale edit) on the
  days it is marked down: membership follows the markdown (catalog.markdown), as a real
  sale list holds what is marked down today.
"""

from __future__ import annotations

import bisect
import threading
import typing as t
from array import array
from dataclasses import dataclass
from functools import lru_cache

from tap_asos.sandbox.config import BRANDS
from tap_asos.sandbox.feeds import GENDERS
from tap_asos.sandbox.tree import KINDS, SHOP_BY_PRODUCT, Listing, listings

MASK = (1 << 64) - 1
# Roles of a listing, from the section and container of its first link.
DEPARTMENT, SALE, SALE_EDIT = "department", "sale", "sale edit"
OUTLET, OUTLET_EDIT = "outlet", "outlet edit"
BRAND, FIT, EDIT, SMALL_EDIT, VIEW_ALL = "brand", "fit", "edit", "small edit", "view all"
SECTION_ROLE = {
    "Topshop": BRAND,
    "Brands": BRAND,
    "Plus & Tall": FIT,
    "Trending": EDIT,
    "Holiday": EDIT,
    "Gifting": EDIT,
}  # other sections' SHOP BY PRODUCT: DEPARTMENT (Sale and Outlet: their own roles)
CONTAINER_ROLE = {"SHOP BY BRAND": BRAND, "SHOP BY BODY FIT": FIT}  # otherwise EDIT
EDIT_ONLY_PERCENT = 2  # products on one small edit only
SMALL_EDIT_EVERY = 4  # every 4th edit of a gender is a small one
OUTLET_PERCENT = 10
FIT_PERCENT = 20
SECOND_PERCENT = 20  # a second department leaf of the same kind (as the sandbox always had)
SALE_EDIT_PERCENT = 50  # of the sale products on a sale edit too
OUTLET_EDIT_PERCENT = 50  # of the outlet products on an outlet edit too
MARKDOWN_ONE_IN = 6  # catalog.markdown marks one product in six down on a given day
SPREAD = 2
GROUPS = tuple((gender, kind) for gender in GENDERS for kind in KINDS)  # group column codes


def role(listing: Listing) -> str:
    """What a listing holds, from where its first link sits in the tree."""
    if listing.view_all:
        return VIEW_ALL
    product = listing.container == SHOP_BY_PRODUCT
    if listing.section in {"Sale", "Outlet"}:
        name = SALE if listing.section == "Sale" else OUTLET
        return name if product else f"{name} edit"
    if product:
        return SECTION_ROLE.get(listing.section, DEPARTMENT)
    return CONTAINER_ROLE.get(listing.container, EDIT)


class Rng:
    """A tiny deterministic generator (64-bit LCG, high bits) seeded by one hash."""

    def __init__(self, state: int) -> None:
        """Start from a 64-bit state."""
        self.state = state

    def below(self, n: int) -> int:
        """An integer in [0, n)."""
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & MASK
        return ((self.state >> 32) * n) >> 32


@dataclass(frozen=True)
class Draw:
    """The listings of one product, drawn once from (seed, product)."""

    home: int  # its first leaf: gender and kind (a department leaf, or its one small edit)
    static: tuple[int, ...]  # listings it is on every day, home first
    sale: tuple[int, ...]  # listings it is on while marked down
    product_leaves: tuple[int, ...]  # its SHOP BY PRODUCT leaves, View alls aside


class Plan(t.NamedTuple):
    """The pools a product of one gender and kind draws from (see the module docstring)."""

    brands: tuple[tuple[int, ...], ...]  # per brand index: the brand-like lists for it
    traits: tuple[tuple[int, tuple[int, ...], tuple[int, ...]], ...]  # percent, pool, edits
    fillers: tuple[tuple[int, ...], ...]  # edits of its kind, of any kind, then departments
    sales: tuple[int, ...]
    sale_edits: tuple[int, ...]


class Membership:
    """The listings of every product of a tree, and each listing's products (built lazily)."""

    def __init__(
        self, seed: int, tree: str, mean: float, hash_of: t.Callable[[int, int], int]
    ) -> None:
        """Pools of listings per (gender, role, kind) and the count to draw per product.

        ``hash_of(k, salt)``: the catalog's hash of a product; brand index from salt 6.
        """
        self.seed = seed
        self._hash = hash_of
        self.listings = listings(tree)
        self.by_id = {x.category_id: x for x in self.listings}
        self.role = {x.category_id: role(x) for x in self.listings}
        view_alls = {(x.gender, x.section): x.category_id for x in self.listings if x.view_all}
        # A View all lists every product of its section's SHOP BY PRODUCT leaves.
        self.view_all_of = {
            x.category_id: view_alls[x.gender, x.section]
            for x in self.listings
            if x.container == SHOP_BY_PRODUCT and (x.gender, x.section) in view_alls
        }
        for view_all in view_alls.values():
            del self.view_all_of[view_all]
        self._product_leaves = frozenset(self.view_all_of) | {
            x.category_id
            for x in self.listings
            if x.container == SHOP_BY_PRODUCT and (x.gender, x.section) not in view_alls
        }
        edits: dict[str, list[int]] = {}
        for x in self.listings:  # small edits: no View all lists their products
            if self.role[x.category_id] == EDIT and x.category_id not in self.view_all_of:
                edits.setdefault(x.gender, []).append(x.category_id)
        for same in edits.values():
            for cid in same[SMALL_EDIT_EVERY - 1 :: SMALL_EDIT_EVERY]:
                self.role[cid] = SMALL_EDIT
        self._pools: dict[tuple[str, str, str], tuple[int, ...]] = {}
        for x in self.listings:
            for kind in (x.kind, "*"):
                key = (x.gender, self.role[x.category_id], kind)
                self._pools[key] = (*self._pools.get(key, ()), x.category_id)
        self.homes = self._role(DEPARTMENT)
        self.small_edits = self._role(SMALL_EDIT)
        # Listings a product is on only while marked down.
        self.sale_ids = frozenset((*self._role(SALE), *self._role(SALE_EDIT))) | {
            view_alls[g, "Sale"] for g in GENDERS if (g, "Sale") in view_alls
        }
        self.mean = mean
        self.target = self._target(mean)
        # n = target - spread + uniform [0, 2 spread + 1): its mean is the target.
        self._spread = min(SPREAD, max(0, int(self.target - 1) // 2))
        self._width = (2 * self._spread + 1) / (1 << 20)
        self._plans = {
            home: self._plan(self.by_id[home].gender, self.by_id[home].kind) for home in self.homes
        }
        self.draw = lru_cache(maxsize=8192)(self._draw)
        self._lock = threading.Lock()
        self._members: dict[int, array[int]] = {x.category_id: array("I") for x in self.listings}
        self._groups = bytearray()  # per product: index of its (gender, kind) in GROUPS

    def _role(self, name: str) -> tuple[int, ...]:
        return tuple(c for c, r in self.role.items() if r == name)

    def pool(self, gender: str, name: str, kind: str) -> tuple[int, ...]:
        """Listings of a role for a gender, of one kind if any, else of any kind."""
        return self._pools.get((gender, name, kind)) or self._pools.get((gender, name, "*"), ())

    def _target(self, mean: float) -> float:
        """Mean ``n`` to draw so that listings per product average ``mean`` in all."""
        edit_only = EDIT_ONLY_PERCENT / 100 if self.small_edits else 0.0
        sale = 0.0
        for home in self.homes:
            x = self.by_id[home]
            sales = self.pool(x.gender, SALE, x.kind)
            if sales:
                edit = SALE_EDIT_PERCENT / 100 if self.pool(x.gender, SALE_EDIT, x.kind) else 0
                sale += 1 + (sales[0] in self.view_all_of) + edit
        sale /= max(1, len(self.homes)) * MARKDOWN_ONE_IN
        return max(1.0, (mean - edit_only) / (1 - edit_only) - sale)

    def _plan(self, gender: str, kind: str) -> Plan:
        """The pools a product of one gender and kind draws from."""
        brands = self.pool(gender, BRAND, kind)
        by_brand = tuple(
            brands[b :: len(BRANDS)] or (brands[b % len(brands)],)
            for b in range(len(BRANDS) if brands else 0)
        )
        traits = (
            (OUTLET_PERCENT, OUTLET, OUTLET_EDIT),
            (FIT_PERCENT, FIT, ""),
            (SECOND_PERCENT, DEPARTMENT, ""),
        )
        return Plan(
            by_brand,
            tuple(
                (percent, pool, self.pool(gender, edits, kind) if edits else ())
                for percent, name, edits in traits
                if (pool := self.pool(gender, name, kind))
            ),
            tuple(
                pool
                for name, of_kind in (
                    (EDIT, kind),
                    (EDIT, "*"),
                    (DEPARTMENT, kind),
                    (DEPARTMENT, "*"),
                )
                if (pool := self.pool(gender, name, of_kind))
            ),
            self.pool(gender, SALE, kind),
            self.pool(gender, SALE_EDIT, kind),
        )

    def _unit(self, chosen: list[int], leaf: int, room: int) -> bool:
        """Add a leaf and its View all if both fit in ``room`` listings in all."""
        if leaf in chosen:
            return False
        view_all = self.view_all_of.get(leaf)
        if view_all is None or view_all in chosen:
            if len(chosen) >= room:
                return False
            chosen.append(leaf)
            return True
        if len(chosen) + 2 > room:
            return False
        chosen += (leaf, view_all)
        return True

    def _draw(self, k: int) -> Draw:
        """The listings of product k (see the module docstring)."""
        below = Rng(self._hash(k, 20)).below
        if self.small_edits and below(100) < EDIT_ONLY_PERCENT:
            edit = self.small_edits[below(len(self.small_edits))]
            return Draw(edit, (edit,), (), (edit,))
        home = self.homes[below(len(self.homes))]
        plan = self._plans[home]
        n = int(self.target - self._spread + below(1 << 20) * self._width)
        chosen: list[int] = []
        unit = self._unit
        unit(chosen, home, max(n, 2))
        if plan.brands:
            mine = plan.brands[(self._hash(k, 6) >> 16) % len(BRANDS)]
            unit(chosen, mine[below(len(mine))], n)
        for percent, pool, edits in plan.traits:
            added = below(100) < percent and unit(chosen, pool[below(len(pool))], n)
            if added and edits and below(100) < OUTLET_EDIT_PERCENT:
                unit(chosen, edits[below(len(edits))], n)
        for pool in plan.fillers:
            for _ in range(2 * len(pool)):
                if len(chosen) >= n:
                    break
                unit(chosen, pool[below(len(pool))], n)
        sale: list[int] = []
        if plan.sales:
            unit(sale, plan.sales[below(len(plan.sales))], 2)
            if plan.sale_edits and below(100) < SALE_EDIT_PERCENT:
                sale.append(plan.sale_edits[below(len(plan.sale_edits))])
        product = tuple(c for c in chosen if c in self._product_leaves)
        return Draw(home, tuple(chosen), tuple(sale), product)

    # --- the index: each listing's products -----------------------------------------------

    def _extend(self, count: int) -> None:
        """Index products up to ``count`` (appended in order: member lists stay sorted)."""
        with self._lock:
            members, groups = self._members, self._groups
            for k in range(len(groups), count):
                d = self._draw(k)
                for cid in d.static:
                    members[cid].append(k)
                for cid in d.sale:
                    members[cid].append(k)
                home = self.by_id[d.home]
                groups.append(GROUPS.index((home.gender, home.kind)))

    def members(self, category_id: int, count: int) -> array[int]:
        """Products 0..count-1 a listing holds (a sale listing: when marked down)."""
        if len(self._groups) < count:
            self._extend(count)
        return self._members[category_id]

    def groups(self, count: int) -> bytearray:
        """Per product, the index of its (gender, kind) in GROUPS."""
        if len(self._groups) < count:
            self._extend(count)
        return self._groups

    def truncate(self, count: int) -> None:
        """Forget products from ``count`` on (a reset)."""
        with self._lock:
            if len(self._groups) <= count:
                return
            for ids in self._members.values():
                del ids[bisect.bisect_left(ids, count) :]
            del self._groups[count:]
