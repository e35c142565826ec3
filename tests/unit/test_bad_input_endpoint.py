"""Bad input: whatever is typed as the vCenter address gives an Endpoint or a clear refusal."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.reliability.figures import current_size, record
from wizard.vsphere.session import Endpoint, parse_endpoint

SETTINGS = settings(
    max_examples=current_size().examples,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PIECES = st.sampled_from(
    ["https://", "http://", "[", "]", ":", "::1", "443", "0", "65536", "99999999999999999999",
     "/sdk", "@", "user:pw@", "vc01.corp.local", "127.0.0.1", "fe80::1%eth0", " ", "\t", "\x00",
     "ü", "-", "..", "%2f", "\u202e", "\uff11\uff12\uff13"]
)  # fmt: skip
ADDRESSES = st.text(max_size=80) | st.lists(PIECES, max_size=8).map("".join)


def test_any_typed_address_gives_an_endpoint_or_a_message() -> None:
    tried = [0]

    @SETTINGS
    @given(ADDRESSES)
    @example("https://user:secret@vc01/sdk")
    @example("[::1]:0")
    @example("vc01:\uff11\uff12\uff13")
    @example("vc01:" + "9" * 5000)
    @example("a..b")
    @example(".example.com")
    @example("x" * 64)
    @example("::%..")  # an IPv6 zone (scope) the idna codec cannot carry
    @example("[fe80::1%" + "z" * 64 + "]:443")
    def prop(text: str) -> None:
        tried[0] += 1
        try:
            endpoint = parse_endpoint(text)
        except ValueError as exc:
            message = str(exc)
            assert message.strip()
            return
        assert isinstance(endpoint, Endpoint)
        assert 1 <= endpoint.port <= 65535
        assert endpoint.host
        assert not any(ch.isspace() for ch in endpoint.host)
        assert parse_endpoint(endpoint.netloc) == endpoint  # what we show reads back the same
        endpoint.host.encode("idna")  # what the socket layer does first: it must not raise

    prop()
    record("bad_inputs", kind="vCenter addresses", tried=tried[0])


@pytest.mark.parametrize(
    "typed",
    [
        "https://helpdesk:Very-Secret-1@vc01.corp.local/ui",
        "http://helpdesk:Very-Secret-1@vc01.corp.local",
        "helpdesk:Very-Secret-1@vc01.corp.local",
        "https://helpdesk:Very-Secret-1@[::1]:x",
    ],
)
def test_a_password_in_the_address_is_never_repeated_in_the_message(typed: str) -> None:
    # The message quotes what was typed; it must not carry the user or password along.
    with pytest.raises(ValueError, match=r"vc01\.corp\.local|::1") as refused:
        parse_endpoint(typed)
    assert "Very-Secret-1" not in str(refused.value)
    assert "helpdesk" not in str(refused.value)
    record("bad_inputs", kind="vCenter addresses", tried=1)
