# One port on two addresses: [::1] never accepts and its backlog is full,
# so SYNs to it are dropped (a connect hangs), while 127.0.0.1 accepts and
# answers each client with "v4\n". For the Happy Eyeballs tests.
import socket
import sys
import threading
import time


def bind_pair():
    for _ in range(50):
        v6 = socket.socket(socket.AF_INET6)
        v6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        v6.bind(("::1", 0))
        port = v6.getsockname()[1]
        v4 = socket.socket()
        try:
            v4.bind(("127.0.0.1", port))
        except OSError:
            v6.close()
            v4.close()
            continue
        return v6, v4, port
    sys.exit("no port free on both ::1 and 127.0.0.1")


v6, v4, port = bind_pair()
v6.listen(0)
fill = []
for _ in range(8):
    s = socket.socket(socket.AF_INET6)
    s.setblocking(False)
    try:
        s.connect(("::1", port))
    except BlockingIOError:
        pass
    fill.append(s)
v4.listen(16)
time.sleep(0.2)


def serve():
    while True:
        c, _ = v4.accept()
        c.sendall(b"v4\n")
        c.close()


threading.Thread(target=serve, daemon=True).start()
print(port, flush=True)
time.sleep(120)
