"""Bulk reads through the property collector: one request for many objects, pages followed.

Each attribute read on a pyVmomi managed object is a round trip; a property collector request
reads any number of properties of any number of objects at once. vCenter answers in pages of
at most ``maxObjects`` objects and a token for the rest (``ContinueRetrievePropertiesEx``); the
lab's simulator never pages, so the paging is unit-tested with a stand-in collector.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wizard.vsphere._pyvmomi import PC, vim

log = logging.getLogger(__name__)

PAGE_SIZE = 1000
"""``maxObjects`` of each page (vCenter may choose fewer)."""


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
    """The managed object id of a pyVmomi managed object (``""`` for None)."""
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
    collector: Any, filter_specs: list[Any], *, page_size: int = PAGE_SIZE
) -> list[ObjectProps]:
    """Run ``RetrievePropertiesEx`` and follow ``ContinueRetrievePropertiesEx`` to the last page.

    If reading a later page fails, the server-side result set is released with
    ``CancelRetrievePropertiesEx`` (best effort) before the error propagates.

    Args:
        collector: the ``PropertyCollector`` (or a stand-in with the same three methods).
        filter_specs: the ``FilterSpec`` list.
        page_size: ``maxObjects`` per page.
    """
    options = PC.RetrieveOptions(maxObjects=page_size)
    result = collector.RetrievePropertiesEx(specSet=filter_specs, options=options)
    out: list[ObjectProps] = []
    pages = 0
    while result is not None:
        pages += 1
        out.extend(_to_object_props(c) for c in (result.objects or ()))
        token = result.token
        if not token:
            break
        try:
            result = collector.ContinueRetrievePropertiesEx(token=token)
        except Exception:
            with contextlib.suppress(Exception):
                collector.CancelRetrievePropertiesEx(token=token)
            raise
    log.debug("Property collector: %d objects in %d page(s)", len(out), pages)
    return out


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
