"""Where a partition's reads stand: a finished read's bookmark, a suspended read's backlog.

:class:`Bookmark` is where the partition's last finished read left its listing (see
:mod:`tap_asos.arrivals`).  :class:`Backlog` is a read a budget (or a daily run's first
read of a feed) suspended: where it stands (a :class:`Cursor` per listing it is in, the
slices still to read), what its scan had gathered (:class:`ScanState`: five anchors, the
head block's size, a few ids), and the ids of the page it stopped in that went to the
children already.  Sets of ids that can be large (a snapshot's feed contents for its
audit, the ids a capped listing read above its cap) are packed (:func:`pack_ids`:
sorted, delta-coded, compressed): about two bytes an id.

Where these sit in the Singer state, and the keys they are kept under, is
:mod:`tap_asos.state`'s.
"""

from __future__ import annotations

import base64
import json
import typing as t
import zlib
from dataclasses import dataclass, field
from datetime import datetime  # noqa: TC003 - msgspec reads the annotations at run time

import msgspec


@dataclass(frozen=True)
class Bookmark:
    """A partition's incremental state: where its last finished run left the listing."""

    anchors: tuple[int, ...] = ()
    checked_at: datetime | None = None  # start of the last run that finished the partition
    frozen: int | None = None  # how many products the frozen part held then
    # Products that run sent to the child streams from above its anchors (its Today
    # block): the next run reads them again (at-least-once) but fetches them no more.
    fetched: frozenset[int] = frozenset()


def pack_ids(ids: t.Iterable[int]) -> str:
    """A set of product ids as a short string: sorted, delta-coded, compressed, base64."""
    out = bytearray()
    last = 0
    for value in sorted(set(ids)):
        delta, last = value - last, value
        while True:  # LEB128
            byte, delta = delta & 0x7F, delta >> 7
            out.append(byte | (0x80 if delta else 0))
            if not delta:
                break
    return base64.b64encode(zlib.compress(bytes(out), 9)).decode("ascii")


def unpack_ids(text: str) -> frozenset[int]:
    """The ids :func:`pack_ids` packed.

    Raises:
        ValueError: the text is not a packed set of ids.
    """
    try:
        data = zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True))
    except (ValueError, zlib.error) as exc:
        msg = "not a packed set of product ids"
        raise ValueError(msg) from exc
    ids: set[int] = set()
    value = shift = last = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            last += value
            ids.add(last)
            value = shift = 0
    return frozenset(ids)


def pack_in_order(ids: t.Sequence[int]) -> str:
    """A list of product ids, in its order, as a short string (zigzag deltas, compressed)."""
    out = bytearray()
    last = 0
    for value in ids:
        delta, last = value - last, value
        zigzag = (delta << 1) ^ (delta >> 63)
        while True:
            byte, zigzag = zigzag & 0x7F, zigzag >> 7
            out.append(byte | (0x80 if zigzag else 0))
            if not zigzag:
                break
    return base64.b64encode(zlib.compress(bytes(out), 9)).decode("ascii") if ids else ""


def unpack_in_order(text: str) -> list[int]:
    """The ids :func:`pack_in_order` packed, in their order."""
    if not text:
        return []
    data = zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True))
    ids: list[int] = []
    value = shift = last = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            last += (value >> 1) ^ -(value & 1)
            ids.append(last)
            value = shift = 0
    return ids


@dataclass(frozen=True)
class Cursor:
    """Where a suspended read resumes in one listing (or facet slice).

    ``offset``: the products of the listing above the resume point when it was saved;
    ``unread``: those from it down.  A listing under ``sort=freshness`` gains products
    at its top and only loses some below (older day blocks): the resume point is found
    again as the product after ``last_read``, or else ``itemCount`` now less ``unread``
    (which can only re-read, never skip, when products left the unread part).
    """

    offset: int
    unread: int
    last_read: int | None = None


@dataclass(frozen=True)
class Frame:
    """One listing of a suspended read: the partition's own, or a facet slice of it.

    ``filters``: the facet filters of the slice ({} for the partition's listing);
    ``cursor``: where its own pages resume (None: they are done, its slices are read);
    ``todo``: the facet values of its slices still to read; ``seen``: the ids it read
    above its cap, packed (its slices skip them).
    """

    filters: dict[str, str] = field(default_factory=dict)
    cursor: Cursor | None = None
    todo: tuple[str, ...] = ()
    seen: str = ""


@dataclass(frozen=True)
class ScanState:
    """What a suspended :class:`tap_asos.arrivals.ArrivalScan` had gathered.

    Positions are those of the read's start; see that class for each field.
    """

    bookmark: Bookmark
    everything: bool = False
    regains: bool = False
    position: int = 0
    item_count: int = 0
    head_end: int | None = None
    floor: int = 0
    limit: int | None = None
    bands: dict[str, int] | None = None
    previous_id: int | None = None
    anchors_read: tuple[int, ...] = ()
    next_anchors: tuple[int, ...] = ()
    sent: tuple[int, ...] = ()  # ids sent to the children from the head block
    read: str = ""  # a snapshot's audit: every id read, in order (pack_in_order)
    pair_at: int | None = None


@dataclass(frozen=True)
class Backlog:
    """A read a budget (or a daily run's first read of a feed) suspended; see the module."""

    started_at: datetime  # the read's start: the new bookmark's ``checked_at``
    mode: str  # the replication method's key (``incremental``, ``full_table``)
    scan: ScanState
    frames: tuple[Frame, ...]  # from the partition's listing down to the slice it is in
    emitted: int = 0  # products emitted so far (max_products_per_partition)
    committed: bool = False  # the read's new bookmark is in the entry already
    snapshot_at: str | None = None  # the snapshot a FULL_TABLE read belongs to
    # Ids of the page it resumes in that went to the children already: read again,
    # sent no more.
    sent: tuple[int, ...] = ()

    @classmethod
    def from_value(cls, value: object) -> Backlog:
        """Read a ``backlog`` value of the state.

        Raises:
            ValueError: it is not a backlog this release wrote.
        """
        try:
            return msgspec.convert(value, cls)
        except msgspec.ValidationError as exc:
            raise ValueError(str(exc)) from None

    def to_value(self) -> dict[str, t.Any]:
        """The value kept in the state (JSON)."""
        return t.cast("dict[str, t.Any]", json.loads(msgspec.json.encode(self)))
