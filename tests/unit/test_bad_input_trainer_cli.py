"""Bad input to the trainer's commands: an exit code and a message, never a traceback.

Random option lists after ``scenario export``, ``training verify`` and ``training exam``. Nothing
may open a window or reach a server: the screen variables are removed (``training exam``
refuses), and every ``--vcenter`` names a closed port on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import io
import socket
import sys

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from wizard import cli

COMMANDS = [["scenario", "export"], ["training", "verify"], ["training", "exam"]]
OPTIONS = [
    "--vcenter", "--user", "--password-stdin", "--trust-fingerprint", "--trust-ca-fingerprint",
    "--timeout", "--vm", "--moref", "--out", "--keep-names", "--id", "--evidence-days",
    "--cases", "--results", "--key-file", "--title", "--help", "--nope",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(
        ["nan", "inf", "-1", "0", "1e309", "99999999999999999999", "AB:CD", "x" * 3000,
         "HD-W7-042", "Büro-PC 7/2 50%", "\x00", "vm-42", "seed:1:beginner", "dual-screen-win7",
         "/dev/null", "/", ".", "Ticket 4711", "-", "a,b,,c"]
    ),
    st.text(max_size=20).filter(lambda t: not t.startswith("-")),
)  # fmt: skip


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@st.composite
def _argvs(draw: st.DrawFn) -> list[str]:
    argv = list(draw(st.sampled_from(COMMANDS)))
    for _ in range(draw(st.integers(0, 9))):
        argv.append(draw(st.sampled_from(OPTIONS) | VALUES))
    return [a for a in argv if a]


def _safe(argv: list[str], port: int) -> list[str]:
    out: list[str] = []
    skip = False
    for i, token in enumerate(argv):
        if skip:
            skip = False
            continue
        if token == "--vcenter" or token.startswith("--vcenter="):
            out += ["--vcenter", f"127.0.0.1:{port}"]
            skip = token == "--vcenter" and i + 1 < len(argv)
            continue
        out.append(token)
    return out


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO("pw\n")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse: --help, usage errors
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        sys.stdin = old
    return code, out.getvalue(), err.getvalue()


def test_random_trainer_command_lines_exit_with_a_code_and_a_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))  # a relative --out or --results lands here
    port = _closed_port()

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(_argvs())
    @example(["scenario", "export", "--vcenter", "x", "--user", "u", "--vm", "v", "--out", "o.json",
              "--password-stdin", "--timeout", "nan"])  # fmt: skip
    @example(["scenario", "export", "--vcenter", "x", "--user", "u", "--vm", "v", "--out", "o.json",
              "--password-stdin", "--evidence-days", "99999999999"])  # fmt: skip
    @example(["scenario", "export", "--vcenter", "x", "--user", "u", "--vm", "v", "--out", "/",
              "--password-stdin"])  # fmt: skip
    @example(["training", "verify", "nan", "--key-file", "\x00"])
    @example(["training", "verify", "\x00", "--key-file", __file__])
    @example(["training", "exam", "--cases", "dual-screen-win7", "--results", "\x00"])
    @example(["training", "exam", "--cases", "a\x00b", "--results", "r"])
    @example(["scenario", "export", "--vcenter", "x", "--user", "u", "--vm", "v", "--out", "o\x00",
              "--password-stdin"])  # fmt: skip
    @example(["training", "verify", "/dev/null", "--key-file", "/dev/null"])
    @example(["training", "verify", "/dev/zero", "/", "--key-file", __file__])
    @example(["training", "exam", "--cases", "dual-screen-win7", "--results", "r"])
    def prop(argv: list[str]) -> None:
        argv = _safe(argv, port)
        code, out, err = _run(argv)
        assert "Traceback" not in err + out, (argv, err)
        assert code in (0, 2, 3, 4, 5, 6), (argv, code, err)
        if code not in (0, 5):
            assert "checkpoint-wizard" in err, (argv, err)

    prop()
