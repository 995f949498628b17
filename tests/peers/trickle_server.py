# A peer that reads what a client sends until its EOF, then answers
# "got N\n" and sends argv[1] lines "tick\n", one every argv[2] seconds,
# before it closes: a transfer that lasts long enough for --progress to
# update its display.
import socket
import sys
import time

count = int(sys.argv[1])
every = float(sys.argv[2])
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
print(srv.getsockname()[1], flush=True)
while True:
    c, _ = srv.accept()
    n = 0
    while True:
        d = c.recv(65536)
        if not d:
            break
        n += len(d)
    c.sendall(b"got %d\n" % n)
    for i in range(count):
        time.sleep(every)
        c.sendall(b"tick\n")
    c.close()
