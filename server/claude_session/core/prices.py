"""The price table's upkeep (``claude-session prices``): refresh it from a maintained public
price list (LiteLLM's ``model_prices_and_context_window.json``, by URL or as a file), set the
user's own price of a model, and show what is in force. Computing costs is ``base/pricing``'s.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

from claude_session.base import pricing
from claude_session.base.statefile import atomic_write
from claude_session.errors import ClaudeSessionError
from claude_session.paths import Paths, ensure_dir

#: how long a refresh waits for the price list
TIMEOUT = 20.0


def _read_source(source: str) -> Any:
    """The price list's JSON from an https URL or a file; a clear error otherwise."""
    try:
        if source.startswith("https://"):
            with urllib.request.urlopen(source, timeout=TIMEOUT) as answer:  # noqa: S310 - https only
                raw = answer.read(pricing.MAX_LIST_BYTES + 1)
        elif "://" in source:
            raise ClaudeSessionError(f"Give an https:// URL or a file, not {source!r}.")
        else:
            with Path(source).expanduser().open("rb") as handle:
                raw = handle.read(pricing.MAX_LIST_BYTES + 1)
    except OSError as exc:
        raise ClaudeSessionError(f"Cannot read the price list {source}: {exc}") from exc
    if len(raw) > pricing.MAX_LIST_BYTES:
        raise ClaudeSessionError(f"The price list {source} is larger than 64 MB: not read.")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ClaudeSessionError(f"The price list {source} is not JSON: {exc}") from exc


def anthropic_models(data: Any) -> dict[str, dict[str, float]]:
    """Anthropic's models of a LiteLLM-format list, with the price fields ``pricing`` reads."""
    if not isinstance(data, dict):
        raise ClaudeSessionError("The price list is not a JSON object of models.")
    found: dict[str, dict[str, float]] = {}
    for name, entry in data.items():
        if not isinstance(entry, dict) or entry.get("litellm_provider") != "anthropic":
            continue
        fields = {k: float(v) for k, v in entry.items() if k in pricing.FIELDS and _price(v)}
        if "input_cost_per_token" in fields and "output_cost_per_token" in fields:
            found[str(name)] = fields
    if not found:
        raise ClaudeSessionError(
            "The price list names no Anthropic model with input and output prices "
            "(is it LiteLLM's model_prices_and_context_window.json?)."
        )
    return found


def _price(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1


def refresh(paths: Paths, source: str) -> dict[str, Any]:
    """Keep the Anthropic prices of ``source`` as the table in force, dated today."""
    models = anthropic_models(_read_source(source))
    table = {"date": date.today().isoformat(), "source": source, "models": models}
    ensure_dir(paths.data)
    atomic_write(pricing.table_file(paths), json.dumps(table, indent=1))
    return {"date": table["date"], "source": source, "models": len(models)}


def set_price(paths: Paths, model: str, prices: dict[str, float]) -> dict[str, Any]:
    """The user's own prices of ``model`` (dollars per million tokens in, per token kept)."""
    if not model.strip():
        raise ClaudeSessionError("Name the model, as the transcripts name it.")
    own = (
        json.loads(pricing.override_file(paths).read_text("utf-8"))
        if pricing.override_file(paths).exists()
        else {"models": {}}
    )
    fields = {k: v / 1_000_000 for k, v in prices.items() if v is not None}
    own.setdefault("models", {})[model] = {**own["models"].get(model, {}), **fields}
    ensure_dir(paths.data)
    atomic_write(pricing.override_file(paths), json.dumps(own, indent=1))
    return {"model": model, "per_token": own["models"][model]}


def show(paths: Paths) -> dict[str, Any]:
    table = pricing.load(paths)
    return {
        "date": table.get("date"),
        "source": table.get("source"),
        "overrides": table.get("overrides", []),
        "models": {
            name: {k: round(v * 1_000_000, 4) for k, v in fields.items()}
            for name, fields in sorted(table.get("models", {}).items())
        },
    }
