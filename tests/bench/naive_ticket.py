"""The naive peer of the latency benchmark: one VM from a ticket, as most pyVmomi scripts do it.

    python tests/bench/naive_ticket.py HOST PORT USER NAME   (password on stdin)

``SmartConnect``, a container view of every VM, ``vm.name`` read VM by VM until the name
matches, then the VM's ``config``, ``guest`` and ``runtime``, its host's and cluster's
properties, the privileges and the events, each an attribute read or a call of its own. It
prints one line of JSON as soon as it has what a verdict needs (then destroys the view and
logs out): ``{"round_trips": N, "vm": "vm-42"}``. Certificate checks are off, as in most such
scripts; what is measured is the calls.
"""

from __future__ import annotations

import http.client
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

_calls = 0
_request = http.client.HTTPConnection.request


def _counting(conn: Any, method: str, *args: Any, **kwargs: Any) -> Any:
    global _calls
    if method == "POST":
        _calls += 1
    return _request(conn, method, *args, **kwargs)


setattr(http.client.HTTPConnection, "request", _counting)  # noqa: B010 (typed as Any)


def main(host: str, port: int, user: str, name: str) -> int:
    from pyVim import connect as pyvim_connect
    from pyVmomi import vim as pyvmomi_vim

    connect: Any = pyvim_connect  # untyped: one Any for the whole peer
    vim: Any = pyvmomi_vim

    password = sys.stdin.readline().rstrip("\n")
    si = connect.SmartConnect(
        host=host, port=port, user=user, pwd=password, disableSslCertValidation=True
    )
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    vm = next(v for v in view.view if v.name == name)
    config, guest, runtime = vm.config, vm.guest, vm.runtime
    _ = (config.hardware.device, config.extraConfig, guest.screen, runtime.powerState)
    host_obj = runtime.host
    _ = (host_obj.name, host_obj.summary.hardware.cpuModel, host_obj.config.featureCapability)
    cluster = host_obj.parent
    _ = (cluster.name, cluster.configurationEx, cluster.summary)
    session_key = content.sessionManager.currentSession.key
    content.authorizationManager.HasPrivilegeOnEntities(
        entity=[vm], sessionId=session_key, privId=["VirtualMachine.Config.AdvancedConfig"]
    )
    spec = vim.event.EventFilterSpec
    events = content.eventManager.QueryEvents(
        filter=spec(
            entity=spec.ByEntity(entity=vm, recursion="self"),
            time=spec.ByTime(beginTime=datetime.now(UTC) - timedelta(days=30)),
            eventTypeId=["VmFailedMigrateEvent", "VmRelocateFailedEvent"],
        )
    )
    print(json.dumps({"round_trips": _calls, "vm": vm._moId, "events": len(events)}), flush=True)
    view.DestroyView()
    connect.Disconnect(si)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]))
