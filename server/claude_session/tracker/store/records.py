"""Writing session records: each user's record, its application and its maintenance runs.

Writes are idempotent on the record's own id: a known id updates its row and replaces its
maintenance runs, so an outbox may resend as often as it needs to. Every write takes the user,
so one user never changes another's rows.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from claude_session.base.clock import new_id
from claude_session.base.clock import now as utcnow
from claude_session.errors import InvalidRecord, SessionConflict
from claude_session.models import SessionRecord
from claude_session.tracker.store.auth import User
from claude_session.tracker.store.database import Document, Guid, Moment, is_uuid, writing
from claude_session.tracker.store.limits import check_document, check_keys, command_type_name
from claude_session.tracker.store.schema import (
    RECORD_COLUMNS,
    applications,
    claude_sessions,
    command_types,
    maintenance_runs,
)


class Records:
    """Session records and their runs, written."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._statements: dict[str, _Statements] = {}

    def _prepared(self, conn: Connection) -> _Statements:
        found = self._statements.get(conn.dialect.name)
        if found is None:
            found = self._statements[conn.dialect.name] = _Statements(conn.dialect.name)
        return found

    def save(self, owner: User, record: SessionRecord) -> bool:
        """Create or update the record and its runs; True when it was created.

        Raises InvalidRecord for ids that are not uuids, SessionConflict for ids that belong
        to another user's rows.

        One transaction of few statements, each prepared once per process: a look-up of the
        record's owner and its application together; the record's upsert; its runs' insert
        (their command types by name inside it). A new project's first record also
        makes its application, a new command also its type, a resent record first drops its
        old runs.
        """
        _check_ids(record)
        check_document(record)
        check_keys(record)
        data = record.model_dump(mode="json")
        now = utcnow()
        with writing(self.engine) as conn:
            prepared = self._prepared(conn)
            found = conn.execute(
                prepared.lookup_by_repository
                if record.repository_url is not None
                else prepared.lookup_by_name,
                {
                    "session_id": record.id,
                    "user_id": owner.id,
                    "repository_url": record.repository_url,
                    "name": record.application_name,
                },
            ).one()
            if found.owner is not None and str(found.owner) != owner.id:
                raise SessionConflict("This session id belongs to another account.")
            if found.app_id is None:
                app_id = self._application(
                    conn, owner.id, record.application_name, record.repository_url
                )
            else:
                app_id = str(found.app_id)
                if found.app_name != record.application_name:
                    # The folder was renamed or cloned under another name: show the current one.
                    conn.execute(
                        applications.update()
                        .where(applications.c.id == app_id)
                        .values(name=record.application_name)
                    )
            values = {name: data[name] for name in RECORD_COLUMNS}
            values.update(
                id=record.id,
                user_id=owner.id,
                application_id=app_id,
                started_at=record.started_at,
                ended_at=record.ended_at,
                created_at=now,
                updated_at=now,
            )
            created = self._claim(conn, prepared, values)
            if not created:
                conn.execute(
                    maintenance_runs.delete().where(maintenance_runs.c.session_id == record.id)
                )
            made = self._insert_runs(conn, prepared, owner, record, data, app_id)
        prepared.known_types |= made
        return created

    @staticmethod
    def _claim(conn: Connection, prepared: _Statements, values: dict[str, Any]) -> bool:
        """Insert the record's row, or update it when this user owns it; True when inserted.

        The look-up before may have found no owner while another user's first post of this
        id was under way (PostgreSQL, READ COMMITTED): the upsert then waits for that post to
        commit, meets its row and changes nothing, guarded by the owner. No row back is that
        case: SessionConflict rolls back all this post made (its application too), so no run
        of this user lands under the other's record (redteam N43). ``created_at`` is only
        set by an insert: back as this post's own moment, the row is new."""
        row = conn.execute(prepared.upsert_session, values).first()
        if row is None:
            raise SessionConflict("This session id belongs to another account.")
        return bool(row.created_at == values["created_at"])

    def _application(
        self, conn: Connection, user_id: str, name: str, repository_url: str | None
    ) -> str:
        """The user's application for this project, created on first use."""
        col = applications.c.repository_url
        if repository_url is not None:
            match, where = col == repository_url, col.is_not(None)
            target = ["user_id", "repository_url"]
        else:
            match, where = col.is_(None) & (applications.c.name == name), col.is_(None)
            target = ["user_id", "name"]
        query = sa.select(applications.c.id, applications.c.name).where(
            applications.c.user_id == user_id, match
        )
        found = conn.execute(query).first()
        if found is None:
            # Two first sends of a project may race (PostgreSQL): the loser does nothing.
            conn.execute(
                _insert(conn, applications)
                .values(
                    id=new_id(),
                    name=name,
                    user_id=user_id,
                    repository_url=repository_url,
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=target, index_where=where)
            )
            found = conn.execute(query).one()
        if found.name != name:
            conn.execute(
                applications.update().where(applications.c.id == found.id).values(name=name)
            )
        return str(found.id)

    def _insert_runs(
        self,
        conn: Connection,
        prepared: _Statements,
        owner: User,
        record: SessionRecord,
        data: dict[str, Any],
        app_id: str,
    ) -> set[str]:
        """Insert the record's runs; returns the command types it made. A run id already stored
        (under another session: this one's were dropped) is the same user's run moved here, or
        another account's (409)."""
        if not record.maintenance_runs:
            return set()
        names = [command_type_name(run.command) for run in record.maintenance_runs]
        made = self._command_types(conn, prepared, set(names))
        rows = [
            {
                "id": run.id,
                "application_id": app_id,
                "session_id": record.id,
                "type_name": type_name,
                "command": run.command,
                "status": run.status,
                "results": dumped["results"],
                "notes": run.notes,
                "run_at": run.run_at,
            }
            for run, dumped, type_name in zip(
                record.maintenance_runs, data["maintenance_runs"], names, strict=True
            )
        ]
        # In id order: two posts sharing run ids lock them in one order, never in a cycle.
        rows.sort(key=lambda row: str(row["id"]))
        stored = {str(i) for i in conn.execute(prepared.insert_runs, rows).scalars()}
        left = [row for row in rows if row["id"] not in stored]
        if not left:
            return made
        elsewhere = conn.execute(
            sa.select(maintenance_runs.c.id, applications.c.user_id)
            .join(applications, applications.c.id == maintenance_runs.c.application_id)
            .where(maintenance_runs.c.id.in_([row["id"] for row in left]))
        ).all()
        if any(str(row.user_id) != owner.id for row in elsewhere):
            raise SessionConflict("A maintenance run id belongs to another account.")
        conn.execute(
            maintenance_runs.delete().where(maintenance_runs.c.id.in_([row["id"] for row in left]))
        )
        if len(conn.execute(prepared.insert_runs, left).all()) < len(left):
            # taken again meanwhile: another account's post got there between the two statements
            raise SessionConflict("A maintenance run id belongs to another account.")
        return made

    @staticmethod
    def _command_types(conn: Connection, prepared: _Statements, names: set[str]) -> set[str]:
        """Make the command types this process has not seen made (racing first uses make one);
        returns them, to be known once the transaction commits. Types are never deleted, so a
        known one needs no statement: the runs' insert finds its id by name."""
        made = names - prepared.known_types
        for name in sorted(made):
            conn.execute(
                prepared.insert_type, {"id": new_id(), "name": name, "created_at": utcnow()}
            )
        return made


class _Statements:
    """The statements of a record's write, built once per dialect: executed with parameters
    only, they compile once and are then taken from SQLAlchemy's cache (building them anew
    with their values cost more than running them).

    This pays (issue 22's rule): ``bench/bench_tracker.py --only-posts --repeat 1``, 5 paired
    rounds alternating with the same write built inline per record, on a loaded 2-CPU machine:
    POST /api/sessions 260/s (p99 59 ms) here against 116/s (p99 104 ms) inline on SQLite,
    178/s (82 ms) against 109/s (132 ms) on PostgreSQL; the goal is 200/s with p99 < 50 ms,
    and the inline runs ranged 111-142/s and 84-122/s: missed by more than the spread.
    """

    def __init__(self, dialect: str) -> None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        self.known_types: set[str] = set()

        def lookup(application: Any) -> sa.Select[Any]:
            owned_app = sa.select(applications.c.id, applications.c.name).where(
                applications.c.user_id == sa.bindparam("user_id", type_=Guid()), application
            )
            return sa.select(
                sa.select(claude_sessions.c.user_id)
                .where(claude_sessions.c.id == sa.bindparam("session_id", type_=Guid()))
                .scalar_subquery()
                .label("owner"),
                owned_app.with_only_columns(applications.c.id).scalar_subquery().label("app_id"),
                owned_app.with_only_columns(applications.c.name)
                .scalar_subquery()
                .label("app_name"),
            )

        url = applications.c.repository_url
        self.lookup_by_repository = lookup(url == sa.bindparam("repository_url", type_=sa.Text()))
        self.lookup_by_name = lookup(
            url.is_(None) & (applications.c.name == sa.bindparam("name", type_=sa.Text()))
        )
        upsert = insert(claude_sessions)
        changed = [
            c.name for c in claude_sessions.columns if c.name not in ("id", "user_id", "created_at")
        ]
        self.upsert_session = upsert.on_conflict_do_update(
            index_elements=["id"],
            set_={name: upsert.excluded[name] for name in changed},
            where=claude_sessions.c.user_id == upsert.excluded.user_id,
        ).returning(claude_sessions.c.created_at)
        type_id = (
            sa.select(command_types.c.id)
            .where(command_types.c.name == sa.bindparam("type_name", type_=sa.Text()))
            .scalar_subquery()
        )
        self.insert_runs = (
            insert(maintenance_runs)
            .values(
                id=sa.bindparam("id", type_=Guid()),
                application_id=sa.bindparam("application_id", type_=Guid()),
                session_id=sa.bindparam("session_id", type_=Guid()),
                command_type_id=type_id,
                command=sa.bindparam("command", type_=sa.Text()),
                status=sa.bindparam("status", type_=sa.Text()),
                results=sa.bindparam("results", type_=Document()),
                notes=sa.bindparam("notes", type_=sa.Text()),
                run_at=sa.bindparam("run_at", type_=Moment()),
            )
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(maintenance_runs.c.id)
        )
        self.insert_type = insert(command_types).on_conflict_do_nothing(index_elements=["name"])


def _check_ids(record: SessionRecord) -> None:
    if not is_uuid(record.id):
        raise InvalidRecord("The session id must be a UUID.", "id")
    if record.continues is not None and not is_uuid(record.continues):
        raise InvalidRecord("The id of the continued session must be a UUID.", "continues")
    for n, run in enumerate(record.maintenance_runs):
        if not is_uuid(run.id):
            raise InvalidRecord("A maintenance run id must be a UUID.", f"maintenance_runs.{n}.id")


def _insert(conn: Connection, table: sa.Table) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
