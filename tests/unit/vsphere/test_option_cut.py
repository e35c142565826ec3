"""The cut of unwanted options from an answer's text, before it is parsed (a scan reads only the
two ``config.extraConfig`` keys the rules read of the dozens a real VM holds)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from wizard.vsphere.collector import _OptionCut

WANTED = frozenset({"mks.enable3d", "migrate.basecptcachesize"})
CUT = _OptionCut({"config.extraConfig": WANTED})
XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'

# Keys as they are written in the answer's text.
KEYS = st.sampled_from(
    [
        "mks.enable3d",
        "MKS.Enable3D",
        "migrate.baseCptCacheSize",
        "svga.present",
        "SVGA.Present",
        "pciBridge4.virtualDev",
        "m&#75;s.enable3d",  # a character reference: "mKs.enable3d", wanted
        "m\u212as.enable3d",  # KELVIN SIGN, which str.lower() makes "k": wanted
        "mks.enable3d ",
        "a&amp;b",
        "",
    ]
)
VALUES = st.sampled_from(
    ["TRUE", "", "8388608", "FALSE", "x &lt;/propSet&gt; y", "&lt;OptionValue&gt;"]
)
START_TAGS = st.sampled_from(
    [
        '<OptionValue xsi:type="OptionValue">',  # as vCenter writes them (the rebuild)
        '<OptionValue xsi:type="OptionValue">',
        f'<OptionValue {XSI} xsi:type="OptionValue">',
        "<OptionValue>",
        f'<OptionValue\n  {XSI} xsi:type="OptionValue">',
    ]
)


@st.composite
def options(draw: st.DrawFn) -> str:
    key, value = draw(KEYS), draw(VALUES)
    start = draw(START_TAGS)
    if draw(st.integers(0, 9)) == 0:  # the value first: left for the decoder
        return f"{start}<value>{value}</value><key>{key}</key></OptionValue>"
    return f"{start}<key>{key}</key><value>{value}</value></OptionValue>"


def _prop(path: str, items: list[str]) -> str:
    return (
        f'<propSet><name>{path}</name><val {XSI} xsi:type="ArrayOfOptionValue">'
        f"{''.join(items)}</val></propSet>"
    )


def _answer(extra: list[str], other: list[str]) -> bytes:
    return (
        f"<objects><obj>vm-1</obj>{_prop('config.extraConfig', extra)}"
        f"{_prop('config.other', other)}"
        f"<propSet><name>name</name><val>&lt;OptionValue&gt;</val></propSet></objects>"
    ).encode()


def _read(data: bytes, path: str) -> list[tuple[str, str]]:
    """The (key, value) options of property ``path`` as the decoder keeps them: all of them for
    a property it does not filter, else those of a wanted key."""
    root = ET.fromstring(data)  # noqa: S314 (text the test wrote)
    out = []
    for prop in root.iter("propSet"):
        if prop.findtext("name") == path:
            for item in prop.iter("OptionValue"):
                key = item.findtext("key") or ""
                if path != "config.extraConfig" or key.lower() in WANTED:
                    out.append((key, item.findtext("value") or ""))
    return out


@given(st.lists(options(), max_size=10), st.lists(options(), max_size=4))
def test_the_decoder_reads_the_same_options_from_the_cut_answer(
    extra: list[str], other: list[str]
) -> None:
    data = _answer(extra, other)
    out = CUT(data)
    assert _read(out, "config.extraConfig") == _read(data, "config.extraConfig")
    # another property's options and a value that merely mentions one are left alone
    assert _read(out, "config.other") == _read(data, "config.other")
    assert out.endswith(b"<val>&lt;OptionValue&gt;</val></propSet></objects>")


@given(st.lists(options(), max_size=10))
def test_no_plain_unwanted_key_in_first_place_is_left(extra: list[str]) -> None:
    out = CUT(_answer(extra, []))
    root = ET.fromstring(out)  # noqa: S314 (text the test wrote)
    prop = next(p for p in root.iter("propSet") if p.findtext("name") == "config.extraConfig")
    for item in prop.iter("OptionValue"):
        first = item[0]
        key = first.text or ""
        if first.tag == "key" and key.isascii() and "&" not in key:
            assert key.lower() in WANTED, key


def test_a_vm_with_many_options_keeps_the_rules_two() -> None:
    entries = [("nvram", "a.nvram"), ("mks.enable3d", "TRUE"), ("svga.present", "TRUE")]
    entries += [(f"pciBridge{i}.present", "TRUE") for i in range(8)]
    entries += [("migrate.baseCptCacheSize", "16777216")]
    items = [
        f'<OptionValue xsi:type="OptionValue"><key>{k}</key>'
        f'<value xsi:type="xsd:string">{v}</value></OptionValue>'
        for k, v in entries
    ]
    data = _answer(items, [])
    out = CUT(data)
    assert _read(out, "config.extraConfig") == [
        ("mks.enable3d", "TRUE"),
        ("migrate.baseCptCacheSize", "16777216"),
    ]
    assert out.count(b"<OptionValue") == 2
    assert len(out) < len(data) / 2


def test_an_answer_without_the_property_is_returned_as_it_is() -> None:
    data = b"<returnval><objects><obj>vm-1</obj></objects></returnval>"
    assert CUT(data) is data
