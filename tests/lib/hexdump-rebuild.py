# hexdump-rebuild.py DUMP SENT RECEIVED [LABEL]: rebuild both directions
# of a cstream -x dump into two files, checking as it goes that headers
# and line offsets agree (a mismatch exits 1 with the line).
import re
import sys

dump, out_sent, out_recv = sys.argv[1:4]
label = sys.argv[4] if len(sys.argv) > 4 else None
streams = {">": bytearray(), "<": bytearray()}
head = re.compile(r"^([<>]) (?:(\S+) )?(\d+) (\d+)$")
line = re.compile(r"^([0-9a-f]{8,})  ((?:[0-9a-f]{2} {1,2}| {3,4}){16}) \|(.*)\|$")
cur, left = None, 0
for n, text in enumerate(open(dump, encoding="latin-1"), 1):
    text = text.rstrip("\n")
    m = head.match(text)
    if m and left == 0:
        cur, lab, off, left = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
        if lab != label or off != len(streams[cur]) or left == 0:
            sys.exit("line %d: bad header %r" % (n, text))
        continue
    m = line.match(text)
    if not m or cur is None or left == 0:
        sys.exit("line %d: unexpected %r" % (n, text))
    if int(m.group(1), 16) != len(streams[cur]):
        sys.exit("line %d: offset %s, expected %x" % (n, m.group(1), len(streams[cur])))
    b = bytes.fromhex(m.group(2))
    if len(b) != min(16, left) or len(m.group(3)) != len(b):
        sys.exit("line %d: %d bytes, expected %d" % (n, len(b), min(16, left)))
    streams[cur] += b
    left -= len(b)
if left != 0:
    sys.exit("dump ends inside a chunk")
open(out_sent, "wb").write(streams[">"])
open(out_recv, "wb").write(streams["<"])
