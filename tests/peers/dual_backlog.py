# One port on two addresses: [::1] never accepts and its backlog is full,
# so SYNs to it are dropped (a connect hangs). 127.0.0.1, by the argument:
#   accept4 (default)  accepts and answers each client with "v4\n"
#   drop4              drops SYNs too
#   none4              no listener: a connect is refused
# For the Happy Eyeballs tests.
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


mode = sys.argv[1] if len(sys.argv) > 1 else "accept4"
v6, v4, port = bind_pair()
fill = []


def fill_backlog(sock, family, addr):
    sock.listen(0)
    for _ in range(8):
        s = socket.socket(family)
        s.setblocking(False)
        try:
            s.connect((addr, port))
        except BlockingIOError:
            pass
        fill.append(s)


fill_backlog(v6, socket.AF_INET6, "::1")
if mode == "drop4":
    fill_backlog(v4, socket.AF_INET, "127.0.0.1")
elif mode == "none4":
    v4.close()
else:
    v4.listen(16)
time.sleep(0.2)


def serve():
    while True:
        c, _ = v4.accept()
        c.sendall(b"v4\n")
        c.close()


if mode == "accept4":
    threading.Thread(target=serve, daemon=True).start()
print(port, flush=True)
time.sleep(120)
