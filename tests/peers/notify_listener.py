# A stand-in for systemd's notify socket: an AF_UNIX datagram socket at
# argv[1] (a path, or @name for an abstract one) that prints each
# datagram it receives on one line, newlines shown as "|", flushed, and
# exits after argv[2] datagrams (default 2: READY=1 and STOPPING=1).
# "listening" on stdout once bound.
import socket
import sys

path = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 2
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + path[1:] if path.startswith("@") else path)
print("listening", flush=True)
for _ in range(count):
    data = s.recv(4096)
    print(data.decode().replace("\n", "|"), flush=True)
