"""Bulk reads through the property collector: one request for many objects, pages followed.

Each attribute read on a pyVmomi managed object is a round trip; a property collector request
reads any number of properties of any number of objects at once. vCenter answers in pages of
at most ``maxObjects`` objects and a token for the rest (``ContinueRetrievePropertiesEx``).

pyVmomi's SOAP deserializer spends about 0.25 ms of Python per VM on the picker's seven
properties (type checks on every attribute it sets): 2.6 s for 10,000 VMs, four times what the
server needs. ``retrieve(..., lean=True)`` sends the same request over the same connection pool
(same TLS context, same session cookie) and reads the answer with the C ``xml.etree`` parser,
building the same pyVmomi objects without those checks; faults still go through pyVmomi.
Compressed answers (pyVmomi asks for gzip, vCenter and the lab give it) are inflated in large
pieces. Answers of plain values only (the picker's) can be scanned as text instead
(``simple=True``), and array items a caller does not want are cut from the text before parsing
(``only_items``, ``only_keys``). Requests that do not depend on each other go out at once with
:func:`together`; :func:`inventory_filter` reaches the whole inventory from the root folder in
one request.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import gc
import html
import http.client
import io
import logging
import queue
import re
import threading
import xml.etree.ElementTree as ET
import xml.parsers.expat
import zlib
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any, TypeVar, overload

# The lean reader sends requests as SoapAdapter's stub does and hands faults to its deserializer.
from wizard.vsphere._pyvmomi import PC, SoapAdapter, SoapStubAdapter, VmomiSupport, vim, vmodl

log = logging.getLogger(__name__)

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")

PAGE_SIZE = 50_000
"""``maxObjects`` of each page: more than a vCenter can hold (45,000 VMs in vSphere 8), so that a
read costs one round trip wherever the server allows it (vCenter may still choose fewer).

Not leaving ``maxObjects`` unset matters: vCenter then pages at 100 objects, and a read of
10,000 VMs' names would cost a hundred round trips, each a full latency over a slow link."""


@dataclass(frozen=True)
class ObjectProps:
    """The properties read for one managed object.

    Attributes:
        moref: its managed object id, e.g. ``"vm-42"``.
        type: its vSphere type name, e.g. ``"VirtualMachine"``.
        props: property path -> value as pyVmomi returns it (unset properties are absent).
        missing: property paths that could not be read, with the fault type.
    """

    moref: str
    type: str
    props: Mapping[str, Any]
    missing: tuple[tuple[str, str], ...] = field(default=())

    def get(self, path: str, default: Any = None) -> Any:
        """The value of ``path``, or ``default`` when unset or unreadable."""
        return self.props.get(path, default)


def moref_of(obj: Any) -> str:
    """The managed object id of a pyVmomi managed object (``""`` for None).

    A ``str`` is an id already (a reference read by ``retrieve(..., simple=True)``).
    """
    if isinstance(obj, str):
        return obj
    return str(obj._moId) if obj is not None else ""


def type_of(obj: Any) -> str:
    """The vSphere type name of a managed object, e.g. ``"HostSystem"``."""
    return str(obj._wsdlName)


def property_specs(props: Mapping[Any, Sequence[str]]) -> list[Any]:
    """A ``PropertySpec`` for each managed object type and the paths wanted of it."""
    return [PC.PropertySpec(type=t, pathSet=list(paths), all=False) for t, paths in props.items()]


def _to_object_props(content: Any) -> ObjectProps:
    props = {p.name: p.val for p in (content.propSet or ())}
    missing = tuple(
        (m.path, type(m.fault).__name__ if m.fault is not None else "")
        for m in (content.missingSet or ())
    )
    return ObjectProps(moref_of(content.obj), type_of(content.obj), props, missing)


def retrieve(
    collector: Any,
    filter_specs: list[Any],
    *,
    page_size: int = PAGE_SIZE,
    lean: bool = False,
    only_items: Mapping[str, Any] | None = None,
    only_keys: Mapping[str, Collection[str]] | None = None,
    simple: bool = False,
    on_page: Callable[[list[ObjectProps]], None] | None = None,
    max_pages: int | None = None,
) -> list[ObjectProps]:
    """Run ``RetrievePropertiesEx`` and follow ``ContinueRetrievePropertiesEx`` to the last page.

    If reading a later page fails, the server-side result set is released with
    ``CancelRetrievePropertiesEx`` (best effort) before the error propagates.

    Args:
        collector: the ``PropertyCollector`` (or a stand-in with the same three methods).
        filter_specs: the ``FilterSpec`` list.
        page_size: ``maxObjects`` per page.
        lean: read the answers with the lean reader (see the module's docstring): the same
            requests and the same values, several times faster for thousands of objects. A
            stand-in collector is always read through its methods.
        only_items: property path -> pyVmomi type: of that array property keep only the items
            of that type (e.g. ``{"config.hardware.device": vim.vm.device.VirtualVideoCard}``);
            the lean reader then skips the others unread. The pyVmomi path filters the same way.
        only_keys: property path -> option keys: of that ``OptionValue`` array property keep
            only the options of those keys, compared without regard to case as vSphere
            compares them (e.g. ``{"config.extraConfig": ("mks.enable3d",)}``); the lean
            reader cuts the others from the text unread, the pyVmomi path filters the same way.
            A path is named in ``only_items`` or here, not in both.
        simple: with ``lean``, for properties that are all strings, enumerations or references
            (the picker's): each page is scanned with one regular expression instead of
            parsed into elements, every value kept as the ``str`` it is on the wire (a
            reference as its managed object id, which :func:`moref_of` accepts). A page holding
            anything else (a data object, an array, a property that could not be read) is
            read by the lean decoder as usual, so the values are then pyVmomi's.
        on_page: called with each page's objects as soon as the page is read, while the next
            is on its way (to show the first rows of a long list while the rest arrives).
        max_pages: read no more pages than this; the rest of the answer is released on the
            server (``CancelRetrievePropertiesEx``, best effort).
    """
    options = PC.RetrieveOptions(maxObjects=page_size)
    only = dict(only_items or {})
    keys = _lowered(only_keys)
    if on_page is not None:
        on_page = _OnlyNew(on_page)
    if lean and _is_soap_stub(collector):
        reader = _LeanReader(collector, only, keys)
        parse = reader.parse_simple_page if simple else reader.parse_page
        try:
            with gc_paused():
                return _lean_pages(
                    _Prefetched(
                        collector,
                        lambda: reader.invoke(
                            "RetrievePropertiesEx", [filter_specs, options], _read_all
                        ),
                        lambda token: reader.invoke(
                            "ContinueRetrievePropertiesEx", [token], _read_all
                        ),
                        max_pages,
                    ),
                    parse,
                    on_page,
                )
        except _NotLean as exc:
            log.debug("Property collector: %s in the answer, read again by pyVmomi", exc)
            if isinstance(on_page, _OnlyNew):
                on_page.restart()
    objects = _pages(
        collector,
        collector.RetrievePropertiesEx(specSet=filter_specs, options=options),
        lambda token: collector.ContinueRetrievePropertiesEx(token=token),
        on_page if not (only or keys) else None,
        max_pages,
    )
    if only or keys:
        objects = [_only_items(o, only, keys) for o in objects]
        if on_page is not None:
            on_page(objects)
    return objects


class _OnlyNew:
    """Hands on each page's objects, skipping as many as were handed on before: if the lean
    reader gives up on a later page, pyVmomi reads the answer again from its first page (the
    same objects in the same order) and the caller must not see the first pages twice."""

    def __init__(self, on_page: Callable[[list[ObjectProps]], None]) -> None:
        self._on_page = on_page
        self._seen = 0
        self._given = 0

    def restart(self) -> None:
        """The answer is read again from its first page."""
        self._seen = 0

    def __call__(self, page: list[ObjectProps]) -> None:
        start = max(0, self._given - self._seen)
        self._seen += len(page)
        if start < len(page):
            self._given += len(page) - start
            self._on_page(page[start:] if start else page)


def retrieve_names(collector: Any, filter_specs: list[Any]) -> dict[str, str]:
    """Managed object id -> ``name`` of every object ``filter_specs`` select, whose property
    specs ask for ``name`` alone: the find's read of every VM's name.

    The same request as :func:`retrieve`'s (pages followed), each page read with one regular
    expression made for this answer, which builds no :class:`ObjectProps`: for 10,000 VMs a
    few milliseconds where ``retrieve(..., simple=True)`` takes several times as long
    (``tests/bench/bench_find_names.py``). A page with anything else in it (a name that could
    not be read, another property) is read as :func:`retrieve` reads it. Names are as on the
    wire (XML entities resolved, ``%2f`` and the like left to
    :func:`wizard.vsphere.names.unescape_name`); a name that could not be read is ``""``.
    """
    if not _is_soap_stub(collector):
        return {o.moref: str(o.get("name", "")) for o in retrieve(collector, filter_specs)}
    options = PC.RetrieveOptions(maxObjects=PAGE_SIZE)
    reader = _LeanReader(collector, {})
    names: dict[str, str] = {}
    try:
        with gc_paused():
            first = reader.invoke(
                "RetrievePropertiesEx", [filter_specs, options], reader.read_names_page
            )
            for page in _follow(
                collector,
                first,
                lambda token: reader.invoke(
                    "ContinueRetrievePropertiesEx", [token], reader.read_names_page
                ),
            ):
                if isinstance(page, _LeanPage):
                    names.update((o.moref, str(o.get("name", ""))) for o in page.objects)
                else:
                    names.update(page.names)
            return names
    except _NotLean as exc:
        log.debug("Property collector: %s in the answer, read again by pyVmomi", exc)
    return {o.moref: str(o.get("name", "")) for o in retrieve(collector, filter_specs)}


def _lowered(only_keys: Mapping[str, Collection[str]] | None) -> dict[str, frozenset[str]]:
    return {path: frozenset(k.lower() for k in keys) for path, keys in (only_keys or {}).items()}


def _only_items(
    o: ObjectProps, only: Mapping[str, Any], keys: Mapping[str, frozenset[str]]
) -> ObjectProps:
    """``o`` as the lean reader reads it with ``only_items`` and ``only_keys`` (lowered)."""
    props = dict(o.props)
    for path, item_type in only.items():
        if path in props and props[path] is not None:
            array = props[path]
            props[path] = type(array)(i for i in array if isinstance(i, item_type))
    for path, wanted in keys.items():
        if path in props and props[path] is not None:
            array = props[path]
            props[path] = type(array)(i for i in array if str(i.key).lower() in wanted)
    return ObjectProps(o.moref, o.type, props, o.missing)


Held = dict[str, dict[str, bool]]
"""Entity id -> {privilege id: granted}, as ``HasPrivilegeOnEntities`` answers."""


def privileges_held(
    authorization_manager: Any, entities: Sequence[Any], session_key: str, privileges: list[str]
) -> Held:
    """``HasPrivilegeOnEntities`` for ``entities``: which of ``privileges`` the session holds on
    each, by entity id (an entity or privilege the answer leaves out is not in the mapping).

    For a scan's thousands of VMs the answer (a megabyte a thousand VMs) is read with one
    regular expression (:func:`_privileges_answer`) instead of a parser and a decoder, six times
    cheaper; an answer of any other shape is read as pyVmomi reads it.
    """
    kwargs = {"entity": list(entities), "sessionId": session_key, "privId": privileges}
    method = "HasPrivilegeOnEntities"
    if not _is_soap_stub(authorization_manager):
        return held_of(getattr(authorization_manager, method)(**kwargs))
    reader = _LeanReader(authorization_manager, {})
    info = authorization_manager._GetMethodInfo(method)
    args = [kwargs.get(p.name) for p in info.params]

    def read(stream: Any) -> Held:
        data = _read_all(stream)
        found = _privileges_answer(data)
        if found is None:
            log.debug("%s: an answer of another shape, read by the lean decoder", method)
            found = held_of(reader.read_result(io.BytesIO(data), info.result))
        return found

    try:
        held: Held = reader.invoke(method, args, read)
        return held
    except _NotLean as exc:
        log.debug("%s: %s in the answer, read again by pyVmomi", method, exc)
    return held_of(getattr(authorization_manager, method)(**kwargs))


def held_of(answer: Sequence[Any] | None) -> Held:
    """``HasPrivilegeOnEntities``' answer as pyVmomi returns it, by entity id."""
    return {
        moref_of(e.entity): {str(a.privId): bool(a.isGranted) for a in e.privAvailability or ()}
        for e in answer or ()
    }


# One entity and the privileges asked for it: the whole of an answer of
# ``HasPrivilegeOnEntities`` is a run of these and nothing else.
_PRIVILEGE_HELD = (
    r"<privAvailability><privId>([^<]*)</privId><isGranted>(true|false|1|0)</isGranted>"
    r"</privAvailability>"
)
_ENTITY_HELD = (
    r'<returnval><entity type="[^"<>]*"[^<>]*>([^<]*)</entity>'
    f"((?:{_PRIVILEGE_HELD.replace('(', '(?:')})*)</returnval>"  # its groups not captured
)
_PRIVILEGE_TOKEN = re.compile(_PRIVILEGE_HELD)
_ENTITY_TOKEN = re.compile(_ENTITY_HELD)
_ENTITY_RUN = re.compile(f"(?:{_ENTITY_HELD})*")
_PRIVILEGES_BODY = re.compile(
    r'<HasPrivilegeOnEntitiesResponse xmlns="urn:vim25">(.*)</HasPrivilegeOnEntitiesResponse>'
    r"</(?:\w+:)?Body>",
    re.S,
)


def _privileges_answer(data: bytes) -> Held | None:
    """An answer of ``HasPrivilegeOnEntities`` read with :data:`_ENTITY_TOKEN`, or None when it
    is anything but a run of those (a fault, another prefix, whitespace, attributes pyVmomi
    would read): the caller then reads it whole."""
    text = data.decode("utf-8")
    body = _PRIVILEGES_BODY.search(text)
    if body is None or _ENTITY_RUN.fullmatch(text, *body.span(1)) is None:
        return None
    unescape = html.unescape
    held: Held = {}
    for entity, privileges in _ENTITY_TOKEN.findall(text, *body.span(1)):
        held[unescape(entity) if "&" in entity else entity] = {
            unescape(p) if "&" in p else p: granted in ("true", "1")
            for p, granted in _PRIVILEGE_TOKEN.findall(privileges)
        }
    return held


def _pages(
    collector: Any,
    result: Any,
    more: Callable[[str], Any],
    on_page: Callable[[list[ObjectProps]], None] | None = None,
    max_pages: int | None = None,
) -> list[ObjectProps]:
    out: list[ObjectProps] = []
    pages = 0
    for result_page in _follow(collector, result, more, max_pages):
        pages += 1
        if isinstance(result_page, _LeanPage):
            page = result_page.objects
        else:
            page = [_to_object_props(c) for c in (result_page.objects or ())]
        out.extend(page)
        if on_page is not None:
            on_page(page)
    log.debug("Property collector: %d objects in %d page(s)", len(out), pages)
    return out


def _lean_pages(
    raw_pages: _Prefetched,
    parse: Callable[[bytes], _LeanPage | None],
    on_page: Callable[[list[ObjectProps]], None] | None,
) -> list[ObjectProps]:
    """The objects of every page ``raw_pages`` brings, each page read by ``parse`` while the
    next one is on its way."""
    out: list[ObjectProps] = []
    pages = 0
    with raw_pages:
        for raw, token in raw_pages:
            page = parse(raw)
            if page is None:
                if token:
                    raise _NotLean("a page with a token and no answer")
                break
            if (page.token or None) != token:
                # The token is looked for where servers put it (first, else last): a page
                # that holds it elsewhere is read again by pyVmomi rather than cut short.
                raise _NotLean("the token is not where it was looked for")
            pages += 1
            out.extend(page.objects)
            if on_page is not None:
                on_page(page.objects)
    log.debug("Property collector: %d objects in %d page(s)", len(out), pages)
    return out


class _Prefetched:
    """The raw pages of one answer, each next page asked for by a thread of its own as soon as
    the page before it has arrived: while the caller reads a page (Python work, which holds the
    interpreter), the server is already putting the next one together and its bytes are on the
    way. For a scan of 10,000 VMs the server's share (two seconds in the lab) then hides behind
    the reading instead of coming before it.

    Iterate it inside ``with``: (page bytes, its token or None), in order. An error of a
    request is raised where the page would have come. The server's result set is released
    (``CancelRetrievePropertiesEx``, best effort) when the reading stops before the last page:
    ``max_pages`` reached (the iteration ends first, the release follows on this thread), a
    request failed, or the caller left the ``with`` early. At most
    :data:`_PAGES_AHEAD` pages wait in memory.
    """

    _END = object()

    def __init__(
        self,
        collector: Any,
        first: Callable[[], bytes],
        more: Callable[[str], bytes],
        max_pages: int | None,
    ) -> None:
        self._collector = collector
        self._first = first
        self._more = more
        self._max_pages = max_pages
        self._pages: queue.Queue[Any] = queue.Queue(maxsize=_PAGES_AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vsphere-pages", daemon=True)

    def __enter__(self) -> _Prefetched:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._thread.is_alive():
            return
        self._stop.set()
        # Unblock the thread if it waits to hand on a page; it then releases the result set
        # and ends after the request it may be in (bounded by the session's time limit).
        with contextlib.suppress(queue.Empty):
            while True:
                self._pages.get_nowait()

    def __iter__(self) -> Iterator[tuple[bytes, str | None]]:
        while True:
            item = self._pages.get()
            if item is self._END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _hand_on(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._pages.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def _run(self) -> None:
        token: str | None = None
        ended = False
        try:
            raw = self._first()
            pages = 0
            while True:
                pages += 1
                token = _token_of(raw)
                if not self._hand_on((raw, token)) or not token:
                    return
                if self._max_pages is not None and pages >= self._max_pages:
                    # The caller has what it asked for: the release below is one more round
                    # trip, which it does not wait for (the first rows of a list, over a
                    # slow link, would come one latency later).
                    ended = self._hand_on(self._END)
                    return
                raw = self._more(token)
        except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
            self._hand_on(exc)
        finally:
            if token:
                try:
                    self._collector.CancelRetrievePropertiesEx(token=token)
                except Exception as exc:  # noqa: BLE001 - the server drops it with the session
                    log.debug("Property collector: the rest of an answer not released: %s", exc)
            if not ended:
                self._hand_on(self._END)


_PAGES_AHEAD = 4
"""Raw pages read ahead of the caller at most (a few megabytes each at a scan's page size)."""

# The token of a page: first in ``returnval`` (vCenter's schema, the lab), else last.
_TOKEN_FIRST = re.compile(rb"<returnval><token>([^<]*)</token>")
_TOKEN_LAST = re.compile(rb"<token>([^<]*)</token></returnval>")


def _token_of(raw: bytes) -> str | None:
    """The token of a raw ``RetrievePropertiesEx`` page, None on its last page.

    Looked for only where a result's token can be (first or last in ``returnval``, which the
    page's own reading checks); the page is not parsed for it.
    """
    start = raw.find(b"<returnval>")
    if start < 0:
        return None
    found = _TOKEN_FIRST.match(raw, start)
    if found is None:
        end = raw.rfind(b"</returnval>")
        found = _TOKEN_LAST.search(raw, max(start, end - 4096), end + len(b"</returnval>"))
    if found is None:
        return None
    token = found.group(1).decode("utf-8")
    return html.unescape(token) if "&" in token else token or None


def _read_all(stream: Any) -> bytes:
    """The whole (inflated) body of an answer."""
    chunks = []
    while chunk := stream.read(_READ_CHUNK):
        chunks.append(chunk)
    return b"".join(chunks)


def _follow(
    collector: Any, result: Any, more: Callable[[str], Any], max_pages: int | None = None
) -> Iterator[Any]:
    """``result`` and each page after it (``more(token)``, once the caller has taken the page
    before), no more than ``max_pages``; the server's result set released
    (``CancelRetrievePropertiesEx``, best effort) after the last page taken, or if reading a
    page fails."""
    pages = 0
    while result is not None:
        yield result
        pages += 1
        token = result.token
        if not token:
            return
        if max_pages is not None and pages >= max_pages:
            try:
                collector.CancelRetrievePropertiesEx(token=token)
            except Exception as exc:  # noqa: BLE001 - the server drops it with the session
                log.debug("Property collector: the rest of an answer not released: %s", exc)
            return
        try:
            result = more(token)
        except Exception:
            with contextlib.suppress(Exception):
                collector.CancelRetrievePropertiesEx(token=token)
            raise


@contextlib.contextmanager
def container_view(content: Any, types: Sequence[Any]) -> Iterator[Any]:
    """A ``ContainerView`` of every object of ``types`` under the root folder, destroyed after use.

    A failure to destroy it is logged and ignored: vCenter drops views with the session.
    """
    view = content.viewManager.CreateContainerView(content.rootFolder, list(types), True)
    try:
        yield view
    finally:
        try:
            view.DestroyView()
        except Exception as exc:  # noqa: BLE001 - cleanup must not hide the real outcome
            log.info("Could not destroy a container view (%s); the session will", exc)


def view_filter(view: Any, props: Mapping[Any, Sequence[str]]) -> Any:
    """A ``FilterSpec`` selecting every object of a ``ContainerView`` (not the view itself)."""
    traverse = PC.TraversalSpec(name="view", type=vim.view.ContainerView, path="view", skip=False)
    obj = PC.ObjectSpec(obj=view, skip=True, selectSet=[traverse])
    return PC.FilterSpec(objectSet=[obj], propSet=property_specs(props))


def inventory_filter(
    content: Any, props: Mapping[Any, Sequence[str]], *, vm_folders: bool = True
) -> Any:
    """A ``FilterSpec`` reaching every object of ``props``' types from the root folder.

    One ``RetrievePropertiesEx`` with it replaces ``CreateContainerView``, the read and
    ``DestroyView``: three round trips become one. It walks folders (``childEntity``), each
    datacenter's VM folder and vApps' VMs, and, when ``props`` asks for anything but VMs,
    vApps and datacenters, each datacenter's host folder and compute resources' hosts: every
    VM, host, cluster, datacenter and folder, as a recursive container view of the root folder
    would, except the VMs of a vApp nested inside another vApp (the picker's list does not show
    those; finding a VM by name looks through a container view before it says "not found", see
    :func:`wizard.vsphere.inventory.find_vms`). Objects of types not in ``props`` are walked
    through but not returned.

    A read of VMs alone (the find's names) leaves the host folders out: there is nothing to
    return there, and the lab's simulator would try the two host steps on each of the VMs (a
    sixth of its CPU time for 10,000 VMs' names; ``tests/bench/bench_find_names.py``).

    No traversal follows ``resourcePool``: govmomi's simulator (the lab) applies a traversal
    spec to every object reached, whatever its ``type``, so a ``resourcePool`` step meant for
    vApps would lead from each VM to its pool and all of the pool's VMs again (10,000 VMs: 200 s
    instead of 0.4 s). The vApps' ``vm`` step also leads the simulator from each host to its
    VMs, which it has reached already and returns once.

    ``vm_folders=False`` leaves out the datacenters' VM folders and vApps: for a read of hosts
    and clusters, which then does not walk through every VM to find none.
    """
    children = PC.TraversalSpec(name="children", type=vim.Folder, path="childEntity", skip=False)
    again = PC.SelectionSpec(name="children")
    dc_vms = PC.TraversalSpec(
        name="dcVms", type=vim.Datacenter, path="vmFolder", skip=False, selectSet=[again]
    )
    vapp_vms = PC.TraversalSpec(name="vappVms", type=vim.VirtualApp, path="vm", skip=False)
    steps: list[Any] = [again, dc_vms, vapp_vms] if vm_folders else [again]
    if any(t not in _VM_SIDE for t in props):
        dc_hosts = PC.TraversalSpec(
            name="dcHosts", type=vim.Datacenter, path="hostFolder", skip=False, selectSet=[again]
        )
        cr_hosts = PC.TraversalSpec(
            name="crHosts", type=vim.ComputeResource, path="host", skip=False
        )
        steps += [dc_hosts, cr_hosts]
    children.selectSet = steps
    root = PC.ObjectSpec(obj=content.rootFolder, skip=False, selectSet=[children])
    return PC.FilterSpec(objectSet=[root], propSet=property_specs(props))


_VM_SIDE = (vim.VirtualMachine, vim.VirtualApp, vim.Datacenter)
"""The types :func:`inventory_filter` reaches without walking the host folders."""


_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False
_gc_keep = False


@contextlib.contextmanager
def gc_paused(*, keep: bool = False) -> Iterator[None]:
    """No cyclic garbage collection inside the block (nested and from any thread).

    Reading 10,000 VMs creates millions of objects, none of them garbage: the collector runs a
    dozen full passes over all of them for nothing (half a second of a scan). Reference
    counting still frees everything as usual; the collector runs again after the block.

    With ``keep`` (what the block read stays alive, as the picker's list does), the young
    objects' cycles are collected when the last block ends (about 10 ms at 10,000 VMs: the
    garbage other threads made meanwhile) and what is left alive is frozen (``gc.freeze``):
    the next full pass would otherwise walk all of it once more, holding the interpreter for
    65 ms at 10,000 VMs on whichever thread happens to allocate, the GUI thread's too. Frozen
    objects are still freed by reference counting; a cycle among them, or an old cycle that
    was already garbage then, is never collected, so this is for reads as rare as a list.
    """
    global _gc_pausers, _gc_was_enabled, _gc_keep
    with _gc_lock:
        _gc_pausers += 1
        _gc_keep = _gc_keep or keep
        if _gc_pausers == 1:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0:
                if _gc_keep:
                    gc.collect(1)
                    gc.freeze()
                _gc_keep = False
                if _gc_was_enabled:
                    gc.enable()


@overload
def together(first: Callable[[], A], second: Callable[[], B], /) -> tuple[A, B]: ...


@overload
def together(
    first: Callable[[], A], second: Callable[[], B], third: Callable[[], C], /
) -> tuple[A, B, C]: ...


def together(*calls: Callable[[], Any]) -> tuple[Any, ...]:
    """Run ``calls`` at the same time and return their results in order.

    For requests that do not depend on each other: their round trips overlap, so a slow link
    costs one latency instead of one each. The first runs on the calling thread, the others on
    threads of their own; pyVmomi's stub hands each its own pooled connection (same TLS
    context, same session cookie). All are waited for (each request has the session's time
    limit); then the first error, in the order of ``calls``, is raised.
    """
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException | None] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = calls[index]()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            errors[index] = exc

    threads = [
        threading.Thread(target=run, args=(i,), name=f"vsphere-call-{i}", daemon=True)
        for i in range(1, len(calls))
    ]
    for thread in threads:
        thread.start()
    run(0)
    for thread in threads:
        thread.join()
    for error in errors:
        if error is not None:
            raise error
    return tuple(results)


def climb_to_root() -> Any:
    """A ``TraversalSpec`` from a folder up through its parents and datacenter to the root.

    Used below a traversal that reaches a folder (a datastore's or compute resource's parent), so
    that one request also returns the datacenter and the folders above it (see
    :func:`datacenter_path`).
    """
    folder_up = PC.TraversalSpec(name="folderUp", type=vim.Folder, path="parent", skip=False)
    dc_up = PC.TraversalSpec(name="dcUp", type=vim.Datacenter, path="parent", skip=False)
    # a named SelectionSpec refers to a TraversalSpec defined elsewhere in the same filter
    folder_up.selectSet = [PC.SelectionSpec(name="folderUp"), dc_up]
    dc_up.selectSet = [PC.SelectionSpec(name="folderUp")]
    return folder_up


def datacenter_path(objects: list[ObjectProps]) -> str:
    """The inventory path of the datacenter among ``objects`` (``"DC1"``, ``"Europe/DC1"``).

    ``objects`` must hold the datacenter and the folders above it with ``name`` and ``parent``
    (a traversal up the ``parent`` chain). Names stay as vSphere stores them (escaped), as the
    ``dcPath`` of datastore URLs needs them. ``""`` when there is no datacenter.
    """
    by_moref = {o.moref: o for o in objects}
    dc = next((o for o in objects if o.type == "Datacenter"), None)
    if dc is None:
        return ""
    parts = [str(dc.get("name", ""))]
    parent = by_moref.get(moref_of(dc.get("parent")))
    while parent is not None and parent.get("parent") is not None:  # the root folder has none
        parts.append(str(parent.get("name", "")))
        parent = by_moref.get(moref_of(parent.get("parent")))
    return "/".join(reversed(parts))


# --- the lean reader ---------------------------------------------------------------------------

_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_VIM = "{urn:vim25}"
_SOAP: Any = SoapAdapter
_READ_CHUNK = 1 << 16
# How a value of a pyVmomi type is built (see _LeanDecoder.kind).
_ARRAY, _MOREF, _DATA, _ENUM, _BOOL, _STR, _TYPE, _DATETIME, _BINARY, _SCALAR = range(10)


class _NotLean(Exception):
    """The answer holds something the lean reader leaves to pyVmomi (a fault inside a value)."""


@dataclass(frozen=True)
class _LeanPage:
    """One page of a lean ``RetrievePropertiesEx`` answer."""

    objects: list[ObjectProps]
    token: str | None


def _is_soap_stub(collector: Any) -> bool:
    return isinstance(getattr(collector, "_stub", None), SoapStubAdapter)


class _LeanDecoder:
    """Builds pyVmomi values from ``xml.etree`` elements as pyVmomi's deserializer would.

    The rules are those of ``pyVmomi.SoapAdapter.SoapDeserializer``: the ``xsi:type`` of an
    element, else the declared type of the field; arrays inside data objects as repeated
    elements; types widened to the stub's version. Data objects are created without running
    their constructor's and ``__setattr__``'s checks (the server's answer is typed already):
    the defaults the constructor would set are copied in, then the fields read are stored.
    """

    def __init__(
        self,
        stub: Any,
        only_items: Mapping[str, Any] | None = None,
        only_keys: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self._stub = stub
        self._only = dict(only_items or {})
        self._keys = dict(only_keys or {})
        self._wanted: dict[tuple[Any, str], bool] = {}
        self._version = stub.version
        self._server_guids = not stub.SupportServerGUIDs()
        self._xsi: dict[str, Any] = {}
        self._kinds: dict[Any, tuple[Any, int]] = {}
        self._fields: dict[tuple[Any, str], tuple[str, Any, bool]] = {}
        self._defaults: dict[Any, tuple[dict[str, Any], tuple[tuple[str, Any], ...]]] = {}
        self._morefs: dict[tuple[Any, str, str | None], Any] = {}

    def wsdl_type(self, name: str) -> Any:
        """The pyVmomi type of an ``xsi:type`` or ``type`` attribute value (``xsd:int``, …)."""
        found = self._xsi.get(name)
        if found is None:
            prefix, _, local = name.rpartition(":")
            ns = VmomiSupport.XMLNS_XSD if prefix == "xsd" else VmomiSupport.XMLNS_VMODL_BASE
            try:
                found = VmomiSupport.GetWsdlType(ns, local)
            except KeyError:
                if local.endswith("ManagedObjectReference"):
                    found = VmomiSupport.GetWsdlType(
                        VmomiSupport.XMLNS_VMODL_BASE, local[: -len("Reference")]
                    )
                else:
                    found = VmomiSupport.GuessWsdlType(local)
            self._xsi[name] = found
        return found

    def kind(self, t: Any) -> tuple[Any, int]:
        """``t`` widened to the stub's version, and how its values are built."""
        known = self._kinds.get(t)
        if known is not None:
            return known
        wide = VmomiSupport.GetCompatibleType(t, self._version)
        if issubclass(wide, list):
            kind = _ARRAY
        elif issubclass(wide, VmomiSupport.ManagedObject):
            kind = _MOREF
        elif issubclass(wide, Exception) or wide is VmomiSupport.ManagedMethod:
            raise _NotLean(wide.__name__)
        elif issubclass(wide, VmomiSupport.DataObject):
            kind = _DATA
        elif issubclass(wide, VmomiSupport.Enum):
            kind = _ENUM
        elif wide is bool:
            kind = _BOOL
        elif wide is str:
            kind = _STR
        elif wide is type:
            kind = _TYPE
        elif wide is VmomiSupport.datetime:
            kind = _DATETIME
        elif wide is VmomiSupport.binary:
            kind = _BINARY
        else:
            kind = _SCALAR
        self._kinds[t] = (wide, kind)
        return wide, kind

    def _field(self, t: Any, name: str) -> tuple[str, Any, bool]:
        key = (t, name)
        known = self._fields.get(key)
        if known is None:
            info = t._GetPropertyInfo(name)
            known = (info.name, info.type, issubclass(info.type, list))
            self._fields[key] = known
        return known

    def _new(self, t: Any) -> Any:
        known = self._defaults.get(t)
        if known is None:
            # What DataObject.__init__ sets, computed once per type: fresh lists for arrays.
            sample = t()
            lists = tuple(
                (p.name, p.type) for p in t._GetPropertyList() if issubclass(p.type, list)
            )
            plain = {k: v for k, v in vars(sample).items() if k not in dict(lists)}
            known = (plain, lists)
            self._defaults[t] = known
        obj = object.__new__(t)
        values = obj.__dict__
        values.update(known[0])
        for name, array_type in known[1]:
            values[name] = array_type()
        return obj

    def value(self, el: ET.Element, declared: Any) -> Any:
        """The value of ``el``, whose field or array is declared as ``declared``."""
        t = declared
        xsi = el.get(_XSI_TYPE)
        if xsi is not None:
            if not _SOAP.isDynamicType(declared):
                dynamic = self.wsdl_type(xsi)
                if not (issubclass(dynamic, list) and issubclass(declared, list)):
                    t = dynamic
        elif issubclass(t, list):
            t = t.Item
        t, kind = self.kind(t)
        if kind == _DATA:
            obj = self._new(t)
            values = obj.__dict__
            for child in el:
                name, ftype, is_array = self._field(t, child.tag[len(_VIM) :])
                item = self.value(child, ftype)
                if is_array and not isinstance(item, list):
                    values[name].append(item)
                else:
                    values[name] = item
            return obj
        if kind == _ARRAY:
            array = t()
            item_type = t.Item
            for child in el:
                array.append(self.value(child, item_type))
            return array
        text = el.text or ""
        if kind == _STR:
            return text
        if kind == _MOREF:
            guid = el.get("serverGuid") if self._server_guids else None
            key = (el.get("type", ""), text, guid)
            ref = self._morefs.get(key)
            if ref is None:
                ref = self.wsdl_type(key[0])(text, self._stub, guid)
                self._morefs[key] = ref
            return ref
        if kind == _ENUM:
            return getattr(t, text)
        if kind == _BOOL:
            if text == "0" or text.lower() == "false":
                return False
            if text == "1" or text.lower() == "true":
                return True
            raise TypeError(text)
        if kind == _DATETIME:
            when = VmomiSupport.Iso8601.ParseISO8601(text)
            if not when:
                raise TypeError(text)
            return when
        if kind == _BINARY:
            return t(base64.b64decode(text))
        if kind == _TYPE:
            return self.wsdl_type(text) if text else None
        return t(text)

    def _items_of(self, el: ET.Element, item_type: Any) -> Any:
        """An array value holding only its items of ``item_type``, the others left unread."""
        xsi = el.get(_XSI_TYPE)
        array_type = self.wsdl_type(xsi) if xsi else item_type.Array
        array = array_type()
        for child in el:
            xsi = child.get(_XSI_TYPE, "")
            key = (item_type, xsi)
            wanted = self._wanted.get(key)
            if wanted is None:
                wanted = bool(xsi) and issubclass(self.wsdl_type(xsi), item_type)
                self._wanted[key] = wanted
            if wanted:
                array.append(self.value(child, array_type.Item))
        return array

    def _options_of(self, el: ET.Element, keys: frozenset[str]) -> Any:
        """An ``OptionValue`` array value holding only its options of ``keys`` (lowered)."""
        xsi = el.get(_XSI_TYPE)
        array_type = self.wsdl_type(xsi) if xsi else vim.option.OptionValue.Array
        array = array_type()
        for child in el:
            key = child.findtext(_VIM + "key")
            if key is not None and key.lower() in keys:
                array.append(self.value(child, array_type.Item))
        return array

    def object_props(self, el: ET.Element) -> ObjectProps:
        """An ``ObjectContent`` element as :class:`ObjectProps`."""
        obj: Any = None
        props: dict[str, Any] = {}
        missing: list[tuple[str, str]] = []
        for child in el:
            tag = child.tag
            if tag == _VIM + "propSet":
                name = child.findtext(_VIM + "name", "")
                val = child.find(_VIM + "val")
                item_type = self._only.get(name)
                keys = self._keys.get(name)
                if val is None:
                    props[name] = None
                elif item_type is not None:
                    props[name] = self._items_of(val, item_type)
                elif keys is not None:
                    props[name] = self._options_of(val, keys)
                else:
                    props[name] = self.value(val, object)
            elif tag == _VIM + "obj":
                obj = self.value(child, VmomiSupport.ManagedObject)
            elif tag == _VIM + "missingSet":
                fault = child.find(_VIM + "fault/" + _VIM + "fault")
                xsi = fault.get(_XSI_TYPE) if fault is not None else None
                missing.append(
                    (child.findtext(_VIM + "path", ""), self.wsdl_type(xsi).__name__ if xsi else "")
                )
        return ObjectProps(moref_of(obj), type_of(obj), props, tuple(missing))


# One object's id, or one property whose value is plain text (no element inside), or the end of
# an object: the whole of a page of simple values is a run of these and nothing else.
_SIMPLE = (
    r'<(?:objects><obj type="([^"<>]+)"[^<>]*>([^<]*)</obj>'
    r"|propSet><name>([^<]*)</name><val\b[^<>]*(?:(?<=/)>|>([^<]*)</val>)</propSet>"
    r"|/objects>)"
)
_SIMPLE_TOKEN = re.compile(_SIMPLE)
_SIMPLE_RUN = re.compile(f"(?:{_SIMPLE})*")
_SIMPLE_HEAD = re.compile(r"<token>([^<]*)</token>")
_SIMPLE_TAIL = re.compile(r"(?:<token>([^<]*)</token>)?</returnval>")


_SIMPLE_SLICE = 1 << 16
"""Characters of a page scanned by one regular expression call (about a millisecond each)."""


def _simple_page(data: bytes) -> _LeanPage | None:
    """A page of plain-text values scanned with :data:`_SIMPLE_TOKEN`; None for anything else.

    The page must be a run of those tokens and nothing else (checked in one pass), then each
    token is read in a second; values are unescaped only when they hold an entity. Both passes
    go through the page in slices of about :data:`_SIMPLE_SLICE` characters, cut after an
    object: a regular expression holds the interpreter for as long as it runs, and one pass
    over the whole list of 10,000 VMs (13 MB) would keep the GUI thread from drawing for a
    third of a second.
    """
    text = data.decode("utf-8")
    start = text.find("<returnval>")
    if start < 0:
        return None
    start += len("<returnval>")
    # The token comes first (vCenter's schema, the lab); some servers put it last.
    head = _SIMPLE_HEAD.match(text, start)
    if head is not None:
        start = head.end()
    end = text.rfind("</objects>") + len("</objects>")
    end = max(end, start)
    tail = _SIMPLE_TAIL.match(text, end)
    if tail is None:
        return None
    slices = []
    at = start
    while at < end:
        cut = text.find("</objects>", min(at + _SIMPLE_SLICE, end - 1))
        stop = end if cut < 0 else min(end, cut + len("</objects>"))
        if _SIMPLE_RUN.fullmatch(text, at, stop) is None:
            return None
        slices.append((at, stop))
        at = stop
    unescape = html.unescape
    objects: list[ObjectProps] = []
    props: dict[str, str] = {}
    tokens = (t for a, b in slices for t in _SIMPLE_TOKEN.findall(text, a, b))
    for kind, moref, name, value in tokens:
        if kind:
            props = {}
            if "&" in moref:
                moref = unescape(moref)
            objects.append(ObjectProps(moref, kind, props))
        elif name:
            props[unescape(name) if "&" in name else name] = (
                unescape(value) if "&" in value else value
            )
    token = head.group(1) if head is not None else tail.group(1)
    return _LeanPage(objects, unescape(token) if token else None)


# One object holding its name and nothing else. ``[^>]*`` for the value's attributes (a ``>``
# is escaped in attribute values) is several times faster here than ``[^<>]*``.
_NAMED = re.compile(
    r'<objects><obj type="[^"<>]*"[^<>]*>([^<]*)</obj>'
    r"<propSet><name>name</name><val(?:>| [^>]*>)([^<]*)</val></propSet></objects>"
)


@dataclass(frozen=True)
class _NamesPage:
    """One page of :func:`retrieve_names`: managed object id -> name."""

    names: dict[str, str]
    token: str | None


def _names_page(data: bytes) -> _NamesPage | None:
    """A page of objects that hold their name alone (see :func:`retrieve_names`); None for any
    other page.

    Every object of the page must match :data:`_NAMED` (as many matches as objects, which
    cannot overlap), and the page must end as a page does.
    """
    text = data.decode("utf-8")
    start = text.find("<returnval>")
    if start < 0:
        return None
    start += len("<returnval>")
    head = _SIMPLE_HEAD.match(text, start)  # the token first, or last (see _simple_page)
    if head is not None:
        start = head.end()
    end = max(text.rfind("</objects>") + len("</objects>"), start)
    tail = _SIMPLE_TAIL.match(text, end)
    if tail is None:
        return None
    found = _NAMED.findall(text, start, end)
    if len(found) != text.count("<objects>", start, end):
        return None
    unescape = html.unescape
    names = {
        unescape(moref) if "&" in moref else moref: unescape(name) if "&" in name else name
        for moref, name in found
    }
    token = head.group(1) if head is not None else tail.group(1)
    return _NamesPage(names, unescape(token) if token else None)


def _each_value(data: bytes, head: bytes, change: Callable[[bytes], bytes]) -> bytes:
    """``data`` with each value of the property ``head`` opens (``<propSet><name>PATH</name>``)
    replaced by what ``change`` makes of it. A value is what follows ``head`` up to the next
    ``</propSet>``: its text cannot hold one, ``<`` being escaped in text."""
    pieces = data.split(head)
    if len(pieces) == 1:
        return data
    out = [pieces[0]]
    for piece in pieces[1:]:
        stop = piece.find(b"</propSet>")
        out.append(head)
        if stop < 0:
            out.append(piece)
            continue
        out.append(change(piece[:stop]))
        out.append(piece[stop:])
    return b"".join(out)


def _places(text: bytes, needle: bytes) -> Iterator[int]:
    """Where ``needle`` starts in ``text``, each time (not overlapping)."""
    at = text.find(needle)
    while at >= 0:
        yield at
        at = text.find(needle, at + len(needle))


class _ItemCut:
    """Cuts from an answer's text the items of array properties that are none of the wanted
    types.

    Array items are elements named after the array's item type, which for a wanted type such as
    ``VirtualVideoCard`` is its topmost data-object base (``VirtualDevice``), with the item's
    own type in an ``xsi:type`` attribute. In a property's value (see :func:`_each_value`), an
    item of such a name (followed by a space) whose start tag's first ``type="..."`` attribute
    is not a wanted type's name nor that of a subclass pyVmomi has loaded is cut, start to end
    (items do not nest). Matching by name alone can only keep too much, never cut a wanted
    item: the decoder filters again.

    A value written the way vCenter writes it, items one after the other, each starting
    ``<VirtualDevice xsi:type="``, none empty (``/>``), is rebuilt from its wanted items, found
    by their start, with no work per item. Any other value is split at each item's start and
    each item looked at (a regular expression's search for each item's end was 40 % slower).
    For 10,000 VMs of the lab (nine devices each) both take 0.2-0.3 s; with fifteen devices a VM
    the rebuild was 10-20 % faster, and it does not grow with the devices it drops.
    """

    _SPACE = (b" ", b"\t", b"\r", b"\n")

    def __init__(self, props: Mapping[str, tuple[str, set[str]]]) -> None:
        self._props = [
            (
                f"<propSet><name>{path}</name>".encode(),
                f"<{tag}".encode(),
                f"</{tag}>".encode(),
                f'<{tag} xsi:type="'.encode(),
                {k.encode() for k in keep},
            )
            for path, (tag, keep) in sorted(props.items())
        ]

    @classmethod
    def of(cls, only_items: Mapping[str, Any]) -> _ItemCut | None:
        """The cut for ``only_items`` (path -> pyVmomi type), or None when there are none."""
        props: dict[str, tuple[str, set[str]]] = {}
        for path, t in only_items.items():
            top = t
            for base in t.__mro__:
                if not issubclass(base, VmomiSupport.DataObject) or base is VmomiSupport.DataObject:
                    break
                if getattr(base, "_wsdlName", "") == "DynamicData":  # the root of all data types
                    break
                top = base
            keep: set[str] = set()
            stack = [t]
            while stack:
                sub = stack.pop()
                keep.add(sub._wsdlName)
                stack.extend(sub.__subclasses__())
            props[path] = (top._wsdlName, keep)
        return cls(props) if props else None

    def __call__(self, data: bytes) -> bytes:
        """``data`` without the unwanted items."""
        for head, start, end, typed, keep in self._props:
            data = _each_value(data, head, functools.partial(self._kept, start, end, typed, keep))
        return data

    def _kept(
        self, start: bytes, end: bytes, typed: bytes, keep: set[bytes], value: bytes
    ) -> bytes:
        items = value.count(start)
        if not items:
            return value
        if not (
            b"/>" not in value
            and value.count(typed) == items
            and value.count(end + start + b" ") == items - 1
        ):
            return self._cut(value, start, end, keep)
        # Items one after the other, each <Tag xsi:type="...">: keep those of a wanted type.
        found = sorted(at for name in keep for at in _places(value, typed + name + b'"'))
        kept = [value[at : value.find(end, at) + len(end)] for at in found]
        return value[: value.find(start)] + b"".join(kept) + value[value.rfind(end) + len(end) :]

    def _cut(self, data: bytes, start: bytes, end: bytes, keep: set[bytes]) -> bytes:
        pieces = data.split(start)
        out = [pieces[0]]
        space = self._SPACE
        for piece in pieces[1:]:
            # ``piece``: the rest of one start tag, the item, then what follows up to the next.
            close = piece.find(b">")
            at = piece.find(b'type="', 0, close) if close > 0 and piece[:1] in space else -1
            if at >= 0:
                quote = piece.find(b'"', at + 6, close)
                if quote >= 0 and piece[at + 6 : quote] not in keep:
                    if piece[close - 1 : close] == b"/":  # an empty item
                        out.append(piece[close + 1 :])
                        continue
                    after = piece.find(end, close)
                    if after >= 0:
                        out.append(piece[after + len(end) :])
                        continue
            out.append(start)
            out.append(piece)
        return b"".join(out)


class _OptionCut:
    """Cuts from an answer's text the options of ``OptionValue`` array properties whose keys are
    none of the wanted ones (a scan of thousands of VMs wants two of the dozens of entries a
    VM's ``config.extraConfig`` holds: the rest would be most of the answer's elements).

    In a property's value (see :func:`_each_value`), an item ``<OptionValue ...>`` (items do
    not nest) whose first child is ``<key>`` is cut, start to end, when that key is plain ASCII
    without an entity and none of the wanted, compared without regard to case. Anything
    written otherwise is kept (a key with a character reference or a non-ASCII letter, an item
    whose key is not first), never cut: the decoder filters again.

    Most values are written the one way vCenter writes them: ASCII, no entity, every item
    ``<OptionValue xsi:type="OptionValue"><key>``. Such a value is rebuilt from the wanted
    items alone, found by their keys in its lowered text, with no work per item; any other
    value goes through one regular expression substitution. For 10,000 VMs of forty options
    each (52 MB cut): a loop over the items in Python 1.5 s, the substitution 0.5 s, the
    rebuild 0.27 s (``tests/bench/bench_scan.py`` has the scan's whole figures).
    """

    _START = b"<OptionValue"
    _END = b"</OptionValue>"
    _PLAIN = b'<OptionValue xsi:type="OptionValue"><key>'

    def __init__(self, keys: Mapping[str, frozenset[str]]) -> None:
        self._props = [
            (
                f"<propSet><name>{path}</name>".encode(),
                [f"<key>{k}</key>".encode() for k in sorted(wanted) if k.isascii()],
                self._unwanted(wanted),
            )
            for path, wanted in sorted(keys.items())
        ]

    @staticmethod
    def _unwanted(wanted: frozenset[str]) -> re.Pattern[bytes]:
        names = b"|".join(re.escape(k.encode()) for k in sorted(wanted) if k.isascii())
        return re.compile(
            rb"<OptionValue(?:[ \t\r\n][^<>]*)?><key>(?!(?i:" + (names or rb"(?!)") + rb")</key>)"
            rb"[^&<\x80-\xff]*</key>(?:<value(?:[ \t\r\n][^<>]*)?>[^<]*</value>"
            rb"|.*?)</OptionValue>",
            re.DOTALL,
        )

    @classmethod
    def of(cls, keys: Mapping[str, frozenset[str]]) -> _OptionCut | None:
        """The cut for ``keys`` (path -> lowered keys), or None when there are none."""
        return cls(keys) if keys else None

    def __call__(self, data: bytes) -> bytes:
        """``data`` without the unwanted options."""
        for head, tags, unwanted in self._props:
            data = _each_value(data, head, functools.partial(self._kept, tags, unwanted))
        return data

    def _kept(self, tags: list[bytes], unwanted: re.Pattern[bytes], value: bytes) -> bytes:
        items = value.count(self._START)
        if not items:
            return value
        if not (value.isascii() and b"&" not in value and value.count(self._PLAIN) == items):
            return unwanted.sub(b"", value)
        # Every item starts <OptionValue xsi:type="OptionValue"><key>, so every wanted key is
        # found in the lowered text (ASCII: the same offsets), and each <key> found lies in an
        # item (its own key, or at worst one inside its value: the item is then kept whole).
        low = value.lower()
        start, end = self._START, self._END
        found = {value.rfind(start, 0, at) for tag in tags for at in _places(low, tag)}
        kept = [value[at : value.find(end, at) + len(end)] for at in sorted(found)]
        first = value.find(start)
        last = value.rfind(end) + len(end)
        return value[:first] + b"".join(kept) + value[last:]


class _Inflating:
    """A compressed answer's body, inflated as it is read, in pieces of any size.

    pyVmomi's ``GzipReader`` reads 512 compressed bytes at a time (thousands of reads for a
    large answer); the lean reader's parsers take whatever size comes, so this one reads the
    socket in pieces of :data:`_READ_CHUNK` and hands on all that they inflate to.
    """

    def __init__(self, raw: Any, wbits: int) -> None:
        self._raw = raw
        self._inflate = zlib.decompressobj(wbits)

    @classmethod
    def of(cls, resp: Any) -> Any:
        """The body of ``resp`` as a stream of plain bytes (``resp`` itself when uncompressed)."""
        encoding = (resp.getheader("Content-Encoding") or "identity").lower()
        if encoding == "gzip":
            return cls(resp, zlib.MAX_WBITS | 16)
        if encoding == "deflate":
            return cls(resp, zlib.MAX_WBITS | 32)  # zlib or gzip header, detected
        return resp

    def read(self, size: int = _READ_CHUNK) -> bytes:
        """Some inflated bytes (any number), ``b""`` at the end."""
        while True:
            chunk = self._raw.read(max(size, _READ_CHUNK))
            if not chunk:
                return self._inflate.flush()
            out = self._inflate.decompress(chunk)
            if out:
                return out


class _LeanReader:
    """Sends property collector requests as pyVmomi does and reads the answers leanly."""

    def __init__(
        self,
        mo: Any,
        only_items: Mapping[str, Any],
        only_keys: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self._mo = mo
        self._stub = mo._stub
        self._decoder = _LeanDecoder(self._stub, only_items, only_keys)
        self._unwanted = _ItemCut.of(only_items)
        self._unwanted_options = _OptionCut.of(only_keys or {})

    def invoke(self, method: str, args: list[Any], read: Callable[[Any], Any]) -> Any:
        """Call ``method`` of the managed object and ``read`` the answer's body stream.

        What can go wrong is what pyVmomi's ``InvokeMethod`` raises: a vSphere fault (read by
        pyVmomi itself), ``OSError``, ``http.client.HTTPException`` or
        ``xml.parsers.expat.ExpatError`` for an answer that is not well-formed.
        """
        stub = self._stub
        info = self._mo._GetMethodInfo(method)
        body = stub.SerializeRequest(self._mo, info, args)
        for modifier in stub.requestModifierList:
            body = modifier(body)
        headers = {
            "Cookie": stub.cookie,
            "SOAPAction": stub.versionId,
            "Content-Type": f"text/xml; charset={_SOAP.XML_ENCODING}",
            "User-Agent": (
                f"pyvmomi {_SOAP.version_info_str} {_SOAP.kind} Python/{_SOAP.PYTHON_VERSION} "
                f"({_SOAP.OS_NAME}; {_SOAP.OS_VERSION}; {_SOAP.OS_ARCH})"
            ),
        }
        if stub._customHeaders:
            headers.update(stub._customHeaders)
        if stub._acceptCompressedResponses:
            headers["Accept-Encoding"] = "gzip, deflate"
        conn = stub.GetConnection()
        try:
            conn.request("POST", stub.path, body, headers)
        except (OSError, http.client.HTTPException):
            conn.close()
            stub.DropConnections()
            raise
        return self.answer(conn, info, read)

    def answer(self, conn: Any, info: Any, read: Callable[[Any], Any]) -> Any:
        """Read the answer to the request of method ``info`` sent on ``conn``, as :meth:`invoke`
        says; ``conn`` then joins the stub's pool (or is closed when it failed)."""
        stub = self._stub
        try:
            resp = conn.getresponse()
        except (OSError, http.client.HTTPException):
            conn.close()
            stub.DropConnections()
            raise
        self._keep_cookie(resp)
        if resp.status not in (200, 500):
            conn.close()
            raise http.client.HTTPException(f"{resp.status} {resp.reason}")
        try:
            if resp.status == 500:
                fault = _SOAP.SoapResponseDeserializer(stub).Deserialize(
                    self._body(resp), info.result
                )
                resp.read()
                stub.ReturnConnection(conn)
                raise fault
            result = read(_Inflating.of(resp))
            resp.read()
        except vmodl.MethodFault:
            raise
        except ET.ParseError as exc:
            conn.close()
            stub.DropConnections()
            raise xml.parsers.expat.ExpatError(str(exc)) from exc
        except BaseException:
            conn.close()
            stub.DropConnections()
            raise
        stub.ReturnConnection(conn)
        return result

    def _keep_cookie(self, resp: Any) -> None:
        # As pyVmomi's InvokeMethod: the server may renew the session cookie on any answer.
        cookie = resp.getheader("Set-Cookie") or resp.getheader("set-cookie")
        if cookie:
            self._stub.cookie = cookie
            session = SimpleCookie(cookie).get(_SOAP.COOKIE_NAME)
            if session:
                # pyVmomi's InvokeMethod sets the base class's id (the cookie is set above).
                self._stub.sessionId = session.value

    @staticmethod
    def _body(resp: Any) -> Any:
        encoding = (resp.getheader("Content-Encoding") or "identity").lower()
        if encoding == "gzip":
            return _SOAP.GzipReader(resp, encoding=_SOAP.GzipReader.GZIP)
        if encoding == "deflate":
            return _SOAP.GzipReader(resp, encoding=_SOAP.GzipReader.DEFLATE)
        return resp

    def read_result(self, stream: Any, result_type: Any) -> Any:
        """The ``returnval`` of an answer as pyVmomi returns it (a list for array results)."""
        # The parser pyVmomi reads the same answers with (expat, with its entity-expansion limits).
        parser = ET.XMLParser()  # noqa: S314
        while chunk := stream.read(_READ_CHUNK):
            parser.feed(chunk)
        body = parser.close().find(f"{{{_SOAP.XMLNS_SOAPENV}}}Body")
        response = body[0] if body is not None and len(body) else None
        values = [] if response is None else response.findall(_VIM + "returnval")
        if issubclass(result_type, list):
            array = result_type()
            for el in values:
                array.append(self._decoder.value(el, result_type))
            return array
        return self._decoder.value(values[0], result_type) if values else None

    def parse_simple_page(self, data: bytes) -> _LeanPage | None:
        """A page of plain-text values (see ``retrieve(..., simple=True)``), else read as
        :meth:`parse_page` reads it."""
        page = _simple_page(data)
        if page is None:
            log.debug("Property collector: not only plain values, read by the lean decoder")
            return self.parse_page(data)
        return page

    def read_names_page(self, stream: Any) -> _NamesPage | _LeanPage | None:
        """A page of names alone (see :func:`retrieve_names`), else read as
        :meth:`parse_simple_page` reads it."""
        data = _read_all(stream)
        return _names_page(data) or self.parse_simple_page(data)

    def parse_page(self, data: bytes) -> _LeanPage | None:
        """A ``RetrievePropertiesEx`` answer (its whole body); None when it holds no result.

        The array items ``only_items`` and ``only_keys`` leave out are first cut from the text
        (see :class:`_ItemCut`, :class:`_OptionCut`): the decoder would skip them unread, but
        the parser would still build their elements, and for a scan the devices other than the
        video card are half of the answer's bytes, the options other than the rules' two most
        of what is left on a real vCenter. What the cuts miss the decoder still leaves out.
        The page is then parsed at once into elements (a page is at most a few megabytes: see
        ``retrieve``'s ``page_size``), cheaper than a parser handing on an event for each of
        its hundreds of thousands of elements.
        """
        if self._unwanted is not None:
            data = self._unwanted(data)
        if self._unwanted_options is not None:
            data = self._unwanted_options(data)
        # The parser pyVmomi reads the same answers with (expat, with its entity-expansion limits).
        parser = ET.XMLParser()  # noqa: S314
        try:
            parser.feed(data)
            root = parser.close()
        except ET.ParseError as exc:
            raise xml.parsers.expat.ExpatError(str(exc)) from exc
        body = root.find(f"{{{_SOAP.XMLNS_SOAPENV}}}Body")
        response = body[0] if body is not None and len(body) else None
        result = response.find(_VIM + "returnval") if response is not None else None
        if result is None:
            return None
        decode = self._decoder.object_props
        objects = [decode(el) for el in result.iterfind(_VIM + "objects")]
        return _LeanPage(objects, result.findtext(_VIM + "token") or None)


def answer_of(mo: Any, method: str, conn: Any) -> Any:
    """The result of ``method`` of ``mo``, whose request was sent on ``conn`` already (see
    :mod:`wizard.vsphere.opening`), read as pyVmomi's stub reads an answer: the session cookie
    kept, a fault raised, ``conn`` then in the stub's pool. Read by the lean decoder; should it
    leave the answer to pyVmomi, the method is called again through pyVmomi.
    """
    reader = _LeanReader(mo, {})
    info = mo._GetMethodInfo(method)
    try:
        return reader.answer(conn, info, lambda stream: reader.read_result(stream, info.result))
    except _NotLean as exc:
        log.debug("%s: %s in the answer, read again by pyVmomi", method, exc)
    return getattr(mo, method)()
