"""The task store: every task, its owner, state and logs, kept across restarts.

Embedded SQLite (one file) by default; PostgreSQL when the settings' `store` is a postgresql:// URL (psycopg 3). The
SQL is one text for both, written with `?` placeholders; only the table's sequence column and how a connection is
opened differ (databases.py).

A task is stored as the document the API serves in its FULL view; its state, owner, name, creation order and tags are
columns as well, so that listing filters and pages in SQL rather than in memory. Listing is newest first; a page token
is the creation sequence number of the last task of the previous page, so pages stay stable while tasks are added.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .databases import StoreUnavailable, open_database
from .models import State

__all__ = ["BadPageToken", "Query", "StoreUnavailable", "TaskStore"]

# {seq} is the dialect's auto-numbered key column (databases.py).
SCHEMA = """
create table if not exists task (
    seq {seq},
    id text unique not null,
    owner text not null,
    name text not null default '',
    state text not null,
    created real not null,
    document text not null
);
create index if not exists task_owner_seq on task (owner, seq);
create index if not exists task_state on task (state);
create table if not exists task_tag (
    seq integer not null references task (seq) on delete cascade,
    key text not null,
    value text not null,
    primary key (seq, key)
);
create index if not exists task_tag_key_value on task_tag (key, value);
"""


class BadPageToken(ValueError):
    """A page_token this store did not hand out."""


@dataclass
class Query:
    """What GET /tasks asks for; owner None means every owner's tasks (an admin)."""

    owner: str | None = None
    name_prefix: str | None = None
    state: State | None = None
    tags: dict[str, str] = field(default_factory=dict)
    page_size: int = 256
    page_token: str | None = None
    # MINIMAL: only ids and states are read. max_bytes: a page ends early once its tasks' documents pass it (never
    # empty), so one page of large tasks cannot take the service's memory.
    minimal: bool = False
    max_bytes: int | None = None


def _encode_token(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode()


def _decode_token(token: str) -> int:
    try:
        kind, colon, seq = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind != "seq" or not colon:
            raise ValueError(kind)
        number = int(seq)
        if not 0 < number < 2**63:  # a database integer
            raise ValueError(seq)
        return number
    except (ValueError, UnicodeDecodeError) as error:
        raise BadPageToken("page_token: not a token this service handed out") from error


class TaskStore:
    def __init__(self, location: str) -> None:
        """location: a SQLite file's path, or a postgresql:// URL."""
        self._db = open_database(location, SCHEMA)

    def close(self) -> None:
        self._db.close()

    def create(self, owner: str, task: dict[str, Any], now: float | None = None) -> dict[str, Any]:
        """Store a new task (QUEUED) and return its document."""
        created = time.time() if now is None else now
        document = {"logs": [], **task, "id": uuid.uuid4().hex, "state": State.QUEUED.value,
                    "creation_time": _rfc3339(created)}
        with self._db.transaction() as db:
            seq = db.execute(
                "insert into task (id, owner, name, state, created, document) values (?, ?, ?, ?, ?, ?) returning seq",
                (document["id"], owner, task.get("name") or "", document["state"], created,
                 json.dumps(document)))[0]["seq"]
            for key, value in (task.get("tags") or {}).items():
                db.execute("insert into task_tag (seq, key, value) values (?, ?, ?)", (seq, key, value))
        return document

    def get(self, task_id: str) -> tuple[str, dict[str, Any]] | None:
        """The task's owner and document, or None."""
        rows = self._db.query("select owner, document from task where id = ?", (task_id,))
        return (rows[0]["owner"], json.loads(rows[0]["document"])) if rows else None

    def update(self, task_id: str, state: State | None = None, **fields: Any) -> dict[str, Any] | None:
        """Set the task's state and top-level fields (logs, say); a task in a final state keeps it."""
        with self._db.transaction() as db:
            rows = db.execute("select document from task where id = ?", (task_id,))
            if not rows:
                return None
            document = json.loads(rows[0]["document"])
            if state is not None and not State(document["state"]).final:
                document["state"] = state.value
            document.update(fields)
            db.execute("update task set state = ?, document = ? where id = ?",
                       (document["state"], json.dumps(document), task_id))
        return document

    def unfinished(self) -> list[dict[str, Any]]:
        """Every task not yet in a final state: what a restarted service reconciles."""
        finals = [s.value for s in State if s.final]
        rows = self._db.query(
            f"select document from task where state not in ({', '.join('?' * len(finals))}) order by seq", finals)
        return [json.loads(row["document"]) for row in rows]

    def list(self, query: Query) -> tuple[list[dict[str, Any]], str | None]:
        """One page of tasks, newest first, and the token of the next page (None on the last)."""
        where, args = [], []
        if query.owner is not None:
            where.append("t.owner = ?")
            args.append(query.owner)
        if query.name_prefix:
            # substr, not like: SQLite's like ignores case, and a prefix needs no escaping this way.
            where.append("substr(t.name, 1, ?) = ?")
            args.extend([len(query.name_prefix), query.name_prefix])
        if query.state is not None:
            where.append("t.state = ?")
            args.append(query.state.value)
        for key, value in query.tags.items():
            # An empty value matches any value of the key (the spec's table).
            where.append("exists (select 1 from task_tag g where g.seq = t.seq and g.key = ?"
                         + (" and g.value = ?)" if value else ")"))
            args.extend([key, value] if value else [key])
        if query.page_token:
            where.append("t.seq < ?")
            args.append(_decode_token(query.page_token))
        columns = "t.seq, t.id, t.state" if query.minimal else "t.seq, length(t.document) as size"
        sql = (f"select {columns} from task t" + (" where " + " and ".join(where) if where else "")
               + " order by t.seq desc limit ?")
        rows = self._db.query(sql, [*args, query.page_size + 1])
        page = rows[:query.page_size] if query.minimal else _within(rows[:query.page_size], query.max_bytes)
        token = _encode_token(page[-1]["seq"]) if len(rows) > len(page) else None
        if query.minimal or not page:
            return [{"id": row["id"], "state": row["state"]} for row in page], token
        # The page's documents: the same filters over the page's range of the key (a range scan, not a list of keys).
        documents = self._db.query(
            "select t.document from task t where " + " and ".join([*where, "t.seq between ? and ?"])
            + " order by t.seq desc", [*args, page[-1]["seq"], page[0]["seq"]])
        return [json.loads(row["document"]) for row in documents], token


def _within(rows: list[dict[str, Any]], max_bytes: int | None) -> list[dict[str, Any]]:
    """The first rows whose documents fit in max_bytes, and always the first one."""
    total = 0
    for count, row in enumerate(rows):
        total += row["size"]
        if max_bytes is not None and total > max_bytes and count:
            return rows[:count]
    return rows


def _rfc3339(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp)) + f".{int(timestamp % 1 * 1e6):06d}Z"
