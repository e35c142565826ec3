"""``checkpoint-wizard --selftest``: proves that a build works on the machine it runs on.

CI runs it on the frozen program (Linux here, Windows in the release workflow), and a
technician can run it when the wizard misbehaves. Every check runs even after one has failed,
and each prints one line::

    selftest: <name>: ok <detail>
    selftest: <name>: WARNING <reason>
    selftest: <name>: FAILED <reason>

then a closing line, ``selftest: passed (...)`` or ``selftest: FAILED (...)``. The exit status
is 0 when no check failed, 1 otherwise.

Nothing of the technician's is touched: the product's files go to a temporary base directory
that is removed afterwards, and the keyring entry is a throwaway one, deleted again. Qt is
imported inside the checks only, so importing this module loads no Qt.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from wizard import __version__, paths

KEYRING_SERVICE = "checkpoint-wizard:selftest"
# What the offscreen platform itself says when a window is shown: not the product's doing.
QT_HARMLESS = frozenset({"This plugin does not support propagateSizeHints()"})
VERDICTS = frozenset(
    {"confirmed", "affected", "mitigated", "at_risk", "possibly_affected", "not_affected"}
)


class CheckFailed(Exception):
    """A check did not pass; the message says what went wrong."""


class CheckWarning(Exception):
    """A check could not be made on this machine, which is not the build's fault."""


@dataclass(frozen=True)
class Outcome:
    """What one check found: ``ok``, ``WARNING`` or ``FAILED``, and a detail."""

    name: str
    status: str
    detail: str

    def line(self) -> str:
        return f"selftest: {self.name}: {self.status} {self.detail}".rstrip()


@contextlib.contextmanager
def _temporary_basedir() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="checkpoint-wizard-selftest-"))
    paths.set_basedir(base)
    try:
        yield base
    finally:
        paths.set_basedir(None)
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def _environ(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


@contextlib.contextmanager
def _qt_quiet() -> Iterator[None]:
    """Offscreen Qt, and any warning Qt prints turns into a failed check."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    said: list[str] = []

    def on_message(kind: QtMsgType, context: object, message: str) -> None:
        if kind != QtMsgType.QtDebugMsg and message not in QT_HARMLESS:
            said.append(message)

    previous = qInstallMessageHandler(on_message)
    try:
        with _environ("QT_QPA_PLATFORM", "offscreen"):
            yield
    finally:
        qInstallMessageHandler(previous)
    if said:
        raise CheckFailed(f"Qt said: {' | '.join(said)}")


# ------------------------------------------------------------------------------------ checks


def check_qt(workdir: Path) -> str:
    """Qt starts offscreen, and the main window opens and closes."""
    with _qt_quiet():
        from PySide6.QtCore import QCoreApplication, QEvent, QLibraryInfo, qVersion

        from wizard.ui.app import MainWindow, create_application

        app = create_application([sys.argv[0], "-platform", "offscreen"])
        native = _native_platform_plugin(
            Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
        )
        window = MainWindow()
        window.show()
        app.processEvents()
        if not window.isVisible():
            raise CheckFailed("the main window did not show")
        window.close()
        window.shutdown()
        window.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        return (
            f"Qt {qVersion()} on {app.platformName()} (and {native} present), "
            "main window opened and closed"
        )


def _native_platform_plugin(folder: Path) -> str:
    # The self-test runs offscreen, so it checks by name that the plugin a technician's
    # desktop needs was not trimmed away.
    name = "qwindows" if sys.platform == "win32" else "qxcb"
    if not any(p.stem.removeprefix("lib") == name for p in folder.glob("*")):
        raise CheckFailed(f"the platform plugin {name} is missing from {folder}")
    return name


def check_resources(workdir: Path) -> str:
    """The bundled icons render and the image formats the product reads are there."""
    with _qt_quiet():
        from PySide6.QtGui import QImageReader
        from PySide6.QtSvg import QSvgRenderer

        formats = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
        missing = {"svg", "ico", "png"} - formats
        if missing:
            raise CheckFailed(f"image formats missing: {', '.join(sorted(missing))}")
        icons = sorted((paths.repo_resources() / "ui").rglob("*.svg"))
        if not icons:
            raise CheckFailed(f"no icons under {paths.repo_resources() / 'ui'}")
        broken = [p.name for p in icons if not QSvgRenderer(str(p)).isValid()]
        if broken:
            raise CheckFailed(f"icons that do not render: {', '.join(broken)}")
        from wizard.lab.scenario import bundled_scenario_files, bundled_scenarios_dir

        scenarios = bundled_scenario_files()
        if not scenarios:
            raise CheckFailed(f"no scenarios in {bundled_scenarios_dir()}")
        return f"{len(icons)} icons, {len(scenarios)} scenarios, image formats svg ico png"


def check_pdf(workdir: Path) -> str:
    """A report can be printed to PDF (QtPrintSupport and its plugins are in the build)."""
    with _qt_quiet():
        from PySide6.QtGui import QTextDocument
        from PySide6.QtPrintSupport import QPrinter

        target = workdir / "selftest.pdf"
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(target))
        document = QTextDocument()
        document.setHtml("<h1>Checkpoint Wizard</h1><p>Self-test report.</p>")
        document.print_(printer)
        if not target.exists() or not target.read_bytes().startswith(b"%PDF"):
            raise CheckFailed("printing to PDF wrote no PDF file")
        return f"{target.stat().st_size} bytes"


def check_keyring(strict: bool) -> Callable[[Path], str]:
    """A throwaway secret goes into the real OS keyring and comes back out."""

    def run(workdir: Path) -> str:
        import keyring
        from keyring.errors import KeyringError, NoKeyringError

        backend = keyring.get_keyring()
        name = f"{type(backend).__module__}.{type(backend).__name__}"
        user = f"selftest-{secrets.token_hex(4)}"
        secret = secrets.token_urlsafe(16)
        try:
            keyring.set_password(KEYRING_SERVICE, user, secret)
            try:
                read_back = keyring.get_password(KEYRING_SERVICE, user)
            finally:
                keyring.delete_password(KEYRING_SERVICE, user)
        except NoKeyringError:
            message = f"unavailable (no backend on this machine; keyring chose {name})"
            if strict:
                raise CheckFailed(message) from None
            raise CheckWarning(message) from None
        except KeyringError as exc:
            raise CheckFailed(f"{name}: {type(exc).__name__}: {exc}") from None
        if read_back != secret:
            raise CheckFailed(f"{name} gave back a different secret")
        return f"stored, read back and deleted a throwaway entry in {name}"

    return run


def check_tls(workdir: Path) -> str:
    """The TLS context that verifies vCenter against the OS trust store can be built."""
    import ssl

    import truststore

    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        raise CheckFailed("the context does not verify certificates and host names")
    try:
        import cryptography
        from cryptography import x509  # noqa: F401 (loads the compiled core)
    except ImportError as exc:
        raise CheckFailed(f"certificates cannot be read: {exc}") from None
    return (
        f"truststore {truststore.__version__}, verifying, {ssl.OPENSSL_VERSION}; "
        f"certificates read by cryptography {cryptography.__version__}"
    )


def check_lab(workdir: Path) -> str:
    """The lab binary for this platform is there."""
    from wizard.lab.binary import LabUnavailable, lab_binary

    try:
        binary = lab_binary()
    except LabUnavailable as exc:
        raise CheckFailed(str(exc)) from None
    if not os.access(binary, os.X_OK):
        raise CheckFailed(f"{binary} is not executable")
    return str(binary)


def check_verdict(workdir: Path) -> str:
    """The lab starts with the default scenario, the check judges its VM, the lab stops.

    The pieces of ``check --json`` (lab, session, facts, rules, JSON), called directly rather
    than through ``wizard.cli``: the command line imports this module, not the other way round.
    """
    from wizard.kb import assess, remedies
    from wizard.kb.serialize import assessment_to_json
    from wizard.lab.binary import LabUnavailable
    from wizard.lab.process import LabError, LabProcess
    from wizard.lab.scenario import DEFAULT_SCENARIO_ID, bundled_scenarios_dir, load_scenario
    from wizard.vsphere.errors import VsphereError
    from wizard.vsphere.facts import collect_facts
    from wizard.vsphere.inventory import resolve_vm
    from wizard.vsphere.session import Session
    from wizard.vsphere.tls import MemoryPinStore, TrustPolicy

    scenario_file = bundled_scenarios_dir() / f"{DEFAULT_SCENARIO_ID}.json"
    scenario = load_scenario(scenario_file)
    vm = scenario.vm_of_interest or (scenario.expect[0].vm if scenario.expect else None)
    if vm is None:
        raise CheckFailed(f"{scenario_file.name} names no VM to check")
    started = time.monotonic()
    try:
        with LabProcess(scenario_file) as lab:
            info = lab.info
            # Through the lab's authority (fetched from its download.zip and compared), as a
            # technician's trust in a vCenter's authority works.
            trust = TrustPolicy(MemoryPinStore(), expected_authority=info.ca_thumbprint_sha256)
            session = Session.connect(
                f"{info.host}:{info.port}", info.user, info.password, trust=trust
            )
            try:
                facts = collect_facts(session, resolve_vm(session, vm).moref)
            finally:
                session.close()
    except (LabUnavailable, LabError) as exc:
        raise CheckFailed(str(exc)) from None
    except VsphereError as exc:
        raise CheckFailed(f"{exc.message} {exc.next_step}") from None
    seconds = time.monotonic() - started
    assessment = assess(facts)
    document = assessment_to_json(assessment, remedies(assessment, facts), facts, __version__)
    # Through JSON text, as ``check --json`` prints it: the contract scripts rely on.
    try:
        verdict = json.loads(json.dumps(document, ensure_ascii=False))["verdict"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckFailed(f"the JSON has no verdict ({type(exc).__name__})") from None
    if verdict not in VERDICTS:
        raise CheckFailed(f"unknown verdict {verdict!r}")
    expected = scenario.expectation(vm)
    if expected is not None and verdict != expected.verdict.value:
        raise CheckFailed(f"{vm}: verdict {verdict}, the scenario expects {expected.verdict}")
    return f"{vm} in {DEFAULT_SCENARIO_ID}: {verdict} ({seconds:.1f} s with the lab)"


# -------------------------------------------------------------------------------------- run


def _say(outcome_line: str) -> None:
    # print() and not sys.stdout.write(): the windowed Windows program has no stdout at all,
    # and print() then writes nothing instead of failing. Its exit status still tells.
    print(outcome_line, flush=True)  # noqa: T201 (the self-test reports on stdout by design)


def _run_one(name: str, check: Callable[[Path], str], workdir: Path) -> Outcome:
    try:
        outcome = Outcome(name, "ok", check(workdir))
    except CheckWarning as exc:
        outcome = Outcome(name, "WARNING", str(exc))
    except CheckFailed as exc:
        outcome = Outcome(name, "FAILED", str(exc))
    except Exception as exc:  # noqa: BLE001 (any crash is a failed check, and the rest still run)
        outcome = Outcome(name, "FAILED", f"{type(exc).__name__}: {exc}")
    _say(outcome.line())
    return outcome


def _not_run(workdir: Path) -> str:
    raise CheckFailed("not run: there is no lab binary (see the lab line)")


def run_selftest(*, strict_keyring: bool = False) -> int:
    """Run every check, print one line each and a closing line; 0 when none failed.

    Args:
        strict_keyring: treat a machine without a keyring as a failure (the Windows release
            workflow does: Credential Manager is always there).
    """
    # The lab is found before the base directory moves: from source, lab_binary() caches its
    # build there, and a fresh temporary cache would rebuild it on every run.
    lab = _run_one("lab", check_lab, Path.cwd())
    outcomes = [lab]
    checks: list[tuple[str, Callable[[Path], str]]] = [
        ("qt", check_qt),
        ("resources", check_resources),
        ("pdf", check_pdf),
        ("keyring", check_keyring(strict_keyring)),
        ("tls", check_tls),
        ("check", check_verdict if lab.status == "ok" else _not_run),
    ]
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(_temporary_basedir())
        if lab.status == "ok":
            stack.enter_context(_environ("CHECKPOINT_WIZARD_LAB_BIN", lab.detail))
        outcomes += [_run_one(name, check, base) for name, check in checks]

    failed = [o.name for o in outcomes if o.status == "FAILED"]
    warnings = sum(o.status == "WARNING" for o in outcomes)
    kind = "frozen" if getattr(sys, "frozen", False) else "from source"
    about = f"checkpoint-wizard {__version__} {kind}, {len(outcomes)} checks"
    if warnings:
        about += f", {warnings} warning{'s' if warnings > 1 else ''}"
    if failed:
        _say(f"selftest: FAILED ({about}; failed: {', '.join(failed)})")
        return 1
    _say(f"selftest: passed ({about})")
    return 0
