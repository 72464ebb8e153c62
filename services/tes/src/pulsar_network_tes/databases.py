"""The task store's two databases behind one small interface: embedded SQLite (a file path) and PostgreSQL (a
postgresql:// URL, with psycopg 3).

Both take the store's SQL as written, with `?` placeholders. Each holds one connection, shared by the service's
threads under a lock: the service is the store's only writer, and SQLite serialises writers anyway. A PostgreSQL
connection that broke (the server restarted, the network blipped) is opened again, and a call's first statement is
tried once more on it; a call that cannot reach the database raises StoreUnavailable, which the API answers 503.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Protocol, Sequence, TypeVar

Row = dict[str, Any]
T = TypeVar("T")


class StoreUnavailable(RuntimeError):
    """The database cannot be reached or refused the connection; the message says which and why, without secrets."""


class Executor(Protocol):
    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[Row]: ...


class Database(Protocol):
    def query(self, sql: str, args: Sequence[Any] = ()) -> list[Row]: ...
    def transaction(self) -> Any: ...
    def close(self) -> None: ...


class SQLiteDatabase:
    SEQ = "integer primary key autoincrement"

    def __init__(self, path: str, schema: str) -> None:
        self._lock = threading.Lock()
        try:
            self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as error:
            raise StoreUnavailable(f"store: {path}: {error}") from error
        self._conn.row_factory = sqlite3.Row
        with self._lock:
            self._conn.execute("pragma journal_mode = wal")
            self._conn.execute("pragma foreign_keys = on")
            self._conn.executescript(schema.format(seq=self.SEQ))

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return [dict(row) for row in self._conn.execute(sql, tuple(args)).fetchall()]

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            return self.execute(sql, args)

    @contextmanager
    def transaction(self) -> Iterator[Executor]:
        with self._lock:
            self._conn.execute("begin immediate")
            try:
                yield self
            except BaseException:
                self._conn.execute("rollback")
                raise
            self._conn.execute("commit")

    def close(self) -> None:
        self._conn.close()


class PostgreSQLDatabase:
    SEQ = "bigint generated always as identity primary key"

    def __init__(self, url: str, schema: str) -> None:
        try:
            import psycopg  # noqa: F401  (only a PostgreSQL store needs it)
        except ImportError as error:
            raise StoreUnavailable("store: a postgresql:// store needs the psycopg package") from error
        self._url, self._lock, self._conn = url, threading.Lock(), None
        with self._guard():
            self._connection().execute(schema.format(seq=self.SEQ))

    def _connection(self) -> Any:
        import psycopg
        from psycopg.rows import dict_row

        if self._conn is None or self._conn.closed or self._conn.broken:
            try:
                self._conn = psycopg.connect(self._url, autocommit=True, row_factory=dict_row, connect_timeout=10)
            except psycopg.Error as error:
                # psycopg's message names host, port and user, never the password.
                raise StoreUnavailable(f"store: PostgreSQL: {_first_line(error)}") from error
        return self._conn

    @contextmanager
    def _guard(self) -> Iterator[None]:
        import psycopg

        with self._lock:
            try:
                yield
            except psycopg.OperationalError as error:
                raise StoreUnavailable(f"store: PostgreSQL: {_first_line(error)}") from error

    def _first_statement(self, work: Callable[[Any], T]) -> T:
        """A call's first statement (a read, or BEGIN), once more on a new connection if the server dropped the old
        one since the last call: a restarted server costs no failed request."""
        import psycopg

        conn = self._connection()
        try:
            return work(conn)
        except psycopg.OperationalError:
            if not conn.broken:
                raise
            return work(self._connection())

    def _run(self, conn: Any, sql: str, args: Sequence[Any]) -> list[Row]:
        cursor = conn.execute(sql.replace("?", "%s"), tuple(args))
        return cursor.fetchall() if cursor.description else []

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        with self._guard():
            return self._first_statement(lambda conn: self._run(conn, sql, args))

    @contextmanager
    def transaction(self) -> Iterator[Executor]:
        with self._guard():
            conn = self._first_statement(_begin)
            try:
                yield _Bound(self, conn)
            except BaseException:
                if not conn.broken:
                    conn.execute("rollback")
                raise
            conn.execute("commit")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


class _Bound:
    """A PostgreSQL connection inside one transaction."""

    def __init__(self, database: PostgreSQLDatabase, conn: Any) -> None:
        self._database, self._conn = database, conn

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return self._database._run(self._conn, sql, args)  # pylint: disable=protected-access


def _begin(conn: Any) -> Any:
    conn.execute("begin")
    return conn


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def open_database(location: str, schema: str) -> Database:
    """SQLite for a path, PostgreSQL for a postgresql:// (or postgres://) URL."""
    if location.startswith(("postgresql://", "postgres://")):
        return PostgreSQLDatabase(location, schema)
    return SQLiteDatabase(location, schema)
