"""The lab's certificates as vCenter has them: an authority, its download, renewals, refusals.

What the trust tests rely on, checked on the lab itself: the download's layout, the options
that go together or not, and the commands on standard input.
"""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import pytest
from cryptography import x509

from tests.helpers.apply import SCENARIO
from tests.helpers.lab import running_lab, write_scenario
from wizard.lab.process import LabError, LabProcess
from wizard.vsphere import authority
from wizard.vsphere.certificate import sha256_fingerprint
from wizard.vsphere.tls import fetch_certificate, pinned_context

pytestmark = [pytest.mark.lab]


def test_the_download_has_vcenters_layout(lab_binary_path: Path, tmp_path: Path) -> None:
    with running_lab(SCENARIO, tmp_path, lab_binary_path) as lab:
        info = lab.info
        shown = fetch_certificate(info.host, info.port, 10.0)
        data = authority.download(shown, 10.0, pinned_context(shown.pem))
    names = sorted(zipfile.ZipFile(io.BytesIO(data)).namelist())
    stems = {n.split("/")[-1].split(".")[0] for n in names}
    assert len(stems) == 1
    (stem,) = stems
    assert len(stem) == 8
    assert names == sorted(
        f"certs/{d}/{stem}{suffix}"
        for d, suffix in (
            ("lin", ".0"),
            ("lin", ".r0"),
            ("mac", ".0"),
            ("mac", ".r0"),
            ("win", ".0.crt"),
            ("win", ".0.crl"),
        )
    )
    archive = zipfile.ZipFile(io.BytesIO(data))
    pem = archive.read(f"certs/lin/{stem}.0")
    der = archive.read(f"certs/win/{stem}.0.crt")
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
    assert x509.load_pem_x509_certificate(pem) == x509.load_der_x509_certificate(der)
    assert sha256_fingerprint(der) == info.ca_thumbprint_sha256
    x509.load_der_x509_crl(archive.read(f"certs/win/{stem}.0.crl"))  # a real (empty) list


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--renew-certificate"], "need --ca-dir"),
        (["--replace-certificate-authority"], "need --ca-dir"),
        (["--ca-dir", "CA", "--cert-file", "c.pem", "--key-file", "k.pem"], "exclude each other"),
        (
            ["--ca-dir", "CA", "--renew-certificate", "--replace-certificate-authority"],
            "exclude each other",
        ),
    ],
)
def test_options_that_do_not_go_together_are_refused(
    lab_binary_path: Path, tmp_path: Path, extra: list[str], words: str
) -> None:
    args = [str(lab_binary_path), "--scenario", str(write_scenario(SCENARIO, tmp_path))]
    args += [str(tmp_path / a) if a in ("CA", "c.pem", "k.pem") else a for a in extra]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert words in proc.stderr
    assert not (tmp_path / "CA").exists()  # refused before anything was made


def test_a_lab_with_a_given_certificate_refuses_to_renew_it(
    lab_binary_path: Path, tmp_path: Path
) -> None:
    with running_lab(
        SCENARIO, tmp_path, lab_binary_path,
        cert_file=tmp_path / "c.pem", key_file=tmp_path / "k.pem",
    ) as lab:  # fmt: skip
        before = lab.info
        with pytest.raises(LabError, match="no authority to renew"):
            lab.renew_certificate()
        assert lab.info == before
        with pytest.raises(LabError, match="no authority to replace"):
            lab.replace_certificate_authority()
        assert lab.returncode is None  # still serving


def test_commands_need_a_running_lab_and_options_are_checked_early(tmp_path: Path) -> None:
    scenario = write_scenario(SCENARIO, tmp_path)
    lab = LabProcess(scenario, ca_dir=tmp_path / "ca")
    with pytest.raises(LabError, match="not running"):
        lab.renew_certificate()
    with pytest.raises(ValueError, match="need ca_dir"):
        LabProcess(scenario, renew_certificate=True)
    with pytest.raises(ValueError, match="exclude each other"):
        LabProcess(scenario, ca_dir=tmp_path, cert_file=tmp_path / "c", key_file=tmp_path / "k")


def test_the_kept_folder_survives_restarts_and_a_replacement_keeps_the_identity(
    lab_binary_path: Path, tmp_path: Path
) -> None:
    ca = tmp_path / "ca"
    with running_lab(SCENARIO, tmp_path, lab_binary_path, ca_dir=ca) as first:
        kept = first.info
    assert sorted(p.name for p in ca.iterdir()) == [
        "ca.key",
        "ca.pem",
        "instance-uuid",
        "server.key",
        "server.pem",
    ]
    identity = (ca / "instance-uuid").read_text(encoding="ascii")
    with running_lab(SCENARIO, tmp_path, lab_binary_path, ca_dir=ca) as second:
        assert second.info.thumbprint_sha256 == kept.thumbprint_sha256
        assert second.info.ca_thumbprint_sha256 == kept.ca_thumbprint_sha256
    with running_lab(
        SCENARIO, tmp_path, lab_binary_path, ca_dir=ca, replace_certificate_authority=True
    ) as third:
        assert third.info.ca_thumbprint_sha256 != kept.ca_thumbprint_sha256
        assert third.info.thumbprint_sha256 != kept.thumbprint_sha256
    assert (ca / "instance-uuid").read_text(encoding="ascii") == identity
