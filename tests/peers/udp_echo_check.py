# The UDP echo check: COUNT datagrams, sizes spread evenly from 0 to MAX
# bytes, each of seeded random bytes, sent one at a time to HOST PORT; each
# must come back whole before the next goes (one in flight, so the
# server's receive buffer never overflows: on loopback a datagram is lost
# only when a socket buffer is full). A lost one is sent again after 1 s,
# at most 3 times, and counted. Prints "sent N received N lost L
# sha256 SENT RECEIVED" and exits 0 when every echo matched its datagram.
import hashlib
import random
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
count = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
top = int(sys.argv[4]) if len(sys.argv) > 4 else 65507

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.connect((host, port))
s.settimeout(1.0)
rng = random.Random(22)
sent_sum, got_sum = hashlib.sha256(), hashlib.sha256()
received = lost = bad = 0
for i in range(count):
    size = i * top // (count - 1) if count > 1 else top
    payload = rng.randbytes(size)
    sent_sum.update(payload)
    for attempt in range(3):
        s.send(payload)
        try:
            echo = s.recv(top + 1)
        except socket.timeout:
            lost += 1
            continue
        break
    else:
        print("datagram %d (%d bytes): no echo" % (i, size))
        sys.exit(1)
    received += 1
    got_sum.update(echo)
    if echo != payload:
        bad += 1
print("sent %d received %d lost %d altered %d" % (count, received, lost, bad))
print("sha256 %s %s" % (sent_sum.hexdigest(), got_sum.hexdigest()))
sys.exit(0 if bad == 0 and sent_sum.digest() == got_sum.digest() else 1)
