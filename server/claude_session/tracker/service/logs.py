"""What the tracker's logs may hold: no secret, no value of a request (redteam T31).

uvicorn's access log writes each request's path and query string. Two of those carry what must
not be kept: the one-time sign-in link (``/login/link/<token>``: whoever reads the log could
have used it while it was fresh) and query values (an application's name, a cursor, where to
go after log-in: the user's data). ``quiet_access_log`` puts a filter on the
``uvicorn.access`` logger that writes ``/login/link/[hidden]`` and ``?name=[hidden]`` instead
(and hides any token-like path segment), so a line still says which page was asked for, with
which parameters, and how it was answered.

SQL parameters (a record's values, a key's hash) are kept out by the engines themselves
(``hide_parameters``, ``store/database.py``): every message and log line of SQLAlchemy says
"[SQL parameters hidden ...]" where it would have quoted them.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl

ACCESS_LOGGER = "uvicorn.access"
SIGN_IN_LINK = "/login/link/"
HIDDEN = "[hidden]"


#: a path segment that may be a token or a key pasted into a wrong address (``/link/<token>``,
#: ``/keys/<key>/revoke``): 32 or more characters of URL-safe base64 (ids are uuids, shown)
TOKEN_LIKE = re.compile(r"[A-Za-z0-9_-]{32,}")
UUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def shown_path(path: str) -> str:
    """``path`` (with its query) as a log line may hold it: no sign-in token, no values."""
    path, mark, query = path.partition("?")
    at = path.lower().find(SIGN_IN_LINK)  # also /LOGIN/link/ and //login/link/: 404s that
    if at >= 0:  # may still hold a valid token
        path = path[: at + len(SIGN_IN_LINK)] + HIDDEN
    path = "/".join(
        HIDDEN if TOKEN_LIKE.fullmatch(part) and not UUID.fullmatch(part) else part
        for part in path.split("/")
    )
    if not mark:
        return path
    names = [name for name, _ in parse_qsl(query, keep_blank_values=True)]
    return f"{path}?{'&'.join(f'{name[:40]}={HIDDEN}' for name in names) or HIDDEN}"


class AccessLogFilter(logging.Filter):
    """Rewrites the path of uvicorn's access lines (``'%s - "%s %s HTTP/%s" %d'``, the path
    third) with ``shown_path``; other lines pass unchanged."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], shown_path(args[2]), *args[3:])
        return True


def quiet_access_log() -> None:
    """Install the filter on uvicorn's access logger, once per process (each worker builds
    the app after uvicorn configured its logging, which keeps a logger's filters)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, AccessLogFilter) for f in logger.filters):
        logger.addFilter(AccessLogFilter())
