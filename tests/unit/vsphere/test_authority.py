"""Reading a vCenter's ``download.zip``: its layout, and every way a hostile one is refused.

The file comes from a server that is not trusted yet. It is read in memory only; a member
whose name would leave the archive, a zip bomb, a huge or damaged file, or one with no
certificate at all is refused whole, with a message that says why.
"""

from __future__ import annotations

import zipfile

import pytest

from tests.helpers import pki
from wizard.vsphere import authority
from wizard.vsphere.certificate import CertificateInfo, sha256_fingerprint
from wizard.vsphere.errors import AuthorityUnavailable

ENDPOINT = "vc01.lab.local:443"


def read(data: bytes) -> authority.Authorities:
    return authority.read_zip(data, ENDPOINT)


def refused(data: bytes) -> str:
    with pytest.raises(AuthorityUnavailable) as caught:
        read(data)
    assert ENDPOINT in caught.value.message
    assert "Nothing was trusted or saved" in caught.value.message
    assert caught.value.next_step
    return caught.value.detail


def test_vcenter_layout_gives_each_root_once_in_pem_and_der() -> None:
    first, second = pki.authority("Root A"), pki.authority("Root B", rsa_key=True)
    found = read(pki.vcenter_zip(first, second))
    assert found.certificates == (first.der, second.der)  # lin/ PEM and win/ DER agree
    assert found.members == 10  # revocation lists counted, not read as certificates


def test_a_pem_bundle_and_windows_style_names_are_read() -> None:
    first, second = pki.authority("A"), pki.authority("B")
    data = pki.zipped(
        {"certs\\win\\bundle.crt": first.pem + b"\n" + second.pem, "README.txt": b"x"}
    )
    assert read(data).certificates == (first.der, second.der)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<html><body>Welcome</body></html>",
        b"PK\x03\x04 but then nothing of a zip",
        pki.vcenter_zip(pki.authority())[:200],  # cut short
    ],
)
def test_what_is_not_a_zip_is_refused(data: bytes) -> None:
    detail = refused(data)
    assert "not a zip" in detail or "damaged" in detail


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("../../etc/cron.d/evil.0", "'..'"),
        ("certs/lin/../../../evil.0", "'..'"),
        ("/etc/evil.0", "absolute"),
        ("C:/Windows/evil.crt", "absolute"),
        ("c:evil.crt", "absolute"),
        ("..\\..\\evil.crt", "'..'"),
        ("\\\\server\\share\\evil.crt", "absolute"),
    ],
)
def test_a_member_whose_name_leaves_the_archive_refuses_the_whole_file(name: str, why: str) -> None:
    root = pki.authority()
    detail = refused(pki.vcenter_zip(root, extra={name: root.pem}))
    assert why in detail
    assert "refused" in detail


def test_a_zip_bomb_is_refused_without_unpacking_it() -> None:
    bomb = pki.zip_bomb(64 * 1024 * 1024)
    assert len(bomb) < 200_000
    assert "larger than 256 KB unpacked" in refused(bomb)


def test_a_member_lying_about_its_size_is_cut_at_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bomb = pki.zip_bomb(2 * 1024 * 1024)
    original = zipfile.ZipFile.infolist

    def lying(self: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
        members = original(self)
        for member in members:
            member.file_size = 10  # the header says 10 bytes
        return members

    monkeypatch.setattr(zipfile.ZipFile, "infolist", lying)
    detail = refused(bomb)
    assert "256 KB" in detail or "cannot be read" in detail


def test_too_many_members_are_refused() -> None:
    members = {f"certs/lin/{i:08x}.r0": b"" for i in range(authority.MAX_MEMBERS + 1)}
    assert "1,001 files" in refused(pki.zipped(members))


def test_the_whole_unpacked_size_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(authority, "MAX_TOTAL_BYTES", 4096)
    roots = [pki.authority(f"Root {i}") for i in range(4)]
    assert "unpacks to more than" in refused(pki.vcenter_zip(*roots))


def test_an_encrypted_member_is_refused() -> None:
    data = bytearray(pki.vcenter_zip(pki.authority()))
    # Set the "encrypted" flag on every member (local and central headers).
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            data[start + offset] |= 0x1
            start += 4
    assert "encrypted" in refused(bytes(data))


def test_a_zip_without_certificates_is_refused() -> None:
    detail = refused(pki.zipped({"certs/lin/0.r0": b"crl", "certs/win/x.0.crt": b"not a cert"}))
    assert "no certificate" in detail


# --- which authority issued the presented certificate -----------------------------------------


def info(issued: pki.Issued, *chain: pki.Issued) -> CertificateInfo:
    return CertificateInfo.from_der("vc01.lab.local", 443, issued.der, [c.der for c in chain])


def test_the_authority_that_issued_the_certificate_is_chosen_among_several() -> None:
    mine, theirs = pki.authority("Mine"), pki.authority("Theirs")
    found = authority.issuing_authority(info(pki.leaf(mine)), [theirs.der, mine.der])
    assert found is not None
    assert found.sha256 == sha256_fingerprint(mine.der)
    assert (found.host, found.port) == ("vc01.lab.local", 443)


def test_no_offered_authority_on_the_path_gives_none() -> None:
    mine, theirs = pki.authority("Mine"), pki.authority("Theirs")
    assert authority.issuing_authority(info(pki.leaf(mine), mine), [theirs.der]) is None


def test_a_leaf_offered_as_an_authority_is_not_one() -> None:
    root = pki.authority()
    middle = pki.leaf(root, common="not a CA")
    assert authority.issuing_authority(info(pki.leaf(root)), [middle.der]) is None


def test_the_path_goes_through_a_subordinate_sent_by_the_server() -> None:
    root = pki.authority("Company root")
    vmca = pki.authority("VMCA", parent=root)
    found = authority.issuing_authority(info(pki.leaf(vmca), vmca), [root.der])
    assert found is not None
    assert found.subject == "O=Lab, CN=Company root"
