"""The cut of unwanted array items from an answer's text, before it is parsed (a scan reads
only each VM's video card of its devices)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from wizard.vsphere._pyvmomi import vim
from wizard.vsphere.collector import _ItemCut


def _video_cards_only() -> _ItemCut:
    cut = _ItemCut.of({"config.hardware.device": vim.vm.device.VirtualVideoCard})
    assert cut is not None
    return cut


CUT = _video_cards_only()
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'

# What the cut must do inside the property's value, said as one regular expression (the
# reader's first version): an item named VirtualDevice, followed by a space, whose first type
# attribute is not the video card's type nor a subclass's, start tag to end tag.
SPEC = re.compile(
    rb'<(VirtualDevice)\s[^<>]*?type="(?!(?:VirtualMachineVideoCard)")[^"]*"[^<>]*>.*?</\1>',
    re.S,
)


def _item(kind: str, attributes: str, body: str) -> str:
    return f"<VirtualDevice {attributes.format(kind=kind)}>{body}</VirtualDevice>"


ATTRIBUTES = st.sampled_from(
    [
        'xsi:type="{kind}"',  # as vCenter writes them (the rebuild, when nothing else is there)
        'xsi:type="{kind}"',
        'xsi:type="{kind}"',
        f'{XSI} xsi:type="{{kind}}"',
        f'xsi:type="{{kind}}" {XSI}',
        'XMLSchema-instance:type="{kind}"',
        '\n  xsi:type="{kind}"',
    ]
)
KINDS = st.sampled_from(
    ["VirtualMachineVideoCard", "VirtualDisk", "VirtualE1000", "VirtualMachineVideoCardX", ""]
)
BODIES = st.sampled_from(
    [
        "<key>500</key><numDisplays>2</numDisplays>",
        "<key>2000</key><backing><fileName>[ds] a/b.vmdk</fileName></backing>",
        '<deviceInfo><label>Video card </label><summary>type="x"</summary></deviceInfo>',
        "",
    ]
)
OTHER = st.sampled_from(
    [
        "<name>config.hardware.device</name>",
        "<VirtualDeviceBacking>x</VirtualDeviceBacking>",
        '<VirtualDeviceBackingInfo xsi:type="VirtualDisk">y</VirtualDeviceBackingInfo>',
        "<VirtualDevice>bare, no type</VirtualDevice>",
        "<val>text with type=&quot;VirtualDisk&quot;</val>",
        "</propSet><propSet>",
    ]
)
PIECES = st.lists(
    st.one_of(st.builds(_item, KINDS, ATTRIBUTES, BODIES), OTHER), min_size=0, max_size=12
)


HEAD = b"<propSet><name>config.hardware.device</name>"


def _answer(devices: list[str], other: list[str]) -> bytes:
    return (
        f"<returnval><objects><propSet><name>config.hardware.device</name>"
        f"<val>{''.join(devices)}</val></propSet>"
        f"<propSet><name>config.other</name><val>{''.join(other)}</val></propSet>"
        f"</objects></returnval>"
    ).encode()


def _spec(data: bytes) -> bytes:
    """The pattern applied to the property's value alone (up to the first ``</propSet>``)."""
    pieces = data.split(HEAD)
    out = [pieces[0]]
    for piece in pieces[1:]:
        end = piece.find(b"</propSet>")
        out += [HEAD, SPEC.sub(b"", piece[:end]), piece[end:]]
    return b"".join(out)


@given(PIECES, PIECES)
def test_the_cut_is_what_the_pattern_says(devices: list[str], other: list[str]) -> None:
    data = _answer(devices, other)
    # (another property's items are left alone: the pattern is applied to the device list's)
    assert CUT(data) == _spec(data)


@given(PIECES)
def test_a_video_card_is_never_cut_and_no_other_device_is_left(pieces: list[str]) -> None:
    data = _answer([p for p in pieces if "</propSet>" not in p], [])
    out = CUT(data)
    assert out.count(b'type="VirtualMachineVideoCard"') == data.count(
        b'type="VirtualMachineVideoCard"'
    )
    left = re.findall(rb'<VirtualDevice\s[^>]*?type="([^"]*)"', out)
    assert set(left) <= {b"VirtualMachineVideoCard"}


def test_an_empty_unwanted_item_is_cut_alone() -> None:
    card = b'<VirtualDevice xsi:type="VirtualMachineVideoCard"><key>500</key></VirtualDevice>'
    data = HEAD + b'<val><VirtualDevice xsi:type="VirtualDisk"/>' + card + b"</val></propSet>"
    assert CUT(data) == HEAD + b"<val>" + card + b"</val></propSet>"


def test_a_vm_as_vcenter_writes_it_keeps_its_video_card() -> None:
    devices = [
        _item(kind, 'xsi:type="{kind}"', body)
        for kind, body in [
            ("VirtualIDEController", "<key>200</key>"),
            ("VirtualMachineVideoCard", "<key>500</key><numDisplays>2</numDisplays>"),
            ("VirtualDisk", "<key>2000</key><backing><fileName>[ds] a.vmdk</fileName></backing>"),
            ("VirtualE1000", "<key>4000</key>"),
        ]
    ]
    out = CUT(_answer(devices, []))
    assert out == _answer([devices[1]], [])


def test_text_without_items_is_returned_as_it_is() -> None:
    data = b"<returnval><name>vm-1</name></returnval>"
    assert CUT(data) is data
