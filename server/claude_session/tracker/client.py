"""The remote session tracker: ``POST {tracker}/api/sessions`` with a bearer token, over httpx.

This module is where httpx errors enter claude-session, and the only place they are translated:

    httpx.TimeoutException, httpx.RequestError, 408, 429, 5xx
        -> TrackerUnavailable (with the status and the server's Retry-After; a 500 may be
           about the record, not the tracker: ``record_specific``)
    401, 403                -> TrackerAuthError
    400, 409, 413, 422      -> TrackerRejected (naming the refused field when told)
    3xx, 404, other 4xx     -> TrackerError (the URL is wrong; retrying will not help)

Every call has timeouts and a total time budget. Connect errors, timeouts, 408, 429 and 5xx are
retried with exponential backoff inside that budget, honouring Retry-After; a Retry-After longer
than what is left of the budget is not slept through but handed to the caller (the outbox backs
off for that long). Other 4xx are never retried. Sends are safe to repeat: the record carries its
own id and the tracker updates rather than duplicates.

The token may be an ``op://`` reference; it is resolved on first use, never at construction, by
the ``resolve_secret`` callable the caller hands in (the core passes 1Password's: this package
does not import the vault), so building a tracker costs nothing and never fails on 1Password.
The token never appears in a message, a log line or ``repr``; what the tracker says back is
scrubbed of it too.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from pydantic import ValidationError

from claude_session.base import flow
from claude_session.base.gitread import strip_credentials
from claude_session.config import Settings
from claude_session.errors import (
    ConfigError,
    ItemNotFound,
    TrackerAuthError,
    TrackerError,
    TrackerRejected,
    TrackerUnavailable,
    VaultAuthError,
    VaultError,
)
from claude_session.models import SessionRecord
from claude_session.tracker.base import Search, Tracker

log = logging.getLogger(__name__)

TOKEN_VARIABLE = "CLAUDE_SESSION_TRACKER_TOKEN"
URL_VARIABLE = "CLAUDE_SESSION_TRACKER_URL"
RETRY_STATUSES = frozenset({408, 429})  # and every 5xx
REJECT_STATUSES = frozenset({400, 409, 413, 422})
DEFAULT_TIMEOUT = httpx.Timeout(5.0, connect=2.0)
# The end flow waits on one send; a few seconds is the most a person should wait for it.
DEFAULT_BUDGET = 6.0
MAX_ERROR_TEXT = 300


SecretResolver = Callable[[str], str]


def clean_base_url(url: str) -> str:
    """The tracker URL, checked: http(s), a host, no query; trailing slash removed."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{URL_VARIABLE} must be an http:// or https:// URL with a host "
            f"(for example https://tracker.example.com); it is {_shown(url)!r}."
        )
    if parts.query or parts.fragment:
        raise ConfigError(
            f"{URL_VARIABLE} must not have a query or fragment: use the tracker's "
            f"base address, for example https://tracker.example.com."
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _shown(url: str) -> str:
    """The URL for messages: no credentials, no query or fragment (either may hold a token)."""
    parts = urlsplit(url)
    return str(strip_credentials(urlunsplit(parts._replace(query="", fragment=""))))


def _is_loopback(host: str | None) -> bool:
    return host in ("localhost", "127.0.0.1", "::1") or bool(host and host.startswith("127."))


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class HttpTracker(Tracker):
    """A tracker service reached over HTTP (the seed's Cloud Tracker)."""

    kind = "remote"

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        budget: float = DEFAULT_BUDGET,
        attempts: int = 3,
        backoff: float = 0.5,
        resolve_secret: SecretResolver | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``resolve_secret`` turns an ``op://`` token into the key; ``sleep`` waits between
        tries (a test hands in one that only notes the wait)."""
        self.base_url = clean_base_url(url)
        self.description = f"tracker at {_shown(self.base_url)}"
        self._configured_token = token
        self._token: str | None = None
        self._resolve_secret = resolve_secret
        self.timeout = timeout
        self.budget = budget
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._transport = transport
        self._client: httpx.Client | None = None
        self._sleep = sleep
        host = urlsplit(self.base_url).hostname
        if self.base_url.startswith("http://") and not _is_loopback(host):
            flow.warn(
                f"{URL_VARIABLE} uses http:// to {host}: the tracker key travels unencrypted. "
                f"Use https:// unless the network is trusted."
            )

    @classmethod
    def from_settings(cls, settings: Settings, **options: Any) -> HttpTracker:
        if settings.tracker_url is None:
            raise ConfigError(f"{URL_VARIABLE} is not set.")
        return cls(settings.tracker_url, settings.tracker_token, **options)

    def __repr__(self) -> str:
        return f"HttpTracker({_shown(self.base_url)!r})"

    # --- credentials ----------------------------------------------------------------------

    def credential_fingerprint(self) -> str | None:
        """A short digest of the configured token (or reference), to notice that it changed.

        Computed from the setting as given, so it costs no 1Password call. The digest is
        salted and truncated: it tells two settings apart and reveals nothing of either.
        """
        if self._configured_token is None:
            return None
        digest = hashlib.blake2b(
            self._configured_token.encode("utf-8"), digest_size=8, person=b"cs-tracker-key"
        )
        return digest.hexdigest()

    def _bearer(self) -> str:
        if self._token is None:
            self._token = self._resolve_token()
        return self._token

    def _resolve_token(self) -> str:
        value = self._configured_token
        if not value:
            raise TrackerAuthError(
                f"{URL_VARIABLE} is set but {TOKEN_VARIABLE} is not. Create a key on the tracker "
                f"(`claude-session tracker token create --user NAME`) and set {TOKEN_VARIABLE}; "
                f"records wait in the outbox until then."
            )
        if not value.startswith("op://"):
            return value
        if self._resolve_secret is None:
            raise TrackerAuthError(
                f"{TOKEN_VARIABLE} is an op:// reference, and nothing here reads 1Password; "
                f"put the key itself in {TOKEN_VARIABLE}."
            )
        try:
            token = self._resolve_secret(value).strip()
        except TrackerError:
            raise
        except (ConfigError, VaultAuthError, ItemNotFound) as exc:
            raise TrackerAuthError(
                f"The tracker key could not be read from 1Password: {exc}"
            ) from exc
        except VaultError as exc:
            raise TrackerUnavailable(
                f"{TOKEN_VARIABLE} is an op:// reference and 1Password was not reached: {exc}"
            ) from exc
        if not token:
            raise TrackerAuthError(f"{TOKEN_VARIABLE} points at an empty 1Password field.")
        return token

    def _scrub(self, text: str) -> str:
        """Remove the token (and anything else that looks like a secret) from text that came
        from elsewhere (a server echoing headers)."""
        from claude_session.base.redact import scrub

        return scrub(text, (self._token, self._configured_token))

    # --- HTTP -----------------------------------------------------------------------------

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                base_url=self.base_url,
                timeout=self.timeout,
                transport=self._transport,
                follow_redirects=False,
                headers={"Accept": "application/json", "User-Agent": "claude-session"},
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _attempt_timeout(self, remaining: float) -> httpx.Timeout:
        """This attempt's timeouts: the configured ones, cut to what is left of the budget."""

        def cut(value: float | None) -> float:
            return max(0.05, min(value if value is not None else remaining, remaining))

        return httpx.Timeout(
            connect=cut(self.timeout.connect),
            read=cut(self.timeout.read),
            write=cut(self.timeout.write),
            pool=cut(self.timeout.pool),
        )

    def _wait_before_retry(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        # Full jitter: processes that lost the tracker together do not come back together.
        return float(self.backoff * (2**attempt) * random.uniform(0.5, 1.0))

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str | int] | None = None,
        budget: float | None = None,
        attempts: int | None = None,
    ) -> httpx.Response:
        """One call with retries; the answer when it is not worth retrying, else an error.

        Returns responses of any status that is not retried (2xx, 3xx, 4xx other than 408
        and 429); raises TrackerUnavailable when the retries or the budget run out.
        ``attempts`` overrides the tracker's number of tries for this call.
        """
        headers = {"Authorization": f"Bearer {self._bearer()}"}
        deadline = time.monotonic() + (self.budget if budget is None else budget)
        tries = self.attempts if attempts is None else max(1, attempts)
        for attempt in range(tries):
            remaining = deadline - time.monotonic()
            try:
                response = self.client.request(
                    method,
                    path,
                    json=json_body,
                    params=params,
                    headers=headers,
                    timeout=self._attempt_timeout(remaining),
                )
            except httpx.TimeoutException as exc:
                failure: TrackerUnavailable = TrackerUnavailable(
                    f"The {self.description} did not answer in time ({type(exc).__name__})."
                )
                cause: BaseException = exc
                retry_after = None
            except httpx.RequestError as exc:
                failure = TrackerUnavailable(
                    f"The {self.description} cannot be reached ({type(exc).__name__}: "
                    f"{self._scrub(str(exc))[:MAX_ERROR_TEXT]})."
                )
                cause = exc
                retry_after = None
            else:
                if not _worth_retrying(response.status_code):
                    return response
                if response.status_code >= 500:
                    # A server that failed on a request may drop the connection (uvicorn resets
                    # it after an exception): the next request must not reuse it.
                    self.close()
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                failure = TrackerUnavailable(
                    f"The {self.description} answered HTTP {response.status_code}"
                    f"{self._server_says(response)}.",
                    retry_after=retry_after,
                    status=response.status_code,
                )
                cause = failure
            wait = self._wait_before_retry(attempt, retry_after)
            last = attempt == tries - 1
            if last or time.monotonic() + wait >= deadline:
                if cause is failure:
                    raise failure
                raise failure from cause
            log.info("tracker %s %s: %s; retrying in %.1f s", method, path, failure, wait)
            self._sleep(wait)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _server_says(self, response: httpx.Response) -> str:
        """': <the tracker's error message>' when it gave one, else ''."""
        message = _json_field(response, "error")
        if not message:
            return ""
        return f": {self._scrub(message)[:MAX_ERROR_TEXT]}"

    def _raise_for(self, response: httpx.Response, what: str) -> None:
        """Translate a status that is not success into our errors."""
        status = response.status_code
        says = self._server_says(response)
        if status in (401, 403):
            raise TrackerAuthError(
                f"The {self.description} refused the key (HTTP {status}{says}). Set "
                f"{TOKEN_VARIABLE} to a valid key (`claude-session tracker token create --user "
                f"NAME` on the tracker); records wait in the outbox until then."
            )
        if status in REJECT_STATUSES:
            field = _json_field(response, "field")
            named = f": field '{field}'" if field else ""
            raise TrackerRejected(
                f"The {self.description} refused {what}{named} (HTTP {status}{says}).",
                field=field,
                status=status,
            )
        if 300 <= status < 400:
            target = _shown(response.headers.get("Location", "another address"))
            raise TrackerError(
                f"The {self.description} redirects to {target}: set "
                f"{URL_VARIABLE} to the tracker's final address."
            )
        if status == 404:
            raise TrackerError(
                f"The {self.description} has no tracker API (HTTP 404 for "
                f"{response.request.url.path}); check {URL_VARIABLE}."
            )
        raise TrackerError(f"The {self.description} answered HTTP {status}{says} to {what}.")

    # --- the Tracker interface ------------------------------------------------------------

    def send(
        self, record: SessionRecord, *, budget: float | None = None, attempts: int | None = None
    ) -> str:
        """POST the record; the id the tracker confirmed. Safe to repeat (the id is the key)."""
        response = self.request(
            "POST",
            "/api/sessions",
            json_body=record.model_dump(mode="json"),
            budget=budget,
            attempts=attempts,
        )
        if response.status_code not in (200, 201):
            self._raise_for(response, f"session record {record.id}")
        confirmed = _json_field(response, "id")
        if not confirmed:
            # A 200 without our answer is a proxy or captive portal, not the tracker: keep it.
            raise TrackerUnavailable(
                f"The {self.description} answered HTTP "
                f"{response.status_code} without a session id; is "
                f"{URL_VARIABLE} the tracker's address?"
            )
        if confirmed != record.id:
            log.warning("tracker stored record %s under id %s", record.id, confirmed)
        return confirmed

    def check(self, *, budget: float = 2.0) -> None:
        """One read of this user's sessions (one try, no retry), raising what went wrong: after
        a 500 for one record, it tells "the tracker is up, the record is the problem" from "the
        tracker is down"; ``doctor`` shows what it raises."""
        self._sessions({"limit": 1}, budget=budget, attempts=1)

    def list_sessions(
        self, *, project: str | None = None, limit: int = 20, search: Search | None = None
    ) -> list[SessionRecord]:
        params: dict[str, str | int] = {"limit": max(1, limit), **(search or {})}
        if project:
            params["application"] = project
        return self._sessions(params)[:limit]

    def _sessions(
        self,
        params: Mapping[str, str | int],
        *,
        budget: float | None = None,
        attempts: int | None = None,
    ) -> list[SessionRecord]:
        response = self.request(
            "GET", "/api/sessions", params=params, budget=budget, attempts=attempts
        )
        if response.status_code != 200:
            self._raise_for(response, "the session list")
        body = _json_object(response, self.description)
        sessions = body.get("sessions")
        if not isinstance(sessions, list):
            raise TrackerError(
                f"The {self.description} answered the session list without "
                f"'sessions'; is {URL_VARIABLE} the tracker's address?"
            )
        return [self._record(item) for item in sessions]

    def get_session(self, session_id: str) -> SessionRecord | None:
        response = self.request("GET", f"/api/sessions/{quote(session_id, safe='')}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            self._raise_for(response, f"session {session_id}")
        return self._record(_json_object(response, self.description))

    def _record(self, data: Any) -> SessionRecord:
        try:
            return SessionRecord.model_validate(data)
        except ValidationError as exc:
            raise TrackerError(
                f"The {self.description} sent a session record this version "
                f"cannot read ({exc.error_count()} problems); upgrade "
                f"claude-session or the tracker."
            ) from exc


def _worth_retrying(status: int) -> bool:
    return status in RETRY_STATUSES or status >= 500


def _json_object(response: httpx.Response, description: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise TrackerError(
            f"The {description} answered HTTP {response.status_code} with "
            f"something that is not JSON; is {URL_VARIABLE} the tracker's "
            f"address?"
        ) from exc
    if not isinstance(body, dict):
        raise TrackerError(f"The {description} answered with JSON that is not an object.")
    return body


def _json_field(response: httpx.Response, name: str) -> str | None:
    """A string field of a JSON object body, or None for any other body."""
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get(name) if isinstance(body, dict) else None
    return str(value) if isinstance(value, (str, int)) and str(value) else None


class MisconfiguredTracker(Tracker):
    """Stands in for a remote tracker whose URL is unusable, so that nothing is lost.

    Sends fail with the configuration message, which leaves each record in the outbox (and the
    message in ``status``) until the URL is fixed; reading history says what to fix.
    """

    kind = "remote"

    def __init__(self, problem: ConfigError) -> None:
        self.problem = problem
        self.description = "tracker not usable (CLAUDE_SESSION_TRACKER_URL)"
        flow.warn(str(problem))

    def send(
        self, record: SessionRecord, *, budget: float | None = None, attempts: int | None = None
    ) -> str:
        raise TrackerError(f"{self.problem} Records wait in the outbox until it is fixed.")

    def check(self, *, budget: float = 2.0) -> None:
        raise TrackerError(str(self.problem))

    def list_sessions(self, **_: Any) -> list[SessionRecord]:
        raise ConfigError(str(self.problem))

    def get_session(self, session_id: str) -> SessionRecord | None:
        raise ConfigError(str(self.problem))
