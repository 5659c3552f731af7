"""What the MCP tools take: bounded argument types, strict validation, and refusals in words.

The SDK builds each tool's argument model from its signature in pydantic's lax mode, which turns
``"yes"`` into ``true``, ``"20"`` into 20 and ``true`` into 1. ``strict_metadata`` has that model
validate in strict mode and refuse arguments the tool does not have (the advertised schema only
gains ``additionalProperties: false``). ``explain`` turns a refusal into a message
that names each argument and what to give instead, without echoing the values (a summary may
hold a secret; a 100 kB session id helps nobody).

Every text argument has a size bound, advertised as ``maxLength`` / ``maxItems``. ``session_id``
and ``cwd`` are checked further: a session id names state files, a cwd must be a folder.
"""

from __future__ import annotations

import functools
import json
import os
import re
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import AfterValidator, Field, PrivateAttr, ValidationError

from claude_session.tracker.store.limits import MAX_DEPTH, RECORD_DEPTH

#: bounds of the text arguments, in characters (lists: items, and characters per item)
SESSION_ID_MAX = 200
PATH_MAX = 4096
SUMMARY_MAX = 20_000
NOTE_MAX = 10_000
COMMIT_MESSAGE_MAX = 20_000
ITEM_MAX = 2_000
ITEMS_MAX = 100
NAME_MAX = 200
RESULTS_MAX = 1_000_000  # characters of the maintenance results as JSON
RESULTS_DEPTH = MAX_DEPTH - RECORD_DEPTH  # what the tracker stores below a record's own levels

_SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@+=-]*")
PLACEHOLDER = "CLAUDE_SESSION_ID"  # older clients leave ``${CLAUDE_SESSION_ID}`` unexpanded


def _shown(text: str, limit: int = 120) -> str:
    """A value quoted in a message: on one line and short."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _session_id(value: str) -> str:
    if PLACEHOLDER in value or not value.strip():
        return value  # dropped by the tool: the session Claude Code runs in is used
    if not _SESSION_ID.fullmatch(value.strip()):
        raise ValueError(
            "must be the session id Claude Code gives (letters, digits and . _ - : @ + =, "
            "starting with a letter or digit; no '/', spaces or control characters); "
            "leave it out to use this project's session"
        )
    return value


def _folder(value: str) -> str:
    if "\x00" in value or len(value) > PATH_MAX:
        raise ValueError(
            f"holds a NUL character or is over {PATH_MAX:,} characters; give the project's "
            "folder, or leave cwd out"
        )
    if not os.path.isdir(value):
        raise ValueError(
            f"{_shown(value)} is not an existing folder; give the project's folder, or leave "
            "cwd out to use the folder Claude Code runs in"
        )
    return value


def _item(value: str) -> str:
    if len(value) > ITEM_MAX:
        raise ValueError(f"an item is {len(value):,} characters, over {ITEM_MAX:,}: shorten it")
    return value


def _depth(value: Any) -> int:
    """How deep ``value`` nests (a scalar: 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list) and item:
            deepest = max(deepest, level + 1)
            stack.extend(
                (child, level + 1) for child in (item.values() if isinstance(item, dict) else item)
            )
    return deepest


def _results(value: Any) -> Any:
    if _depth(value) > RESULTS_DEPTH:
        raise ValueError(f"nests deeper than {RESULTS_DEPTH} levels; flatten it")
    size = len(json.dumps(value, default=str))
    if size > RESULTS_MAX:
        raise ValueError(
            f"is {size:,} characters of JSON, over the {RESULTS_MAX:,} this tool takes: record "
            "counts and the first findings here, and name the file with the full report in "
            "notes"
        )
    return value


SessionId = Annotated[str, Field(max_length=SESSION_ID_MAX), AfterValidator(_session_id)] | None
# bounds the model would not miss are checked without being advertised: every definition is
# sent with every request (``bench/bench_tokens.py``)
Cwd = Annotated[str, AfterValidator(_folder)] | None
Summary = Annotated[
    str, Field(max_length=SUMMARY_MAX, description="Where the work stands, in a few sentences.")
]
Note = Annotated[str, Field(max_length=NOTE_MAX)] | None
Item = Annotated[str, AfterValidator(_item)]
Steps = Annotated[
    list[Item] | None, Field(max_length=ITEMS_MAX, description="Next steps, one per item.")
]
Done = Annotated[
    list[Item] | None, Field(max_length=ITEMS_MAX, description="What was done, one per item.")
]
CommitMessage = Annotated[
    str | None, Field(max_length=COMMIT_MESSAGE_MAX, description="For the uncommitted work.")
]
Name = Annotated[str, Field(max_length=NAME_MAX)]
Results = Annotated[Any, AfterValidator(_results)]


def compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """An input schema as the model needs it: no generated titles, ``X | None`` as ``X`` (an
    omitted argument is ``None``), no ``null`` defaults. Arguments are still validated against
    the full signature."""
    out = {k: v for k, v in schema.items() if k != "title"}
    props = schema.get("properties")
    if isinstance(props, dict):
        out["properties"] = {name: _compact_property(prop) for name, prop in props.items()}
    return out


def _compact_property(prop: Any) -> Any:
    if not isinstance(prop, dict):
        return prop
    prop = {k: v for k, v in prop.items() if k != "title"}
    options = prop.get("anyOf")
    if isinstance(options, list):
        kept = [o for o in options if o != {"type": "null"}]
        if len(kept) == 1 and isinstance(kept[0], dict):
            del prop["anyOf"]
            prop = {**kept[0], **prop}
        else:
            prop["anyOf"] = kept
    if "default" in prop and prop["default"] is None:
        del prop["default"]
    return prop


def strict_metadata(meta: Any) -> Any:
    """The SDK's ``FuncMetadata`` of a tool, validating its arguments in strict mode and refusing
    ones the tool does not have. Its pre-parse keeps one leniency: an array or object sent as
    JSON text (some clients do) is parsed for an argument that takes one. A text argument keeps
    its text as given (the SDK made ``"null"`` an omitted ``cwd`` or commit message), and
    nothing else is parsed."""
    metadata = _strict_metadata_class()(
        arg_model=meta.arg_model,
        output_schema=meta.output_schema,
        output_model=meta.output_model,
        wrap_output=meta.wrap_output,
    )
    fields = meta.arg_model.model_fields
    metadata._texts = frozenset(
        name for name, field in fields.items() if _takes_text(field.annotation)
    )
    return metadata


@functools.cache
def _strict_metadata_class() -> Any:
    """One ``FuncMetadata`` subclass for every tool (made on first use: the SDK is imported
    after this module). Strictness is asked of the SDK's own argument model at each call, not
    built into a second model per tool (server start-up time, issue 23)."""
    from mcp.server.mcpserver.utilities.func_metadata import FuncMetadata

    class StrictMetadata(FuncMetadata):
        _texts: frozenset[str] = PrivateAttr(default=frozenset())

        def pre_parse_json(self, data: dict[str, Any]) -> dict[str, Any]:
            parsed = super().pre_parse_json(data)
            return {
                key: parsed[key]
                if key not in self._texts and isinstance(parsed[key], list | dict)
                else data[key]
                for key in data
            }

        def validate_arguments(self, arguments_to_validate: dict[str, Any]) -> dict[str, Any]:
            parsed = self.pre_parse_json(arguments_to_validate)
            model = self.arg_model.model_validate(parsed, strict=True, extra="forbid")
            return model.model_dump_one_level()

    return StrictMetadata


def _takes_text(annotation: Any) -> bool:
    """Whether an argument's type admits a string (``str``, ``Annotated[str, ...]``, and
    unions holding one; not ``list[str]``)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _takes_text(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return any(_takes_text(arg) for arg in get_args(annotation))
    return annotation is str


#: what to give instead, by pydantic error type
_HINTS = {
    "bool_type": "give true or false, as JSON booleans, not strings or numbers",
    "int_type": "give a whole number, not a string or a boolean",
    "string_type": "give a string",
    "list_type": "give an array",
    "literal_error": "give one of the values the schema lists",
    "missing": "give it",
}


def explain(tool: str, exc: ValidationError) -> str:
    """The refusal of ``tool``'s arguments, one line per argument, values left out."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    if any(_is_override(e) for e in errors):
        return secret_override_refused(tool)
    lines = []
    for error in errors:
        where = ".".join(str(part) for part in error["loc"]) or "arguments"
        if error["type"] == "extra_forbidden":
            lines.append(f"- {where}: {tool} has no such argument; leave it out")
            continue
        text = error["msg"].removeprefix("Value error, ")
        hint = _HINTS.get(error["type"])
        lines.append(f"- {where}: {text}" + (f"; {hint}" if hint else ""))
    return (
        f"{tool} was not run: its arguments were refused.\n"
        + "\n".join(lines)
        + f"\nCall {tool} again with the arguments its input schema describes."
    )


def _is_override(error: Any) -> bool:
    return error["type"] == "extra_forbidden" and tuple(error["loc"]) == ("allow_secret",)


#: by tool: where its commit message comes from, and the CLI command of the person's override
_MESSAGE = {
    "pause_session": "the summary's first line (the WIP commit's message)",
    "end_session": "the commit message (or, without one, the summary's first line)",
}
_CLI = {
    "pause_session": 'claude-session pause --wip-commit --allow-secret --summary "…"',
    "end_session": 'claude-session end --allow-secret --summary "…" -m "…"',
}


def secret_override_refused(tool: str) -> str:
    """What a call that asks for the secret override gets: nothing is done, and the decision
    is left to the person, in words addressed to them."""
    return (
        f"{tool} was not run: the session tools take no override of the secret check (there "
        f"is no allow_secret argument). Nothing was committed or pushed.\n{secret_advice(tool)}"
    )


def secret_refused(tool: str, what: str, kinds: list[str]) -> str:
    """The refusal of a commit message that looks like it holds a secret."""
    found = f" ({', '.join(kinds)})" if kinds else ""
    return (
        f"The {what} holds what looks like a secret{found}; nothing was committed or pushed.\n"
        + secret_advice(tool)
    )


def secret_advice(tool: str) -> str:
    """Who decides whether a secret is committed anyway: the person, never the model."""
    command = _CLI.get(tool, _CLI["end_session"])
    return (
        f"Take the secret out of {_MESSAGE.get(tool, 'the message')} and call again. "
        "Committing it anyway is the "
        "user's decision, not the model's: do not run an override yourself; tell the user. "
        "User: if it is not a secret, or you want it committed regardless, commit it yourself "
        "with git, or run this in your own terminal in the project folder: "
        f"`{command}`."
    )
