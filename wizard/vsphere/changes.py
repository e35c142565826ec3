"""Turn a remedy's changes into vSphere calls: a ``ConfigSpec``, or the guest resolution tool.

Values arrive as vCenter stores them (strings, see ``wizard.kb.model.Change``). A video card
edit starts from the card as vCenter has it now (read just before), so that the edit carries
every field the device already has and changes only the ones asked.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from typing import Any

from wizard.kb.model import Change, ChangeTarget
from wizard.vsphere._pyvmomi import vim
from wizard.vsphere.errors import VsphereError
from wizard.vsphere.session import Session
from wizard.vsphere.tasks import watch_until

RESOLUTION_TOOL = r"C:\Program Files\VMware\VMware Tools\VMwareResolutionSet.exe"
"""Tools' resolution tool in a Windows guest; it needs an interactive desktop session."""

_INT_KEYS = ("numDisplays", "videoRamSizeInKB")
_BOOL_KEYS = ("useAutoDetect", "enable3DSupport")


class UnsupportedChange(ValueError):
    """A change the executor cannot make (an unknown key or an unreadable value)."""


def resolution_arguments(width: int, height: int) -> str:
    """The resolution tool's arguments for one screen of ``width`` x ``height``."""
    return f"0 1 , 0 0 {width} {height}"


def parse_screen(text: str) -> tuple[int, int]:
    """``"1280x1024"`` -> ``(1280, 1024)``.

    Raises:
        UnsupportedChange: not a width x height.
    """
    width, sep, height = text.partition("x")
    if not sep or not width.isdecimal() or not height.isdecimal():
        raise UnsupportedChange(f"{text!r} is not a screen size like 1280x1024")
    return int(width), int(height)


def read_video_card(session: Session, moref: str) -> Any:
    """The VM's video card device as vCenter has it now (None when it has none)."""
    vm = session.managed_object(vim.VirtualMachine, moref)
    devices = session.call(lambda: list(vm.config.hardware.device or ()))
    for device in devices:
        if isinstance(device, vim.vm.device.VirtualVideoCard):
            return device
    return None


def _video_value(key: str, value: str | None) -> int | bool:
    if value is None:
        raise UnsupportedChange(f"the video card's {key} cannot be removed")
    text = value.strip().lower()
    if key in _INT_KEYS:
        if not text.isdecimal():
            raise UnsupportedChange(f"{key} needs a whole number, not {value!r}")
        return int(text)
    if key in _BOOL_KEYS:
        if text not in ("true", "false"):
            raise UnsupportedChange(f"{key} needs true or false, not {value!r}")
        return text == "true"
    raise UnsupportedChange(f"the video card's {key} is not a setting this tool changes")


def config_spec(
    changes: Sequence[Change],
    *,
    change_version: str,
    video_card: Any = None,
    upgrade_version_key: str | None = None,
) -> Any:
    """The ``ConfigSpec`` that makes ``changes`` (guest changes are not part of it).

    Args:
        changes: the changes; values as vCenter stores them.
        change_version: ``config.changeVersion`` read at check time: vCenter refuses the change
            (``ConcurrentAccess``) if anyone changed the VM since.
        video_card: the current video card device (:func:`read_video_card`), needed when a
            change targets it.
        upgrade_version_key: the upgrade policy's current ``versionKey``, kept as it is.

    Raises:
        UnsupportedChange: a change this tool cannot make.
    """
    spec = vim.vm.ConfigSpec()
    if change_version:
        spec.changeVersion = change_version
    extra = []
    card = None
    for change in changes:
        if change.target is ChangeTarget.EXTRA_CONFIG:
            # vCenter removes a key whose new value is empty.
            extra.append(vim.option.OptionValue(key=change.key, value=change.after or ""))
        elif change.target is ChangeTarget.VIDEO_CARD:
            if video_card is None:
                raise UnsupportedChange("the VM has no video card")
            if card is None:
                card = copy.deepcopy(video_card)
            setattr(card, change.key, _video_value(change.key, change.after))
        elif change.target is ChangeTarget.UPGRADE_POLICY:
            if change.key != "upgradePolicy" or change.after is None:
                raise UnsupportedChange(f"the upgrade policy's {change.key} cannot be changed")
            spec.scheduledHardwareUpgradeInfo = vim.vm.ScheduledHardwareUpgradeInfo(
                upgradePolicy=change.after, versionKey=upgrade_version_key
            )
    if extra:
        spec.extraConfig = extra
    if card is not None:
        spec.deviceChange = [vim.vm.device.VirtualDeviceSpec(operation="edit", device=card)]
    return spec


def describe_spec(changes: Sequence[Change], change_version: str) -> dict[str, Any]:
    """What the ``ConfigSpec`` sends, for the journal (no pyVmomi objects)."""
    return {
        "change_version": change_version,
        "settings": [
            {"target": c.target.value, "key": c.key, "to": c.after}
            for c in changes
            if c.target is not ChangeTarget.GUEST
        ],
    }


def run_resolution_tool(
    session: Session,
    moref: str,
    *,
    user: str,
    password: str,
    width: int,
    height: int,
    timeout: float,
    cancel: threading.Event | None = None,
) -> tuple[int, int | None]:
    """Run Tools' resolution tool in the guest and wait for it to end.

    Args:
        user: the guest user (needs an interactive desktop session in the guest).
        password: the guest password: used for this call only, never kept or logged.

    Returns:
        The guest process id and its exit code (None when it had not ended in time).

    Raises:
        VsphereError: vCenter refused (``InvalidGuestLogin``, ``GuestOperationsUnavailable``,
            ``NoPermission``...).
    """
    vm = session.managed_object(vim.VirtualMachine, moref)
    manager = session.content.guestOperationsManager.processManager
    auth = vim.vm.guest.NamePasswordAuthentication(username=user, password=password)
    spec = vim.vm.guest.ProcessManager.ProgramSpec(
        programPath=RESOLUTION_TOOL, arguments=resolution_arguments(width, height)
    )
    pid = int(session.call(lambda: manager.StartProgramInGuest(vm=vm, auth=auth, spec=spec)))

    def ended() -> int | None:
        found = session.call(lambda: manager.ListProcessesInGuest(vm=vm, auth=auth, pids=[pid]))
        for process in found or ():
            if int(process.pid) == pid and process.endTime is not None:
                return int(process.exitCode)
        return None

    code = ended()
    if code is None:
        # The tool ends in well under a second; while it runs, watch Tools' screen report.
        try:
            watch_until(
                session,
                vm,
                ["guest.screen"],
                lambda _values: ended() is not None,
                what="The resolution tool",
                timeout=timeout,
                cancel=cancel,
            )
        except VsphereError:
            return pid, None
        code = ended()
    return pid, code
