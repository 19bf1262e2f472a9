"""The torture suite's independent consumer and judge.

Reads every topic (one per table, Debezium format) from the beginning with kafka-python, one
partition at a time in offset order, and
  * rebuilds each table by primary key: c/u/r set the row to the after image, d deletes it,
    tombstones and schema-change (DDL) messages are skipped; a key-changing update counts as a
    delete of the old key and a create of the new one, whether it arrives as d + c or as one u
    whose before and after keys differ;
  * matches every row message with the workload's journal of committed changes, identified by
    (table, op, id, ver) (ver of the after image; of the before image for a delete);
  * compares the rebuild with SELECT * on the replica, column by column for the columns the
    table has now. A column an image lacks is not comparable when the image is older than the
    column's ADD COLUMN (by the workload's statement counter), and a difference when it is newer.

Numbers (one "check:" line at the end, plus examples above it):
  rows_written    row changes the journal says were committed
  rows_delivered  distinct (table, file, pos, row) coordinates among the row messages
  duplicates      row messages delivered again with the same change at the same coordinates
                  (redeliveries of an invented message included)
  lost            rows of the table missing or different in the rebuild, plus committed
                  changes that no message carries
  invented        distinct messages of changes that were never committed (an identity the
                  journal lacks; rolled-back rows also carry the 'ROLLEDBACK' marker, and the
                  journal's statement numbers name the rolled-back transaction), copies of a
                  committed change at other coordinates (a transaction cut short at the end of a
                  binlog file, published, then applied again by the replica; or a rolled-back
                  delete of a row version that a later transaction deleted), and rows in the
                  rebuild the table does not have
  order           keys whose last delivered message is not their newest change by binlog
                  coordinates, keys whose messages are in more than one partition, and
                  messages whose Kafka key is not the row's key
Exit status 0 when lost, invented and order are all 0; 2 when the topics could not be read whole
(e.g. the broker dropped old messages), so that nothing can be concluded."""
import argparse
import bisect
import json
import sys
import time

import pymysql
from kafka import KafkaConsumer, TopicPartition

MARKER = "ROLLEDBACK"


def file_seq(name):
    try:
        return int(name.rsplit(".", 1)[1])
    except (IndexError, ValueError):
        return -1


def load_journal(path, tables):
    tix = {t: i for i, t in enumerate(tables)}
    committed = {}   # (table index, op, id, ver) -> coordinates first delivered at, or None
    added = {}       # (table index, column) -> statement number of its ADD COLUMN
    rows = txns = 0
    rolled = []      # (first ver, last ver, kind, xid) of rolled-back transactions
    with open(path) as f:
        for line in f:
            j = json.loads(line)
            if "rolledback" in j:
                rolled.append((j["vers"][0], j["vers"][1], j["rolledback"], j.get("xid")))
                continue
            if "ddl" in j:
                if j["ddl"] == "add":
                    added[(tix[j["table"]], j["col"])] = j["seq"]
                continue
            txns += 1
            rows += j["rows"]
            for t, op, i, ver in j.get("changes", ()):
                committed[(tix[t], op, i, ver)] = None
            for t, op, lo, hi, ver in j.get("runs", ()):
                ti = tix[t]
                for i in range(lo, hi + 1):
                    committed[(ti, op, i, ver)] = None
    rolled.sort()
    return committed, added, rows, txns, rolled


FILE_BASE = ["mysql-bin"]   # the binlog's base name, as the messages name their files


def coord(c):
    return f"{FILE_BASE[0]}.{c[0]:06d}:{c[1]}#{c[2]}"


class Judge:
    def __init__(self, tables, committed, added, examples, rolled):
        self.rolled = rolled
        self.rolled_starts = [r[0] for r in rolled]
        self.from_rollback = {}   # kind of rolled-back transaction -> messages of it published
        self.tables = tables
        self.committed = committed
        self.added = added
        self.nex = examples
        self.coords_seen = set()
        self.others = set()   # (identity, coordinates) of messages that are not a committed change's first
        self.msgs = self.tombstones = self.ddl_msgs = self.row_msgs = 0
        self.duplicates = self.copies = self.uncommitted = self.marker_msgs = 0
        self.split_updates = self.key_mismatch = self.cross_partition = 0
        self.undelivered_txns = 0
        self.keys = {}   # (table index, id) -> [partition, last coords, newest coords, row or None]
        self.ex = {}

    def example(self, kind, text):
        lst = self.ex.setdefault(kind, [])
        if len(lst) < self.nex:
            lst.append(text)

    @staticmethod
    def has_marker(img):
        return bool(img) and any(v == MARKER for v in img.values())

    def message(self, ti, partition, offset, key, value):
        self.msgs += 1
        if value is None:
            self.tombstones += 1
            return
        v = json.loads(value)
        if "op" not in v:
            self.ddl_msgs += 1
            return
        self.row_msgs += 1
        op, before, after, src = v["op"], v.get("before"), v.get("after"), v["source"]
        coords = (file_seq(src["file"]), src["pos"], src.get("row", 0))
        if self.row_msgs == 1 and "." in (src["file"] or ""):
            FILE_BASE[0] = src["file"].rsplit(".", 1)[0]
        where = f"{self.tables[ti]} p{partition}@{offset} {src['file']}:{src['pos']}#{src.get('row', 0)}"
        self.coords_seen.add((ti,) + coords)
        if self.has_marker(before) or self.has_marker(after):
            self.marker_msgs += 1
            self.example("marker", f"{where} op={op} before={before} after={after}")
        if op in ("c", "r"):
            changes = [("c", after)]
        elif op == "d":
            changes = [("d", before)]
        elif before is not None and before.get("id") != after.get("id"):
            self.split_updates += 1
            changes = [("d", before), ("c", after)]
        else:
            changes = [("u", after)]
        try:
            kid = json.loads(key).get("id") if key is not None else None
        except ValueError:
            kid = None
        if kid not in [img.get("id") for _, img in changes]:
            self.key_mismatch += 1
            self.example("key", f"{where} kafka key {key!r} names none of the row's keys")
        for cop, img in changes:
            rid = img.get("id")
            cid = (ti, cop, rid, img.get("ver"))
            if cid not in self.committed:
                if (cid, coords) in self.others:
                    self.duplicates += 1
                else:
                    self.others.add((cid, coords))
                    self.uncommitted += 1
                    origin = self.origin(img.get("ver")) if cop != "d" else None
                    kind = origin[2] if origin else "unknown"
                    self.from_rollback[kind] = self.from_rollback.get(kind, 0) + 1
                    self.example("uncommitted", f"{where} op={op} {cop} id={rid} ver={img.get('ver')}: "
                                                f"no committed change has this identity" +
                                                (f"; written by a {origin[2]} transaction that rolled back"
                                                 + (f" (XA '{origin[3]}')" if origin[3] else "") if origin else ""))
            else:
                first = self.committed[cid]
                if first is None:
                    self.committed[cid] = coords
                elif first == coords or (cid, coords) in self.others:
                    self.duplicates += 1
                else:
                    self.others.add((cid, coords))
                    self.copies += 1
                    self.example("copy", f"{where} op={op} {cop} id={rid} ver={img.get('ver')}: "
                                         f"the same change was already delivered from {coord(first)}")
            self.apply(ti, rid, partition, coords, img if cop != "d" else None, where)

    def origin(self, ver):
        """The rolled-back transaction that used statement number ver, if any."""
        if not isinstance(ver, int):
            return None
        i = bisect.bisect_right(self.rolled_starts, ver) - 1
        if i >= 0 and self.rolled[i][0] <= ver <= self.rolled[i][1]:
            return self.rolled[i]
        return None

    def apply(self, ti, rid, partition, coords, row, where):
        k = (ti, rid)
        st = self.keys.get(k)
        if st is None:
            self.keys[k] = [partition, coords, coords, row]
            return
        if st[0] != partition:
            # per-key order only exists within a partition; fall back on coordinates
            self.cross_partition += 1
            self.example("partition", f"{where} id={rid}: earlier messages of this key are in partition {st[0]}")
            if coords >= st[1]:
                st[1], st[3] = coords, row
        else:
            st[1], st[3] = coords, row
        if coords > st[2]:
            st[2] = coords

    def order_violations(self):
        n = 0
        for (ti, rid), st in self.keys.items():
            if st[1] != st[2]:
                n += 1
                self.example("order", f"{self.tables[ti]} id={rid}: last delivered change at "
                                      f"{coord(st[1])}, newest at {coord(st[2])}")
        return n


def read_topic(judge, ti, brokers, topic, timeout):
    """Feeds every message of topic to the judge, partition by partition. Returns an error text
    or None."""
    c = KafkaConsumer(bootstrap_servers=brokers.split(","), enable_auto_commit=False,
                      consumer_timeout_ms=1000, fetch_max_bytes=64 << 20,
                      max_partition_fetch_bytes=16 << 20, api_version_auto_timeout_ms=10000)
    deadline = time.time() + timeout
    parts = None
    while parts is None and time.time() < deadline:
        parts = c.partitions_for_topic(topic)
        if parts is None:
            time.sleep(0.2)
    if parts is None:
        c.close()
        return f"topic {topic} not found"
    err = None
    for p in sorted(parts):
        tp = TopicPartition(topic, p)
        c.assign([tp])
        first = c.beginning_offsets([tp])[tp]
        end = c.end_offsets([tp])[tp]
        if first != 0:
            err = (f"{topic} partition {p} starts at offset {first}: the broker dropped old messages, "
                   f"so the topic cannot be read whole")
            break
        c.seek_to_beginning(tp)
        nxt = 0
        while nxt < end:
            if time.time() > deadline:
                c.close()
                return f"{topic} partition {p}: read {nxt} of {end} messages before the timeout"
            for _, records in c.poll(timeout_ms=500, max_records=100000).items():
                for r in records:
                    if r.offset != nxt:
                        err = err or f"{topic} partition {p}: offset {r.offset} read where {nxt} was expected"
                    nxt = r.offset + 1
                    judge.message(ti, p, r.offset, r.key.decode() if r.key is not None else None,
                                  r.value)
    c.close()
    return err


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic-prefix", required=True, help="topics are PREFIX_<table>")
    ap.add_argument("--tables", default="t_small,t_other,t_big,t_ddl")
    ap.add_argument("--db", required=True)
    ap.add_argument("--port", type=int, required=True, help="the replica")
    ap.add_argument("--journal", required=True)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--examples", type=int, default=10)
    args = ap.parse_args()
    tables = args.tables.split(",")

    t0 = time.time()
    committed, added, rows_written, txns, rolled = load_journal(args.journal, tables)
    judge = Judge(tables, committed, added, args.examples, rolled)
    errors = []
    for ti, t in enumerate(tables):
        e = read_topic(judge, ti, args.brokers, f"{args.topic_prefix}_{t}", args.timeout)
        if e:
            errors.append(e)
    t_read = time.time() - t0

    conn = pymysql.connect(host="127.0.0.1", port=args.port, user="root", password="", database=args.db)
    cur = conn.cursor()
    missing = different = extra = not_comparable = 0
    for ti, t in enumerate(tables):
        cur.execute(f"SELECT * FROM `{t}`")
        cols = [d[0] for d in cur.description]
        present = set()
        for r in cur.fetchall():
            row = dict(zip(cols, r))
            rid = row["id"]
            present.add(rid)
            st = judge.keys.get((ti, rid))
            got = st[3] if st else None
            if got is None:
                missing += 1
                judge.example("missing", f"{t} id={rid} ver={row['ver']}: in the table, not in the rebuild"
                                         + (f" (the last change delivered deletes it, at {coord(st[1])})" if st else
                                            " (no message for this key)"))
                continue
            diffs = []
            for col in cols:
                if col not in got:
                    added_at = judge.added.get((ti, col))
                    if added_at is not None and (got.get("ver") or 0) > added_at:
                        diffs.append(f"{col}: absent from an image newer than its ADD COLUMN")
                    else:
                        not_comparable += 1
                    continue
                if got[col] != row[col]:
                    diffs.append(f"{col}: table {row[col]!r}, rebuild {got[col]!r}")
            if diffs:
                different += 1
                judge.example("different", f"{t} id={rid}: " + "; ".join(diffs))
        for (kti, rid), st in judge.keys.items():
            if kti == ti and st[3] is not None and rid not in present:
                extra += 1
                judge.example("extra", f"{t} id={rid} ver={st[3].get('ver')}: in the rebuild "
                                       f"(last change at {coord(st[1])}), not in the table")
    conn.close()

    undelivered = 0
    for cid, first in committed.items():
        if first is None:
            undelivered += 1
    if undelivered:
        # Which committed transactions they belong to (a second pass over the journal).
        tix = {t: i for i, t in enumerate(tables)}
        by_txn = []
        with open(args.journal) as f:
            for line in f:
                j = json.loads(line)
                if "txn" not in j:
                    continue
                n = tot = 0
                for t, op, i, ver in j.get("changes", ()):
                    tot += 1
                    n += committed.get((tix[t], op, i, ver), 0) is None
                for t, op, lo, hi, ver in j.get("runs", ()):
                    tot += hi - lo + 1
                    n += sum(committed.get((tix[t], op, i, ver), 0) is None for i in range(lo, hi + 1))
                if n:
                    by_txn.append((j["txn"], j["kind"], j.get("xid"), n, tot,
                                   next(iter(j.get("changes") or j.get("runs")))))
        judge.undelivered_txns = len(by_txn)
        for txn, kind, xid, n, tot, first in by_txn:
            judge.example("undelivered", f"transaction {txn} ({kind}{f' XA {xid!r}' if xid else ''}): {n} of its "
                                         f"{tot} changes never delivered, e.g. {first}")
    order = judge.order_violations() + judge.cross_partition + judge.key_mismatch
    lost = missing + different + undelivered
    invented = judge.uncommitted + judge.copies + extra

    for kind in ("undelivered", "missing", "different", "marker", "uncommitted", "copy", "extra",
                 "order", "partition", "key"):
        for e in judge.ex.get(kind, ()):
            print(f"  {kind}: {e}")
    for e in errors:
        print(f"  error: {e}")
    print(f"detail: messages={judge.msgs} row_messages={judge.row_msgs} tombstones={judge.tombstones} "
          f"ddl_messages={judge.ddl_msgs} journal_txns={txns} key_changes_as_one_update={judge.split_updates} "
          f"not_comparable_cells={not_comparable} read_seconds={t_read:.0f}")
    print(f"detail: lost = rows_missing={missing} + rows_different={different} + changes_undelivered={undelivered}"
          f" (of {judge.undelivered_txns} committed transactions)")
    print(f"detail: invented = uncommitted_messages={judge.uncommitted} + copies_at_other_coordinates={judge.copies} "
          f"+ rows_extra={extra}")
    print(f"detail: uncommitted messages by origin: "
          + (" ".join(f"{k}={v}" for k, v in sorted(judge.from_rollback.items())) or "none")
          + f"; messages with the {MARKER} marker (redeliveries included): {judge.marker_msgs}")
    print(f"detail: order = last_not_newest={order - judge.cross_partition - judge.key_mismatch} "
          f"+ cross_partition={judge.cross_partition} + wrong_kafka_key={judge.key_mismatch}")
    print(f"check: rows_written={rows_written} rows_delivered={len(judge.coords_seen)} "
          f"duplicates={judge.duplicates} lost={lost} invented={invented} order={order} "
          f"complete={0 if errors else 1}")
    if errors:
        return 2
    return 0 if lost == 0 and invented == 0 and order == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
