"""A planned or applied change in a technician's words, e.g. "Checkpoint buffer: not set -> 23 MB".

The exact form (``migrate.baseCptCacheSize: (not set) -> 24117248``) stays in the ticket note,
the report and the Ready page's table; this is for the lines a newcomer reads first.
"""

from __future__ import annotations

from wizard.kb.model import CPT_CACHE_KEY, MKS_3D_KEY, Change
from wizard.kb.rules import mb
from wizard.kb.values import parse_hardware_version, parse_int

SETTING_NAMES: dict[str, str] = {
    CPT_CACHE_KEY: "Checkpoint buffer",
    MKS_3D_KEY: "3D (advanced setting)",
    "numDisplays": "Displays",
    "videoRamSizeInKB": "Video memory",
    "useAutoDetect": "Detect the displays by itself",
    "enable3DSupport": "3D",
    "upgradePolicy": "Scheduled hardware upgrade",
    "screen": "Screen resolution in the guest",
}

_POLICY_WORDS = {
    "never": "none",
    "onsoftpoweroff": "at the next shutdown from the guest",
    "always": "at the next power cycle",
}


def value_words(key: str, value: str | None) -> str:
    """One value of ``key`` in words: sizes in MB, switches as on/off, policies spelled out."""
    if value is None or not value.strip():
        return "not set"
    raw = value.strip()
    if key == CPT_CACHE_KEY:
        size = parse_int(raw)
        return mb(size.value) if size.value is not None else raw
    if key == "videoRamSizeInKB" and raw.isdigit():
        return mb(int(raw) * 1024)
    if key in ("enable3DSupport", "useAutoDetect", MKS_3D_KEY):
        lowered = raw.lower()
        if lowered in ("true", "1", "yes"):
            return "on"
        if lowered in ("false", "0", "no"):
            return "off"
    if key == "upgradePolicy":
        return _POLICY_WORDS.get(raw.lower(), raw)
    version = parse_hardware_version(raw) if raw.startswith("vmx-") else None
    if version is not None:
        return f"version {version}"
    return raw


def change_words(change: Change) -> str:
    """``Checkpoint buffer: not set -> 23 MB``."""
    name = SETTING_NAMES.get(change.key, change.key)
    before = value_words(change.key, change.before)
    after = value_words(change.key, change.after)
    return f"{name}: {before} \u2192 {after}"
