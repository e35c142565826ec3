"""A damaged settings file never stops the wizard from starting, and nothing is lost silently."""

from __future__ import annotations

from pathlib import Path

import pytest

from wizard.ui.settings import GuiSettings


@pytest.mark.parametrize(
    "content",
    [
        pytest.param("[" * 100_000, id="nested-too-deep"),
        pytest.param("{not json", id="not-json"),
        pytest.param("\udcff", id="not-utf8"),
    ],
)
def test_a_damaged_file_is_set_aside_and_the_wizard_starts_afresh(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "gui.json"
    path.write_bytes(content.encode("utf-8", errors="surrogateescape"))
    settings = GuiSettings(path)
    assert settings.recent() == []
    assert (tmp_path / "gui.broken.json").exists(), "the damaged file is kept for a look"
    settings.add_recent("vc01.example.com:443", "helpdesk@vsphere.local", remember=False)
    assert GuiSettings(path).recent()[0].endpoint == "vc01.example.com:443"
