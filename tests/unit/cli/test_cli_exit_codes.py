"""The command line's exit code for each kind of vSphere error: the README's table, exactly.

No lab: the session and the VM lookup are stand-ins that raise the error under test, so only
the mapping from an error's category to the exit code is exercised.
"""

from __future__ import annotations

import io
from typing import Any

import pytest

from wizard import cli
from wizard.cli.exits import error_exit
from wizard.vsphere import errors

CHECK = [
    "check",
    "--vcenter",
    "vc01.corp.local",
    "--user",
    "helpdesk@vsphere.local",
    "--password-stdin",
    "--vm",
    "HD-W7-042",
]


class _Session:
    def close(self) -> None:
        pass


class _First:
    """Stands in for the first request, sent before ``Session.connect`` (no server here)."""

    def abandon(self) -> None:
        pass


def _check(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    code = cli.main(CHECK)
    return code, capsys.readouterr().err


CONNECT = "wizard.vsphere.session.Session.connect"
SEND_FIRST = "wizard.vsphere.opening.send_first"
RESOLVE_VM = "wizard.vsphere.inventory.resolve_vm"

ERRORS = [
    # while connecting
    (CONNECT, errors.LoginFailed("helpdesk@vsphere.local"), cli.EXIT_CONNECTION),
    (CONNECT, errors.HostNotFound("vc01.corp.local"), cli.EXIT_CONNECTION),
    (CONNECT, errors.TimedOut("vc01.corp.local:443", 30), cli.EXIT_CONNECTION),
    (CONNECT, errors.ApiTooOld("6.0"), cli.EXIT_CONNECTION),
    (CONNECT, errors.NoPermission("System.View", "group-d1"), cli.EXIT_REFUSED),
    (CONNECT, errors.VsphereError("Unexpected error talking to vCenter.", "Try again."), 6),
    # while checking
    (RESOLVE_VM, errors.NoPermission("VirtualMachine.Config.AdvancedConfig", "vm-42"), 5),
    (RESOLVE_VM, errors.VmNotFound("HD-W7-042"), cli.EXIT_NOT_FOUND),
    (RESOLVE_VM, errors.VmGone("vm-42"), cli.EXIT_NOT_FOUND),
    (RESOLVE_VM, errors.ConnectionLost("vc01.corp.local:443"), cli.EXIT_CONNECTION),
    (RESOLVE_VM, errors.SessionExpired(), cli.EXIT_CONNECTION),
    (RESOLVE_VM, errors.ServerFault("SystemError", "boom"), cli.EXIT_FAILED),
]


@pytest.mark.parametrize(
    ("where", "error", "code"),
    ERRORS,
    ids=[
        f"{'connecting' if where == CONNECT else 'checking'}-{type(error).__name__}"
        for where, error, _ in ERRORS
    ],
)
def test_an_error_while_connecting_or_checking_exits_with_its_category_code(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    where: str,
    error: errors.VsphereError,
    code: int,
) -> None:
    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(SEND_FIRST, lambda *a, **k: _First())
    monkeypatch.setattr(CONNECT, lambda *a, **k: _Session())
    monkeypatch.setattr(where, fail)  # the step under test raises the error
    exit_code, err = _check(monkeypatch, capsys)
    assert exit_code == code, err
    assert error.message in err


@pytest.mark.parametrize("category", list(errors.ErrorCategory))
def test_every_category_has_the_code_of_the_readme(category: errors.ErrorCategory) -> None:
    readme = {
        "usage": 2,
        "login": 3,
        "connection": 3,
        "certificate": 3,
        "not_found": 4,
        "refused": 5,
        "failed": 6,
    }

    class Kind(errors.VsphereError):
        pass

    Kind.category = category
    assert error_exit(Kind("", "")) == readme[category.value]
