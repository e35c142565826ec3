"""The cut of unwanted array items from an answer's text, before it is parsed (a scan reads
only each VM's video card of its devices)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from wizard.vsphere._pyvmomi import vim
from wizard.vsphere.collector import _ItemCut


def _video_cards_only() -> _ItemCut:
    cut = _ItemCut.of([vim.vm.device.VirtualVideoCard])
    assert cut is not None
    return cut


CUT = _video_cards_only()
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'

# What the cut must do, said as one regular expression (the reader's first version): an item
# named VirtualDevice, followed by a space, whose first type attribute is not the video card's
# type nor a subclass's, start tag to end tag.
SPEC = re.compile(
    rb'<(VirtualDevice)\s[^<>]*?type="(?!(?:VirtualMachineVideoCard)")[^"]*"[^<>]*>.*?</\1>',
    re.S,
)


def _item(kind: str, attributes: str, body: str) -> str:
    return f"<VirtualDevice {attributes.format(kind=kind)}>{body}</VirtualDevice>"


ATTRIBUTES = st.sampled_from(
    [
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


@given(PIECES)
def test_the_cut_is_what_the_pattern_says(pieces: list[str]) -> None:
    data = f"<returnval>{''.join(pieces)}</returnval>".encode()
    assert CUT(data) == SPEC.sub(b"", data)


@given(PIECES)
def test_a_video_card_is_never_cut_and_no_other_device_is_left(pieces: list[str]) -> None:
    data = "".join(pieces).encode()
    out = CUT(data)
    assert out.count(b'type="VirtualMachineVideoCard"') == data.count(
        b'type="VirtualMachineVideoCard"'
    )
    left = re.findall(rb'<VirtualDevice\s[^>]*?type="([^"]*)"', out)
    assert set(left) <= {b"VirtualMachineVideoCard"}


def test_an_empty_unwanted_item_is_cut_alone() -> None:
    data = (
        b'<VirtualDevice xsi:type="VirtualDisk"/>'
        b'<VirtualDevice xsi:type="VirtualMachineVideoCard"><key>500</key></VirtualDevice>'
    )
    assert CUT(data) == (
        b'<VirtualDevice xsi:type="VirtualMachineVideoCard"><key>500</key></VirtualDevice>'
    )


def test_text_without_items_is_returned_as_it_is() -> None:
    data = b"<returnval><name>vm-1</name></returnval>"
    assert CUT(data) is data
