#!/usr/bin/python3
"""make_corpus.py: cuts the fuzz seed corpus (tests/fuzz/corpus/) out of the real binlogs in
../shared/testdata/binlogs (see SOURCES.md there). Each seed is one input of fuzz_decoder.c:
  - "<file>.stream": mode 0x80 and the file's first events (its own FDE first), up to ~4 KiB;
  - "<file>.<pos>.<type>": one event (rows events with their TABLE_MAP before them) after a
    FORMAT_DESCRIPTION the harness builds (mode: server family | 4 = fix up CRC32).
The seeds are data cut from those files, kept as separate files under their licenses.
Usage: make_corpus.py SHARED_BINLOG_DIR OUT_DIR"""
import gzip
import hashlib
import os
import struct
import sys

ROWS = {23, 24, 25, 30, 31, 32, 39, 166, 167, 168, 169, 170, 171}


def events(data):
    pos = 4
    while pos + 19 <= len(data):
        size = struct.unpack_from("<I", data, pos + 9)[0]
        if size < 19 or pos + size > len(data):
            return
        yield pos, data[pos:pos + size]
        pos += size


def variant(fde):
    body = fde[19:]
    ver = body[2:52].split(b"\0")[0].decode("latin-1")
    nums = [int(x) for x in ver.split("-")[0].split(".")[:3] if x.isdigit()]
    while len(nums) < 3:
        nums.append(0)
    v = nums[0] * 10000 + nums[1] * 100 + nums[2]
    maria = "MariaDB" in ver
    has_alg = v >= (50300 if maria else 50601)
    alg = fde[-5] if has_alg else None
    if maria:
        return 2 if alg == 1 else None
    if alg is None:
        return 3
    return 0 if alg == 1 else 1


def main(src, out):
    os.makedirs(out, exist_ok=True)
    seen = set()

    def put(name, blob):
        h = hashlib.sha1(blob).hexdigest()
        if h in seen:
            return
        seen.add(h)
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)

    for root, _, names in os.walk(src):
        for n in sorted(names):
            p = os.path.join(root, n)
            raw = open(p, "rb").read()
            if n.endswith(".gz"):
                raw = gzip.decompress(raw)
            if raw[:4] != b"\xfebin":
                continue
            evs = list(events(raw))
            if not evs or evs[0][1][4] != 15:
                continue
            tag = n.replace(".", "_")
            stream, total = b"", 0
            for _, e in evs:
                if total + len(e) > 4096 and total:
                    break
                stream += e
                total += len(e)
            put(tag + ".stream", bytes([0x80]) + stream)
            var = variant(evs[0][1])
            if var is None:
                continue
            mode = var | 4
            last_map = b""
            per_file = 0
            for pos, e in evs[1:]:
                t = e[4]
                if t == 19:
                    last_map = e
                    continue
                if per_file >= 40:
                    break
                blob = (last_map + e) if t in ROWS else e
                if len(blob) > 8192:
                    continue
                put("%s.%d.t%d" % (tag, pos, t), bytes([mode]) + blob)
                per_file += 1


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
