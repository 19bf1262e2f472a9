"""Writes a mixed workload (inserts, updates, deletes, a few multi-row transactions) into the
snapshot test's tables for --seconds, so that the snapshot runs while rows change under it.

Tables (created by tests/integration/snapshot.sh):
  big   (id INT PK, v INT, pad VARCHAR)           ids 1..100000 at the start
  comp  (a INT, b VARCHAR, ..., PRIMARY KEY(a,b))  composite key
  vkey  (k VARCHAR PK, amount DECIMAL, ...)        non-integer key
  nokey (x INT, y VARCHAR)                         no key (inserts only)
Updates touch ids all over the key range, so some rows change before the snapshot reads them
and some after. Prints "ops=N" at the end."""
import argparse
import random
import time

import pymysql


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--stop-file", default=None, help="also stop when this file exists")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    conn = pymysql.connect(host="127.0.0.1", port=args.port, user="root", password="", database=args.db,
                           charset="utf8mb4", autocommit=True)
    cur = conn.cursor()
    db = args.db
    next_big = 200000
    next_comp = 1000
    next_v = 0
    ops = 0
    end = time.time() + args.seconds
    while time.time() < end:
        r = rnd.random()
        if r < 0.35:
            cur.execute(f"UPDATE `{db}`.big SET v = v + 1, pad = %s WHERE id = %s",
                        (f"upd{ops}", rnd.randint(1, 100000)))
        elif r < 0.45:
            cur.execute(f"DELETE FROM `{db}`.big WHERE id = %s", (rnd.randint(1, 100000),))
        elif r < 0.55:
            next_big += 1
            cur.execute(f"INSERT INTO `{db}`.big VALUES (%s, 0, 'new')", (next_big,))
        elif r < 0.65:
            cur.execute(f"UPDATE `{db}`.comp SET d = d + 1.125, dt = NOW(6), e = %s, u = %s "
                        f"WHERE a = %s AND b = %s",
                        (rnd.choice(["x", "y", "z"]), "upd ✓ 😀", rnd.randint(1, 200), f"b{rnd.randint(0, 4)}"))
        elif r < 0.72:
            next_comp += 1
            cur.execute(f"INSERT INTO `{db}`.comp VALUES (%s, 'new', 1.5, NOW(6), 'z', NULL)", (next_comp,))
        elif r < 0.76:
            cur.execute(f"DELETE FROM `{db}`.comp WHERE a = %s", (rnd.randint(1, 200),))
        elif r < 0.84:
            cur.execute(f"UPDATE `{db}`.vkey SET amount = amount + 1, note = %s WHERE k = %s",
                        (f"n{ops}", f"key-{rnd.randint(1, 5000):05d}"))
        elif r < 0.88:
            next_v += 1
            cur.execute(f"INSERT INTO `{db}`.vkey VALUES (%s, 7.25, 'new')", (f"new-{next_v:05d}",))
        elif r < 0.90:
            cur.execute(f"DELETE FROM `{db}`.vkey WHERE k = %s", (f"key-{rnd.randint(1, 5000):05d}",))
        elif r < 0.95:
            cur.execute(f"INSERT INTO `{db}`.nokey VALUES (%s, 'w')", (ops,))
        else:
            # a transaction over several tables
            conn.begin()
            i = rnd.randint(1, 100000)
            cur.execute(f"UPDATE `{db}`.big SET v = v + 100 WHERE id BETWEEN %s AND %s", (i, i + 20))
            cur.execute(f"UPDATE `{db}`.vkey SET amount = amount - 1 WHERE k = %s",
                        (f"key-{rnd.randint(1, 5000):05d}",))
            conn.commit()
        ops += 1
        if args.stop_file and ops % 100 == 0:
            try:
                open(args.stop_file).close()
                break
            except OSError:
                pass
    conn.close()
    print(f"ops={ops}")


if __name__ == "__main__":
    main()
