"""The Sessions UI (server-rendered Jinja2 pages); filled in below the API."""

from __future__ import annotations

from pathlib import Path

import jinja2
from starlette.routing import BaseRoute

TEMPLATES = Path(__file__).resolve().parent / "templates"


def templates() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)


routes: list[BaseRoute] = []
