"""The tracker service (``claude-session tracker serve``): storage, API and Sessions UI.

    database.py   engines for SQLite and PostgreSQL, column types, Alembic migrations
    storage.py    the tables and every query (users, API keys, applications, sessions, runs)
    api.py        the JSON API under /api
    ui.py         the server-rendered Sessions UI (Jinja2)
    app.py        ``create_app(database_url)``: the ASGI application
    cli.py        ``tracker serve | migrate | token create``

The plugin's local tracker (``tracker/local.py``) uses the same storage on its SQLite file.
"""
