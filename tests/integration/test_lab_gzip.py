"""The lab compresses its SOAP answers when asked, as vCenter does, and the product reads them."""

from __future__ import annotations

import gzip
import http.client
import ssl
from pathlib import Path

import pytest

from tests.helpers.vsphere_lab import running_lab, session_to, write_scenario
from wizard.vsphere.inventory import list_vms

pytestmark = pytest.mark.lab

_BODY = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
    'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
    '<RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance'
    "</_this></RetrieveServiceContent></soapenv:Body></soapenv:Envelope>"
)


def _post(host: str, port: int, headers: dict[str, str]) -> tuple[str | None, bytes]:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the lab's own certificate; the content is what is tested
    conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=30)
    try:
        conn.request("POST", "/sdk", _BODY, {"Content-Type": "text/xml", **headers})
        resp = conn.getresponse()
        return resp.getheader("Content-Encoding"), resp.read()
    finally:
        conn.close()


def test_an_answer_is_compressed_only_when_asked_and_the_product_reads_it(
    tmp_path: Path,
) -> None:
    with running_lab(write_scenario(tmp_path, filler_vms=200)) as info:
        plain_encoding, plain = _post(info.host, info.port, {})
        encoding, packed = _post(info.host, info.port, {"Accept-Encoding": "gzip, deflate"})
        assert plain_encoding is None
        assert encoding == "gzip"
        assert gzip.decompress(packed) == plain
        assert b"RetrieveServiceContentResponse" in plain
        with session_to(info, timeout=30.0) as s:  # pyVmomi asks for gzip by default
            assert len(list_vms(s)) == 203
