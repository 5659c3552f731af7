"""Remote URLs as claude-session stores and compares them: credentials stripped, and a
repository's identity across machines. Standard library only (the hooks use it, through
``gitread``)."""

from __future__ import annotations

import re

# patterns, compiled on first use (by ``re``'s cache): not on the hooks' path
_SCP_LIKE = r"^(?:[^@/]+@)?(?P<host>[^:/]+):(?P<path>.+)$"
_WINDOWS_DRIVE = r"^[A-Za-z]:[\\/]"


def strip_credentials(url: str | None) -> str | None:
    """The URL as it should be stored: credentials removed, the rest kept."""
    if url is None or "://" not in url:
        return url
    from urllib.parse import urlsplit, urlunsplit  # with ipaddress: not on every hook's path

    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url
    # Over http(s) a bare user part is usually a token (https://ghp_xxx@github.com); over ssh
    # the user (git@) is part of the address and only a password is a secret.
    user = userinfo.partition(":")[0]
    keep = "" if parts.scheme.lower() in {"http", "https"} else f"{user}@"
    return urlunsplit(parts._replace(netloc=keep + hostport))


def normalize_remote(url: str | None) -> str | None:
    """The repository's identity across machines: host/path without scheme, user, token, .git."""
    if url is None or not url.strip():
        return None
    url = url.strip()
    if "://" in url:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        if parts.scheme.lower() == "file":
            return _strip_dot_git(parts.path)
        return _strip_dot_git(f"{parts.hostname or ''}/{parts.path.strip('/')}")
    scp = re.match(_SCP_LIKE, url)
    if scp and not re.match(_WINDOWS_DRIVE, url):
        return _strip_dot_git(f"{scp['host'].lower()}/{scp['path'].strip('/')}")
    return _strip_dot_git(url)


def _strip_dot_git(text: str) -> str:
    text = text.rstrip("/")
    if text.endswith(".git"):
        text = text[: -len(".git")].rstrip("/")
    return text
