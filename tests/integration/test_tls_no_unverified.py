"""No code path builds an unverified TLS context, except the one that only reads a certificate.

The product may talk to a server without verifying it in exactly one place:
``wizard.vsphere.tls.fetch_certificate_der`` (behind ``fetch_certificate``) reads the certificate
(and the chain sent with it) to show them or compare their fingerprint (trust on first use) and
sends nothing; fetching a vCenter's authorities
(``/certs/download.zip``) goes over a connection pinned to that certificate, never unverified.
Besides that reading, host-name checking is off in exactly one place: ``pinned_context``, where the
pinned certificate itself is the identity. Two checks hold that:

- the source of ``wizard/`` is searched for the ways of switching verification off;
- a full connect, check (with the VM's log over HTTPS) and apply runs with ``ssl`` watched:
  any CERT_NONE, unverified context or ``check_hostname = False`` from anywhere else fails it;
  and with the certificate pinned, no unverified context is made at all.
"""

from __future__ import annotations

import ast
import re
import ssl
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.apply import SCENARIO, check, journal_in
from tests.helpers.lab import StartLab
from tests.reliability.figures import record
from wizard.lab.process import LabInfo
from wizard.vsphere.errors import CertificateUntrusted
from wizard.vsphere.evidence import read_vm_log
from wizard.vsphere.executor import Executor
from wizard.vsphere.facts import collect_facts
from wizard.vsphere.inventory import list_vms, resolve_vm
from wizard.vsphere.results import ApplyRequest
from wizard.vsphere.session import Endpoint, Session
from wizard.vsphere.tls import JsonPinStore, TrustPolicy

WIZARD = Path(__file__).resolve().parents[2] / "wizard"
TLS = WIZARD / "vsphere" / "tls.py"
FORBIDDEN = re.compile(
    r"CERT_NONE|_create_unverified_context|_create_stdlib_context|check_hostname\s*=\s*False"
    r"|disableSslCertValidation|serverPemCert|verify\s*=\s*False"
    r"|get_server_certificate|PYTHONHTTPSVERIFY"
)
# pyVmomi's own pinning switches verification off on failure (see tls.py): never used.
PYVMOMI_CALLS = {"SmartConnect", "Connect", "SoapStubAdapter", "SmartStubAdapter", "__Login"}
PYVMOMI_PINNING = {"thumbprint", "serverPemCert", "disableSslCertValidation"}
# (file, function, what): the only places allowed, and why.
ALLOWED = {
    # Reads the certificate and the chain sent with it to show them, sends nothing: the stdlib
    # has no call that returns the chain (get_server_certificate gives the leaf alone).
    (TLS, "fetch_certificate_der", "CERT_NONE"),
    (TLS, "fetch_certificate_der", "check_hostname"),
    (TLS, "pinned_context", "check_hostname"),  # the pinned certificate is the identity
}


def innermost(tree: ast.AST, line: int) -> str:
    best, best_start = "<module>", -1
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            end = node.end_lineno or node.lineno
            if node.lineno <= line <= end and node.lineno > best_start:
                best, best_start = node.name, node.lineno
    return best


def code_lines(source: str) -> Iterator[tuple[int, str]]:
    """Lines of code without their comments and docstrings (prose may name the forbidden)."""
    tree = ast.parse(source)
    prose: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Expr):
            continue
        value = node.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            prose.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    for number, line in enumerate(source.splitlines(), start=1):
        if number not in prose:
            yield number, line.split("#", 1)[0]


def test_the_source_switches_verification_off_nowhere_else() -> None:
    hits = []
    files = sorted(WIZARD.rglob("*.py"))
    for path in files:
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        for number, code in code_lines(source):
            for match in FORBIDDEN.finditer(code):
                function = innermost(tree, number)
                what = match.group(0).split("=")[0].strip()
                if (path, function, what) not in ALLOWED:
                    hits.append(f"{path.relative_to(WIZARD.parent)}:{number} in {function}: {code}")
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            used = {k.arg for k in node.keywords} & PYVMOMI_PINNING
            if name in PYVMOMI_CALLS and used:
                hits.append(f"{path.relative_to(WIZARD.parent)}:{node.lineno}: {name}({used})")
    assert len(files) > 20
    assert not hits, "\n".join(hits)
    record("tls", check="source: no unverified context outside the two allowed places")


class Watch:
    """Records every place that switches TLS verification off, with who asked."""

    def __init__(self) -> None:
        self.unverified: list[str] = []
        self.bad: list[str] = []

    @staticmethod
    def caller() -> list[str]:
        return [f"{Path(f.filename).name}:{f.name}" for f in traceback.extract_stack()]

    def judge(self, what: str, allowed_in: str) -> None:
        stack = self.caller()
        if f"tls.py:{allowed_in}" in stack:
            self.unverified.append(what)
        else:
            self.bad.append(f"{what} from {' > '.join(stack[-8:])}")


def descriptor(name: str) -> Any:
    """The attribute's descriptor on SSLContext: a Python property or the C type's getset."""
    for cls in ssl.SSLContext.__mro__:
        if name in cls.__dict__:
            return cls.__dict__[name]
    raise AttributeError(name)


def getter(desc: Any) -> Any:
    return lambda ctx: desc.__get__(ctx, type(ctx))


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch) -> Watch:
    seen = Watch()
    original_unverified = ssl._create_unverified_context
    mode = descriptor("verify_mode")
    hostname = descriptor("check_hostname")

    def unverified(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        seen.judge("unverified context", "fetch_certificate_der")
        return original_unverified(*args, **kwargs)

    def set_mode(ctx: ssl.SSLContext, value: ssl.VerifyMode) -> None:
        if value == ssl.CERT_NONE:
            seen.judge("verify_mode = CERT_NONE", "fetch_certificate_der")
        mode.__set__(ctx, value)

    def set_hostname(ctx: ssl.SSLContext, value: bool) -> None:
        # http.client writes the value back unchanged; only turning it off counts.
        if not value and hostname.__get__(ctx, type(ctx)):
            stack = seen.caller()
            if "tls.py:pinned_context" not in stack and "tls.py:fetch_certificate_der" not in stack:
                seen.bad.append(f"check_hostname = False from {' > '.join(stack[-8:])}")
        hostname.__set__(ctx, value)

    monkeypatch.setattr(ssl, "_create_unverified_context", unverified)
    monkeypatch.setattr(ssl, "_create_stdlib_context", unverified)
    monkeypatch.setattr(ssl.SSLContext, "verify_mode", property(getter(mode), set_mode))
    monkeypatch.setattr(ssl.SSLContext, "check_hostname", property(getter(hostname), set_hostname))
    return seen


def full_flow(lab: LabInfo, trust: TrustPolicy, tmp: Path) -> None:
    with Session.connect(
        Endpoint(lab.host, lab.port), lab.user, lab.password, trust=trust, timeout=10.0
    ) as session:
        assert session.ssl_context.verify_mode == ssl.CERT_REQUIRED
        assert list_vms(session)
        facts = collect_facts(session, resolve_vm(session, "Dual W7").moref)
        assert read_vm_log(session, facts) is not None
        facts, remedy = check(session, "Off W7", _raise_buffer())
        result = Executor(session, journal_in(tmp)).apply(ApplyRequest(facts, remedy))
        assert result.ok, result.message


def _raise_buffer() -> Any:
    from wizard.kb import RemedyId

    return RemedyId.RAISE_BUFFER


@pytest.mark.lab
def test_a_full_flow_never_switches_verification_off_but_to_read_the_certificate(
    start_lab: StartLab, tmp_path: Path, watch: Watch
) -> None:
    lab = start_lab(SCENARIO)
    pins = JsonPinStore()
    with pytest.raises(CertificateUntrusted) as asked:
        Session.connect(
            Endpoint(lab.host, lab.port), lab.user, lab.password, trust=TrustPolicy(pins)
        )
    assert watch.unverified, "the fingerprint is read without verification, on purpose"
    TrustPolicy(pins).pin(asked.value.info)
    watch.unverified.clear()
    full_flow(lab, TrustPolicy(pins), tmp_path)
    assert watch.unverified == [], "with the certificate pinned, nothing is unverified"
    assert not watch.bad, "\n".join(watch.bad)
    record("tls", check="runtime: pinned flow makes no unverified context")

    once = TrustPolicy(
        JsonPinStore(tmp_path / "empty.json"), expected_fingerprint=lab.thumbprint_sha256
    )
    full_flow(lab, once, tmp_path / "second")
    assert set(watch.unverified) <= {"unverified context", "verify_mode = CERT_NONE"}
    assert not watch.bad, "\n".join(watch.bad)
    record("tls", check="runtime: trust-on-first-use: unverified only in fetch_certificate_der")
