"""The lab serves the scenario's inventory as written, read back with plain pyVmomi."""

from __future__ import annotations

import http.client
import ssl
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers.lab import RICH_SCENARIO, connect, load_scenario, pinned_ssl_context, vim
from wizard.lab.process import LabInfo

pytestmark = pytest.mark.lab

SCENARIO = load_scenario(RICH_SCENARIO)
SCENARIO_VMS = {vm["name"]: vm for vm in SCENARIO["vms"]}


def escaped(name: str) -> str:
    """vCenter's stored form of a name: '%', '/' and '\\' escaped."""
    return name.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


@pytest.fixture(scope="module")
def si(shared_lab: LabInfo) -> Iterator[Any]:
    with connect(shared_lab) as service_instance:
        yield service_instance


def objects(si: Any, kind: Any) -> list[Any]:
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [kind], True)
    try:
        return list(view.view)
    finally:
        view.DestroyView()


@pytest.fixture(scope="module")
def vms(si: Any) -> dict[str, Any]:
    return {vm.name: vm for vm in objects(si, vim.VirtualMachine)}


def video_card(vm: Any) -> Any:
    cards = [d for d in vm.config.hardware.device if isinstance(d, vim.vm.device.VirtualVideoCard)]
    assert len(cards) == 1
    assert cards[0].key == 500
    return cards[0]


def fetch_log(info: LabInfo, si: Any, vm: Any) -> tuple[int, str]:
    """GET the VM's vmware.log over HTTPS as the wizard does, with the session cookie."""
    datastore_path = vm.config.files.logDirectory  # "[datastore1] dir"
    ds_name, _, directory = datastore_path.partition("] ")
    query = urllib.parse.urlencode({"dcPath": SCENARIO["datacenter"], "dsName": ds_name[1:]})
    url = f"/folder/{urllib.parse.quote(directory.strip('/'))}/vmware.log?{query}"
    conn = http.client.HTTPSConnection(info.host, info.port, context=pinned_ssl_context(info))
    try:
        headers = {"Cookie": si._stub.cookie} if si is not None else {}
        conn.request("GET", url, headers=headers)
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def test_exactly_one_datacenter_with_the_scenario_clusters(si: Any) -> None:
    content = si.RetrieveContent()
    datacenters = [e for e in content.rootFolder.childEntity if isinstance(e, vim.Datacenter)]
    assert [dc.name for dc in datacenters] == [escaped(SCENARIO["datacenter"])]
    clusters = {c.name: c for c in objects(si, vim.ClusterComputeResource)}
    assert set(clusters) == {escaped(c["name"]) for c in SCENARIO["clusters"]}
    for spec in SCENARIO["clusters"]:
        das = clusters[escaped(spec["name"])].configurationEx.dasConfig
        assert (das.enabled, das.admissionControlEnabled) == (
            spec["ha"]["enabled"],
            spec["ha"]["admission_control"],
        )


def test_hosts_show_cpu_model_and_sse41_both_ways(si: Any) -> None:
    hosts = {h.name: h for h in objects(si, vim.HostSystem)}
    specs = {h["name"]: (c, h) for c in SCENARIO["clusters"] for h in c["hosts"]}
    assert set(hosts) == set(specs)
    for name, (cluster, spec) in specs.items():
        host = hosts[name]
        assert host.parent.name == escaped(cluster["name"])
        assert host.summary.hardware.cpuModel == spec["cpu_model"]
        assert {p.description for p in host.hardware.cpuPkg} == {spec["cpu_model"]}
        features = {f.key: f.value for f in host.config.featureCapability}
        assert features["cpuid.SSE41"] == ("1" if spec["sse41"] else "0")
        (level1,) = [leaf for leaf in host.hardware.cpuFeature if leaf.level == 1]
        bits = level1.ecx.replace(":", "")
        assert len(level1.ecx) == 39
        assert len(bits) == 32
        assert bits[31 - 19] == ("1" if spec["sse41"] else "0")


def test_only_scenario_and_filler_vms_exist(vms: dict[str, Any]) -> None:
    fillers = sorted(n for n in vms if n.startswith("filler-"))
    assert fillers == [f"filler-{i:05d}" for i in range(1, SCENARIO["filler_vms"] + 1)]
    assert set(vms) - set(fillers) == {escaped(n) for n in SCENARIO_VMS}


@pytest.mark.parametrize("name", list(SCENARIO_VMS))
def test_vm_is_served_as_written(vms: dict[str, Any], si: Any, name: str) -> None:
    spec = SCENARIO_VMS[name]
    vm = vms[escaped(name)]
    config = vm.config
    assert config.name == escaped(name)
    assert vm.runtime.host.name == spec["host"]
    assert vm.resourcePool == vm.runtime.host.parent.resourcePool
    assert vm in vm.runtime.host.vm
    assert config.version == spec["hardware_version"]
    assert config.guestId == spec["guest_id"]
    assert vm.runtime.powerState == spec["power_state"]
    running = spec["tools_running"]
    assert vm.guest.toolsRunningStatus == (
        "guestToolsRunning" if running else "guestToolsNotRunning"
    )
    assert vm.guest.interactiveGuestOperationsReady is running
    assert vm.guest.guestId == (spec["tools_guest_id"] if running else None)
    if spec["screen"] is None:
        assert vm.guest.screen is None
    else:
        assert [vm.guest.screen.width, vm.guest.screen.height] == spec["screen"]
    card = video_card(vm)
    video = spec["video"]
    assert card.numDisplays == video["displays"]
    assert card.videoRamSizeInKB == video["vram_kb"]
    assert card.useAutoDetect is video["auto_detect"]
    assert card.enable3DSupport is video["enable_3d"]
    assert {o.key: o.value for o in config.extraConfig} == spec["extra_config"]
    upgrade = config.scheduledHardwareUpgradeInfo
    assert upgrade.upgradePolicy == spec["upgrade_policy"]["policy"]
    assert upgrade.versionKey == spec["upgrade_policy"]["version"]
    assert config.changeVersion


def test_tools_not_running_reports_no_guest_data(vms: dict[str, Any]) -> None:
    vm = vms["No Tools XP"]
    assert vm.runtime.powerState == "poweredOn"
    assert vm.guest.toolsRunningStatus == "guestToolsNotRunning"
    assert vm.guest.toolsStatus == "toolsNotRunning"
    assert (vm.guest.guestId, vm.guest.screen) == (None, None)


def test_instance_uuids_are_unique(vms: dict[str, Any]) -> None:
    uuids = [vm.config.instanceUuid for vm in vms.values()]
    assert len(set(uuids)) == len(uuids)


def test_unset_property_reads_as_none_instead_of_dropping_the_connection(
    vms: dict[str, Any],
) -> None:
    vm = vms["HD-W7-042"]
    assert vm.snapshot is None
    assert vm.parentVApp is None
    assert vm.name == "HD-W7-042"  # the connection still works


def test_every_vm_has_a_log_over_https_with_a_session_only(
    shared_lab: LabInfo, si: Any, vms: dict[str, Any]
) -> None:
    for vm in vms.values():
        status, text = fetch_log(shared_lab, si, vm)
        assert status == 200, vm.name
        assert "| vmx| Log for VMware ESX" in text
    status, _ = fetch_log(shared_lab, None, vms["Single 1080p"])
    assert status == 401


def test_failed_vmotion_history_is_seeded(
    shared_lab: LabInfo, si: Any, vms: dict[str, Any]
) -> None:
    vm = vms["HD-W7-042"]
    manager = si.RetrieveContent().eventManager
    spec = vim.event.EventFilterSpec(
        entity=vim.event.EventFilterSpec.ByEntity(entity=vm, recursion="self")
    )
    events = manager.QueryEvents(spec)
    failed = [e for e in events if isinstance(e, vim.event.VmFailedMigrateEvent)]
    assert len(failed) == 1
    assert (
        failed[0].reason.msg == "A general system error occurred: Failed to flush checkpoint data!"
    )
    assert "Failed to flush checkpoint data" in failed[0].fullFormattedMessage
    assert failed[0].host.name == "esx-a1.lab.local"
    assert failed[0].destHost.name == "esx-a2.lab.local"
    tasks = [e for e in events if isinstance(e, vim.event.TaskEvent)]
    assert [t.info.error.msg for t in tasks] == [failed[0].reason.msg]
    _, text = fetch_log(shared_lab, si, vm)
    assert (
        "| vmx| Migrate_SetFailure: Failed waiting for data. Error bad0006. Limit exceeded." in text
    )
    assert "[vob.vmotion.chkpt.toobig]" in text
    assert "[msg.moduletable.powerOnFailed] Module Migrate power on failed." in text
    # Only the VM with that history carries it.
    _, other = fetch_log(shared_lab, si, vms["Single 1080p"])
    assert "Migrate_SetFailure" not in other


def test_session_list_follows_logins_and_logouts(shared_lab: LabInfo, si: Any) -> None:
    manager = si.RetrieveContent().sessionManager
    before = {s.key for s in manager.sessionList}
    with connect(shared_lab, "viewer@lab.local", "Viewer!1") as other:
        key = other.RetrieveContent().sessionManager.currentSession.key
        during = {s.key for s in manager.sessionList}
        assert during == before | {key}
        users = {s.key: s.userName for s in manager.sessionList}
        assert users[key] == "viewer@lab.local"
    assert {s.key for s in manager.sessionList} == before


def test_the_certificate_is_the_announced_one(shared_lab: LabInfo) -> None:
    context = pinned_ssl_context(shared_lab)
    assert context.verify_mode == ssl.CERT_REQUIRED


FOLDER_HOSTILE_NAMES = [
    " leading space",
    "trailing space ",
    "\ttab first",
    'colon: star* pipe| <angle> quote" question?',
    "trailing dot.",
    ".",
    "..",
    "line\nbreak",
]


def test_vms_whose_names_no_folder_may_carry_are_served_with_their_logs(
    start_lab: Any,
) -> None:
    """The simulator names a VM's folder and files after it: names that a file system (or
    Windows, where the lab runs too) refuses still give a VM of exactly that name and a log."""
    scenario = dict(SCENARIO)
    template = SCENARIO_VMS["HD-W7-042"]
    scenario["vms"] = [dict(template, name=name) for name in FOLDER_HOSTILE_NAMES]
    scenario["expect"] = {}
    scenario.pop("vm_of_interest", None)
    info = start_lab(scenario)
    with connect(info) as si:
        served = {
            vm.name: vm
            for vm in objects(si, vim.VirtualMachine)
            if not vm.name.startswith("filler-")
        }
        assert sorted(served) == sorted(escaped(n) for n in FOLDER_HOSTILE_NAMES)
        for vm in served.values():
            status, text = fetch_log(info, si, vm)
            assert status == 200, (vm.name, vm.config.files.logDirectory)
            assert "| vmx| Log for VMware ESX" in text
