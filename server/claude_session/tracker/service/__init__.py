"""The tracker service (``claude-session tracker serve``): storage, API and Sessions UI.

    database.py   engines for SQLite and PostgreSQL, column types, Alembic migrations
    storage.py    the tables and every query (users, API keys, applications, sessions, runs,
                  command types), keyset cursors
    limits.py     what the columns can hold, checked before the database (4xx, never 5xx)
    api.py        the JSON API under /api
    openapi.py    the API's OpenAPI 3.1 document, built from the pydantic models
    ui.py         the server-rendered Sessions UI (Jinja2)
    guard.py      body limits and deadlines, Origin check, security headers, log-in throttle,
                  the header deadline of uvicorn's h11 protocol
    app.py        ``create_app(database_url)`` and ``from_environment()``: the ASGI application
    cli.py        ``tracker serve [--workers N] | migrate | token create|list|revoke|rotate``

The plugin's local tracker (``tracker/local.py``) uses the same storage on its SQLite file.
"""
