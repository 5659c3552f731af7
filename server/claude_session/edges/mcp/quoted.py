"""Tool results as the model gets them: what came from outside quoted as data (issue 25, N14-N18
of redteam-2). The saved context and claude.ai's answer are fenced (``base.quoting.block``);
every other text of a result (branch names, item titles, warnings naming them, a pause's
summary) has its control, bidirectional and invisible characters shown."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from claude_session.base import quoting

#: result fields whose text is a whole document from outside: quoted as a block (``quoting``)
QUOTED = {"context": "saved session context", "insights": "claude.ai's answer"}


def as_data(value: Any) -> Any:
    """A tool's result as the model gets it: ``QUOTED`` fields fenced as quoted data, every
    other text with its control, bidirectional and invisible characters shown (branch names,
    titles, warnings naming them come from the repository and the vault)."""
    if isinstance(value, BaseModel):
        update = {}
        for name in type(value).model_fields:
            field = getattr(value, name)
            if name in QUOTED and isinstance(field, str) and field:
                update[name] = quoting.block(field, QUOTED[name])
            elif (shown := as_data(field)) != field:
                update[name] = shown
        return value.model_copy(update=update) if update else value
    if isinstance(value, str):
        return quoting.visible(value)
    if isinstance(value, list):
        return [as_data(item) for item in value]
    if isinstance(value, dict):
        return {as_data(key): as_data(item) for key, item in value.items()}
    return value
