"""Keys and focus at 80x24: where the focus starts, `?` lists every key, the form's hint is whole,
and a demo whose URL was edited stops calling itself DEMO."""

from __future__ import annotations

from jnlpdiag.tui.app import JnlpdiagApp
from jnlpdiag.tui.screens.edit_settings import EditSettingsScreen
from jnlpdiag.tui.screens.help import HelpScreen
from jnlpdiag.tui.widgets.probe_tree import ProbeTree
from tests.tui.conftest import run_async, screen_text, wait_for
from tests.tui.replay import replay_probes
from tests.tui.test_snapshots import demo, shown, target_settings

SIZE = (80, 24)


def key_names(screen) -> set[str]:
    """Every key the screen binds (its own and its base classes'), as a person types it."""
    names = {"question_mark": "?", "escape": "Esc", "f1": "F1", "tab": "Tab", "shift+tab": "Shift+Tab",
             "ctrl+c": "Ctrl+C"}
    keys = set()
    for binding in screen._bindings.key_to_bindings.values():
        for b in binding:
            if b.key != "super+c":  # macOS's Cmd+C, the same copy as Ctrl+C
                keys.add(names.get(b.key, b.key))
    return keys


@run_async
async def test_focus_starts_in_the_checks_and_help_lists_every_key():
    app = shown()
    async with app.run_test(size=SIZE) as pilot:
        tree = app.main.query_one(ProbeTree)
        await wait_for(pilot, lambda: tree.cursor_node is not None and tree.cursor_node.data == "probe:tls.java",
                       what="the cursor on the root cause's check")
        assert app.focused is tree
        await wait_for(pilot, lambda: "? Help" in screen_text(app).splitlines()[-1], what="the footer")
        footer = screen_text(app).splitlines()[-1]
        assert "↑↓" in footer and "Open" in footer and "Tab" in footer and "? Help" in footer
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        assert isinstance(app.screen, HelpScreen)
        listed = " ".join(key for key, _ in app.screen.rows)
        missing = [k for k in key_names(app.main) if k not in listed]
        assert not missing, missing
        text = screen_text(app)
        assert "Tab" in text and "Enter" in text and "Esc" in text
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert app.screen is app.main


@run_async
async def test_live_help_adds_the_run_keys_and_the_form_hint_is_whole():
    app = JnlpdiagApp.live(replay_probes("report-tls13.json"), target_settings(), autostart=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.1)
        await pilot.press("question_mark")
        await pilot.pause(0.1)
        listed = " ".join(key for key, _ in app.screen.rows)
        assert all(k in listed for k in key_names(app.main)), key_names(app.main)
        await pilot.press("escape", "e")
        await pilot.pause(0.2)
        assert isinstance(app.screen, EditSettingsScreen)
        assert "Esc: cancel" in screen_text(app)


@run_async
async def test_demo_label_goes_once_the_url_is_edited():
    app = demo()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.model.runs and not app.model.running, what="the demo run")
        assert screen_text(app).startswith(" DEMO ")
        app.main.apply_edits({"url": "https://jenkins.example.com/"})
        await wait_for(pilot, lambda: app.model.runs >= 2 and not app.model.running, what="the edited run")
        await pilot.pause(0.1)
        first = screen_text(app).splitlines()[0]
        assert " DEMO " not in first and "EDITED" in first and "not the demo" in first
