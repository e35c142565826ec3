"""Bad input: random command lines end with an exit code and a message, never a traceback.

``wizard.cli.main`` runs in this process with its own stdin, stdout and stderr. Nothing may
start the wizard's window, the lab or a real connection: the screen variables are removed (so
the default command refuses), ``lab``, ``tour``, ``--scenario`` and ``--training`` are never
generated, and every ``--vcenter`` names a closed port on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import io
import socket
import sys

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.reliability.figures import current_size, record
from wizard import cli

SETTINGS = settings(
    max_examples=current_size().examples,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
COMMANDS = ["check", "apply", "undo", "journal", "chek", "", "--", "-"]
OPTIONS = [
    "--vcenter", "--user", "--password-stdin", "--trust-fingerprint", "--timeout", "--vm",
    "--all", "--json", "--read-log", "--evidence-days", "--remedy", "--buffer-bytes", "--variant",
    "--guest-user", "--guest-password-stdin", "--allow-shutdown", "--allow-hard-poweroff",
    "--leave-powered-off", "--shutdown-timeout", "--yes", "--force", "-v", "--verbose", "--help",
    "--version", "-h", "--nope",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(
        ["raise_buffer", "enable_3d", "lower_resolution", "stay_on_hw7", "cap", "guest", "nan",
         "inf", "-1", "0", "1e309", "30", "99999999999999999999", "AB:CD", "A" * 64, "x" * 5000,
         "HD-W7-042", "Büro-PC 7/2 50%", "\x00", "vm-42", "e0123456789a", "\uff11\uff12"]
    ),
    st.text(max_size=30).filter(lambda t: not t.startswith("-")),
)  # fmt: skip
FORBIDDEN = ("lab", "tour", "--scenario", "--training")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@st.composite
def argvs(draw: st.DrawFn) -> list[str]:
    argv: list[str] = []
    if draw(st.booleans()):
        argv.append(draw(st.sampled_from(["-v", "--vm", "--version"])))
    argv.append(draw(st.sampled_from(COMMANDS)))
    for _ in range(draw(st.integers(0, 8))):
        argv.append(draw(st.sampled_from(OPTIONS) | VALUES))
    return [a for a in argv if a]


def safe(argv: list[str], port: int) -> list[str]:
    """Point every --vcenter at a closed loopback port; drop what would start a lab or GUI."""
    out: list[str] = []
    skip_next = False
    for i, token in enumerate(argv):
        if skip_next:
            skip_next = False
            continue
        if token in FORBIDDEN or any(token.startswith(f + "=") for f in FORBIDDEN):
            continue
        if token == "--vcenter" or token.startswith("--vcenter="):
            out += ["--vcenter", f"127.0.0.1:{port}"]
            skip_next = token == "--vcenter" and i + 1 < len(argv)
            continue
        out.append(token)
    return out


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO("pw\nguest-pw\n")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse: --help, --version, usage errors
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdin = old
    return code, out.getvalue(), err.getvalue()


def test_random_command_lines_exit_with_a_code_and_a_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    port = closed_port()
    tried = [0]

    @SETTINGS
    @given(argvs())
    @example(["check", "--vcenter", "x", "--user", "u", "--password-stdin", "--timeout", "nan"])
    @example(["check", "--vcenter", "x", "--user", "u", "--trust-fingerprint", "nonsense"])
    @example(["check", "--vcenter", "x", "--user", "u", "--evidence-days", "99999999999"])
    @example(["apply", "--vcenter", "x", "--user", "u", "--vm", "v", "--remedy", "raise_buffer",
              "--shutdown-timeout", "inf", "--yes"])  # fmt: skip
    @example(["--vm", "HD-W7-042"])
    @example(["undo"])
    def prop(argv: list[str]) -> None:
        argv = safe(argv, port)
        tried[0] += 1
        code, out, err = run(argv)
        assert "Traceback" not in err + out, (argv, err)
        assert code in (0, 2, 3, 4, 5, 6), (argv, code, err)
        if code != 0:
            assert err.strip(), (argv, code)
            assert "checkpoint-wizard" in err, (argv, err)
        if code == 3:  # only a connection was possible, and the port is closed
            assert f"127.0.0.1:{port}" in err, (argv, err)

    prop()
    record("bad_inputs", kind="command lines", tried=tried[0])
