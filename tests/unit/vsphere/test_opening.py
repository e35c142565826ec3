"""The requests written before pyVmomi loads are the ones pyVmomi's stub would send."""

from __future__ import annotations

import ssl

from wizard.vsphere._pyvmomi import SoapStubAdapter, vim
from wizard.vsphere.opening import (
    PATH,
    SERVICE_CONTENT_REQUEST,
    SOAP_ACTION,
    VCENTER_SESSION_MANAGER,
    login_request,
)
from wizard.vsphere.session import _BASELINE_VERSION


def test_the_first_request_is_pyvmomis_retrieve_service_content_byte_for_byte() -> None:
    stub = SoapStubAdapter(
        host="vc01.lab.local", port=443, version=_BASELINE_VERSION,
        sslContext=ssl.create_default_context(),
    )  # fmt: skip
    instance = vim.ServiceInstance("ServiceInstance", stub)
    info = instance._GetMethodInfo("RetrieveContent")
    assert stub.SerializeRequest(instance, info, []) == SERVICE_CONTENT_REQUEST
    assert (stub.versionId, stub.path) == (SOAP_ACTION, PATH)


def test_the_login_sent_with_it_is_pyvmomis_login_byte_for_byte() -> None:
    stub = SoapStubAdapter(
        host="vc01.lab.local", port=443, version=_BASELINE_VERSION,
        sslContext=ssl.create_default_context(),
    )  # fmt: skip
    manager = vim.SessionManager(VCENTER_SESSION_MANAGER, stub)
    info = manager._GetMethodInfo("Login")
    for user, password in [
        ("helpdesk@vsphere.local", "Helpdesk-Lab-1"),
        ("CORP\\bärbel", "a&b<c>d\"e'f ]]> \t"),
    ]:
        assert stub.SerializeRequest(manager, info, [user, password, None]) == login_request(
            user, password
        )
