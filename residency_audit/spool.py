"""A scan's resources and findings kept in a temporary file instead of in memory.

An organisation's estate can hold hundreds of thousands of resources; held as objects
(resource, resolved locations, findings: ~1.6 KB per resource) they made a scan's memory grow
with the estate. Beyond `DEFAULT_SPOOL_AFTER` resources a scan writes each one to an unlinked
temporary file as it arrives, judges them one at a time from there, and the outputs and the store
read them back one at a time: memory stays flat, whatever the estate.

Items are pickled one by one (each with its own memo, so each reads back alone). Places and owners
are written as references to one shared table: a few hundred distinct objects stand for every
resource's, and they read back as the very same objects.

The file holds what the outputs hold (redacted on the way in), lives in the system's temporary
directory with owner-only permissions, and is unlinked from the start: nothing is left behind,
even when the process is killed.
"""

from __future__ import annotations

import io
import os
import pickle
import tempfile
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any, Generic, TypeVar, overload

from .errors import SpoolError
from .model import Location, Owner, Place, ResolvedLocation, Resource

T = TypeVar("T")

#: Resources a scan keeps in memory before it spools them (`scan --spool-after`).
DEFAULT_SPOOL_AFTER = 5_000

_CHUNK = 1 << 18  # bytes read per pread while iterating
_FLUSH = 1 << 18  # bytes buffered before a write


class Shared:
    """The table of objects written by reference: equal places and owners are stored once."""

    __slots__ = ("_by_id", "_by_value", "_lock", "objects")

    def __init__(self) -> None:
        self.objects: list[Any] = []
        self._by_id: dict[int, int] = {}  # id() of a registered object (held in `objects`)
        self._by_value: dict[Any, int] = {}
        self._lock = threading.Lock()

    def key(self, obj: Any) -> int:
        k = self._by_id.get(id(obj))
        if k is not None:
            return k
        with self._lock:
            k = self._by_value.get(obj)
            if k is None:
                k = self._by_value[obj] = len(self.objects)
                self.objects.append(obj)
                self._by_id[id(obj)] = k
            return k


_SHARED_TYPES = (Place, Owner)


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, shared: Shared) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = shared

    def persistent_id(self, obj: Any) -> int | None:
        return self._shared.key(obj) if type(obj) in _SHARED_TYPES else None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, shared: Shared) -> None:
        super().__init__(file)
        self._objects = shared.objects

    def persistent_load(self, pid: Any) -> Any:
        return self._objects[pid]


class Spool(Generic[T]):
    """An append-only sequence of picklable items in an unlinked temporary file.

    Reads (`iter`, indexing) see every item appended before them; each iterator reads on its
    own offsets (`os.pread`), so two may run at once. Appending is safe from several threads.
    """

    def __init__(self, shared: Shared | None = None) -> None:
        self.shared = shared if shared is not None else Shared()
        # Lives as long as the spool (closed by `close` or with the object): no `with` fits.
        try:
            self._file = tempfile.TemporaryFile(prefix="residency-audit-")  # noqa: SIM115
        except OSError as exc:
            raise SpoolError(exc) from None
        self._fd = self._file.fileno()
        self._ends = array("q")  # end offset of each item in the file
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._lock = threading.Lock()

    def _dump(self, item: T) -> bytes:
        buf = io.BytesIO()
        _Pickler(buf, self.shared).dump(item)
        return buf.getvalue()

    def append(self, item: T) -> None:
        data = self._dump(item)
        with self._lock:
            end = (self._ends[-1] if self._ends else 0) + len(data)
            self._ends.append(end)
            self._pending.append(data)
            self._pending_size += len(data)
            if self._pending_size >= _FLUSH:
                self._flush()

    def extend(self, items: Iterable[T]) -> None:
        for item in items:
            self.append(item)

    def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            kept = len(self._ends) - len(self._pending)
            self._pending.clear()
            self._pending_size = 0
            view = memoryview(data)
            offset = self._ends[kept - 1] if kept else 0
            try:
                while view:  # a write may take less than asked
                    n = os.pwrite(self._fd, view, offset)
                    view, offset = view[n:], offset + n
            except OSError as exc:
                del self._ends[kept:]  # what did not reach the file is not in the spool
                raise SpoolError(exc) from None

    def _ready(self) -> int:
        with self._lock:
            self._flush()
            return len(self._ends)

    def _load(self, data: bytes | memoryview) -> T:
        item: T = _Unpickler(io.BytesIO(data), self.shared).load()
        return item

    def __len__(self) -> int:
        return len(self._ends)

    def __bool__(self) -> bool:
        return bool(self._ends)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        n = self._ready()
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(n))]
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("spool index out of range")
        start = self._ends[index - 1] if index else 0
        return self._load(os.pread(self._fd, self._ends[index] - start, start))

    def __iter__(self) -> Iterator[T]:
        n = self._ready()
        ends = self._ends
        i = 0
        start = 0
        while i < n:
            j = i + 1  # at least one item per read, however large
            while j < n and ends[j] - start <= _CHUNK:
                j += 1
            data = memoryview(os.pread(self._fd, ends[j - 1] - start, start))
            offset = 0
            for k in range(i, j):
                size = ends[k] - start - offset
                yield self._load(data[offset : offset + size])
                offset += size
            i, start = j, ends[j - 1]

    def rewrite(self, change: Callable[[T], T]) -> None:
        """Replace every item by `change(item)`, in a new file (items are not objects to mutate)."""
        fresh: Spool[T] = Spool(self.shared)
        fresh.extend(change(item) for item in self)
        fresh._ready()
        old = self._file
        self._file, self._fd, self._ends = fresh._file, fresh._fd, fresh._ends
        old.close()

    def close(self) -> None:
        self._file.close()


class _IdIndex:
    """Resource id -> position(s), keyed by the id's hash so that the ids themselves are not held
    (a hash shared by two ids keeps both positions; callers compare the ids they read back)."""

    __slots__ = ("_where",)

    def __init__(self) -> None:
        self._where: dict[int, int | list[int]] = {}

    def add(self, rid: str, pos: int) -> None:
        h = hash(rid)
        seen = self._where.get(h)
        if seen is None:
            self._where[h] = pos
        elif isinstance(seen, list):
            seen.append(pos)
        else:
            self._where[h] = [seen, pos]

    def candidates(self, rid: str) -> tuple[int, ...] | list[int]:
        seen = self._where.get(hash(rid))
        if seen is None:
            return ()
        return seen if isinstance(seen, list) else (seen,)


class ResourceSpool:
    """The resources a scan collects, spooled as they arrive: one record per id, later sightings
    merging their locations into the first (see `Collector.add`), as the in-memory dict does."""

    def __init__(self) -> None:
        self.items: Spool[Resource] = Spool()
        self._index = _IdIndex()
        self._extra: dict[int, list[Location]] = {}  # position -> locations merged in later

    def __len__(self) -> int:
        return len(self.items)

    def add(self, resource: Resource) -> None:
        """Add a resource, or merge its locations into the one with its id (caller holds the lock)."""
        for pos in self._index.candidates(resource.id):
            first = self.items[pos]
            if first.id == resource.id:
                extra = self._extra.setdefault(pos, [])
                for loc in resource.locations:
                    if loc not in first.locations and loc not in extra:
                        extra.append(loc)
                return
        self._index.add(resource.id, len(self.items))
        self.items.append(resource)

    def __iter__(self) -> Iterator[Resource]:
        extra = self._extra
        for pos, resource in enumerate(self.items):
            more = extra.get(pos)
            if more:
                resource.locations.extend(more)
            yield resource

    def rewrite(self, change: Callable[[Resource], object]) -> None:
        """Apply `change` to every resource (merged locations included) and keep the result:
        what an adapter's closing pass (canonical link targets) does to objects in memory."""
        fresh: Spool[Resource] = Spool(self.items.shared)
        for resource in self:
            change(resource)
            fresh.append(resource)
        self.items.close()
        self.items = fresh
        self._extra = {}

    def close(self) -> None:
        self.items.close()


class JudgedSpool:
    """Judged resources, each with its resolved locations, in scan order; `resources` and
    `resolved` are the two views a `ScanResult` offers of them.

    An index of id hashes answers `resolved[id]` and `position(id)` without holding the ids;
    reading through `resources` keeps the last record at hand, which is what the outputs then
    ask `resolved` for.
    """

    def __init__(self, shared: Shared | None = None) -> None:
        self.items: Spool[tuple[Resource, list[ResolvedLocation]]] = Spool(shared)
        self._index = _IdIndex()
        self._last: tuple[int, tuple[Resource, list[ResolvedLocation]]] | None = None
        self._found: tuple[int, tuple[Resource, list[ResolvedLocation]]] | None = None
        self._overlay: dict[str, list[ResolvedLocation]] = {}  # resolved set after judging
        self.resources = SpooledResources(self)
        self.resolved = SpooledResolved(self)

    def append(self, resource: Resource, resolved: list[ResolvedLocation]) -> None:
        self._index.add(resource.id, len(self.items))
        self.items.append((resource, resolved))

    def find(self, rid: str) -> tuple[int, tuple[Resource, list[ResolvedLocation]]] | None:
        for near in (self._last, self._found):  # what was just read, or just found: a resource's
            if near is not None and near[1][0].id == rid:  # findings are consecutive
                return near
        for pos in self._index.candidates(rid):
            item = self.items[pos]
            if item[0].id == rid:
                self._found = (pos, item)
                return self._found
        return None

    def position(self, rid: str) -> int | None:
        hit = self.find(rid)
        return hit[0] if hit else None

    def close(self) -> None:
        self.items.close()


class SpooledResources:
    """`ScanResult.resources` of a spooled scan: a read-only sequence read from disk."""

    def __init__(self, judged: JudgedSpool) -> None:
        self._judged = judged

    def __len__(self) -> int:
        return len(self._judged.items)

    def __bool__(self) -> bool:
        return bool(self._judged.items)

    def __iter__(self) -> Iterator[Resource]:
        judged = self._judged
        for pos, item in enumerate(judged.items):
            judged._last = (pos, item)
            yield item[0]

    @overload
    def __getitem__(self, index: int) -> Resource: ...

    @overload
    def __getitem__(self, index: slice) -> list[Resource]: ...

    def __getitem__(self, index: int | slice) -> Resource | list[Resource]:
        if isinstance(index, slice):
            return [item[0] for item in self._judged.items[index]]
        return self._judged.items[index][0]

    def position(self, rid: str) -> int | None:
        return self._judged.position(rid)

    def append(self, resource: Resource) -> None:
        self._judged.append(resource, [])

    def extend(self, resources: Iterable[Resource]) -> None:
        for r in resources:
            self.append(r)


class SpooledResolved(MutableMapping[str, list[ResolvedLocation]]):
    """`ScanResult.resolved` of a spooled scan: resource id -> its resolved locations."""

    def __init__(self, judged: JudgedSpool) -> None:
        self._judged = judged

    def __getitem__(self, rid: str) -> list[ResolvedLocation]:
        overlay = self._judged._overlay
        if rid in overlay:
            return overlay[rid]
        hit = self._judged.find(rid)
        if hit is None:
            raise KeyError(rid)
        return hit[1][1]

    def __setitem__(self, rid: str, value: list[ResolvedLocation]) -> None:
        self._judged._overlay[rid] = value

    def __delitem__(self, rid: str) -> None:
        raise TypeError("a spooled scan's resolved locations are not removed")

    def __iter__(self) -> Iterator[str]:
        seen = set(self._judged._overlay)
        yield from seen
        for resource in self._judged.resources:
            if resource.id not in seen:
                yield resource.id

    def __len__(self) -> int:
        return sum(1 for _ in self)
