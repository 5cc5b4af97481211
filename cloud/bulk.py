"""Writing many rows of one table at once, in the session's transaction: COPY on PostgreSQL
(one stream, no statement per row), one executemany INSERT elsewhere (SQLite, the embedded
default).  Rows are dicts with the same keys, every column they need given (no Python-side
column defaults are applied here; the database's own, such as an id's sequence, are)."""
from sqlalchemy import insert, text


def write(db, table, rows):
    """Insert `rows` into `table` (a sqlalchemy Table); nothing is committed."""
    if not rows:
        return 0
    conn = db.connection()
    if conn.dialect.name == "postgresql":
        columns = list(rows[0])
        cursor = conn.connection.driver_connection.cursor()       # the psycopg connection of this transaction
        try:
            with cursor.copy("COPY %s (%s) FROM STDIN" % (table.name, ", ".join('"%s"' % c for c in columns))) as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
        finally:
            cursor.close()
    else:
        conn.execute(table.insert(), rows)
    return len(rows)


def write_with_ids(db, table, rows):
    """Insert `rows` into `table`, whose primary key is an integer `id` the database numbers;
    returns the ids given, in the order of `rows`.  PostgreSQL: the ids are drawn from the
    column's sequence in one statement and the rows copied with them; elsewhere one INSERT ...
    RETURNING over all rows."""
    if not rows:
        return []
    conn = db.connection()
    if conn.dialect.name == "postgresql":
        ids = sorted(conn.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                                  {"t": table.name, "n": len(rows)}).scalars())
        write(db, table, [dict(row, id=i) for row, i in zip(rows, ids)])
        return ids
    return list(conn.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())
