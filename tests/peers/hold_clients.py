# Open argv[2] connections to 127.0.0.1:argv[1] and hold them argv[3]
# seconds; prints how many connected. For the EMFILE test of serve.
import socket
import sys
import time

port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
held = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=2)
    held.append(s)
print(len(held), flush=True)
time.sleep(secs)
