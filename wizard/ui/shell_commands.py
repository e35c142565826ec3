"""The PowerCLI and govc commands equivalent to a remedy, for admins who want to see or reuse them.

Pure text, no Qt. The commands do what the wizard will do: guest shutdown (a hard power-off when
Tools are not running) when the change needs the VM off, the change itself, power on. Names are
quoted for each shell.
"""

from __future__ import annotations

from wizard.kb.facts import VmFacts
from wizard.kb.model import Change, ChangeTarget, Remedy


def _ps(text: str) -> str:
    """A PowerShell single-quoted string."""
    return "'" + text.replace("'", "''") + "'"


def _sh(text: str) -> str:
    """A double-quoted argument that works in PowerShell, cmd and POSIX shells for plain names."""
    return '"' + text.replace('"', '\\"') + '"'


def _ps_bool(value: str | None) -> str:
    return "$true" if (value or "").strip().lower() in {"true", "1"} else "$false"


def powercli(facts: VmFacts, remedy: Remedy) -> str:
    """PowerCLI lines for the remedy's changes, with the power handling around them."""
    name = _ps(facts.name)
    lines = [f"$vm = Get-VM -Name {name}"]
    off = remedy.needs_power_off and facts.power_state == "poweredOn"
    if off and not facts.tools_running:
        # No Tools, no clean shutdown: the same hard power-off the wizard asks consent for.
        lines.append("Stop-VM -VM $vm -Confirm:$false")
    elif off:
        lines += [
            "Stop-VMGuest -VM $vm -Confirm:$false",
            "while ((Get-VM -Id $vm.Id).PowerState -ne 'PoweredOff') { Start-Sleep -Seconds 5 }",
        ]
    extra = [c for c in remedy.changes if c.target == ChangeTarget.EXTRA_CONFIG]
    video = [c for c in remedy.changes if c.target == ChangeTarget.VIDEO_CARD]
    policy = [c for c in remedy.changes if c.target == ChangeTarget.UPGRADE_POLICY]
    guest = [c for c in remedy.changes if c.target == ChangeTarget.GUEST]
    for c in extra:
        if c.after is None:
            lines.append(
                f"Get-AdvancedSetting -Entity $vm -Name {_ps(c.key)} | "
                "Remove-AdvancedSetting -Confirm:$false"
            )
        else:
            lines.append(
                f"New-AdvancedSetting -Entity $vm -Name {_ps(c.key)} -Value {_ps(c.after)} "
                "-Force -Confirm:$false"
            )
    if video:
        lines += [
            "$card = $vm.ExtensionData.Config.Hardware.Device | "
            "Where-Object { $_ -is [VMware.Vim.VirtualMachineVideoCard] }",
        ]
        for c in video:
            lines.append(_ps_video(c))
        lines += [
            "$dev = New-Object VMware.Vim.VirtualDeviceConfigSpec",
            "$dev.Operation = 'edit'",
            "$dev.Device = $card",
            "$spec = New-Object VMware.Vim.VirtualMachineConfigSpec",
            "$spec.DeviceChange = @($dev)",
            "$vm.ExtensionData.ReconfigVM($spec)",
        ]
    for c in policy:
        lines += [
            "$spec = New-Object VMware.Vim.VirtualMachineConfigSpec",
            "$spec.ScheduledHardwareUpgradeInfo = New-Object "
            "VMware.Vim.ScheduledHardwareUpgradeInfo",
            f"$spec.ScheduledHardwareUpgradeInfo.UpgradePolicy = {_ps(c.after or 'never')}",
            "$vm.ExtensionData.ReconfigVM($spec)",
        ]
    for c in guest:
        lines.append(
            f"# In the guest (needs guest credentials): VMwareResolutionSet.exe 0 1 , 0 0 "
            f"{(c.after or '1280x1024').replace('x', ' ')}"
        )
    if off:
        lines.append("Start-VM -VM $vm -Confirm:$false")
    return "\n".join(lines)


def _ps_video(c: Change) -> str:
    key = c.key[0].upper() + c.key[1:]
    if c.key in {"useAutoDetect", "enable3DSupport"}:
        return f"$card.{key} = {_ps_bool(c.after)}"
    return f"$card.{key} = {c.after}"


_GOVC_VIDEO = {
    "numDisplays": "svga.numDisplays",
    "videoRamSizeInKB": None,
    "useAutoDetect": "svga.autodetect",
    "enable3DSupport": "mks.enable3d",
}


def govc(facts: VmFacts, remedy: Remedy) -> str:
    """govc lines for the remedy's changes, with the power handling around them."""
    name = _sh(facts.name)
    lines: list[str] = []
    off = remedy.needs_power_off and facts.power_state == "poweredOn"
    if off:
        hard = "-off -force" if not facts.tools_running else "-s -wait"
        lines.append(f"govc vm.power {hard} {name}")
    settings: list[str] = []
    notes: list[str] = []
    for c in remedy.changes:
        if c.target == ChangeTarget.EXTRA_CONFIG:
            settings.append(f"{c.key}={c.after or ''}")
        elif c.target == ChangeTarget.VIDEO_CARD:
            key = _GOVC_VIDEO.get(c.key)
            if c.key == "videoRamSizeInKB" and c.after is not None:
                settings.append(f"svga.vramSize={int(c.after) * 1024}")
            elif key is not None:
                value = (c.after or "").upper() if c.key != "numDisplays" else (c.after or "")
                settings.append(f"{key}={value}")
        elif c.target == ChangeTarget.UPGRADE_POLICY:
            notes.append("# govc cannot set the hardware upgrade policy: use the PowerCLI lines.")
        elif c.target == ChangeTarget.GUEST:
            notes.append(
                "# In the guest: govc guest.start -vm "
                f"{name} -l USER 'C:\\Program Files\\VMware\\VMware Tools\\VMwareResolutionSet.exe'"
                f" 0 1 , 0 0 {(c.after or '1280x1024').replace('x', ' ')}"
            )
    if settings:
        lines.append(f"govc vm.change -vm {name} " + " ".join(f"-e {_sh(s)}" for s in settings))
    lines += notes
    if off:
        lines.append(f"govc vm.power -on {name}")
    return "\n".join(lines)
