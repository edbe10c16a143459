"""The ``products`` stream's state: its one definition, its version, every earlier shape.

Where it lives in the Singer state, and what each key holds (``tests/fixtures/state``
holds a state written by each release, and one of each shape below)::

    "bookmarks": {"products": {
        "version": 5,                          # STATE_VERSION, written in every STATE
        "snapshot_in_progress": "2026-...",    # a snapshot stopped before its end
        "audit": {"US": "eJz..."},             # what the feeds list, while that snapshot lasts
        "covers": {"US": {"ids": [...], ...}}, # the listings a snapshot reads (tap_asos.cover)
        "store_products": {"US": 73744},       # products a read of every listing found
        "sent": {"incremental": {"product_details": {"US": "eJz..."}}},  # reads are left
        "partitions": [{
            "context": {"store": "US", "categoryId": 8799},
            "anchors": [...], "checked_at": "2026-...", "frozen": 16, "fetched": [...],
            "costs": {"incremental": 1},       # the last steady run's requests, per mode
            "snapshot_at": "2026-...",         # the snapshot that last finished it
            "backlog": [{...}],                # reads a budget stopped: where each stands
            # and the SDK's own: replication_key, replication_key_value, progress_markers
        }]}}

:class:`Bookmark` is where a partition's last finished run left its listing (see
:mod:`tap_asos.arrivals`); :class:`PartitionState` is one entry, typed;
:class:`ProductsState` is the stream's state as a run reads and changes it.  No other
module names a key: they read and write through these.

Earlier shapes, told apart by their keys, are upgraded in place by :func:`upgrade`
(``TapAsos.load_state``), before the first STATE of a run:

- 1, release 0.1.0: an id bookmark per partition (``replication_key: "id"`` and the
  highest id seen, ``checked_at``), no anchors.  Ids do not grow with arrival, so the id
  is dropped; ``checked_at`` stays, and the partition's next run reads down to the
  freshness band covering it, two days to spare: nothing is lost.
- 2, per-leaf anchors (before the arrival feeds): ``anchors``, ``frozen``,
  ``checked_at``; no ``fetched`` (nothing was sent to the children from a Today block)
  and no ``costs`` (no estimate at start until a partition finishes again).
- 3, the arrival feeds: ``fetched`` and ``costs`` added; no ``version`` key.
- 4: the same keys, and ``version``.
- 5, this release: ``backlog`` (a read a budget stopped, :class:`Backlog`) and
  ``audit``.  A state of shape 4 has neither: nothing to change.

A :class:`Backlog` is small: where the read stands (a :class:`Cursor` per listing it is
in, the slices still to read), what its scan had gathered (:class:`ScanState`: five
anchors, the head block's size, a few ids), and the ids of the page it stopped in that
went to the children already.  Sets of ids that can be large (a snapshot's feed contents
for its audit, the ids a capped listing read above its cap) are packed
(:func:`pack_ids`: sorted, delta-coded, compressed): about two bytes an id.
"""

from __future__ import annotations

import json
import typing as t
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from tap_asos.bookmark import Backlog, Bookmark, pack_ids, unpack_ids
from tap_asos.cover import Cover, is_cover_value

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, MutableMapping

STATE_VERSION = 5
# Where the Singer state keeps this stream's state.
BOOKMARKS = "bookmarks"
STREAM = "products"

# Stream-level keys.
VERSION = "version"
SNAPSHOT_IN_PROGRESS = "snapshot_in_progress"
AUDIT = "audit"
COVERS = "covers"
STORE_PRODUCTS = "store_products"
SENT = "sent"
PARTITIONS = "partitions"  # the SDK's list of partition entries
# Partition-level keys.
CONTEXT = "context"  # the SDK's: the partition's key
ANCHORS = "anchors"
CHECKED_AT = "checked_at"
FROZEN = "frozen"
FETCHED = "fetched"
COSTS = "costs"
SNAPSHOT_AT = "snapshot_at"
BACKLOG = "backlog"
# The SDK's own partition keys, named where the tap must touch them.
PROGRESS_MARKERS = "progress_markers"
REPLICATION_KEY = "replication_key"
REPLICATION_KEY_VALUE = "replication_key_value"
# The replication key of release 0.1.0 (an id bookmark, see the module docstring).
_OLD_ID_KEY = "id"
# Keys of a partition's context (the SDK's ``context``).
STORE = "store"
CATEGORY_ID = "categoryId"


class StateVersionError(ValueError):
    """The state was written by a newer release than this one."""


# --- the checks of each key: the input check (inputs.py) and docs/bad-input.md ------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_int_list(value: object) -> bool:
    return isinstance(value, list) and all(_is_int(v) for v in value)


def _is_iso_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _converts(value: object, kind: type) -> bool:
    try:
        msgspec.convert(value, kind)
    except msgspec.ValidationError:
        return False
    return True


def _nested_packed(value: object, depth: int) -> bool:
    """Objects nested ``depth`` deep whose leaves are packed ids."""
    if depth == 0:
        return _packed(value)
    return isinstance(value, dict) and all(_nested_packed(v, depth - 1) for v in value.values())


def _packed(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        unpack_ids(value)
    except ValueError:
        return False
    return True


class KeyType(t.NamedTuple):
    """How to check one key of the state, and what to call the expected type."""

    check: t.Callable[[object], bool]
    expected: str


# Keys of a partition entry and their types; keys not here are left alone (the SDK and
# later releases may add their own).
PARTITION_KEYS: dict[str, KeyType] = {
    ANCHORS: KeyType(_is_int_list, "an array of integers (product ids)"),
    FETCHED: KeyType(_is_int_list, "an array of integers (product ids)"),
    CHECKED_AT: KeyType(
        lambda v: v is None or _is_iso_datetime(v), "an ISO-8601 date-time string or null"
    ),
    FROZEN: KeyType(lambda v: v is None or _is_int(v), "an integer or null"),
    COSTS: KeyType(
        lambda v: isinstance(v, dict) and all(_is_int(c) for c in v.values()),
        "an object of integers (requests per mode)",
    ),
    SNAPSHOT_AT: KeyType(lambda v: isinstance(v, str), "a string"),
    BACKLOG: KeyType(
        lambda v: isinstance(v, list) and all(_converts(b, Backlog) for b in v),
        "an array of suspended reads as this release writes them",
    ),
    PROGRESS_MARKERS: KeyType(lambda v: isinstance(v, dict), "an object"),
}
CONTEXT_KEYS: dict[str, KeyType] = {
    STORE: KeyType(lambda v: isinstance(v, str), "a string (store code)"),
    CATEGORY_ID: KeyType(_is_int, "an integer"),
}
STREAM_KEYS: dict[str, KeyType] = {
    VERSION: KeyType(_is_int, "an integer"),
    SNAPSHOT_IN_PROGRESS: KeyType(lambda v: isinstance(v, str), "a string"),
    AUDIT: KeyType(
        lambda v: isinstance(v, dict) and all(_packed(p) for p in v.values()),
        "an object of packed product ids (a store to its feeds' products)",
    ),
    SENT: KeyType(
        lambda v: _nested_packed(v, 3), "a mode to a child stream to a store to packed ids"
    ),
    COVERS: KeyType(
        lambda v: isinstance(v, dict) and all(is_cover_value(c) for c in v.values()),
        "an object of covers (a store to its listing ids, packed known ids, learned_at)",
    ),
    STORE_PRODUCTS: KeyType(
        lambda v: isinstance(v, dict) and all(_is_int(n) for n in v.values()),
        "an object of integers (a store to its products)",
    ),
}


def check_version(stream_state: Mapping[str, t.Any]) -> None:
    """Refuse a state this release cannot read (written by a newer one).

    Raises:
        StateVersionError: ``version`` is above :data:`STATE_VERSION`.
    """
    version = stream_state.get(VERSION)
    if isinstance(version, int) and not isinstance(version, bool) and version > STATE_VERSION:
        msg = (
            f"it was written by a newer tap-asos (state version {version}; this release "
            f"reads up to {STATE_VERSION}). Upgrade tap-asos"
        )
        raise StateVersionError(msg)


# --- the typed state -------------------------------------------------------------


def bookmark_of(entry: Mapping[str, t.Any]) -> Bookmark:
    """A partition entry's bookmark (of any shape: an id bookmark has no anchors)."""
    checked = entry.get(CHECKED_AT)
    frozen = entry.get(FROZEN)
    return Bookmark(
        anchors=tuple(int(a) for a in entry.get(ANCHORS) or ()),
        checked_at=datetime.fromisoformat(checked) if checked else None,
        frozen=int(frozen) if frozen is not None else None,
        fetched=frozenset(int(i) for i in entry.get(FETCHED) or ()),
    )


def write_bookmark(entry: MutableMapping[str, t.Any], bookmark: Bookmark) -> None:
    """Write a bookmark's keys into a partition entry (small, catalog-size free)."""
    entry[ANCHORS] = list(bookmark.anchors)
    entry[CHECKED_AT] = bookmark.checked_at.isoformat() if bookmark.checked_at else None
    entry[FROZEN] = bookmark.frozen
    entry[FETCHED] = sorted(bookmark.fetched)


@dataclass(frozen=True)
class PartitionState:
    """One partition's entry, typed."""

    store: str
    category_id: int
    bookmark: Bookmark = field(default_factory=Bookmark)
    costs: Mapping[str, int] = field(default_factory=dict)  # mode -> requests
    snapshot_at: str | None = None  # the snapshot that last finished this partition
    backlogs: tuple[Backlog, ...] = ()  # suspended reads, newest first

    @classmethod
    def from_entry(cls, entry: Mapping[str, t.Any]) -> PartitionState:
        """Read a partition entry of the SDK's ``partitions`` list."""
        context = entry.get(CONTEXT) or {}
        snapshot_at = entry.get(SNAPSHOT_AT)
        backlogs = sorted(
            (Backlog.from_value(b) for b in entry.get(BACKLOG) or ()),
            key=lambda b: b.started_at,
            reverse=True,
        )
        return cls(
            store=str(context.get(STORE)),
            category_id=int(context.get(CATEGORY_ID) or 0),
            bookmark=bookmark_of(entry),
            costs={str(k): int(v) for k, v in (entry.get(COSTS) or {}).items()},
            snapshot_at=None if snapshot_at is None else str(snapshot_at),
            backlogs=tuple(backlogs),
        )

    def backlogs_of(self, mode: str) -> tuple[Backlog, ...]:
        """The suspended reads of runs in ``mode``, newest first (another mode's are left)."""
        return tuple(b for b in self.backlogs if b.mode == mode)

    @property
    def finished_once(self) -> bool:
        """Whether a run has finished this partition (it has a bookmark)."""
        return self.bookmark.checked_at is not None


def context_of(store: str, category_id: int) -> dict[str, t.Any]:
    """The SDK context (and state key) of a store x category partition."""
    return {STORE: store, CATEGORY_ID: category_id}


def context_key(context: Mapping[str, t.Any]) -> tuple[str, int]:
    """A partition context as ``(store, category id)``."""
    return str(context.get(STORE)), int(context.get(CATEGORY_ID) or 0)


class ProductsState:
    """The ``products`` stream's state as a run reads and changes it.

    A view over the dict the SDK keeps (``bookmarks.products``): it is the one the SDK
    writes in every STATE, so changes made here are in the next STATE.  ``resumed``
    is the snapshot in progress when the run started (None: the run starts a new one,
    or is incremental).
    """

    def __init__(self, stream_state: MutableMapping[str, t.Any]) -> None:
        """Upgrade ``stream_state`` in place (see :func:`upgrade`) and keep it."""
        upgrade(stream_state)
        self.raw = stream_state
        resumed = stream_state.get(SNAPSHOT_IN_PROGRESS)
        self.resumed: str | None = None if resumed is None else str(resumed)

    def entries(self) -> Iterator[Mapping[str, t.Any]]:
        """The partition entries, as the SDK keeps them."""
        yield from self.raw.get(PARTITIONS) or ()

    def partitions(self) -> list[PartitionState]:
        """Every partition entry, typed."""
        return [PartitionState.from_entry(entry) for entry in self.entries()]

    def partition(self, context: Mapping[str, t.Any]) -> PartitionState:
        """A partition's state as the run reads it (never created or changed here)."""
        key = context_key(context)
        for entry in self.entries():
            if context_key(entry.get(CONTEXT) or {}) == key:
                return PartitionState.from_entry(entry)
        return PartitionState(*key)

    def done_in_snapshot(self, partition: PartitionState) -> bool:
        """Whether the snapshot this run resumes finished ``partition`` already."""
        return self.resumed is not None and partition.snapshot_at == self.resumed

    def snapshot_at(self, started: str) -> str:
        """The snapshot this run belongs to: the one in progress, else one from ``started``."""
        return str(self.raw.setdefault(SNAPSHOT_IN_PROGRESS, started))

    def close_snapshot(self) -> None:
        """The snapshot is complete: the next snapshot run starts a new one."""
        self.raw.pop(SNAPSHOT_IN_PROGRESS, None)
        self.raw.pop(AUDIT, None)
        self.forget_sent("full_table")

    def sent_before(self, mode: str, stream: str, store: str) -> frozenset[int]:
        """Products a child stream had in earlier runs while reads were left.

        See :meth:`keep_sent`.
        """
        packed = (((self.raw.get(SENT) or {}).get(mode) or {}).get(stream) or {}).get(store)
        return frozenset() if not packed else unpack_ids(str(packed))

    def keep_sent(self, mode: str, stream: str, store: str, ids: t.Iterable[int]) -> None:
        """Keep the products a child stream had.

        While a first read (or a snapshot) is spread over runs, a product listed in several
        partitions goes to each child stream once, and a batch a budget cut part way counts
        what went.
        """
        by_stream = self.raw.setdefault(SENT, {}).setdefault(mode, {})
        by_stream.setdefault(stream, {})[store] = pack_ids(ids)

    def forget_sent(self, mode: str) -> None:
        """Every read of ``mode`` is done: the next ones fetch children anew."""
        sent = self.raw.get(SENT) or {}
        sent.pop(mode, None)
        if not sent:
            self.raw.pop(SENT, None)

    def audit_listed(self, store: str) -> frozenset[int]:
        """What the store's feeds listed in the snapshot in progress (kept for its audit)."""
        packed = (self.raw.get(AUDIT) or {}).get(store)
        return frozenset() if not packed else unpack_ids(str(packed))

    def keep_audit_listed(self, store: str, ids: t.Iterable[int]) -> None:
        """Keep what the store's feeds listed, for the snapshot's later runs."""
        self.raw.setdefault(AUDIT, {})[store] = pack_ids(ids)

    def cover(self, store: str) -> Cover | None:
        """The store's cover (the listings its snapshots read), if one was learned."""
        value = (self.raw.get(COVERS) or {}).get(store)
        return None if value is None else Cover.from_value(value)

    def keep_cover(self, store: str, cover: Cover) -> None:
        """Keep the store's cover for the next snapshots."""
        self.raw.setdefault(COVERS, {})[store] = cover.to_value()

    def store_products(self, store: str) -> int | None:
        """How many products the last read of every listing of the store found."""
        count = (self.raw.get(STORE_PRODUCTS) or {}).get(store)
        return None if count is None else int(count)

    def keep_store_products(self, store: str, count: int) -> None:
        """A read of every listing of the store found ``count`` products (prices a month)."""
        self.raw.setdefault(STORE_PRODUCTS, {})[store] = count


def finish_partition(
    entry: MutableMapping[str, t.Any],
    bookmark: Bookmark | None,
    *,
    cost: tuple[str, int] | None = None,
    snapshot_at: str | None = None,
) -> None:
    """A read of a partition is finished: its bookmark, cost (mode, requests), snapshot.

    ``bookmark`` None: kept already (see :func:`commit_bookmark`), or older than the
    partition's.
    """
    if bookmark is not None:
        write_bookmark(entry, bookmark)
    if cost is not None:
        entry.setdefault(COSTS, {})[cost[0]] = cost[1]
    if snapshot_at is not None:
        entry[SNAPSHOT_AT] = snapshot_at


def keep_old_bookmark(entry: MutableMapping[str, t.Any]) -> None:
    """A partition stopped mid-listing: forget the SDK's progress, keep the old bookmark."""
    entry.pop(PROGRESS_MARKERS, None)


def commit_bookmark(entry: MutableMapping[str, t.Any], bookmark: Bookmark) -> None:
    """A read has emitted (and sent to the children) everything above its new anchors.

    The partition's next top scan starts from them, while the rest of the read may be
    suspended below (``backlog``).
    """
    write_bookmark(entry, bookmark)


def _same_read(value: t.Mapping[str, t.Any], backlog: Backlog) -> bool:
    return Backlog.from_value(value).started_at == backlog.started_at and (
        value.get("mode") == backlog.mode
    )


def suspend(entry: MutableMapping[str, t.Any], backlog: Backlog) -> None:
    """Keep where a stopped read stands (in place of its earlier backlog, if any)."""
    kept = [b for b in entry.get(BACKLOG) or () if not _same_read(b, backlog)]
    entry[BACKLOG] = [backlog.to_value(), *kept]
    entry.pop(PROGRESS_MARKERS, None)


def drop_backlog(entry: MutableMapping[str, t.Any], started_at: datetime, mode: str) -> None:
    """A suspended read (or one that would have been) is read to its end: forget it."""
    kept = [
        b
        for b in entry.get(BACKLOG) or ()
        if not (b.get("mode") == mode and Backlog.from_value(b).started_at == started_at)
    ]
    if kept:
        entry[BACKLOG] = kept
    else:
        entry.pop(BACKLOG, None)


def bookmark_is_older(entry: Mapping[str, t.Any], started_at: datetime) -> bool:
    """Whether the partition's bookmark (if any) was taken before ``started_at``."""
    checked = bookmark_of(entry).checked_at
    return checked is None or checked < started_at


def shape_of(stream_state: Mapping[str, t.Any]) -> int:
    """Which shape (version, see the module docstring) a ``products`` state has."""
    if _is_int(stream_state.get(VERSION)):
        return int(stream_state[VERSION])
    entries = list(stream_state.get(PARTITIONS) or ())
    if any(e.get(REPLICATION_KEY) == _OLD_ID_KEY for e in entries):
        return 1
    if any(FETCHED in e or COSTS in e for e in entries):
        return 3
    if any(ANCHORS in e for e in entries):
        return 2
    return 1 if entries else STATE_VERSION


def upgrade(stream_state: MutableMapping[str, t.Any]) -> None:
    """Bring a ``products`` state of any earlier shape to this one, in place.

    Idempotent.  Nothing an earlier release kept is lost: 0.1.0's id is dropped (ids do
    not tell arrivals, see the module docstring), its ``checked_at`` bounds the next read.

    Raises:
        StateVersionError: a state written by a newer release.
    """
    check_version(stream_state)
    for entry in stream_state.get(PARTITIONS) or ():
        if entry.get(REPLICATION_KEY) == _OLD_ID_KEY:
            entry.pop(REPLICATION_KEY, None)
            entry.pop(REPLICATION_KEY_VALUE, None)
    stream_state[VERSION] = STATE_VERSION


def upgrade_tap_state(tap_state: MutableMapping[str, t.Any]) -> None:
    """Upgrade the ``products`` state inside a whole Singer state, if it holds one."""
    products = (tap_state.get(BOOKMARKS) or {}).get(STREAM)
    if isinstance(products, dict):
        upgrade(products)


def describe(context: Mapping[str, t.Any]) -> str:
    """A partition context's known keys, short: enough to find an entry in a file."""
    known = {k: context[k] for k in CONTEXT_KEYS if k in context}
    return json.dumps(known or context, default=str)[:200]
