#!/usr/bin/python3
"""type_matrix_check.py: compare decoded binlog rows with what SELECT returns, cell by cell.

Reads the JSON lines a decoder printed (`bintail decode --format json`, one row change per line:
an object with the database ("db"/"database"/"schema"), "table" and the row image under "after"
(or "data")), SELECTs the same tables from the server, turns each SELECT value into the typed JSON
value bintail's README promises (the "Values" table), and compares. Only inserted rows are
compared (a line whose "before" is empty), matched on the tables' `id` column.

Output, one line per check, for the shell test to turn into TAP:
    RESULT <TAB> 0|1 <TAB> description
and '# ...' diagnostic lines for each mismatch.

SELECT-side conversions (raw text as the server sends it, no client-side type conversion):
    integer types, YEAR, BIT     -> numbers (BIT from its big-endian bytes)
    DECIMAL                      -> the text as is
    FLOAT                        -> compared as float32 (SELECT CAST(col AS DOUBLE) gives the exact value)
    DOUBLE                       -> compared as float64
    DATE, DATETIME, TIME         -> the text as is (the server prints exactly the column's fsp digits)
    TIMESTAMP                    -> read in UTC; 'YYYY-MM-DDTHH:MM:SS[.f]Z'
    text types, ENUM, JSON       -> the string (the server converts every charset to utf8mb4)
    SET                          -> list of members
    binary types                 -> base64 of the bytes
    GEOMETRY family              -> base64 of the WKB (the stored bytes without the 4-byte SRID)
"""
import argparse
import base64
import json
import struct
import sys

import pymysql

BINARY_TYPES = {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"}
GEOMETRY_TYPES = {"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
                  "multipolygon", "geometrycollection"}
INT_TYPES = {"tinyint", "smallint", "mediumint", "int", "bigint", "year"}


def expected(dtype, raw):
    """SELECT's raw value -> (kind, value) to compare with the decoded JSON value."""
    if raw is None:
        return ("exact", None)
    if isinstance(raw, bytes) and dtype not in BINARY_TYPES and dtype not in GEOMETRY_TYPES and dtype != "bit":
        raw = raw.decode("utf-8")
    if dtype in INT_TYPES:
        return ("exact", int(raw))
    if dtype == "bit":
        return ("exact", int.from_bytes(raw, "big"))
    if dtype == "decimal":
        return ("exact", raw)
    if dtype == "float":
        return ("float32", float(raw))
    if dtype == "double":
        return ("float64", float(raw))
    if dtype == "timestamp":
        if raw.startswith("0000-00-00"):
            return ("exact", "0000-00-00T00:00:00" + raw[19:] + "Z")
        return ("exact", raw.replace(" ", "T") + "Z")
    if dtype == "json":  # MySQL's native JSON (MariaDB's is longtext): compared as a value
        return ("json", json.loads(raw))
    if dtype == "set":
        return ("exact", raw.split(",") if raw else [])
    if dtype in BINARY_TYPES:
        return ("exact", base64.b64encode(raw).decode())
    if dtype in GEOMETRY_TYPES:
        return ("exact", base64.b64encode(raw[4:]).decode())
    return ("exact", raw)


def same(kind, want, got):
    if kind == "json":
        return want == got
    if kind == "float32":
        if not isinstance(got, (int, float)) or isinstance(got, bool):
            return False
        return struct.pack("<f", float(got)) == struct.pack("<f", want)
    if kind == "float64":
        return isinstance(got, (int, float)) and not isinstance(got, bool) and float(got) == want
    if type(want) is int and type(got) is not int:
        return False
    return want == got


def first(d, *keys):
    for k in keys:
        if k in d:
            return d[k]
    return None


def decoded_rows(path, db):
    """{table: {id: row}} of the inserted rows of database db."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if not isinstance(ev, dict):
                continue
            src = ev.get("source") if isinstance(ev.get("source"), dict) else {}
            if first(ev, "db", "database", "schema") != db and first(src, "db", "database") != db:
                continue
            table = first(ev, "table") or first(src, "table")
            after = first(ev, "after", "data")
            before = ev.get("before")
            if not table or not isinstance(after, dict) or before:
                continue
            if "id" not in after:
                continue
            out.setdefault(table, {})[after["id"]] = after
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", default="root")
    ap.add_argument("--db", required=True)
    ap.add_argument("--decoded", required=True)
    a = ap.parse_args()

    conn = pymysql.connect(host=a.host, port=a.port, user=a.user, password="", database=a.db,
                           charset="utf8mb4", conv={})
    cur = conn.cursor()
    cur.execute("SET time_zone = '+00:00'")
    cur.execute("SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME, ORDINAL_POSITION", (a.db,))
    tables = {}
    for t, c, dt in cur.fetchall():
        tables.setdefault(t, []).append((c, dt.lower()))

    got = decoded_rows(a.decoded, a.db)
    total = 0
    for table, cols in sorted(tables.items()):
        sel = ", ".join(f"CAST(`{c}` AS DOUBLE)" if dt == "float" else f"`{c}`" for c, dt in cols)
        cur.execute(f"SELECT {sel} FROM `{table}` ORDER BY id")
        rows = cur.fetchall()
        drows = got.get(table, {})
        bad = []
        cells = 0
        for row in rows:
            rid = int(row[0])
            d = drows.get(rid)
            if d is None:
                bad.append(f"row id={rid}: not in the decoded output")
                continue
            for (c, dt), raw in zip(cols, row):
                cells += 1
                kind, want = expected(dt, raw)
                if c not in d:
                    bad.append(f"id={rid} {c} ({dt}): missing from the decoded row")
                elif not same(kind, want, d[c]):
                    bad.append(f"id={rid} {c} ({dt}): decoded {json.dumps(d[c], ensure_ascii=False)[:300]}"
                               f" != SELECT {json.dumps(want, ensure_ascii=False)[:300]}")
        extra = set(drows) - {int(r[0]) for r in rows}
        if extra:
            bad.append(f"decoded rows not in the table: ids {sorted(extra)}")
        total += cells
        for b in bad[:40]:
            print(f"# {table}: {b}")
        if len(bad) > 40:
            print(f"# {table}: ... {len(bad) - 40} more")
        print(f"RESULT\t{1 if bad or not rows else 0}\t{table}: {len(rows)} rows, {cells} cells equal SELECT")
    print(f"RESULT\t{0 if total else 1}\t{len(tables)} tables, {total} cells compared in all")


if __name__ == "__main__":
    sys.exit(main())
