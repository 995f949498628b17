#!/usr/bin/env python3
"""Hostile peers for tests/bats/faults.bats: resets (SO_LINGER 0) in every
phase of a connection, over plain TCP or TLS, as clients and as servers.

Clients (PORT on 127.0.0.1; --tls: TLS without verification):
  mid PORT SEND READ [--tls]
      send SEND bytes while reading until READ bytes came, then reset.
      Prints "sent N read M".
  handshake PORT [--tls]
      plain: connect and reset at once; --tls: send the first bytes of a
      ClientHello and reset before the handshake ends. Prints "reset".
  shutdown PORT EXPECT [--tls]
      send "x\\n", read EXPECT bytes (what an echo sends back), end
      its side (FIN, or close_notify and the server's in return), read until the server ends too, then reset instead of
      closing. Prints "got N".
  mass PORT N [--tls]
      N clients at once; then they vanish, in turns: a close, a reset, a
      reset after a line, a reset halfway through the TLS handshake
      (--tls) or after a half-close (plain). Prints "done N".
  noread PORT N SECS [--tls]
      N clients that send what they can for SECS seconds and never read;
      prints "sent N" (bytes in all), holds them until SIGTERM (at most
      30 s), then resets them.

Servers (print the port as the first line of stdout, serve one client):
  srv-read-reset READ [CERT KEY]
      read READ bytes, reset.
  srv-send-reset SEND [CERT KEY]
      wait for a byte from the client, send SEND bytes, reset.
  srv-handshake-reset
      read the ClientHello, reset without answering.
  srv-shutdown-reset [CERT KEY]
      read to the client's end of input, send "bye\\n", reset.
"""
import select
import signal
import socket
import ssl
import struct
import sys
import time


def reset(sock):
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


def client_ctx():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(port, tls):
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    if tls:
        return client_ctx().wrap_socket(raw, server_hostname="localhost")
    return raw


def mid(port, send, want, tls):
    s = connect(port, tls)
    s.setblocking(False)
    data = b"x" * 16384
    sent = got = 0
    deadline = time.monotonic() + 10
    while (sent < send or got < want) and time.monotonic() < deadline:
        r, w, _ = select.select([s] if got < want else [],
                                [s] if sent < send else [], [], 1)
        if r:
            try:
                chunk = s.recv(min(65536, want - got))
                if not chunk:
                    break
                got += len(chunk)
            except (ssl.SSLWantReadError, BlockingIOError):
                pass
        if w:
            try:
                sent += s.send(data[:min(len(data), send - sent)])
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError,
                    BlockingIOError):
                pass
    print("sent %d read %d" % (sent, got), flush=True)
    reset(s)


def hello_bytes():
    out = ssl.MemoryBIO()
    tls = client_ctx().wrap_bio(ssl.MemoryBIO(), out,
                                server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def handshake(port, tls):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if tls:
        hello = hello_bytes()
        s.sendall(hello[:len(hello) // 2])
    reset(s)
    print("reset", flush=True)


def shutdown(port, expect, tls):
    s = connect(port, tls)
    s.sendall(b"x\n")
    read_n(s, expect)
    if tls:
        s = s.unwrap()      # close_notify, and the server's in return
    else:
        s.shutdown(socket.SHUT_WR)
    got = 0
    while True:
        try:
            chunk = s.recv(65536)
        except (ssl.SSLError, OSError):
            break
        if not chunk:
            break
        got += len(chunk)
    print("got %d" % got, flush=True)
    reset(s)


def mass(port, n, tls):
    socks = []
    hello = hello_bytes() if tls else b""
    for i in range(n):
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        if tls and i % 4 != 3:
            raw = client_ctx().wrap_socket(raw, server_hostname="localhost")
        socks.append(raw)
    for i, s in enumerate(socks):
        try:
            if i % 4 == 0:
                s.close()
            elif i % 4 == 1:
                reset(s)
            elif i % 4 == 2:
                s.sendall(b"a line\n")
                reset(s)
            elif tls:
                s.sendall(hello[:len(hello) // 2])
                reset(s)
            else:
                s.sendall(b"half\n")
                s.shutdown(socket.SHUT_WR)
                reset(s)
        except OSError:
            reset(s)
    print("done %d" % n, flush=True)


def noread(port, n, secs, tls):
    socks = [connect(port, tls) for _ in range(n)]
    for s in socks:
        s.setblocking(False)
    data = b"x" * 65536
    sent = 0
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        _, w, _ = select.select([], socks, [], 0.1)
        for s in w:
            try:
                sent += s.send(data)
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError,
                    BlockingIOError):
                pass
    print("sent %d" % sent, flush=True)
    # Hold them until SIGTERM (at most 30 s), for the test to measure
    # the server while they are there; then reset them all.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        time.sleep(30)
    finally:
        for s in socks:
            reset(s)


def listen(args):
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    print(ls.getsockname()[1], flush=True)
    c, _ = ls.accept()
    ls.close()
    if len(args) >= 2:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args[0], args[1])
        c = ctx.wrap_socket(c, server_side=True)
    return c


def read_n(c, want):
    got = 0
    while got < want:
        chunk = c.recv(min(65536, want - got))
        if not chunk:
            break
        got += len(chunk)
    return got


def main():
    mode, a = sys.argv[1], sys.argv[2:]
    tls = "--tls" in a
    a = [x for x in a if x != "--tls"]
    if mode == "mid":
        mid(int(a[0]), int(a[1]), int(a[2]), tls)
    elif mode == "handshake":
        handshake(int(a[0]), tls)
    elif mode == "shutdown":
        shutdown(int(a[0]), int(a[1]), tls)
    elif mode == "mass":
        mass(int(a[0]), int(a[1]), tls)
    elif mode == "noread":
        noread(int(a[0]), int(a[1]), float(a[2]), tls)
    elif mode == "srv-read-reset":
        c = listen(a[1:])
        read_n(c, int(a[0]))
        reset(c)
    elif mode == "srv-send-reset":
        c = listen(a[1:])
        c.recv(1)           # the client is up and reading
        c.sendall(b"y" * int(a[0]))
        time.sleep(0.1)
        reset(c)
    elif mode == "srv-handshake-reset":
        c = listen([])
        c.recv(4096)
        reset(c)
    elif mode == "srv-shutdown-reset":
        c = listen(a)
        read_n(c, 1 << 40)
        c.sendall(b"bye\n")
        reset(c)
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
