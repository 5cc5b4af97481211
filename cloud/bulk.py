"""Writing many rows of one table at once, in the session's transaction: COPY on PostgreSQL
(one stream, no statement per row), one executemany INSERT elsewhere (SQLite, the embedded
default).  Rows are dicts with the same keys, every column they need given (no Python-side
column defaults are applied here; the database's own, such as an id's sequence, are)."""


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
