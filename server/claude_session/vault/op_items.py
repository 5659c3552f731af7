"""ClaudeSync items as 1Password holds them: the hand-off item <-> a Secure Note's fields,
sections and tags, and which items of a listing may be a project's.

Items. One Secure Note per hand-off, titled ``session-{project}-{date}`` (``-2``, ``-3`` for
later ones that day), tagged ``claudesync`` and the project. Fields ``context`` and
``claude_ai_response`` (empty until the user pastes claude.ai's answer) sit at the top; the
metadata (project, branch, timestamp, session_id, machine, repository, kind, creation_id,
created_at, updated_at, imported_at, imported_sha256) in a section below them; the transfer
prompt is the note's text, so it is one click to copy. "Imported" is stored as the hash of the
answer that was merged: an answer the user replaces in the 1Password app is pending again, as
with the local vault. ``creation_id`` is the creator's id for the hand-off: a create that timed
out after 1Password stored the item is found by it, not made twice.

Which items. ``items.list`` is the SDK's only listing and filters by state alone
(``ItemListFilter`` is ``ItemListFilterByState`` in 0.4.2), so the project's items are picked
from its overviews (title and tags, no field values) before any item is read: an item carries
the tag ``claudesync-repo-<hash>`` of its project's identity (the repository across machines, or
the folder without an ``origin``; ``identity_tag``). Items made before that tag existed carry
only ``claudesync`` and the project's name as tags, and are picked by that name (or their
default title) and then checked by the repository they recorded; one that is written again gets
the identity tag. So a command reads one listing and this project's items, however many other
projects share the vault.

Archived items. ``items.list`` returns only active items unless asked for both
(``BOTH_STATES``): titles are allocated against both, hand-offs are read from active ones only,
and an item that turns out to be archived is never written (``ItemRefused``).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from onepassword import (  # type: ignore[import-untyped]
    ItemCategory,
    ItemCreateParams,
    ItemField,
    ItemFieldType,
    ItemListFilterByState,
    ItemListFilterByStateInner,
    ItemSection,
)

from claude_session.base.clock import as_utc
from claude_session.base.redact import redact
from claude_session.paths import safe_name
from claude_session.vault.base import (
    IDENTITY_PREFIXES,
    NESTED,
    TAG,
    HandoffItem,
    answer_hash,
    identity_tag,
    identity_tags,
    is_ours,
)

TOP_FIELDS = ("context", "claude_ai_response")
META_FIELDS = (
    "project",
    "branch",
    "timestamp",
    "session_id",
    "machine",
    "repository",
    "kind",
    "creation_id",
    "created_at",
    "updated_at",
    "imported_at",
    "imported_sha256",
)
SECTION = "claudesync"
BOTH_STATES = ItemListFilterByState(content=ItemListFilterByStateInner(active=True, archived=True))


def _names(project: str | None) -> set[str]:
    """The name tags an item of ``project`` may carry (the name as given, and redacted as the
    item stores it), case-folded."""
    if project is None:
        return set()
    return {safe_name(project).casefold(), safe_name(redact(project)[0]).casefold()}


def belongs(overview: Any, *, project: str | None, repository: str | None) -> bool:
    """Whether the item behind ``overview`` (title and tags only) may be ``project``'s: the
    test made before reading it. ``matches`` on the item read decides."""
    tags = {t.casefold() for t in overview.tags}
    if TAG not in tags:
        return False
    if project is None and repository is None:
        return True
    identities = {t for t in tags if t.startswith(IDENTITY_PREFIXES)}
    if identities and repository is not None:
        return bool(identity_tags(repository) & identities)
    names = _names(project)
    if not names:  # asked by repository alone: an item without the tag must be read to tell
        return not identities
    title = overview.title.casefold()
    named = names | {NESTED + n for n in names}  # older items carry the bare name
    return bool(named & tags) or any(title.startswith(f"session-{n}-") for n in names)


def _is_imported(stored: str | None, answer: str) -> bool:
    if not stored:
        return False
    # Older items hold the hash of the exact text (before 0.1.1) or of its words joined by
    # single spaces (before the app's space-less flattening was known).
    older = (answer, " ".join(answer.split()))
    return stored == answer_hash(answer) or any(
        stored == hashlib.sha256(text.encode("utf-8")).hexdigest() for text in older
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    return str(value)


def field_values(item: HandoffItem) -> dict[str, str]:
    """Every field we store, as the strings 1Password holds."""
    data = item.model_dump()
    values = {name: _text(data[name]) for name in TOP_FIELDS + META_FIELDS[:-1]}
    values["imported_sha256"] = answer_hash(item.claude_ai_response) if item.imported else ""
    if not item.imported:
        values["imported_at"] = ""
    return values


def _field(name: str, value: str) -> Any:
    return ItemField(
        id=name,
        title=name,
        field_type=ItemFieldType.TEXT,
        value=value,
        section_id=None if name in TOP_FIELDS else SECTION,
    )


def create_params(item: HandoffItem, vault_id: str) -> Any:
    """What ``items.create`` takes to store ``item`` in the vault ``vault_id``."""
    return ItemCreateParams(
        category=ItemCategory.SECURENOTE,
        vault_id=vault_id,
        title=item.title,
        fields=[_field(name, value) for name, value in field_values(item).items()],
        sections=[ItemSection(id=SECTION, title="ClaudeSync")],
        notes=item.transfer_prompt,
        tags=item.tags,
    )


ANSWER = "claude_ai_response"


def _is_answer_field(f: Any) -> bool:
    return ANSWER in (f.id, f.title)


def _read_fields(raw: Any) -> dict[str, str]:
    """Our fields by id, else by title (a field re-created by hand gets a random id). The
    answer is the last non-empty field named ``claude_ai_response``: the app shows our empty
    one only while editing, so people add a field of that name and paste there (N6)."""
    values: dict[str, str] = {}
    for f in raw.fields:
        if f.title in TOP_FIELDS + META_FIELDS:
            values.setdefault(f.title, f.value)
    for f in raw.fields:
        if f.id in TOP_FIELDS + META_FIELDS:
            values[f.id] = f.value
    answers = [f.value for f in raw.fields if _is_answer_field(f) and f.value.strip()]
    if answers:
        values[ANSWER] = answers[-1]
    return values


_CONTEXT_IN_NOTES = re.compile(r"<session-context>\n(.*?)\n</session-context>", re.DOTALL)


def _context(value: str, notes: str) -> str:
    """The context field, or, when the app flattened it to one line on a save (L1-new: fields
    made through the API are single-line there), the copy inside the notes' prompt, which keeps
    its lines."""
    if "\n" in value or not value.strip():
        return value
    copy = _CONTEXT_IN_NOTES.search(notes or "")
    return copy.group(1) if copy is not None and "\n" in copy.group(1) else value


def to_handoff(raw: Any) -> HandoffItem:
    """The hand-off item in a 1Password item; ValueError when it is not one of ours."""
    if not is_ours(raw.tags):
        raise ValueError(f"it is not tagged '{TAG}'")
    values = _read_fields(raw)
    if "context" not in values:
        raise ValueError("it has no 'context' field")
    answer = values.get("claude_ai_response", "")
    imported = _is_imported(values.get("imported_sha256"), answer)
    created = values.get("created_at") or as_utc(raw.created_at)

    def opt(name: str) -> str | None:
        return values.get(name) or None

    return HandoffItem.model_validate(
        {
            "id": raw.id,
            "title": raw.title,
            "project": values.get("project") or raw.title,
            "branch": opt("branch"),
            "timestamp": values.get("timestamp") or created,
            "session_id": opt("session_id"),
            "machine": opt("machine"),
            "repository": opt("repository"),
            "kind": values.get("kind") or "handoff",
            "creation_id": opt("creation_id"),
            "context": _context(values["context"], raw.notes or ""),
            "transfer_prompt": raw.notes or "",
            "claude_ai_response": answer,
            "imported": imported,
            "imported_at": opt("imported_at") if imported else None,
            "tags": list(raw.tags),
            "created_at": created,
            "updated_at": values.get("updated_at") or as_utc(raw.updated_at),
        }
    )


def apply_handoff(raw: Any, item: HandoffItem) -> Any:
    """``raw`` carrying ``item``'s values; fields, sections and tags the user added are kept."""
    values = field_values(item)
    fields = []
    for f in raw.fields:
        if _is_answer_field(f):  # every field of that name holds the answer we read (N6)
            fields.append(f.model_copy(update={"value": values[ANSWER]}))
            continue
        name = f.id if f.id in values else f.title if f.title in values else None
        if name is None:
            fields.append(f)
        else:
            fields.append(f.model_copy(update={"value": values.pop(name)}))
    if any(_is_answer_field(f) for f in raw.fields):
        values.pop(ANSWER)
    fields.extend(_field(name, value) for name, value in values.items())
    sections = list(raw.sections or [])
    if not any(s.id == SECTION for s in sections):
        sections.append(ItemSection(id=SECTION, title="ClaudeSync"))
    tags = list(raw.tags) if is_ours(raw.tags) else [TAG, *raw.tags]
    if item.repository and not any(t.casefold().startswith(IDENTITY_PREFIXES) for t in tags):
        tags.append(identity_tag(item.repository))  # an item made before the tag existed
    return raw.model_copy(
        update={
            "title": item.title,
            "fields": fields,
            "sections": sections,
            "notes": item.transfer_prompt,
            "tags": tags,
        }
    )


def is_item_id(ref: str) -> bool:
    """Whether ``ref`` is a 1Password item id rather than a title."""
    # 1Password ids are 26 characters of lowercase base32; anything else is a title.
    return len(ref) == 26 and ref.isalnum() and ref == ref.lower()
