"""What pyVmomi, sockets and TLS raise, turned into errors that say what to do."""

from __future__ import annotations

import http.client
import socket
import ssl
import xml.parsers.expat
from pathlib import Path

import pytest

from wizard.vsphere import errors
from wizard.vsphere._pyvmomi import VmomiSupport, vim, vmodl
from wizard.vsphere.certificate import CertificateInfo
from wizard.vsphere.errors import translate

EP = "vc.corp.local:443"


def _cert_error() -> ssl.SSLCertVerificationError:
    exc = ssl.SSLCertVerificationError(1, "certificate verify failed")
    exc.verify_message = "self-signed certificate"
    return exc


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (vim.fault.InvalidLogin(), errors.LoginFailed),
        (vim.fault.NotAuthenticated(), errors.SessionExpired),
        (vmodl.fault.ManagedObjectNotFound(obj=vim.VirtualMachine("vm-9")), errors.VmGone),
        (vim.fault.InvalidPowerState(), errors.ServerFault),
        (vmodl.fault.SystemError(reason="boom"), errors.ServerFault),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), errors.HostNotFound),
        (ConnectionRefusedError(111, "Connection refused"), errors.ConnectionRefused),
        (TimeoutError("timed out"), errors.TimedOut),
        (_cert_error(), errors.TlsFailed),
        (ssl.SSLError(1, "wrong version number"), errors.TlsFailed),
        (http.client.RemoteDisconnected("closed"), errors.ConnectionLost),
        (ConnectionResetError(104, "reset"), errors.ConnectionLost),
        (http.client.HTTPException("503 Service Unavailable"), errors.ConnectionLost),
        (xml.parsers.expat.ExpatError("syntax error"), errors.ConnectionLost),
        (OSError(113, "No route to host"), errors.ConnectionLost),
        (RuntimeError("surprise"), errors.VsphereError),
    ],
)
def test_translate_gives_the_typed_error(raised: BaseException, expected: type) -> None:
    err = translate(raised, EP, timeout=7.0)
    assert type(err) is expected
    assert err.message
    assert err.next_step
    assert str(err) == err.message


def test_no_permission_names_privilege_and_object() -> None:
    fault = vim.fault.NoPermission(
        privilegeId="VirtualMachine.Config.AdvancedConfig", object=vim.VirtualMachine("vm-42")
    )
    err = translate(fault, EP)
    assert isinstance(err, errors.NoPermission)
    assert err.privilege == "VirtualMachine.Config.AdvancedConfig"
    assert err.object_name == "vm-42"
    assert "VirtualMachine.Config.AdvancedConfig" in err.message
    assert "vm-42" in err.message


def test_no_permission_from_missing_privileges_of_vsphere_7() -> None:
    fault = vim.fault.NoPermission(
        missingPrivileges=[
            VmomiSupport.GetVmodlType("vim.fault.NoPermission.EntityPrivileges")(
                entity=vim.VirtualMachine("vm-7"), privilegeIds=["VirtualMachine.Interact.PowerOff"]
            )
        ]
    )
    err = translate(fault, EP)
    assert isinstance(err, errors.NoPermission)
    assert (err.privilege, err.object_name) == ("VirtualMachine.Interact.PowerOff", "vm-7")


def test_vm_gone_names_the_moref() -> None:
    err = translate(vmodl.fault.ManagedObjectNotFound(obj=vim.VirtualMachine("vm-9")), EP)
    assert isinstance(err, errors.VmGone)
    assert err.moref == "vm-9"


def test_host_not_found_names_the_host_only() -> None:
    err = translate(socket.gaierror(-2, "Name or service not known"), "no-such-host.invalid:443")
    assert isinstance(err, errors.HostNotFound)
    assert err.host == "no-such-host.invalid"


def test_timed_out_says_how_long() -> None:
    err = translate(TimeoutError(), EP, timeout=2.5)
    assert "2.5 seconds" in err.message


def test_a_typed_error_passes_through() -> None:
    original = errors.ApiTooOld("6.0")
    assert translate(original) is original


def test_login_failed_never_shows_a_password() -> None:
    err = errors.LoginFailed("helpdesk@vsphere.local")
    assert "helpdesk@vsphere.local" in err.message
    assert "password" in err.message  # the word, never a value
    assert "s3cret" not in repr(err.__dict__)


def test_vm_not_found_offers_close_matches() -> None:
    err = errors.VmNotFound("HD-W7-42", ("HD-W7-042", "HD-W7-043"))
    assert "HD-W7-042, HD-W7-043" in err.message
    assert err.close_matches == ("HD-W7-042", "HD-W7-043")


def test_vm_ambiguous_lists_every_match() -> None:
    err = errors.VmAmbiguous("web", (("web", "vm-1"), ("web", "vm-2")))
    assert "web (vm-1), web (vm-2)" in err.message
    assert "managed object id (e.g. vm-1)" in err.next_step


def test_vm_ambiguous_says_what_tells_the_vms_apart() -> None:
    err = errors.VmAmbiguous(
        "web", (("web", "vm-1"), ("web", "vm-2")), {"vm-2": "folder DC/vm/B; host esx-2"}
    )
    assert "web (vm-1), web (vm-2; folder DC/vm/B; host esx-2)." in err.message
    assert err.where == {"vm-2": "folder DC/vm/B; host esx-2"}


def test_moref_not_found_is_a_vm_not_found_that_names_the_id() -> None:
    err = errors.MorefNotFound("vm-9")
    assert isinstance(err, errors.VmNotFound)
    assert "'vm-9'" in str(err)
    assert "never as a VM's name" in err.next_step


@pytest.mark.parametrize(
    ("error", "category"),
    [
        (errors.LoginFailed("helpdesk@vsphere.local"), errors.ErrorCategory.LOGIN),
        (errors.EmptyPassword("helpdesk@vsphere.local"), errors.ErrorCategory.USAGE),
        (errors.NoPermission("VirtualMachine.Config.AdvancedConfig", "vm-42"), "refused"),
        (errors.HostNotFound("vc.corp.local"), errors.ErrorCategory.CONNECTION),
        (errors.ConnectionRefused(EP), errors.ErrorCategory.CONNECTION),
        (errors.TimedOut(EP, 30), errors.ErrorCategory.CONNECTION),
        (errors.TlsFailed(EP, "wrong version number"), errors.ErrorCategory.CONNECTION),
        (errors.NotVsphere(EP), errors.ErrorCategory.CONNECTION),
        (errors.ApiTooOld("6.0"), errors.ErrorCategory.CONNECTION),
        (errors.SessionExpired(), errors.ErrorCategory.CONNECTION),
        (errors.ConnectionLost(EP), errors.ErrorCategory.CONNECTION),
        (errors.VmNotFound("HD-W7-42"), errors.ErrorCategory.NOT_FOUND),
        (errors.MorefNotFound("vm-9"), errors.ErrorCategory.NOT_FOUND),
        (errors.VmAmbiguous("web", (("web", "vm-1"), ("web", "vm-2"))), "not_found"),
        (errors.VmGone("vm-9"), errors.ErrorCategory.NOT_FOUND),
        (errors.ServerFault("vim.fault.InvalidPowerState", "off"), errors.ErrorCategory.FAILED),
        (errors.VsphereError("Something odd.", "Try again."), errors.ErrorCategory.FAILED),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_each_error_says_what_kind_of_failure_it_is(
    error: errors.VsphereError, category: str
) -> None:
    """The GUI's wording and the command line's exit code both follow the category."""
    assert error.category == category


def test_certificate_errors_are_their_own_kind(tmp_path: Path) -> None:
    fingerprint = "AB:" * 31 + "AB"
    info = CertificateInfo("vc.corp.local", 443, fingerprint, "CN=vc", "CN=vc", None, None, "")
    assert errors.CertificateUntrusted(info).category is errors.ErrorCategory.CERTIFICATE
    assert errors.FingerprintMismatch(info, fingerprint).category == "certificate"
    assert errors.CertificateChanged(info, info).category is errors.ErrorCategory.CERTIFICATE
    assert errors.PinStoreUnreadable(tmp_path / "pins.json", "damaged").category == "usage"
