"""The picker's pages scanned as plain text, the find's pages of names alone with one pattern,
and everything else left to the lean decoder.

The pages are written here as vCenter and the lab write them (the lab's own answers are read
through this path by the integration tests, against pyVmomi's reading of the same request).
"""

from __future__ import annotations

from wizard.vsphere.collector import _names_page, _privileges_answer, _simple_page

_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.'
    'xmlsoap.org/soap/envelope/"><soapenv:Body><RetrievePropertiesExResponse xmlns="urn:vim25">'
)
_FOOT = "</RetrievePropertiesExResponse></soapenv:Body></soapenv:Envelope>"
_XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


def _page(objects: str, token: str = "", *, token_first: bool = False) -> bytes:
    mark = f"<token>{token}</token>" if token else ""
    if token_first:  # vCenter's schema order, as the lab writes a paged answer
        return (_HEAD + f"<returnval>{mark}{objects}</returnval>" + _FOOT).encode()
    return (_HEAD + f"<returnval>{objects}{mark}</returnval>" + _FOOT).encode()


def _vm(moref: str, *props: tuple[str, str]) -> str:
    sets = "".join(f"<propSet><name>{n}</name>{v}</propSet>" for n, v in props)
    return f'<objects><obj type="VirtualMachine">{moref}</obj>{sets}</objects>'


def test_names_references_and_escapes_are_read_as_the_text_on_the_wire() -> None:
    name = "B&#252;ro-PC 7%2f2 50%25 &amp; &lt;x&gt;"
    ref = 'xsi:type="ManagedObjectReference" type="HostSystem"'
    page = _page(
        _vm(
            "vm-7",
            ("name", f'<val {_XSI} xsi:type="xsd:string">{name}</val>'),
            ("runtime.host", f"<val {_XSI} {ref}>host-1</val>"),
            ("guest.guestId", f'<val {_XSI} xsi:type="xsd:string"/>'),
        ),
        token="tok&amp;1",
    )
    found = _simple_page(page)
    assert found is not None
    (vm,) = found.objects
    assert (vm.moref, vm.type) == ("vm-7", "VirtualMachine")
    assert vm.props == {
        "name": "Büro-PC 7%2f2 50%25 & <x>",
        "runtime.host": "host-1",
        "guest.guestId": "",
    }
    assert found.token == "tok&1"


def test_a_page_with_anything_but_plain_values_is_left_to_the_decoder() -> None:
    plain = _vm("vm-1", ("name", "<val>a</val>"))
    nested = _vm("vm-2", ("guest.screen", "<val><width>800</width></val>"))
    missing = (
        '<objects><obj type="VirtualMachine">vm-3</obj><missingSet><path>name</path>'
        "<fault><fault/></fault></missingSet></objects>"
    )
    assert _simple_page(_page(plain)) is not None
    assert _simple_page(_page(plain + nested)) is None
    assert _simple_page(_page(plain + missing)) is None
    assert _simple_page(_page(plain).replace(b"</returnval>", b"<extra/></returnval>")) is None


def test_an_empty_answer_is_left_to_the_decoder() -> None:
    assert _simple_page((_HEAD + _FOOT).encode()) is None
    empty = _simple_page(_page(""))
    assert empty is not None
    assert empty.objects == []


def test_a_page_with_its_token_first_is_scanned_too() -> None:
    found = _simple_page(_page(_vm("vm-1", ("name", "<val>a</val>")), "7", token_first=True))
    assert found is not None
    assert [o.moref for o in found.objects] == ["vm-1"]
    assert found.token == "7"


def _named(moref: str, name: str) -> str:
    return _vm(moref, ("name", f'<val {_XSI} xsi:type="xsd:string">{name}</val>'))


def test_a_page_of_names_is_read_as_the_names_on_the_wire() -> None:
    page = _page(
        _named("vm-7", "B&#252;ro-PC 7%2f2 50%25 &amp; &lt;x&gt;")
        + _named("vm-9", "HD-W7-042")
        + _vm("vm-&amp;1", ("name", "<val>plain</val>")),
        token="tok&amp;1",
    )
    found = _names_page(page)
    assert found is not None
    assert found.names == {
        "vm-7": "Büro-PC 7%2f2 50%25 & <x>",
        "vm-9": "HD-W7-042",
        "vm-&1": "plain",
    }
    assert found.token == "tok&1"
    first = _names_page(_page(_named("vm-1", "a"), "7", token_first=True))
    assert first is not None
    assert (first.names, first.token) == ({"vm-1": "a"}, "7")


def test_a_page_with_anything_but_names_is_not_read_as_names() -> None:
    named = _named("vm-1", "a")
    other = _vm("vm-2", ("name", "<val>b</val>"), ("runtime.host", "<val>host-1</val>"))
    not_name = _vm("vm-3", ("guest.guestId", "<val>c</val>"))
    empty = _vm("vm-4", ("name", f'<val {_XSI} xsi:type="xsd:string"/>'))
    missing = (
        '<objects><obj type="VirtualMachine">vm-5</obj><missingSet><path>name</path>'
        "<fault><fault/></fault></missingSet></objects>"
    )
    no_props = '<objects><obj type="VirtualMachine">vm-6</obj></objects>'
    assert _names_page(_page(named)) is not None
    for odd in (other, not_name, empty, missing, no_props):
        assert _names_page(_page(named + odd)) is None, odd
        assert _names_page(_page(odd + named)) is None, odd
    assert _names_page(_page(named).replace(b"</returnval>", b"<extra/></returnval>")) is None
    assert _names_page((_HEAD + _FOOT).encode()) is None


def test_a_page_longer_than_a_slice_is_read_whole_and_checked_to_its_end() -> None:
    # Scanned slice by slice (the GUI thread draws between two), read as if in one piece.
    from wizard.vsphere.collector import _SIMPLE_SLICE

    count = 3 * _SIMPLE_SLICE // 60 + 7
    vms = "".join(_vm(f"vm-{i}", ("name", f"<val>VM number {i}</val>")) for i in range(count))
    found = _simple_page(_page(vms, token="9", token_first=True))
    assert found is not None
    assert [o.moref for o in found.objects] == [f"vm-{i}" for i in range(count)]
    assert all(o.props == {"name": f"VM number {i}"} for i, o in enumerate(found.objects))
    assert found.token == "9"
    assert len(vms) > 2 * _SIMPLE_SLICE
    # Something other than a plain value in the last slice still sends the page to the decoder.
    late = _vm("vm-last", ("guest.screen", "<val><width>800</width></val>"))
    assert _simple_page(_page(vms + late)) is None


_PRIV_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope xmlns:soapenv="http://schemas.'
    'xmlsoap.org/soap/envelope/"><soapenv:Body><HasPrivilegeOnEntitiesResponse xmlns="urn:vim25">'
)
_PRIV_FOOT = "</HasPrivilegeOnEntitiesResponse></soapenv:Body></soapenv:Envelope>"


def _entity(moref: str, *privileges: tuple[str, str]) -> str:
    held = "".join(
        f"<privAvailability><privId>{p}</privId><isGranted>{g}</isGranted></privAvailability>"
        for p, g in privileges
    )
    return f'<returnval><entity type="VirtualMachine">{moref}</entity>{held}</returnval>'


def test_privileges_are_read_by_entity_with_their_answer() -> None:
    answer = _entity("vm-1", ("VirtualMachine.Config.AdvancedConfig", "true"), ("A&amp;B", "false"))
    answer += _entity("vm-&lt;2&gt;", ("VirtualMachine.Interact.PowerOff", "1"))
    answer += _entity("vm-3")  # an entity whose privileges the server left out
    found = _privileges_answer((_PRIV_HEAD + answer + _PRIV_FOOT).encode())
    assert found == {
        "vm-1": {"VirtualMachine.Config.AdvancedConfig": True, "A&B": False},
        "vm-<2>": {"VirtualMachine.Interact.PowerOff": True},
        "vm-3": {},
    }
    assert _privileges_answer((_PRIV_HEAD + _PRIV_FOOT).encode()) == {}


def test_a_privileges_answer_of_another_shape_is_left_to_the_decoder() -> None:
    good = _entity("vm-1", ("P", "true"))
    for odd in (
        good.replace("<privId>", '<privId xsi:type="xsd:string">'),  # attributes
        good.replace("</privAvailability>", "</privAvailability>\n"),  # whitespace
        good.replace("true", "yes"),  # not a boolean
        good.replace("<returnval>", "<returnval><extra>1</extra>"),  # a field unknown here
        good[: -len("</returnval>")],  # cut short
    ):
        assert _privileges_answer((_PRIV_HEAD + odd + _PRIV_FOOT).encode()) is None, odd
    fault = _PRIV_HEAD.replace("HasPrivilegeOnEntitiesResponse", "Fault") + "</Fault>"
    assert _privileges_answer(fault.encode()) is None
