"""What a VM's facts would look like after a remedy's changes: a pure model of applying them.

Used by the tests to prove that each remedy turns an affected VM into a safe one, and meant for
the executor's dry run. It models what a re-read after the change would show, including what
the guest does at its next power-on: a video card limited below the current screen brings the
guest down to 1280x1024 (the largest screen that fits 5,120 KB), as the training lab reports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from wizard.kb.facts import UpgradePolicy, VideoCard, VmFacts
from wizard.kb.model import Change, ChangeTarget
from wizard.kb.sizing import BYTES_PER_PIXEL

_CAPPED_SCREEN = (1280, 1024)
_LIMITING_KEYS = frozenset({"numDisplays", "videoRamSizeInKB", "useAutoDetect"})
"""Video card fields that can shrink what the guest may show at its next power-on."""


class UnknownChange(ValueError):
    """A change this model does not know how to apply."""


def apply_changes(facts: VmFacts, changes: Iterable[Change]) -> VmFacts:
    """Return ``facts`` as they would read after ``changes`` (and a power cycle if needed).

    Args:
        facts: the VM before.
        changes: changes as a remedy lists them.

    Returns:
        New facts; ``facts`` itself is not modified.

    Raises:
        UnknownChange: for a target or key this model does not cover, or an unreadable value.
    """
    result = facts
    limits_changed = False
    for change in changes:
        if change.target is ChangeTarget.EXTRA_CONFIG:
            result = _set_extra(result, change.key, change.after)
        elif change.target is ChangeTarget.VIDEO_CARD:
            result = _set_video(result, change.key, change.after)
            limits_changed = limits_changed or change.key in _LIMITING_KEYS
        elif change.target is ChangeTarget.UPGRADE_POLICY:
            result = _set_policy(result, change.key, change.after)
        else:
            result = _set_guest(result, change.key, change.after)
    return _fit_screen(result) if limits_changed else result


def _set_extra(facts: VmFacts, key: str, value: str | None) -> VmFacts:
    # vSphere treats keys case-insensitively and an empty value removes the key.
    kept = tuple((k, v) for k, v in facts.extra_config if k.lower() != key.lower())
    if value is None or value == "":
        return replace(facts, extra_config=kept)
    return replace(facts, extra_config=(*kept, (key, value)))


def _int(key: str, value: str | None) -> int:
    if value is None or not value.strip().isdecimal():
        raise UnknownChange(f"{key} needs a whole number, not {value!r}")
    return int(value.strip())


def _bool(key: str, value: str | None) -> bool:
    text = (value or "").strip().lower()
    if text not in ("true", "false"):
        raise UnknownChange(f"{key} needs true or false, not {value!r}")
    return text == "true"


def _set_video(facts: VmFacts, key: str, value: str | None) -> VmFacts:
    card = facts.video or VideoCard(
        num_displays=1, video_ram_kb=4096, use_auto_detect=False, enable_3d_support=False
    )
    if key == "numDisplays":
        card = replace(card, num_displays=_int(key, value))
    elif key == "videoRamSizeInKB":
        card = replace(card, video_ram_kb=_int(key, value))
    elif key == "useAutoDetect":
        card = replace(card, use_auto_detect=_bool(key, value))
    elif key == "enable3DSupport":
        card = replace(card, enable_3d_support=_bool(key, value))
    elif key == "graphicsMemorySizeInKB":
        card = replace(card, graphics_memory_kb=_int(key, value))
    else:
        raise UnknownChange(f"video card field {key!r}")
    return replace(facts, video=card)


def _set_policy(facts: VmFacts, key: str, value: str | None) -> VmFacts:
    if key != "upgradePolicy":
        raise UnknownChange(f"upgrade policy field {key!r}")
    if value is None:
        return replace(facts, upgrade_policy=None)
    old = facts.upgrade_policy
    return replace(
        facts,
        upgrade_policy=UpgradePolicy(
            policy=value,
            version_key=old.version_key if old is not None else None,
            status="none" if value == "never" else (old.status if old is not None else None),
        ),
    )


def _set_guest(facts: VmFacts, key: str, value: str | None) -> VmFacts:
    if key != "screen":
        raise UnknownChange(f"guest setting {key!r}")
    if value is None:
        return replace(facts, screen=None)
    width, sep, height = value.lower().partition("x")
    if not sep or not width.isdecimal() or not height.isdecimal():
        raise UnknownChange(f"screen needs WIDTHxHEIGHT, not {value!r}")
    return replace(facts, screen=(int(width), int(height)))


def _fit_screen(facts: VmFacts) -> VmFacts:
    """A guest cannot show more pixels than its video memory holds once it starts again."""
    video, screen = facts.video, facts.screen
    if video is None or screen is None or video.use_auto_detect:
        return facts
    most = video.video_ram_kb * 1024 // BYTES_PER_PIXEL
    if screen[0] * screen[1] <= most:
        return facts
    capped = _CAPPED_SCREEN if _CAPPED_SCREEN[0] * _CAPPED_SCREEN[1] <= most else None
    return replace(facts, screen=capped)
