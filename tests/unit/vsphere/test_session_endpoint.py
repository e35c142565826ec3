"""What the technician may type as the vCenter address, and the API version chosen."""

from __future__ import annotations

import pytest

from wizard.vsphere.session import Endpoint, _best_stub_version, parse_endpoint


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("vcenter.corp.local", Endpoint("vcenter.corp.local", 443)),
        ("  VCenter.Corp.Local  ", Endpoint("vcenter.corp.local", 443)),
        ("vc01:8443", Endpoint("vc01", 8443)),
        ("10.0.0.5", Endpoint("10.0.0.5", 443)),
        ("10.0.0.5:9443", Endpoint("10.0.0.5", 9443)),
        ("[fe80::1]:8443", Endpoint("fe80::1", 8443)),
        ("[::1]", Endpoint("::1", 443)),
        ("fe80::1", Endpoint("fe80::1", 443)),
        ("https://vc.corp.local/ui/", Endpoint("vc.corp.local", 443)),
        ("https://vc.corp.local:8443/sdk", Endpoint("vc.corp.local", 8443)),
        ("HTTPS://[::1]:444/", Endpoint("::1", 444)),
        ("vc.corp.local.", Endpoint("vc.corp.local.", 443)),  # fully qualified
        ("x" * 63 + ".corp", Endpoint("x" * 63 + ".corp", 443)),
        ("fe80::1%eth0", Endpoint("fe80::1%eth0", 443)),
        ("[fe80::1%eth0.100]:8443", Endpoint("fe80::1%eth0.100", 8443)),
    ],
)
def test_accepted_forms(typed: str, expected: Endpoint) -> None:
    assert parse_endpoint(typed) == expected


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Enter the vCenter"),
        ("   ", "Enter the vCenter"),
        ("vc corp", "no blanks"),
        ("vc:0", "1 to 65535"),
        ("vc:70000", "1 to 65535"),
        ("vc:https", "1 to 65535"),
        ("vc:", "1 to 65535"),
        ("http://vc", "https"),
        ("ftp://vc", "https"),
        ("https://", "no host"),
        ("https://admin@vc", "user name"),
        ("admin@vc", "user name"),
        ("vc/sdk", "without a path"),
        ("[fe80::1", "closing"),
        ("[fe80::1]x", "only ':port'"),
        ("[not-v6]:443", "not an IPv6"),
        ("a:b:c", "IPv6"),
        ("vc!", "not a valid host"),
        # What DNS cannot spell (empty or over-long labels) used to reach the idna codec.
        ("a..b", "empty part"),
        (".example.com", "empty part"),
        ("https://vc01..corp/ui", "empty part"),
        ("vc01." + "x" * 64 + ".corp", "64 characters"),
        (".".join(["abcdefgh"] * 29), "260 characters"),
        (".", "empty part"),
        ("::%..", "zone"),
        ("[fe80::1%" + "z" * 64 + "]", "zone"),
    ],
)
def test_refused_forms_say_why(typed: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_endpoint(typed)


@pytest.mark.parametrize("typed", ["a..b", ".example.com", "vc01." + "x" * 64 + ".corp"])
def test_a_host_name_dns_cannot_spell_is_named_with_an_example(typed: str) -> None:
    with pytest.raises(ValueError, match=r"e\.g\. vc01\.corp\.local") as refused:
        parse_endpoint(typed)
    message = str(refused.value)
    assert repr(typed) in message
    assert "1 to 63" in message


def test_endpoint_text() -> None:
    assert str(Endpoint("vc", 443)) == "vc"
    assert str(Endpoint("vc", 8443)) == "vc:8443"
    assert str(Endpoint("::1", 8443)) == "[::1]:8443"
    assert Endpoint("::1").netloc == "[::1]:443"


@pytest.mark.parametrize(
    ("api", "expected"),
    [
        ("6.5", "vim.version.version11"),
        ("6.7.3", "vim.version.version15"),
        ("7.0.3.0", "vim.version.v7_0_3_0"),
        ("8.0.3.0", "vim.version.v8_0_3_0"),
        ("99.0", "vim.version.v9_1_1_0"),
    ],
)
def test_stub_speaks_the_newest_version_both_know(api: str, expected: str) -> None:
    assert _best_stub_version(api) == expected
