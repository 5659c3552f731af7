"""What a stretch of a session cost in money, from its model responses and a dated price table.

The table ships with the package (``prices.json``: Anthropic's models as LiteLLM's public price
list gives them, in its own field names and dollars per token). ``claude-session prices refresh
URL-or-FILE`` keeps a newer copy in the state folder, which then wins; ``prices set`` keeps the
user's own price of a model (``prices-override.json``), which wins over both.

Each response is priced on its own: input, output, cache writes (5-minute and 1-hour tiers,
when the transcript tells them apart; an untold write is a 5-minute one, the default) and cache
reads, each at its model's price. A response whose whole prompt (input, cache writes and cache
reads) passes 200,000 tokens is priced at the model's long-context prices, where the table has
them (Anthropic bills such a request whole at those prices). A model the table does not know
has no price: the cost is unknown (None), never 0. Standard library only: the hooks' record of
a session that ended without /end is priced too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from claude_session.paths import Paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from claude_session.base.tokens import Message, Usage
else:
    Any = object

SHIPPED = Path(__file__).with_name("prices.json")
LONG_CONTEXT = 200_000
#: the fields of a model's price, per token; the first two are required
FIELDS = (
    "input_cost_per_token",
    "output_cost_per_token",
    "cache_creation_input_token_cost",
    "cache_creation_input_token_cost_above_1hr",
    "cache_read_input_token_cost",
    "input_cost_per_token_above_200k_tokens",
    "output_cost_per_token_above_200k_tokens",
    "cache_creation_input_token_cost_above_200k_tokens",
    "cache_creation_input_token_cost_above_1hr_above_200k_tokens",
    "cache_read_input_token_cost_above_200k_tokens",
)
MAX_LIST_BYTES = 64 * 1024 * 1024
_DATED = re.compile(r"-(\d{8})$")

Table = dict[str, Any]


def table_file(paths: Paths) -> Path:
    return paths.data / "prices.json"


def override_file(paths: Paths) -> Path:
    return paths.data / "prices-override.json"


def _read(path: Path) -> Table:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and isinstance(data.get("models"), dict) else {}


def load(paths: Paths | None) -> Table:
    """The prices in force: the newer of the shipped and the refreshed table, with the
    user's own prices over it. ``{"date", "source", "models": {name: {field: $/token}}}``."""
    table = _read(SHIPPED) or {"date": None, "source": None, "models": {}}
    if paths is not None:
        refreshed = _read(table_file(paths))
        if refreshed and str(refreshed.get("date") or "") >= str(table.get("date") or ""):
            table = refreshed
        own = _read(override_file(paths)).get("models", {})
        if own:
            models = {**table["models"]}
            for name, fields in own.items():
                models[name] = {**models.get(name, {}), **fields}
            table = {**table, "models": models, "overrides": sorted(own)}
    return table


def rates(table: Table, model: str) -> dict[str, float] | None:
    """A model's prices, by its name as the transcript gives it (``claude-opus-4-5-20251101``
    is found as itself, else without its date; an ``anthropic/`` prefix is ignored); None
    for a model the table does not price."""
    models = table.get("models", {})
    name = model.split("/", 1)[1] if model.startswith("anthropic/") else model
    for candidate in (name, _DATED.sub("", name)):
        found = models.get(candidate)
        if isinstance(found, dict) and _priced(found):
            return {k: float(v) for k, v in found.items() if k in FIELDS and _number(v)}
    return None


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


def _priced(fields: dict[str, Any]) -> bool:
    return _number(fields.get("input_cost_per_token")) and _number(
        fields.get("output_cost_per_token")
    )


def message_cost(price: dict[str, float], message: Message) -> float:
    """One response's cost in dollars at ``price``."""
    base_in = price["input_cost_per_token"]
    prompt = message.input + message.cache_write_5m + message.cache_write_1h + message.cache_read
    long = prompt > LONG_CONTEXT and "input_cost_per_token_above_200k_tokens" in price
    suffix = "_above_200k_tokens" if long else ""
    unit_in = price.get("input_cost_per_token" + suffix, base_in)
    write_5m = price.get("cache_creation_input_token_cost" + suffix, 1.25 * unit_in)
    write_1h = price.get(
        "cache_creation_input_token_cost_above_1hr" + suffix, 2 * unit_in
    )  # Anthropic: an hour's write is twice the input price, five minutes' 1.25 times
    read = price.get("cache_read_input_token_cost" + suffix, 0.1 * unit_in)
    return (
        message.input * unit_in
        + message.output
        * price.get("output_cost_per_token" + suffix, price["output_cost_per_token"])
        + message.cache_write_5m * write_5m
        + message.cache_write_1h * write_1h
        + message.cache_read * read
    )


def usage_cost(table: Table, usage: Usage | None) -> tuple[float | None, list[str]]:
    """The cost of a usage's responses (None when a model of them has no price) and the
    models it used, most used first."""
    if usage is None:
        return 0.0, []
    total = 0.0
    known = True
    found: dict[str, dict[str, float] | None] = {}
    for message in usage.messages:
        if message.model not in found:
            found[message.model] = rates(table, message.model)
        price = found[message.model]
        if price is None:
            known = False
        else:
            total += message_cost(price, message)
    models = sorted(usage.models, key=lambda m: (-usage.models[m], m))
    return (round(total, 6) if known else None), models


def record_cost(usage: Usage | None, paths: Paths | None) -> dict[str, Any]:
    """A record's money fields for a usage: ``cost_usd`` (None: unknown) and ``models``."""
    cost, models = usage_cost(load(paths), usage)
    return {"cost_usd": cost, "models": models}


def add_costs(first: float | None, second: float | None) -> float | None:
    """Two costs together; unknown if either is."""
    return None if first is None or second is None else round(first + second, 6)
