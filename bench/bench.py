"""bench.py: the Python half of bench/run (run with /usr/bin/python3, which sees Debian's
python3-kafka and python3-pymysql).

Subcommands:
  rec FILE key=value...         append one JSON record to FILE (numbers stay numbers)
  count --brokers B --topic T   print how many messages topic T holds (sum of partition end offsets)
  lat-write --port P --rate R --seconds S [--max-stmts N]
                                paced autocommit INSERTs into bench.lat, each row carrying NOW(6);
                                prints {"rows","stmts","elapsed_s","rate"} as JSON
  lat-consume --brokers B --topic T --tag TAG --ready FILE --out FILE [--timeout S]
                                reads bench.lat's Debezium messages from the topic's end: creates
                                FILE.listening when positioned, FILE when the warmup-TAG row arrived,
                                measures every row up to the stop-TAG row and writes the
                                latencies' percentiles (JSON) to --out
  rss-sample PID OUT            VmRSS of PID every 0.25 s until it exits, one "t_s kB" line each
  report RAW META OUT           render RESULTS.md from the raw records and the run's metadata
"""
import argparse
import datetime
import json
import math
import os
import statistics
import sys
import time

# ----------------------------------------------------------------------------- records


def cmd_rec(argv):
    path, pairs = argv[0], argv[1:]
    r = {}
    for p in pairs:
        k, _, v = p.partition("=")
        try:
            r[k] = int(v)
        except ValueError:
            try:
                f = float(v)
                r[k] = f if math.isfinite(f) else v
            except ValueError:
                r[k] = v
    with open(path, "a") as f:
        f.write(json.dumps(r) + "\n")


def cmd_count(argv):
    ap = argparse.ArgumentParser(prog="bench.py count")
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    a = ap.parse_args(argv)
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=a.brokers.split(","), enable_auto_commit=False,
                      api_version_auto_timeout_ms=10000)
    parts = c.partitions_for_topic(a.topic) or set()
    tps = [TopicPartition(a.topic, p) for p in sorted(parts)]
    ends = c.end_offsets(tps) if tps else {}
    # Every run uses a fresh broker, so the end offsets count every message appended. (The
    # local mock broker keeps only the newest few MB per partition, so counting from the
    # beginning offsets would under-count what was delivered.)
    print(sum(ends[tp] for tp in tps))
    c.close()


# ----------------------------------------------------------------------------- latency


def connect(port):
    import pymysql

    return pymysql.connect(host="127.0.0.1", port=port, user="root", password="", database="bench",
                           autocommit=True)


def cmd_lat_write(argv):
    ap = argparse.ArgumentParser(prog="bench.py lat-write")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rate", type=float, required=True, help="rows per second")
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--max-stmts", type=float, default=1000,
                    help="at most this many INSERT statements (transactions) per second; above it each "
                         "statement carries several rows")
    ap.add_argument("--marker", default="", help="insert one row with this pad (warmup, stop) and exit")
    a = ap.parse_args(argv)
    db = connect(a.port)
    cur = db.cursor()
    cur.execute("SET time_zone='+00:00'")
    if a.marker:
        cur.execute("INSERT INTO lat (committed_at, pad) VALUES (NOW(6), %s)", (a.marker,))
        return
    per = max(1, math.ceil(a.rate / a.max_stmts))  # rows per statement
    interval = per / a.rate
    one = "(NOW(6), '" + "row-" + "x" * 56 + "')"  # fills pad CHAR(60) exactly
    stmt = "INSERT INTO lat (committed_at, pad) VALUES " + ",".join([one] * per)
    n_stmts = int(round(a.seconds * a.rate / per))
    t0 = time.perf_counter()
    for i in range(n_stmts):
        due = t0 + i * interval
        d = due - time.perf_counter()
        if d > 0:
            time.sleep(d)
        cur.execute(stmt)
    el = time.perf_counter() - t0
    print(json.dumps({"rows": n_stmts * per, "stmts": n_stmts, "rows_per_stmt": per, "elapsed_s": el,
                      "rate": n_stmts * per / el}))


def pct(sorted_vals, p):
    if not sorted_vals:
        return float("nan")
    k = max(0, min(len(sorted_vals) - 1, math.ceil(p / 100 * len(sorted_vals)) - 1))
    return sorted_vals[k]


def cmd_lat_consume(argv):
    ap = argparse.ArgumentParser(prog="bench.py lat-consume")
    ap.add_argument("--brokers", required=True)
    ap.add_argument("--topic", required=True)
    ap.add_argument("--ready", required=True, help="file created once the warmup row was seen")
    ap.add_argument("--out", required=True)
    ap.add_argument("--tag", required=True, help="markers are the rows with pad warmup-TAG and stop-TAG")
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args(argv)
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=a.brokers.split(","), enable_auto_commit=False,
                      fetch_max_wait_ms=5, fetch_min_bytes=1, api_version_auto_timeout_ms=10000,
                      max_partition_fetch_bytes=8 << 20)
    deadline = time.time() + a.timeout
    parts = None
    while not parts and time.time() < deadline:
        parts = c.partitions_for_topic(a.topic)
        if not parts:
            time.sleep(0.1)
    if not parts:
        print(f"lat-consume: topic {a.topic} not found", file=sys.stderr)
        return 1
    tps = [TopicPartition(a.topic, p) for p in sorted(parts)]
    c.assign(tps)
    c.seek_to_end(*tps)
    for tp in tps:
        c.position(tp)  # resolve the end offsets now, before any marker is written
    open(a.ready + ".listening", "w").close()
    epoch = datetime.datetime(1970, 1, 1)
    produce_ms, consume_ms = [], []
    ready = stopped = False
    while not stopped and time.time() < deadline:
        batch = c.poll(timeout_ms=100, max_records=100000)
        now = time.time()
        for records in batch.values():
            for r in records:
                if r.value is None:
                    continue
                after = json.loads(r.value).get("after") or {}
                pad = after.get("pad", "")
                if pad == "warmup-" + a.tag:
                    ready = True
                    continue
                if pad == "stop-" + a.tag:
                    stopped = True
                    continue
                if not ready:
                    continue
                ts = after["committed_at"]  # "YYYY-MM-DD HH:MM:SS.ffffff", UTC (session time_zone)
                dt = datetime.datetime.strptime(ts, "%Y-%m-%d %H:%M:%S.%f")
                commit = (dt - epoch).total_seconds()
                produce_ms.append(r.timestamp - commit * 1000.0)
                consume_ms.append((now - commit) * 1000.0)
        if ready and not os.path.exists(a.ready):
            open(a.ready, "w").close()
    c.close()
    produce_ms.sort()
    consume_ms.sort()
    res = {"n": len(consume_ms), "stopped": stopped}
    for name, v in (("produce", produce_ms), ("consume", consume_ms)):
        for p in (50, 99):
            res[f"p{p}_{name}_ms"] = pct(v, p)
        res[f"max_{name}_ms"] = v[-1] if v else float("nan")
    with open(a.out, "w") as f:
        json.dump(res, f)
    return 0 if stopped else 3


def cmd_rss_sample(argv):
    pid, out = int(argv[0]), argv[1]
    t0 = time.time()
    with open(out, "w") as f:
        while True:
            try:
                with open(f"/proc/{pid}/status") as s:
                    kb = next((int(l.split()[1]) for l in s if l.startswith("VmRSS:")), None)
            except OSError:
                break
            if kb is None:  # a zombie has no VmRSS
                break
            f.write(f"{time.time() - t0:.2f} {kb}\n")
            f.flush()
            time.sleep(0.25)


# ----------------------------------------------------------------------------- report


def fmt_num(x, digits=3):
    """Three significant digits, thousands separated: 1,234,000 / 56.7 / 0.123."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    if x == 0:
        return "0"
    mag = math.floor(math.log10(abs(x)))
    dec = max(0, digits - 1 - mag)
    if dec == 0:
        r = round(x, digits - 1 - mag)
        return f"{int(r):,}"
    return f"{x:,.{dec}f}"


def fmt_rate(x):
    return fmt_num(x)


class Group:
    def __init__(self, recs):
        self.recs = recs
        self.ok = [r for r in recs if "error" not in r and "na" not in r]
        self.errors = [r["error"] for r in recs if "error" in r]
        self.na = next((r["na"] for r in recs if "na" in r), None)

    def vals(self, f):
        out = []
        for r in self.ok:
            try:
                v = f(r)
            except (KeyError, ZeroDivisionError, TypeError):
                continue
            if v is not None and math.isfinite(v):
                out.append(v)
        return out

    def stat(self, f):
        v = self.vals(f)
        if not v:
            return None
        return statistics.median(v), min(v), max(v)

    def cell(self, f, fmt=fmt_num):
        if self.na:
            return f"n/a ({self.na})"
        s = self.stat(f)
        if s is None:
            return "FAILED" if self.errors else "n/a"
        med, lo, hi = s
        if len(self.vals(f)) == 1:
            return fmt(med)
        return f"{fmt(med)} ({fmt(lo)}–{fmt(hi)})"


def rows_per_s(r):
    return r["rows"] / r["secs"]


def mb_per_s(r):
    return r["bytes"] / r["secs"] / 1e6


def cmd_report(argv):
    raw, meta_path, out = argv
    recs = [json.loads(l) for l in open(raw) if l.strip()] if os.path.exists(raw) else []
    meta = json.load(open(meta_path))

    def group(step, case=None, tool=None):
        return Group([r for r in recs if r.get("step") == step and (case is None or str(r.get("case")) == str(case))
                      and (tool is None or r.get("tool") == tool)])

    L = []
    w = L.append
    w("# bintail benchmark results")
    w("")
    w(f"Produced by `bench/run{' --quick' if meta['quick'] else ''}` on {meta['date']}. "
      f"Each figure is the median of {meta['runs']} run{'s' if meta['runs'] > 1 else ''}"
      f"{' with (min–max)' if meta['runs'] > 1 else ''}. "
      "Methods and caveats: [docs/benchmarks.md](../docs/benchmarks.md).")
    w("")
    w("| machine | |")
    w("|---|---|")
    for k in ("cpu", "cores", "memory", "kernel", "bintail", "bintail build", "mariadb", "librdkafka", "node", "zongji"):
        w(f"| {k} | {meta.get(k, '?')} |")
    w("")

    # ---- summary of targets
    summary = []

    def verdict(ok):
        return "n/a" if ok is None else ("**met**" if ok else "**not met**")

    def med(g, f):
        s = g.stat(f)
        return s[0] if s else None

    # decode ratio on the 1M-insert file
    rows_ratio = {}
    for case in meta["decode_cases"]:
        b = med(group("decode", case, "bintail"), rows_per_s)
        m = med(group("decode", case, "mariadb-binlog"), rows_per_s)
        rows_ratio[case] = b / m if b and m else None
    r = rows_ratio.get("inserts")
    worst = [v for v in rows_ratio.values() if v]
    summary.append(("decode ≥ 2× mariadb-binlog rows/s", f"{fmt_num(r)}× on inserts"
                    + (f" (lowest {fmt_num(min(worst))}× over all files)" if worst else ""),
                    verdict(None if r is None else min(worst) >= 2)))
    e = med(group("e2e", "lz4", "bintail"), rows_per_s)
    summary.append(("end to end ≥ 300k rows/s with lz4 (2 cores)", f"{fmt_rate(e)} rows/s",
                    verdict(None if e is None else e >= 300000)))
    g = group("memory", "single", "bintail")
    peak = med(g, lambda r: r["rss_kb"] / 1024)
    growth = med(g, lambda r: r["rss_growth_kb"] / 1024)
    summary.append((f"peak RSS < 64 MB and flat, {meta['mem_rows_h']}-row transaction",
                    f"{fmt_num(peak)} MB peak, {fmt_num(growth)} MB growth over the second half",
                    verdict(None if peak is None else (peak < 64 and (growth or 0) < 8))))
    lat10 = med(group("latency", meta["lat_rates"][-1], "bintail"), lambda r: r["p99_consume_ms"])
    summary.append((f"p99 commit→consumer-visible < 50 ms at {meta['lat_rates'][-1]:,} rows/s",
                    f"{fmt_num(lat10)} ms", verdict(None if lat10 is None else lat10 < 50)))
    gs = group("snapshot", 1, "bintail")
    s1 = med(gs, rows_per_s)
    summary.append(("snapshot ≥ 200k rows/s, 1 thread",
                    f"n/a ({gs.na})" if gs.na else f"{fmt_rate(s1)} rows/s",
                    verdict(None if s1 is None else s1 >= 200000)))
    w("## Targets")
    w("")
    w("| target | measured (median) | status |")
    w("|---|---|---|")
    for t, m_, v in summary:
        w(f"| {t} | {m_} | {v} |")
    w("")

    # ---- 1. decode
    w("## 1. Decode (offline, one binlog file, output to /dev/null)")
    w("")
    w("`bintail decode --format debezium FILE` vs `mariadb-binlog --no-defaults -v --base64-output=decode-rows FILE`.")
    w("")
    w("| file | row changes | binlog MB | bintail rows/s | bintail MB/s | mariadb-binlog rows/s | mariadb-binlog MB/s | ratio (rows/s) |")
    w("|---|---|---|---|---|---|---|---|")
    for case in meta["decode_cases"]:
        gb, gm = group("decode", case, "bintail"), group("decode", case, "mariadb-binlog")
        info = meta["files"][case]
        w(f"| {info['label']} | {info['rows']:,} | {info['bytes'] / 1e6:,.1f} | {gb.cell(rows_per_s, fmt_rate)} | "
          f"{gb.cell(mb_per_s)} | {gm.cell(rows_per_s, fmt_rate)} | {gm.cell(mb_per_s)} | "
          f"{fmt_num(rows_ratio.get(case))}× |")
    w("")

    # ---- 2. end to end
    e2e = meta["files"]["e2e"]
    w("## 2. End to end (binlog files → local Kafka-protocol broker, acks=all, idempotent)")
    w("")
    w(f"{e2e['rows']:,} row changes ({e2e['label']}), {e2e['bytes'] / 1e6:,.1f} MB of binlog, Debezium format. "
      "bintail: `bintail --binlog-dir DIR --kafka BROKERS --stop-at-end --start earliest --snapshot never "
      "--compression CODEC`, wall time from start until it exits after the last delivery report. "
      "zongji: the same rows read from the server over the replication protocol and decoded to JS objects "
      "(no Kafka), wall time from start() to the last row.")
    w("")
    w("| path | codec | rows/s | binlog MB/s | peak RSS MB |")
    w("|---|---|---|---|---|")
    for codec in meta["codecs"]:
        g = group("e2e", codec, "bintail")
        w(f"| bintail → Kafka | {codec} | {g.cell(rows_per_s, fmt_rate)} | {g.cell(mb_per_s)} | "
          f"{g.cell(lambda r: r['rss_kb'] / 1024)} |")
    g = group("e2e", "lz4-noheaders", "bintail")
    if g.recs:
        w(f"| bintail → Kafka, `--kafka-headers off` | lz4 | {g.cell(rows_per_s, fmt_rate)} | {g.cell(mb_per_s)} | "
          f"{g.cell(lambda r: r['rss_kb'] / 1024)} |")
    g = group("e2e", "zongji", "zongji")
    w(f"| @vlasky/zongji {meta.get('zongji', '')} (Node {meta.get('node', '')}), decode only | – | "
      f"{g.cell(rows_per_s, fmt_rate)} | {g.cell(mb_per_s)} | {g.cell(lambda r: r['rss_kb'] / 1024)} |")
    w("")

    # ---- 3. memory
    w("## 3. Memory (peak RSS, `/usr/bin/time -v`, to the broker with lz4)")
    w("")
    w("| workload | row changes | binlog MB | peak RSS MB | RSS growth over the second half MB | rows/s |")
    w("|---|---|---|---|---|---|")
    for case in ("single", "small"):
        g = group("memory", case, "bintail")
        info = meta["files"]["mem_" + case]
        w(f"| {info['label']} | {info['rows']:,} | {info['bytes'] / 1e6:,.1f} | {g.cell(lambda r: r['rss_kb'] / 1024)} | "
          f"{g.cell(lambda r: r['rss_growth_kb'] / 1024)} | {g.cell(rows_per_s, fmt_rate)} |")
    w("")
    w("RSS growth: the highest VmRSS sample in the second half of the run minus the highest in the first "
      "half (sampled every 0.25 s); near 0 means memory stays flat while the transaction streams.")
    w("")

    # ---- 4. latency
    w("## 4. Latency (commit on the primary → Kafka)")
    w("")
    w("| target rate rows/s | achieved rows/s | rows/txn | rows measured | commit→produce p50 / p99 ms | "
      "commit→consumer p50 / p99 / max ms |")
    w("|---|---|---|---|---|---|")
    for rate in meta["lat_rates"]:
        g = group("latency", rate, "bintail")
        w(f"| {rate:,} | {g.cell(lambda r: r['rate'], fmt_rate)} | {g.cell(lambda r: r['rows_per_stmt'])} | "
          f"{g.cell(lambda r: r['n'])} | {g.cell(lambda r: r['p50_produce_ms'])} / {g.cell(lambda r: r['p99_produce_ms'])} | "
          f"{g.cell(lambda r: r['p50_consume_ms'])} / {g.cell(lambda r: r['p99_consume_ms'])} / "
          f"{g.cell(lambda r: r['max_consume_ms'])} |")
    w("")
    w("What is measured, per row: the commit time is the row's `committed_at DATETIME(6)` column, set by "
      "`NOW(6)` in an autocommit INSERT on the primary (session time zone UTC; the statement's start, a few "
      "µs before its commit). *commit→produce* ends at the Kafka record's CreateTime, which librdkafka "
      "stamps (ms resolution) when bintail hands it the message, i.e. after reading, decoding and "
      "formatting. *commit→consumer* ends when an independent kafka-python consumer on the same machine "
      "(polling with fetch.max.wait 5 ms) has the message: the broker has appended it by then, which is "
      "also when it acknowledges an acks=all produce (the mock broker has one replica), so this is an "
      "upper bound of commit→acknowledged plus the consumer's own fetch delay. bintail follows the "
      "live binlog (no `--stop-at-end`), with its default linger.ms=5.")
    w("")

    # ---- 5. snapshot
    w("## 5. Snapshot (`--snapshot only`, one table)")
    w("")
    w(f"| threads | rows | rows/s |")
    w("|---|---|---|")
    for t in (1, 2):
        g = group("snapshot", t, "bintail")
        w(f"| {t} | {meta['snapshot_rows']:,} | {g.cell(rows_per_s, fmt_rate)} |")
    w("")

    # ---- failures
    fails = [r for r in recs if "error" in r]
    if fails:
        w("## Failed steps")
        w("")
        for r in fails:
            w(f"- {r.get('step')} {r.get('case')} {r.get('tool')} run {r.get('run', '?')}: {r['error']}")
        w("")

    # ---- profile
    prof = meta.get("profile_md")
    if prof and os.path.exists(prof):
        w(open(prof).read().rstrip())
        w("")
    with open(out, "w") as f:
        f.write("\n".join(L) + "\n")
    return 0


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, argv = sys.argv[1], sys.argv[2:]
    fn = {"rec": cmd_rec, "count": cmd_count, "lat-write": cmd_lat_write, "lat-consume": cmd_lat_consume,
          "rss-sample": cmd_rss_sample, "report": cmd_report}.get(cmd)
    if not fn:
        print(__doc__, file=sys.stderr)
        return 2
    return fn(argv) or 0


if __name__ == "__main__":
    sys.exit(main())
