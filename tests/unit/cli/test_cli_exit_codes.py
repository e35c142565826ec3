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


def _check(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    code = cli.main(CHECK)
    return code, capsys.readouterr().err


def _connect_raises(monkeypatch: pytest.MonkeyPatch, error: errors.VsphereError) -> None:
    def connect(*_args: Any, **_kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr("wizard.vsphere.session.Session.connect", connect)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.LoginFailed("helpdesk@vsphere.local"), cli.EXIT_CONNECTION),
        (errors.HostNotFound("vc01.corp.local"), cli.EXIT_CONNECTION),
        (errors.TimedOut("vc01.corp.local:443", 30), cli.EXIT_CONNECTION),
        (errors.ApiTooOld("6.0"), cli.EXIT_CONNECTION),
        (errors.NoPermission("System.View", "group-d1"), cli.EXIT_REFUSED),
        (errors.VsphereError("Unexpected error talking to vCenter.", "Try again."), 6),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_an_error_while_connecting_exits_with_its_category_code(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: errors.VsphereError,
    code: int,
) -> None:
    _connect_raises(monkeypatch, error)
    exit_code, err = _check(monkeypatch, capsys)
    assert exit_code == code, err
    assert error.message in err


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (errors.NoPermission("VirtualMachine.Config.AdvancedConfig", "vm-42"), 5),
        (errors.VmNotFound("HD-W7-042"), cli.EXIT_NOT_FOUND),
        (errors.VmGone("vm-42"), cli.EXIT_NOT_FOUND),
        (errors.ConnectionLost("vc01.corp.local:443"), cli.EXIT_CONNECTION),
        (errors.SessionExpired(), cli.EXIT_CONNECTION),
        (errors.ServerFault("SystemError", "boom"), cli.EXIT_FAILED),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_an_error_while_checking_exits_with_its_category_code(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: errors.VsphereError,
    code: int,
) -> None:
    def find(*_args: Any, **_kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr("wizard.vsphere.session.Session.connect", lambda *a, **k: _Session())
    monkeypatch.setattr("wizard.vsphere.inventory.resolve_vm", find)
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
