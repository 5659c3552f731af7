"""``vault/op_session.py``: one time budget per command (a 1Password that never answers costs
one wait), and the retries a call gets (one after a server conflict, one new sign-in after an
expired session)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from claude_session.base import flow
from claude_session.config import Settings
from claude_session.errors import VaultAuthError, VaultUnavailable
from claude_session.vault import op_sdk
from claude_session.vault.base import Vault
from helpers.fake_onepassword import CALL_UNAUTHENTICATED, VALID_TOKEN, FakeOnePassword
from helpers.onepassword_vault import op_vault
from helpers.vault_contract import make


def test_1password_that_never_answers_costs_one_wait_per_command(
    settings: Settings, fake: FakeOnePassword
) -> None:
    vault = op_vault(settings, fake, deadline=0.3)
    fake.stall("*")  # sign-in included: the network drops every packet
    with flow.begin():
        with pytest.raises(VaultUnavailable, match="did not answer") as first:
            vault.list_items()
        tried = fake.count()
        with pytest.raises(VaultUnavailable, match="not tried again in this command"):
            make(vault)
        with pytest.raises(VaultUnavailable, match="not tried again"):
            vault.pending_response(project="widgets")
    assert tried == 1 and fake.count() == 1, fake.calls  # later calls never reached 1Password
    assert "run `claude-session sync`" in str(first.value)
    fake.heal()
    with flow.begin():  # the next command tries again
        assert make(vault).title == "session-widgets-2025-03-14"


def test_a_command_that_spent_its_deadline_stops_calling(
    settings: Settings, fake: FakeOnePassword
) -> None:
    vault = op_vault(settings, fake, deadline=0.3)
    make(vault)
    fake.stall("items.list", seconds=3600)
    with flow.begin():
        with pytest.raises(VaultUnavailable, match="did not answer"):
            vault.list_items()
        calls = fake.count()
        with pytest.raises(VaultUnavailable):
            vault.list_items()
    assert fake.count() == calls


def _desktop(isolated_home: Path, fake: FakeOnePassword, **env: str) -> Settings:
    fake.desktop_app = True
    fake.desktop_accounts.add("Acme")
    config = {"CLAUDE_CONFIG_DIR": str(isolated_home), "CLAUDE_SESSION_OP_ACCOUNT": "Acme"}
    return Settings.from_env({**config, **env})


def test_the_deadline_setting_gives_a_slow_approval_its_time(
    isolated_home: Path, fake: FakeOnePassword
) -> None:
    fake.stall("authenticate", seconds=1.5, times=1)  # approval takes 1.5 s
    vault = op_vault(_desktop(isolated_home, fake, CLAUDE_SESSION_OP_DEADLINE="1"), fake)
    with flow.begin(), pytest.raises(VaultUnavailable) as info:
        vault.check()
    assert "approve" in str(info.value) and "CLAUDE_SESSION_OP_DEADLINE" in str(info.value)
    with flow.begin():  # the approval that came after the command gave up serves the next (L2)
        assert "vault found" in vault.check()
    assert fake.count("authenticate") == 1
    op_sdk.reset()  # a new process
    fake.stall("authenticate", seconds=1.5, times=1)
    slow = _desktop(isolated_home, fake, CLAUDE_SESSION_OP_DEADLINE="6")
    assert slow.op_deadline == 6.0
    with flow.begin():
        assert "vault found" in op_vault(slow, fake).check()
    assert fake.count("authenticate") == 2


def test_a_bad_deadline_setting_is_told_once_and_the_default_kept(
    isolated_home: Path, fake: FakeOnePassword
) -> None:
    settings = Settings.from_env(
        {
            "CLAUDE_CONFIG_DIR": str(isolated_home),
            "OP_SERVICE_ACCOUNT_TOKEN": VALID_TOKEN,
            "CLAUDE_SESSION_OP_DEADLINE": "a minute",
        }
    )
    with flow.begin() as told:
        vault = op_vault(settings, fake)
    assert vault.calls.session.budgets.seconds == 5.0
    [warning] = told.warnings
    assert "CLAUDE_SESSION_OP_DEADLINE is 'a minute'" in warning and "5 s is used" in warning


def test_doctor_names_a_bad_deadline_setting(isolated_home: Path, fake: FakeOnePassword) -> None:
    from claude_session.core.facade import Core
    from claude_session.edges.doctor import run_checks

    env = {"CLAUDE_CONFIG_DIR": str(isolated_home), "OP_SERVICE_ACCOUNT_TOKEN": VALID_TOKEN}
    for value, ok in (("30", True), ("-1", False)):
        settings = Settings.from_env({**env, "CLAUDE_SESSION_OP_DEADLINE": value})
        with Core(settings, vault=op_vault(settings, fake)) as core:
            checks = {c.check: c.model_dump() for c in run_checks(core, isolated_home).checks}
        assert checks["settings"]["ok"] is ok, checks["settings"]
        assert checks["vault"]["ok"], checks["vault"]
    assert "'-1'" in checks["settings"]["detail"] and checks["settings"]["fix"]


def test_server_conflict_is_tried_once_more(vault: Vault, fake: FakeOnePassword) -> None:
    item = make(vault)
    fake.conflict("items.put", times=1)
    assert vault.set_response(item.id, "answer").claude_ai_response == "answer"
    fake.conflict("items.put", times=2)
    with pytest.raises(VaultUnavailable, match="conflict with another writer"):
        vault.set_response(item.id, "another answer")
    assert fake.count("items.put") == 4


def test_expired_session_signs_in_again_once_without_telling(
    vault: Vault, fake: FakeOnePassword
) -> None:
    make(vault)
    signed = fake.authentications
    fake.expire_sessions()
    assert len(vault.list_items()) == 1
    assert fake.authentications == signed + 1


def test_bad_credentials_after_a_new_sign_in_is_an_auth_error(
    settings: Settings, fake: FakeOnePassword
) -> None:
    vault = op_vault(settings, fake)
    make(vault)
    fake.fail("items.list", Exception(CALL_UNAUTHENTICATED))
    with pytest.raises(VaultAuthError):
        vault.list_items()
    assert fake.count("authenticate") == 2  # one transparent new sign-in, then the error


def test_a_person_approving_the_desktop_app_gets_a_minute_by_default(
    isolated_home: Path, fake: FakeOnePassword
) -> None:
    """L2: unlocking the app and approving takes longer than the 5 s a service account gets;
    with no deadline chosen, a desktop sign-in may take a minute (the calls after it keep
    their 5 s)."""
    fake.stall("authenticate", seconds=30, times=1)
    with flow.begin():
        assert "vault found" in op_vault(_desktop(isolated_home, fake), fake).check()
    op_sdk.reset()
    fake.stall("authenticate", seconds=30, times=1)
    chosen = _desktop(isolated_home, fake, CLAUDE_SESSION_OP_DEADLINE="4")
    with flow.begin(), pytest.raises(VaultUnavailable, match="waiting for approval"):
        op_vault(chosen, fake).check()


def test_commands_behind_an_open_approval_prompt_share_one_sign_in(isolated_home: Path) -> None:
    """L2, on real time: the app's prompt holds the loop (a blocking ctypes call) for 1.5 s;
    two commands of a long-lived process give up at their 0.2 s each, and no sign-in queues
    behind the open one; once approved, the next command uses it without asking again."""
    fake = FakeOnePassword()
    settings = _desktop(isolated_home, fake)
    fake.stall("authenticate", seconds=1.5, blocking=True, times=1)
    vault = op_vault(settings, fake, deadline=0.2)
    for _ in range(2):
        with flow.begin(), pytest.raises(VaultUnavailable, match="approve"):
            vault.check()
    time.sleep(1.5)  # the person approves
    with flow.begin():
        assert "vault found" in vault.check()
    assert fake.count("authenticate") == 1 and fake.authentications == 1
