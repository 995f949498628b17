# Connect argv[2] clients to 127.0.0.1:argv[1], one at a time: each
# half-closes, waits argv[3] seconds, then leaves with a reset (SO_LINGER
# 0), as a client killed with unread input does. Prints "done".
import socket
import struct
import sys
import time

port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.shutdown(socket.SHUT_WR)
    time.sleep(secs)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
print("done", flush=True)
