"""Themes are files: shipped ones load, broken user files are reported once and skipped."""

from __future__ import annotations

from pathlib import Path

import pytest
from ui_support import make_sim_app, wait_for

from batchtui.ui.themes import (
    APP_VARIABLES,
    DEFAULT_THEME,
    ThemeFileError,
    available_theme_names,
    load_theme_file,
    load_themes,
)

SHIPPED = {"batchtui-dark", "batchtui-light", "batchtui-high-contrast"}


def test_shipped_themes_load_and_set_every_dashboard_colour(tmp_path: Path) -> None:
    themes, problems = load_themes(tmp_path)
    assert problems == []
    assert SHIPPED <= set(themes)
    assert DEFAULT_THEME in themes
    for name in SHIPPED:
        assert set(APP_VARIABLES) <= set(themes[name].variables), name
    assert themes["batchtui-light"].dark is False


def test_user_themes_are_validated_strictly(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        'name = "mine"\nprimary = "#ff8800"\n[variables]\nstate-failed = "magenta"\n'
    )
    (tmp_path / "typo.toml").write_text('name = "typo"\nprimary = "#ff8800"\nprimray = "#000000"\n')
    (tmp_path / "badcolour.toml").write_text('name = "badcolour"\nprimary = "not-a-colour"\n')
    (tmp_path / "badvar.toml").write_text(
        'name = "badvar"\nprimary = "red"\n[variables]\nstate-exploded = "red"\n'
    )
    (tmp_path / "broken.toml").write_text("name = \n")
    (tmp_path / "notes.txt").write_text("ignored")
    themes, problems = load_themes(tmp_path)
    assert "mine" in themes and themes["mine"].variables == {"state-failed": "magenta"}
    reasons = {p.path.name: p.message for p in problems}
    assert set(reasons) == {"typo.toml", "badcolour.toml", "badvar.toml", "broken.toml"}
    assert "primray" in reasons["typo.toml"]
    assert "not a colour" in reasons["badcolour.toml"]
    assert "state-exploded" in reasons["badvar.toml"]
    assert "TOML" in reasons["broken.toml"]
    assert "mine" in available_theme_names(tmp_path)
    with pytest.raises(ThemeFileError):
        load_theme_file(tmp_path / "typo.toml")


async def test_app_uses_the_chosen_theme_lists_only_ours_and_reports_bad_files_once(tmp_path: Path) -> None:
    (tmp_path / "broken.toml").write_text('name = "broken"\nprimary = 12\n')
    (tmp_path / "mine.toml").write_text('name = "mine"\nprimary = "#ff8800"\n')
    app, _ = make_sim_app(theme="batchtui-high-contrast", user_theme_dir=tmp_path)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_for(pilot, lambda: app.screen.table.total_count > 0)
        assert app.theme == "batchtui-high-contrast"
        assert set(app.available_themes) == SHIPPED | {"mine"}
        notes = [n.message for n in app._notifications]
        assert sum("broken.toml" in m for m in notes) == 1
        # A theme that sets no dashboard colours gets them from its own semantic colours.
        app.theme = "mine"
        await pilot.pause()
        assert app.theme_variables["state-failed"] == app.theme_variables["error"]
        assert app.get_css_variables()["state-running"] == app.theme_variables["primary"]
