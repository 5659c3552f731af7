"""The tracker service (``claude-session tracker serve``): API and Sessions UI over the store.

    api.py        the JSON API under /api
    openapi.py    the API's OpenAPI 3.1 document, built from the pydantic models
    ui.py         the server-rendered Sessions UI (Jinja2)
    guard.py      body limits and deadlines, Origin check, security headers, log-in throttle
    app.py        ``create_app(database_url)`` and ``from_environment()``: the ASGI application
    commands.py   ``tracker serve [--workers N] | migrate | token create|list|revoke|rotate``

The storage (schema, migrations, queries) is ``claude_session.tracker.store``, which the
plugin's local tracker (``tracker/local.py``) uses on its own SQLite file.
"""
