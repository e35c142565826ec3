"""Bad input: odd VM names and odd advanced-setting values as vCenter could hand them over."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.helpers.facts import make_facts
from tests.reliability.figures import current_size, record
from wizard import __version__
from wizard.kb import Verdict, assess, remedies
from wizard.kb.model import CPT_CACHE_KEY, MKS_3D_KEY
from wizard.kb.serialize import assessment_to_json
from wizard.kb.values import parse_int
from wizard.vsphere.names import escape_name, unescape_name

SETTINGS = settings(
    max_examples=current_size().examples,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
NAME_CHARS = st.sampled_from(list("%/\\2f5cC <>&\"'#?*:|\t\u00a0\u202eü漢😀")) | st.characters()
NAMES = st.text(NAME_CHARS, max_size=40)
FULLWIDTH = "".join(chr(0xFF10 + int(d)) for d in "16777216")  # "16777216" in full-width
ODD_NUMBERS = st.sampled_from(
    ["16777216", " 16777216 ", "0x1000000", "0X1000000", "16_777_216", "-16777216", "+16777216",
     "١٦٧٧٧٢١٦", FULLWIDTH, "1e8", "16777216.0", "16777216\x00", "9" * 5000, "0x", "",
     "\t", "16 MB", "NaN", "None", "null", "0", "00000000016777216"]
)  # fmt: skip
VALUES = ODD_NUMBERS | st.text(max_size=30) | st.integers(-(2**70), 2**70).map(str)


def test_any_vm_name_survives_escaping_both_ways() -> None:
    tried = [0]

    @SETTINGS
    @given(NAMES)
    @example("Büro-PC 7/2 50%")
    @example("%2f%25%5c")
    @example("50%2")
    def prop(name: str) -> None:
        tried[0] += 1
        stored = escape_name(name)
        assert "/" not in stored
        assert "\\" not in stored
        assert unescape_name(stored) == name

    prop()
    record("bad_inputs", kind="VM names (escaping)", tried=tried[0])


def test_any_checkpoint_buffer_value_is_judged_without_crashing() -> None:
    tried = [0]

    @SETTINGS
    @given(VALUES, st.none() | VALUES)
    @example("16_777_216", None)
    @example("١٦٧٧٧٢١٦", None)
    @example("9" * 5000, "TRUE")
    def prop(buffer: str, mks3d: str | None) -> None:
        tried[0] += 1
        extra = [(CPT_CACHE_KEY, buffer)]
        if mks3d is not None:
            extra.append((MKS_3D_KEY, mks3d))
        facts = make_facts(extra_config=tuple(extra))
        assessment = assess(facts)
        found = remedies(assessment, facts)
        json.dumps(assessment_to_json(assessment, found, facts, __version__))
        if parse_int(buffer).unparsable and mks3d is None:
            # An unreadable buffer setting never counts as the fix being in place.
            assert assessment.verdict is not Verdict.MITIGATED, (buffer, assessment.verdict)

    prop()
    record("bad_inputs", kind="advanced-setting values", tried=tried[0])
