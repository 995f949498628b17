# Open argv[2] connections to 127.0.0.1:argv[1], send argv[3] bytes on
# each, never read, hold them argv[4] seconds, then close them all.
# Prints "sent" once every byte is with the kernel and "closed" at the
# end. For the memory tests of serve --broker.
import socket
import sys
import time

port, n, size, secs = (int(sys.argv[1]), int(sys.argv[2]),
                       int(sys.argv[3]), float(sys.argv[4]))
held = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    held.append(s)
chunk = b"x" * size
for s in held:
    s.sendall(chunk)
print("sent", flush=True)
time.sleep(secs)
for s in held:
    # A reset, as a client killed with unread input would leave.
    s.close()
print("closed", flush=True)
