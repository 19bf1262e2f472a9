#!/usr/bin/python3
"""crosscheck_mysqlbinlog.py: checks `bintail decode` JSON lines against what an independent
decoder printed for the same binlog: MariaDB's `mariadb-binlog -vv --base64-output=decode-rows
--print-table-metadata` (run here), or Oracle's `mysqlbinlog -vv` output saved in a file
(--dump, e.g. the mysql-cdc-rs dump.txt files, UTF-16 or UTF-8).

Both sides list the row images in binlog order; every image is paired with ours (same
operation, database and table), and every `### @N=value` is compared with the decoded value of
the same column, by the type the tool prints in its comment:
  integers    N, or the unsigned reading "N (U)"        ENUM   index -> label (Columns metadata)
  DECIMAL     same text                                 SET    bits -> labels
  FLOAT/DOUBLE  same number (float32 tolerance)         BIT    b'...' -> number
  strings     same bytes (ours UTF-8 text, or base64 bytes; BINARY zero padding ignored)
  DATE/DATETIME/TIME  same text ('T'/'Z' of ours ignored); TIMESTAMP(N) epoch seconds
  NULL        null
Anything else is reported and fails, so nothing passes unchecked.

Usage: crosscheck_mysqlbinlog.py [--dump FILE] [--allow-partial] BINLOG OUR_JSON_LINES
  --allow-partial: the tool stopped early (it cannot read an event we can); compare the
                   images it printed, which must be a prefix of ours.
Exit 0 when everything matches; prints a one-line summary either way."""
import base64
import calendar
import datetime
import json
import re
import subprocess
import sys

ROW_HDR = re.compile(r"^### (INSERT INTO|UPDATE|DELETE FROM) `([^`]*)`\.`([^`]*)`\s*$")
VAL = re.compile(r"^###   @(\d+)=(.*) /\* (.*?) meta=(\d+) nullable=(\d) is_null=(\d) \*/\s*$")
VAL_BARE = re.compile(r"^###   @(\d+)=(.*?)\s*$")
TMAP = re.compile(r"Table_map: `([^`]*)`\.`([^`]*)` mapped to number (\d+)")


def tool_output(path, dump):
    if dump:
        raw = open(dump, "rb").read()
        if raw.startswith(b"\xff\xfe") or raw.startswith(b"\xfe\xff"):
            return raw.decode("utf-16").replace("\r\n", "\n"), 0
        return raw.decode("utf-8", "replace").replace("\r\n", "\n"), 0
    p = subprocess.run(["mariadb-binlog", "--no-defaults", "-vv", "--base64-output=decode-rows",
                        "--print-table-metadata", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # the tool prints strings as raw bytes: keep them byte-exact through latin-1
    return p.stdout.decode("latin-1"), p.returncode


def split_decls(s):
    """Splits 'a INT, b ENUM('x','y'), ...' at top-level commas."""
    out, depth, cur, q = [], 0, "", False
    i = 0
    while i < len(s):
        ch = s[i]
        if q:
            cur += ch
            if ch == "\\" and i + 1 < len(s):
                cur += s[i + 1]
                i += 1
            elif ch == "'":
                q = False
        elif ch == "'":
            q, cur = True, cur + ch
        elif ch == "(":
            depth, cur = depth + 1, cur + ch
        elif ch == ")":
            depth, cur = depth - 1, cur + ch
        elif ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
        i += 1
    if cur.strip():
        out.append(cur.strip())
    return out


def labels_of(decl):
    m = re.search(r"\b(ENUM|SET)\((.*)\)", decl)
    if not m:
        return None
    vals = re.findall(r"'((?:[^'\\]|\\.|'')*)'", m.group(2))
    return m.group(1), [v.replace("''", "'").encode("latin-1", "replace") for v in vals]


def parse_tool(text):
    """Row images: list of (op, db, table, before, after), images as lists of (n, raw, type);
    plus ENUM/SET labels per table from the Columns metadata."""
    rows, labels = [], {}
    lines = text.split("\n")
    cur_table = None
    i = 0
    img = None
    while i < len(lines):
        ln = lines[i]
        m = TMAP.search(ln)
        if m:
            cur_table = (m.group(1), m.group(2))
            if i + 1 < len(lines) and lines[i + 1].startswith("# Columns("):
                buf = lines[i + 1][len("# Columns("):]
                j = i + 2
                while not buf.rstrip().endswith(")") and j < len(lines) and lines[j].startswith("#   "):
                    buf += " " + lines[j][1:].strip()
                    j += 1
                decls = split_decls(buf.rstrip()[:-1])
                labels[cur_table] = [labels_of(d) for d in decls]
            i += 1
            continue
        m = ROW_HDR.match(ln)
        if m:
            op = {"INSERT INTO": "insert", "UPDATE": "update", "DELETE FROM": "delete"}[m.group(1)]
            rows.append([op, m.group(2), m.group(3), None, None])
            img = None
            i += 1
            continue
        if ln.startswith("### WHERE"):
            rows[-1][3] = img = []
        elif ln.startswith("### SET"):
            rows[-1][4] = img = []
        elif ln.startswith("###   @"):
            v = VAL.match(ln) or VAL_BARE.match(ln)
            if not v or img is None:
                raise SystemExit("cannot parse tool line: %r" % ln[:200])
            img.append((int(v.group(1)), v.group(2).rstrip(" "), v.group(3) if v.re is VAL else ""))
        i += 1
    return rows, labels


HEX = set("0123456789abcdefABCDEF")


def unquote(raw, oracle):
    """'...' as the tools print strings -> bytes. Both write bytes below 0x20 as \\xNN; Oracle's
    mysqlbinlog also escapes ' and \\ that way, MariaDB's writes every other byte raw."""
    if len(raw) < 2 or raw[0] != "'" or raw[-1] != "'":
        return None
    s, out, i = raw[1:-1], bytearray(), 0
    while i < len(s):
        ch = s[i]
        if ch == "\\" and s[i + 1:i + 2] == "x" and len(s) >= i + 4 and s[i + 2] in HEX and s[i + 3] in HEX:
            b = int(s[i + 2:i + 4], 16)
            if oracle or b < 0x20:
                out.append(b)
                i += 4
                continue
        out += ch.encode("latin-1")
        i += 1
    return bytes(out)


def same_bytes(ours, want):
    if not isinstance(ours, str):
        return False
    cands = [ours.encode("utf-8")]
    try:
        cands.append(base64.b64decode(ours, validate=True))
    except Exception:
        pass
    for w in (want, want.rstrip(b"\0"), want.rstrip(b" ")):
        for c in cands:
            if c == w or c.rstrip(b"\0") == w or c.rstrip(b" ") == w:
                return True
        for enc in ("utf-8", "cp1252", "latin-1"):
            try:
                if w.decode(enc).encode("utf-8") in cands:
                    return True
            except UnicodeDecodeError:
                pass
    return False


def to_epoch(s):
    m = re.match(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(\.\d+)?Z?$", s)
    if not m:
        return None
    y, mo, d, h, mi, se = (int(x) for x in m.groups()[:6])
    frac = m.group(7) or ""
    return calendar.timegm((y, mo, d, h, mi, se)), frac


def check_value(ours, raw, typ, lab, oracle):
    """None when equal, else a reason."""
    if raw == "NULL":
        return None if ours is None else "want NULL"
    if ours is None:
        return "ours is null, tool says %s" % raw
    t = typ.split("(")[0].strip()
    if t in ("TINYINT", "SHORTINT", "MEDIUMINT", "INT", "LONGINT", "YEAR"):
        m = re.match(r"^(-?\d+)(?: \((\d+)\))?$", raw)
        if not m:
            return "unparsed integer"
        ok = [int(m.group(1))] + ([int(m.group(2))] if m.group(2) else [])
        if t == "YEAR":
            return None if ours in ok or str(ours) in map(str, ok) else "year"
        return None if isinstance(ours, int) and ours in ok else "integer"
    if t == "DECIMAL":
        return None if str(ours) == raw else "decimal"
    if t in ("FLOAT", "DOUBLE"):
        try:
            a, b = float(ours), float(raw)
        except (TypeError, ValueError):
            return "float"
        if a == b:
            return None
        # MariaDB's tool prints FLOAT with %g (6 significant digits)
        if t == "FLOAT" and float("%.6g" % a) == b:
            return None
        return None if abs(a - b) <= 1e-12 * max(abs(a), abs(b)) else "float"
    if t == "BIT":
        m = re.match(r"^b'([01]*)'$", raw)
        return None if m and ours == int(m.group(1) or "0", 2) else "bit"
    if t == "ENUM":
        idx = int(raw)
        if ours == idx:
            return None
        if lab and lab[0] == "ENUM" and 0 < idx <= len(lab[1]):
            return None if isinstance(ours, str) and ours.encode("utf-8") == lab[1][idx - 1] else "enum label"
        return "enum (no labels to compare with)"
    if t == "SET":
        m = re.match(r"^b'([01]*)'$", raw)
        bits = int(m.group(1), 2) if m else int(raw)
        if ours == bits:
            return None
        if lab and lab[0] == "SET" and isinstance(ours, list):
            mask = 0
            for s in ours:
                try:
                    mask |= 1 << lab[1].index(s.encode("utf-8"))
                except ValueError:
                    return "set label %r" % s
            return None if mask == bits else "set bits"
        return "set"
    if t in ("STRING", "VARSTRING", "JSON") or "BLOB" in t or "TEXT" in t:
        want = unquote(raw, oracle)
        if want is None:
            return "unparsed string"
        return None if same_bytes(ours, want) else "bytes"
    if t == "DATE":
        # MariaDB's tool prints DATE as 'YYYY:MM:DD'
        return None if "'%s'" % ours in (raw, raw.replace(":", "-")) else "date"
    if t in ("DATETIME", "TIME"):
        o = str(ours).replace("T", " ").rstrip("Z")
        return None if "'%s'" % o == raw else "datetime/time"
    if t == "TIMESTAMP":
        want = raw.strip("'")
        e = to_epoch(str(ours)) if isinstance(ours, str) else None
        if e is None:
            return "timestamp"
        secs, frac = e
        wsecs, _, wfrac = want.partition(".")
        if str(secs) != wsecs:
            return "timestamp seconds"
        return None if frac.lstrip(".").rstrip("0") == wfrac.rstrip("0") else "timestamp fraction"
    return "type %s not checked" % typ


def main(argv):
    dump, allow_partial, args = None, False, []
    it = iter(argv)
    for a in it:
        if a == "--dump":
            dump = next(it)
        elif a == "--allow-partial":
            allow_partial = True
        else:
            args.append(a)
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    binlog, ours_path = args
    text, rc = tool_output(binlog, dump)
    trows, labels = parse_tool(text)
    ours = []
    for ln in open(ours_path, encoding="utf-8"):
        if not ln.startswith("{"):
            continue
        o = json.loads(ln)
        if o.get("op") in ("insert", "update", "delete"):
            ours.append(o)
    errors = []
    if rc != 0 and not allow_partial:
        errors.append("the tool exited %d (use --allow-partial if it cannot read the whole file)" % rc)
    if len(trows) != len(ours) and not (allow_partial and len(trows) < len(ours)):
        errors.append("the tool printed %d row images, bintail %d" % (len(trows), len(ours)))
    nvals = 0
    for k, (t, o) in enumerate(zip(trows, ours)):
        op, db, tb, before, after = t
        where = "row %d (%s %s.%s at %s:%s)" % (k, op, db, tb, o.get("file"), o.get("pos"))
        if (op, db, tb) != (o["op"], o["db"], o["table"]):
            errors.append("%s: bintail says %s %s.%s" % (where, o["op"], o["db"], o["table"]))
            continue
        lab = labels.get((db, tb), [])
        for name, timg in (("before", before), ("after", after)):
            oimg = o.get(name)
            if timg is None and oimg is None:
                continue
            if timg is None or oimg is None:
                errors.append("%s: %s image on one side only" % (where, name))
                continue
            ovals = list(oimg.values())
            if len(ovals) != len(timg):
                errors.append("%s: %s image has %d columns, the tool %d" % (where, name, len(ovals), len(timg)))
                continue
            for (n, raw, typ), ov in zip(timg, ovals):
                nvals += 1
                why = check_value(ov, raw, typ, lab[n - 1] if n - 1 < len(lab) else None, dump is not None)
                if why:
                    errors.append("%s: %s @%d: %s: bintail %.200r, tool %s /* %s */" %
                                  (where, name, n, why, ov, raw[:200], typ))
    for e in errors[:30]:
        print("MISMATCH " + e)
    if len(errors) > 30:
        print("... %d more" % (len(errors) - 30))
    print("%s: %d row images, %d values compared, %d mismatches%s" %
          (binlog.split("/")[-1], min(len(trows), len(ours)), nvals, len(errors),
           " (tool stopped early, prefix compared)" if rc != 0 else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
