"""remind (core/remind.py): through ``Core``, in process."""

from __future__ import annotations

from pathlib import Path

from claude_session.base.state import remind as reminders
from claude_session.core.facade import Core
from claude_session.paths import Paths
from helpers.gitrepo import make_repo


def test_remind_status_says_the_settings_were_reset_from_a_damaged_file(
    tmp_path: Path, isolated_home: Path
) -> None:
    """newcomer-2 2.27: a damaged remind-state.json reset by a hook left `remind status`
    showing the defaults as if they were the person's own."""
    repo = make_repo(tmp_path / "app")
    with Core() as core:
        core.remind(repo, action="on", every=5, dirty_files=2)
    state = Paths(isolated_home).remind_state
    state.write_text("[1,2")
    reminders.read(Paths(isolated_home))  # as the UserPromptSubmit hook would, outside any flow
    with Core() as core:
        shown = core.remind(repo)
    assert shown.settings.enabled is False  # the defaults
    copy = next(isolated_home.glob("remind-state.json.corrupt-*"))
    said = [w for w in shown.warnings if str(copy) in w]
    assert len(said) == 1 and said[0].startswith("Reminder settings were reset to the defaults")
    with Core() as core:  # this very call moved it aside: said once, not twice
        state.write_text("{bad")
        again = core.remind(repo)
    assert len(again.warnings) == 1 and "was unreadable" in again.warnings[0]
