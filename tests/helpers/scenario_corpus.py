"""A corpus of scenario files, good and bad, that both scenario readers must judge alike.

The wizard reads a scenario in Python (``wizard.lab.scenario``) and the lab reads the same file
in Go (``resources/lab/scenario.go``). Each :class:`Case` is the bytes of one file and the field
both must name when they refuse it (``None``: both accept it). :func:`fixed_cases` are the cases
someone decided on purpose (the boundaries, the byte-order mark, control characters, the order
in which two mistakes are reported); :func:`mutated_cases` are seeded random damage to a valid
file, whose expected field is whatever the Python reader says: the lab must agree.

``python -m tests.helpers.scenario_corpus DIR`` writes the corpus to ``DIR`` for a look by hand.
"""

from __future__ import annotations

import copy
import json
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers.lab import scenario_vm

Doc = dict[str, Any]


@dataclass(frozen=True)
class Case:
    """One scenario file.

    Attributes:
        name: a unique file stem.
        data: the file's bytes.
        path: the field path both readers must name, ``None`` when both must accept the file.
        decided: False for a mutated case, whose ``path`` is whatever the Python reader names.
    """

    name: str
    data: bytes
    path: str | None
    decided: bool = True

    @property
    def file_name(self) -> str:
        return f"{self.name}.json"


class Obj:
    """A JSON object written with its pairs as given, so a key can appear twice."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = pairs


def dumps(value: Any) -> str:
    """JSON text for plain values and :class:`Obj` (non-ASCII kept, as editors save it)."""
    if isinstance(value, Obj):
        inner = ", ".join(
            f"{json.dumps(k, ensure_ascii=False)}: {dumps(v)}" for k, v in value.pairs
        )
        return "{" + inner + "}"
    if isinstance(value, dict):
        return dumps(Obj(list(value.items())))
    if isinstance(value, list):
        return "[" + ", ".join(dumps(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def vm(name: str, **overrides: Any) -> Doc:
    """A powered-on dual-screen Windows 7 VM with Tools running, its buffer at the default and
    a failed vMotion on record, unless overridden."""
    failing: Doc = {
        "extra_config": {"migrate.baseCptCacheSize": "8388608"},
        "history": {"failed_vmotion": True},
    }
    return scenario_vm(name, "esx-1.lab.local", **{**failing, **overrides})


def base() -> Doc:
    """A small valid scenario (no filler VMs, so the lab starts in a moment)."""
    return {
        "format": 1,
        "id": "corpus-base",
        "title": "Corpus base",
        "briefing": "A VM fails to migrate.",
        "ticket": "HD-W7-042 will not move.",
        "difficulty": "beginner",
        "teaches": ["Read the conditions"],
        "datacenter": "DC-Corpus",
        "vm_of_interest": "HD-W7-042",
        "login": {"user": "helpdesk@lab.local", "password": "pw-1"},
        "users": [{"user": "viewer@lab.local", "password": "pw-2", "role": "read-only"}],
        "filler_vms": 0,
        "clusters": [
            {
                "name": "Cluster-A",
                "ha": {"enabled": True, "admission_control": False},
                "hosts": [
                    {"name": "esx-1.lab.local", "cpu_model": "Xeon E5-2680 v2", "sse41": True}
                ],
            }
        ],
        "vms": [
            vm("HD-W7-042"),
            vm(
                "Off W7",
                tools_running=False,
                tools_guest_id=None,
                power_state="poweredOff",
                screen=None,
                history={"failed_vmotion": False},
            ),
        ],
        "expect": {"HD-W7-042": {"verdict": "confirmed", "recommended": "raise_buffer"}},
    }


def _doc(change: Callable[[Doc], None]) -> bytes:
    doc = base()
    change(doc)
    return dumps(doc).encode("utf-8")


def _set(*path_and_value: Any) -> Callable[[Doc], None]:
    *path, value = path_and_value

    def change(doc: Doc) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _both(*changes: Callable[[Doc], None]) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        for c in changes:
            c(doc)

    return change


def _users(*users: tuple[str, str, str]) -> bytes:
    """The base scenario with these lab accounts, each (user, password, role)."""
    return _doc(_set("users", [{"user": u, "password": p, "role": r} for u, p, r in users]))


def _with_pairs(edit: Callable[[Doc], Any]) -> bytes:
    """A document in which ``edit`` may swap dicts for :class:`Obj` (to repeat a key)."""
    doc = base()
    edit(doc)
    return dumps(doc).encode("utf-8")


def _top_with(extra: list[tuple[str, Any]]) -> bytes:
    """The base document with ``extra`` pairs after its own (a key may repeat)."""
    return dumps(Obj([*base().items(), *extra])).encode("utf-8")


def _digits(change: Callable[[Doc], None], digits: int) -> bytes:
    """A document where ``change`` wrote the string "@@N@@": it becomes a whole number of
    ``digits`` digits (Python refuses to even print integers that long)."""
    return _doc(change).replace(b'"@@N@@"', b"1" + b"0" * (digits - 1))


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


# Characters Python's str.strip() removes (and Go's unicode.IsSpace, plus U+001C-U+001F): a
# title of only these is empty in both readers.
WHITESPACE = [chr(c) for c in range(0x110000) if chr(c).isspace()]

# Characters the messages must never carry raw: C0, DEL, C1, bidi and invisible format marks.
UNSAFE_RANGES = [
    (0x00, 0x1F),
    (0x7F, 0x9F),
    (0xAD, 0xAD),
    (0x061C, 0x061C),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x2028, 0x202E),
    (0x2060, 0x206F),
    (0xD800, 0xDFFF),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0xE0000, 0xE007F),
]


def unsafe_characters(text: str) -> list[str]:
    """The characters of ``text`` that a message must have escaped."""
    return [c for c in text if any(lo <= ord(c) <= hi for lo, hi in UNSAFE_RANGES)]


def fixed_cases() -> list[Case]:
    c: list[Case] = []
    ok = base()
    good = dumps(ok).encode("utf-8")
    bom = b"\xef\xbb\xbf"

    # --- the file itself
    c.append(Case("valid", good, None))
    c.append(Case("bom", bom + good, None))
    c.append(Case("bom-twice", bom + bom + good, "(file)"))
    c.append(Case("bom-then-bad-field", bom + _doc(_set("filler_vms", "x")), "filler_vms"))
    c.append(Case("utf-16", dumps(ok).encode("utf-16"), "(file)"))
    c.append(Case("latin-1", _doc(_set("title", "Büro")).decode().encode("latin-1"), "(file)"))
    c.append(Case("empty", b"", "(file)"))
    c.append(Case("only-bom", bom, "(file)"))
    c.append(Case("only-whitespace", b" \n\t\r ", "(file)"))
    c.append(
        Case(
            "nan",
            _doc(_set("filler_vms", 0)).replace(b'"filler_vms": 0', b'"filler_vms": NaN'),
            "(file)",
        )
    )
    c.append(
        Case(
            "infinity",
            _doc(_set("filler_vms", 0)).replace(b'"filler_vms": 0', b'"filler_vms": -Infinity'),
            "(file)",
        )
    )
    c.append(Case("two-documents", good + b"\n" + good, "(file)"))
    c.append(Case("trailing-garbage", good + b" x", "(file)"))
    c.append(Case("cut-short", good[:-1], "(file)"))
    c.append(Case("comment", b"// scenario\n" + good, "(file)"))
    c.append(Case("single-quotes", good.replace(b'"format"', b"'format'"), "(file)"))
    c.append(
        Case("raw-tab-in-string", _doc(_set("title", "a\tb")).replace(b"\\t", b"\t"), "(file)")
    )
    c.append(Case("too-large", good + b" " * (2 * 1024 * 1024), "(file)"))
    c.append(Case("at-the-size-limit", good + b" " * (2 * 1024 * 1024 - len(good)), None))
    c.append(Case("top-level-list", b"[" + good + b"]", "(top level)"))
    c.append(Case("top-level-string", b'"scenario"', "(top level)"))
    c.append(Case("top-level-null", b"null", "(top level)"))
    c.append(Case("nested-too-deep", _doc(_set("teaches", _nested(100))), "(file)"))
    c.append(Case("nested-65-levels", _doc(_set("teaches", _nested(64))), "(file)"))
    c.append(Case("nested-64-levels", _doc(_set("teaches", _nested(63))), "teaches[0]"))
    deep_string = "[" * 500 + "]" * 500  # brackets inside a string are text
    c.append(Case("brackets-in-a-string", _doc(_set("title", deep_string)), None))

    # --- escapes that name no character
    named = _doc(_set("vms", 0, "name", "HD-W7-042")).decode()

    def raw_title(escaped: str) -> bytes:
        """The base scenario with this title as raw JSON text, its escapes as written."""
        return named.replace('"title": "Corpus base"', f'"title": "{escaped}"', 1).encode()

    c.append(
        Case(
            "lone-high-surrogate",
            named.replace('"name": "HD-W7-042"', '"name": "HD\\ud800"', 1).encode(),
            "(file)",
        )
    )
    c.append(Case("lone-low-surrogate", raw_title("x\\udc00y"), "(file)"))
    c.append(Case("reversed-surrogates", raw_title("\\udc00\\ud800"), "(file)"))
    c.append(Case("high-surrogate-at-end", raw_title("x\\ud83d"), "(file)"))
    c.append(Case("surrogate-pair", raw_title("\\ud83d\\ude00"), None))
    c.append(Case("escaped-backslash-then-u", raw_title("\\\\ud800"), None))
    c.append(Case("nul-escape", _doc(_set("title", "a\x00b")), "title"))
    c.append(Case("vm-name-nul", _doc(_set("vms", 1, "name", "Off\x00W7")), "vms[1].name"))
    c.append(Case("vm-name-ufffe", _doc(_set("vms", 1, "name", "Off\ufffe")), "vms[1].name"))
    c.append(Case("vm-name-tab-and-newline", _doc(_set("vms", 1, "name", "Off\tW7\r\n")), None))
    c.append(Case("password-escape", _doc(_set("login", "password", "pw\x1b")), "login.password"))
    c.append(
        Case(
            "extra-config-key-nul",
            _doc(_set("vms", 0, "extra_config", {"a\x00": "1"})),
            'vms[0].extra_config["a\\u0000"]',
        )
    )
    c.append(
        Case(
            "extra-config-value-bell",
            _doc(_set("vms", 0, "extra_config", {"a": "\x07"})),
            'vms[0].extra_config["a"]',
        )
    )

    # --- numbers and their bounds (one rule, written in both readers)
    screen = ("vms", 0, "screen")
    c.append(Case("screen-65535", _doc(_set(*screen, [65535, 1080])), "vms[0].screen[0]"))
    c.append(Case("screen-10e30", _doc(_set(*screen, [1920, 10**30])), "vms[0].screen[1]"))
    c.append(Case("screen-16384", _doc(_set(*screen, [16384, 16384])), None))
    c.append(Case("screen-16385", _doc(_set(*screen, [1920, 16385])), "vms[0].screen[1]"))
    c.append(Case("screen-0", _doc(_set(*screen, [0, 1200])), "vms[0].screen[0]"))
    c.append(Case("screen-negative", _doc(_set(*screen, [-1920, 1200])), "vms[0].screen[0]"))
    c.append(Case("screen-float", _doc(_set(*screen, [1920.0, 1200])), "vms[0].screen[0]"))
    c.append(Case("screen-exponent", _doc(_set(*screen, [1920, 1.2e3])), "vms[0].screen[1]"))
    c.append(Case("screen-string", _doc(_set(*screen, ["1920", 1200])), "vms[0].screen[0]"))
    c.append(Case("screen-bool", _doc(_set(*screen, [True, 1200])), "vms[0].screen[0]"))
    c.append(Case("screen-one-number", _doc(_set(*screen, [1920])), "vms[0].screen"))
    c.append(Case("screen-three-numbers", _doc(_set(*screen, [1, 2, 3])), "vms[0].screen"))
    c.append(Case("screen-object", _doc(_set(*screen, {"w": 1})), "vms[0].screen"))
    c.append(
        Case(
            "screen-4300-digits", _digits(_set(*screen, [1920, "@@N@@"]), 4301), "vms[0].screen[1]"
        )
    )
    video = ("vms", 0, "video")
    c.append(Case("vram-max", _doc(_set(*video, "vram_kb", 4 * 1024 * 1024)), None))
    c.append(
        Case(
            "vram-over", _doc(_set(*video, "vram_kb", 4 * 1024 * 1024 + 1)), "vms[0].video.vram_kb"
        )
    )
    c.append(Case("vram-zero", _doc(_set(*video, "vram_kb", 0)), "vms[0].video.vram_kb"))
    c.append(Case("displays-10", _doc(_set(*video, "displays", 10)), None))
    c.append(Case("displays-11", _doc(_set(*video, "displays", 11)), "vms[0].video.displays"))
    c.append(Case("filler-20000", _doc(_set("filler_vms", 20000)), None))
    c.append(Case("filler-20001", _doc(_set("filler_vms", 20001)), "filler_vms"))
    c.append(Case("filler-negative", _doc(_set("filler_vms", -1)), "filler_vms"))
    c.append(
        Case(
            "filler-minus-zero",
            _doc(_set("filler_vms", 0)).replace(b'"filler_vms": 0', b'"filler_vms": -0'),
            None,
        )
    )
    c.append(Case("filler-5000-digits", _digits(_set("filler_vms", "@@N@@"), 5000), "filler_vms"))
    c.append(
        Case(
            "filler-huge-float",
            _doc(_set("filler_vms", 0)).replace(b'"filler_vms": 0', b'"filler_vms": 1e400'),
            "filler_vms",
        )
    )
    c.append(Case("upgrade-policy-null", _doc(_set("vms", 0, "upgrade_policy", None)), None))
    c.append(
        Case(
            "upgrade-policy-string",
            _doc(_set("vms", 0, "upgrade_policy", "never")),
            "vms[0].upgrade_policy",
        )
    )
    c.append(
        Case(
            "upgrade-policy-null-then-history",
            _doc(_both(_set("vms", 0, "upgrade_policy", None), _set("vms", 0, "history", 1))),
            "vms[0].history",
        )
    )
    c.append(Case("schema-reference", _doc(_set("$schema", "./scenario.schema.json")), None))
    c.append(Case("schema-reference-blank", _doc(_set("$schema", " ")), '["$schema"]'))
    c.append(Case("schema-reference-number", _doc(_set("$schema", 1)), '["$schema"]'))
    c.append(
        Case(
            "schema-reference-after-vm-of-interest",
            _doc(_both(_set("$schema", ""), _set("vm_of_interest", "ghost"))),
            "vm_of_interest",
        )
    )
    c.append(Case("format-2", _doc(_set("format", 2)), "format"))
    c.append(Case("format-1.0", _doc(_set("format", 1.0)), "format"))
    c.append(Case("format-true", _doc(_set("format", True)), "format"))
    c.append(
        Case("format-2-and-unknown", _doc(_both(_set("format", 2), _set("colour", 1))), "format")
    )

    # --- names and text
    long = "x" * 81
    c.append(Case("vm-name-80", _doc(_both(_set("vms", 1, "name", "y" * 80))), None))
    c.append(Case("vm-name-81", _doc(_set("vms", 1, "name", long)), "vms[1].name"))
    c.append(Case("vm-name-81-runes", _doc(_set("vms", 1, "name", "ü" * 81)), "vms[1].name"))
    c.append(Case("datacenter-81", _doc(_set("datacenter", long)), "datacenter"))
    c.append(Case("cluster-81", _doc(_set("clusters", 0, "name", long)), "clusters[0].name"))

    def long_host(doc: Doc) -> None:
        doc["clusters"][0]["hosts"][0]["name"] = long
        for v in doc["vms"]:
            v["host"] = long

    c.append(Case("host-81", _doc(long_host), "clusters[0].hosts[0].name"))
    c.append(Case("id-uppercase", _doc(_set("id", "Corpus")), "id"))
    c.append(Case("id-65", _doc(_set("id", "a" * 65)), "id"))
    c.append(Case("id-newline", _doc(_set("id", "corpus\n")), "id"))
    for i, ch in enumerate(WHITESPACE):
        c.append(Case(f"title-blank-{i:02d}-u{ord(ch):04x}", _doc(_set("title", ch * 2)), "title"))
    for ch in ("\u200b", "\ufeff", "\u180e", "\x7f", "\u202e"):
        c.append(Case(f"title-not-blank-u{ord(ch):04x}", _doc(_set("title", ch)), None))
    c.append(Case("title-control", _doc(_set("title", "\x01")), "title"))
    c.append(
        Case(
            "extra-config-empty-key",
            _doc(_set("vms", 0, "extra_config", {"": "1"})),
            'vms[0].extra_config[""]',
        )
    )
    c.append(
        Case(
            "extra-config-blank-key",
            _doc(_set("vms", 0, "extra_config", {"a": "1", "\x1f ": "1"})),
            'vms[0].extra_config["\\u001f "]',
        )
    )
    c.append(
        Case(
            "extra-config-blank-key-after-bad-value",
            _doc(_set("vms", 0, "extra_config", {"a": 1, " ": "1"})),
            'vms[0].extra_config[" "]',
        )
    )
    c.append(
        Case(
            "extra-config-number",
            _doc(_set("vms", 0, "extra_config", {"mks.enable3d": True})),
            'vms[0].extra_config["mks.enable3d"]',
        )
    )
    c.append(
        Case("extra-config-empty-value", _doc(_set("vms", 0, "extra_config", {"a": ""})), None)
    )
    c.append(
        Case(
            "expect-ghost",
            _doc(_set("expect", "ghost", {"verdict": "affected", "recommended": None})),
            'expect["ghost"]',
        )
    )
    c.append(
        Case(
            "expect-identifier-ghost",
            _doc(_set("expect", "ghost_vm", {"verdict": "affected", "recommended": None})),
            'expect["ghost_vm"]',
        )
    )

    # --- keys: repeated, unknown, with characters a terminal would obey
    c.append(Case("repeated-top-key", _top_with([("id", "again")]), "id"))
    c.append(Case("repeated-format", _top_with([("format", 1)]), "format"))

    def repeat_in_vm(doc: Doc) -> None:
        doc["vms"][0] = Obj([*doc["vms"][0].items(), ("host", "esx-1.lab.local")])

    c.append(Case("repeated-vm-key", _with_pairs(repeat_in_vm), "vms[0].host"))

    def repeat_in_extra(doc: Doc) -> None:
        doc["vms"][0]["extra_config"] = Obj([("a.b", "1"), ("c", "2"), ("a.b", "3")])

    c.append(
        Case(
            "repeated-extra-config-key", _with_pairs(repeat_in_extra), 'vms[0].extra_config["a.b"]'
        )
    )

    def repeat_in_expect(doc: Doc) -> None:
        entry = {"verdict": "confirmed", "recommended": "raise_buffer"}
        doc["expect"] = Obj([("HD-W7-042", entry), ("HD-W7-042", entry)])

    c.append(Case("repeated-expect-key", _with_pairs(repeat_in_expect), 'expect["HD-W7-042"]'))

    def repeat_after_unknown(doc: Doc) -> None:
        doc["login"] = Obj([("colour", 1), ("user", "u"), ("password", "p"), ("user", "u")])

    c.append(Case("repeated-key-beats-unknown", _with_pairs(repeat_after_unknown), "login.user"))
    c.append(Case("unknown-top", _doc(_set("colour", "blue")), "colour"))
    c.append(Case("unknown-two-in-order", _top_with([("zeta", 1), ("alpha", 1)]), "zeta"))
    c.append(
        Case("unknown-deep", _doc(_set("vms", 1, "video", "colour", 1)), "vms[1].video.colour")
    )
    c.append(Case("unknown-with-space", _doc(_set("vms", 0, "bad key", 1)), 'vms[0]["bad key"]'))
    c.append(Case("unknown-esc", _doc(_set("bad\x1b[31mkey", 1)), '["bad\\u001b[31mkey"]'))
    c.append(Case("unknown-newline", _doc(_set("a\nb", 1)), '["a\\nb"]'))
    c.append(Case("unknown-backspace", _doc(_set("a\bb\fc", 1)), '["a\\bb\\fc"]'))
    c.append(Case("unknown-del", _doc(_set("a\x7fb", 1)), '["a\\u007fb"]'))
    c.append(Case("unknown-c1-csi", _doc(_set("a\x9b31mb", 1)), '["a\\u009b31mb"]'))
    c.append(Case("unknown-bidi", _doc(_set("a\u202eb", 1)), '["a\\u202eb"]'))
    c.append(Case("unknown-line-separator", _doc(_set("a\u2028b", 1)), '["a\\u2028b"]'))
    c.append(Case("unknown-tag-character", _doc(_set("a\U000e0041b", 1)), '["a\\U000e0041b"]'))
    c.append(Case("unknown-quote-backslash", _doc(_set('a"b\\c', 1)), '["a\\"b\\\\c"]'))
    c.append(Case("unknown-non-ascii", _doc(_set("Büro", 1)), '["Büro"]'))
    c.append(Case("unknown-long-identifier", _doc(_set("k" * 50, 1)), "k" * 50))
    c.append(Case("unknown-long", _doc(_set("k-" * 25, 1)), '["' + "k-" * 18 + 'k..."]'))
    c.append(Case("unknown-long-esc", _doc(_set("\x1b" * 50, 1)), '["' + "\\u001b" * 37 + '..."]'))
    c.append(Case("missing-first-in-order", _doc(_both(_del("title"), _del("briefing"))), "title"))
    c.append(Case("missing-login-password", _doc(_del("login", "password")), "login.password"))

    # --- two mistakes: both readers report the same one first
    c.append(
        Case(
            "order-guest-id-then-power",
            _doc(_both(_set("vms", 0, "guest_id", 7), _set("vms", 0, "power_state", "on"))),
            "vms[0].guest_id",
        )
    )
    c.append(
        Case(
            "order-hw-then-host",
            _doc(_both(_set("vms", 0, "hardware_version", 8), _set("vms", 0, "host", "nowhere"))),
            "vms[0].host",
        )
    )
    c.append(
        Case(
            "order-tools-guest-then-power",
            _doc(_both(_set("vms", 0, "tools_guest_id", ""), _set("vms", 0, "power_state", "on"))),
            "vms[0].tools_guest_id",
        )
    )
    c.append(
        Case(
            "order-screen-bounds-then-tools",
            _doc(
                _both(_set("vms", 0, "screen", [99999, 1]), _set("vms", 0, "tools_running", False))
            ),
            "vms[0].screen[0]",
        )
    )
    c.append(
        Case(
            "order-screen-set-while-tools-off",
            _doc(_set("vms", 0, "tools_running", False)),
            "vms[0].screen",
        )
    )
    c.append(
        Case(
            "order-tools-on-while-off",
            _doc(_set("vms", 1, "tools_running", True)),
            "vms[1].tools_running",
        )
    )
    c.append(
        Case(
            "order-name-length-then-host",
            _doc(_both(_set("vms", 1, "name", long), _set("vms", 1, "host", "nowhere"))),
            "vms[1].name",
        )
    )
    c.append(
        Case(
            "order-video-then-extra",
            _doc(
                _both(
                    _set("vms", 0, "video", "displays", 0),
                    _set("vms", 0, "extra_config", {"": "x"}),
                )
            ),
            "vms[0].video.displays",
        )
    )
    c.append(
        Case(
            "order-extra-then-upgrade",
            _doc(
                _both(_set("vms", 0, "extra_config", []), _set("vms", 0, "upgrade_policy", "never"))
            ),
            "vms[0].extra_config",
        )
    )
    c.append(
        Case(
            "order-upgrade-then-history",
            _doc(
                _both(
                    _set("vms", 0, "upgrade_policy", "version", "9"), _set("vms", 0, "history", {})
                )
            ),
            "vms[0].upgrade_policy.version",
        )
    )
    c.append(
        Case(
            "order-ha-then-hosts",
            _doc(
                _both(_set("clusters", 0, "ha", "enabled", "yes"), _set("clusters", 0, "hosts", []))
            ),
            "clusters[0].ha.enabled",
        )
    )
    c.append(
        Case(
            "order-cpu-then-sse41",
            _doc(
                _both(
                    _set("clusters", 0, "hosts", 0, "cpu_model", " "),
                    _set("clusters", 0, "hosts", 0, "sse41", 1),
                )
            ),
            "clusters[0].hosts[0].cpu_model",
        )
    )
    c.append(
        Case(
            "order-user-twice-then-role",
            _users(("a", "p", "x"), ("a", "p", "root")),
            "users[0].role",
        )
    )
    c.append(
        Case("order-user-repeated", _users(("a", "p", "admin"), ("a", "", "root")), "users[1].user")
    )
    c.append(
        Case(
            "order-login-password-differs",
            _users(("helpdesk@lab.local", "other", "root")),
            "users[0].password",
        )
    )
    c.append(
        Case(
            "order-expect-then-datacenter",
            _doc(_both(_set("expect", "HD-W7-042", "verdict", "bad"), _set("datacenter", ""))),
            'expect["HD-W7-042"].verdict',
        )
    )
    c.append(
        Case(
            "order-ticket-then-difficulty",
            _doc(_both(_set("ticket", ""), _set("difficulty", "hard"))),
            "ticket",
        )
    )
    c.append(
        Case(
            "order-teaches-then-datacenter",
            _doc(_both(_set("teaches", [1]), _set("datacenter", long))),
            "teaches[0]",
        )
    )
    c.append(
        Case(
            "order-datacenter-then-vm-of-interest",
            _doc(_both(_set("datacenter", long), _set("vm_of_interest", "ghost"))),
            "datacenter",
        )
    )
    c.append(
        Case("vm-of-interest-without-expect", _doc(_set("vm_of_interest", "Off W7")), "expect")
    )
    c.append(
        Case(
            "recommended-for-mitigated",
            _doc(_set("expect", "HD-W7-042", "verdict", "mitigated")),
            'expect["HD-W7-042"].recommended',
        )
    )
    c.append(Case("order-vm-twice", _doc(_set("vms", 1, "name", "HD-W7-042")), "vms[1].name"))
    c.append(
        Case(
            "order-cluster-twice",
            _doc(lambda d: d["clusters"].append(copy.deepcopy(d["clusters"][0]))),
            "clusters[1].name",
        )
    )

    def host_twice(doc: Doc) -> None:
        second = copy.deepcopy(doc["clusters"][0])
        second["name"] = "Cluster-B"
        doc["clusters"].append(second)

    c.append(Case("order-host-twice", _doc(host_twice), "clusters[1].hosts[0].name"))

    # --- the certificate of the exercise (optional, read last)
    c.append(Case("certificate-renewed", _doc(_set("certificate", {"renewed": True})), None))
    c.append(Case("certificate-kept", _doc(_set("certificate", {"renewed": False})), None))
    c.append(
        Case(
            "certificate-renewed-text",
            _doc(_set("certificate", {"renewed": "yes"})),
            "certificate.renewed",
        )
    )
    c.append(Case("certificate-empty", _doc(_set("certificate", {})), "certificate.renewed"))
    c.append(Case("certificate-not-object", _doc(_set("certificate", True)), "certificate"))
    c.append(
        Case(
            "certificate-unknown-field",
            _doc(_set("certificate", {"renewed": True, "replaced": True})),
            "certificate.replaced",
        )
    )
    c.append(
        Case(
            "order-vm-of-interest-then-certificate",
            _doc(_both(_set("vm_of_interest", "ghost"), _set("certificate", {"renewed": 1}))),
            "vm_of_interest",
        )
    )
    return c


def _del(*path: Any) -> Callable[[Doc], None]:
    def change(doc: Doc) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


# --- seeded random damage ---------------------------------------------------------------------

_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 7, 1.5, 65535, 16384, 16385, 20001, 10**30, -(10**20), "", " ",
    "x", "\x1b[2J", "a\u202eb", "vmx-08", "vmx-8", "poweredOn", "never", "admin", "affected",
    "raise_buffer", [], [1], [1920, 1200], {}, {"a": 1}, "\x00", "HD-W7-042", "esx-1.lab.local",
]  # fmt: skip
_KEYS = ["colour", "name", "Name", "na me", "\x07", "\u202e", "", "x" * 45, "vram_kb", "id"]


def nodes(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every node of a JSON document with its path (keys and list indexes), the root first."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from nodes(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from nodes(v, (*path, i))


def _mutate(doc: Doc, rng: random.Random) -> None:
    path, node = rng.choice(list(nodes(doc))[1:])
    parent: Any = doc
    for key in path[:-1]:
        parent = parent[key]
    kind = rng.randrange(5)
    if kind == 0 and isinstance(parent, dict):
        del parent[path[-1]]
    elif kind == 1 and isinstance(node, dict):
        node[rng.choice(_KEYS)] = copy.deepcopy(rng.choice(_VALUES))
    elif kind == 2 and isinstance(node, list) and node:
        node.pop(rng.randrange(len(node)))
    elif kind == 3 and isinstance(node, list):
        node.append(copy.deepcopy(rng.choice(_VALUES)))
    else:
        parent[path[-1]] = copy.deepcopy(rng.choice(_VALUES))


def mutated_cases(count: int, seed: int = 20240611) -> list[Case]:
    """``count`` documents, each with one to three random changes to the valid base."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        doc = base()
        for _ in range(rng.randint(1, 3)):
            _mutate(doc, rng)
        out.append(Case(f"mutated-{i:04d}", dumps(doc).encode("utf-8"), None, decided=False))
    return out


def write(cases: list[Case], folder: Path) -> list[tuple[Case, Path]]:
    """Write each case to ``folder`` and return the cases with their files."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for case in cases:
        path = folder / case.file_name
        path.write_bytes(case.data)
        out.append((case, path))
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "scenario-corpus")
    written = write(fixed_cases() + mutated_cases(200), target)
    sys.stdout.write(f"{len(written)} files in {target}\n")


# --- judging a file with both readers ---------------------------------------------------------


@dataclass(frozen=True)
class Verdicts:
    """What each reader made of one file.

    Attributes:
        python: the field the Python reader named, None when it accepted the file.
        python_message: its message ("" when it accepted).
        lab_accepted: whether the lab started on the file.
        lab_message: the lab's line on stderr ("" when it started).
        lab_code: the lab's exit code (0 after a start and a stop).
    """

    python: str | None
    python_message: str
    lab_accepted: bool
    lab_message: str
    lab_code: int


def judge(path: Path, binary: Path, tls_dir: Path) -> Verdicts:
    """Feed one file to both readers: ``load_scenario`` and the lab binary (started for real when
    it accepts the file, with no filler VMs and one certificate for every run, then stopped)."""
    from wizard.lab.scenario import ScenarioError, load_scenario

    try:
        load_scenario(path)
        python, python_message = None, ""
    except ScenarioError as exc:
        python, python_message = exc.path, str(exc)
    args = [str(binary), "--scenario", str(path), "--port", "0", "--filler-vms", "0"]
    args += ["--cert-file", str(tls_dir / "lab.pem"), "--key-file", str(tls_dir / "lab.key")]
    proc = subprocess.Popen(
        [*args, "--exit-with-parent"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    ready = proc.stdout.readline()  # the ready line, or nothing once the lab has exited
    _, err = proc.communicate(timeout=60)  # closes stdin: a started lab stops on it
    lines = err.decode("utf-8", errors="replace").splitlines()
    return Verdicts(python, python_message, bool(ready), lines[0] if lines else "", proc.returncode)


def disagreement(case: Case, v: Verdicts) -> str | None:
    """Why the two readers (or the case's decision) disagree on a file; None when they agree."""
    if case.decided and v.python != case.path:
        return f"{case.name}: Python named {v.python!r}, the case expects {case.path!r}"
    for reader, message in (("Python", v.python_message), ("lab", v.lab_message)):
        if unsafe_characters(message):
            return f"{case.name}: the {reader} message carries raw control characters: {message!r}"
    if v.python is None:
        if not v.lab_accepted or v.lab_code != 0:
            return f"{case.name}: Python accepts it, the lab (code {v.lab_code}): {v.lab_message}"
        return None
    if v.lab_accepted:
        return f"{case.name}: the lab accepts it, Python refuses it: {v.python_message}"
    if v.lab_code != 2 or not v.lab_message.startswith(f"scenario error: {v.python}: "):
        return (
            f"{case.name}: Python names {v.python!r}, the lab (code {v.lab_code}) says: "
            f"{v.lab_message}"
        )
    return None
