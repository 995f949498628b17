# Peers for the forwarding tests (tests/bats/forward.bats). The servers
# print their port first; every socket has a timeout, so nothing hangs.
#
#   after-eof           serve clients one after another: read to EOF, then
#                       answer "got N\n" and close (a half-closed protocol)
#   watch               serve one client: read until it ends; print
#                       "eof N" or "reset N" (how the other side left)
#   reset-after-first   serve one client: at its first bytes, send "bye\n"
#                       and leave with a reset (SO_LINGER 0)
#   reset-client PORT   connect, send "hello\n", wait, leave with a reset
#   vanish PORT N       N clients, each sends 64 KiB and goes without
#                       reading: every other one with a reset; prints "done"
import socket
import struct
import sys
import time


def listen():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    print(srv.getsockname()[1], flush=True)
    return srv


def rst(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def after_eof():
    srv = listen()
    srv.settimeout(30)
    while True:
        c, _ = srv.accept()
        c.settimeout(10)
        n = 0
        while True:
            d = c.recv(65536)
            if not d:
                break
            n += len(d)
        time.sleep(0.2)     # a reply well after the EOF
        c.sendall(b"got %d\n" % n)
        c.close()


def watch():
    srv = listen()
    srv.settimeout(10)
    c, _ = srv.accept()
    c.settimeout(10)
    n = 0
    try:
        while True:
            d = c.recv(65536)
            if not d:
                print("eof %d" % n, flush=True)
                break
            n += len(d)
    except ConnectionResetError:
        print("reset %d" % n, flush=True)
    time.sleep(0.5)


def reset_after_first():
    srv = listen()
    srv.settimeout(10)
    c, _ = srv.accept()
    c.settimeout(10)
    c.recv(65536)
    c.sendall(b"bye\n")
    time.sleep(0.1)
    rst(c)
    print("reset", flush=True)
    time.sleep(0.5)


def reset_client(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"hello\n")
    time.sleep(0.3)
    rst(s)
    print("done", flush=True)


def vanish(port, n):
    chunk = b"v" * 65536
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.setblocking(False)
        try:
            s.send(chunk)
        except BlockingIOError:
            pass
        if i % 2:
            rst(s)
        else:
            s.close()
    print("done", flush=True)


mode = sys.argv[1]
if mode == "after-eof":
    after_eof()
elif mode == "watch":
    watch()
elif mode == "reset-after-first":
    reset_after_first()
elif mode == "reset-client":
    reset_client(int(sys.argv[2]))
elif mode == "vanish":
    vanish(int(sys.argv[2]), int(sys.argv[3]))
