#!/usr/bin/env python3
"""TLS peers that close TCP without close_notify, in or between records.

tls_cut.py server CERT KEY MODE [N]
    Listen on 127.0.0.1 port 0 (the port is the first line of stdout),
    accept one TLS client and, without reading from it, send:
      cut       a record of 1,000 bytes, then the header of a record of
                16,384 bytes and 100 bytes of it, and close TCP
      boundary  a record of 1,000 bytes and close TCP
    Serves N clients (default 1), then exits.
tls_cut.py client PORT MODE
    Connect to 127.0.0.1:PORT over TLS (no verification), then send as
    the server above does, and close.
"""
import socket
import ssl
import sys


def pump_handshake(sock, obj, inc, out):
    while True:
        try:
            obj.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        data = out.read()
        if data:
            sock.sendall(data)
        if done:
            return
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("closed during the handshake")
        inc.write(chunk)


def records(obj, out, payload):
    obj.write(payload)
    return out.read()


def send_cut(sock, obj, out, mode):
    sock.sendall(out.read())    # session tickets and the like, whole
    sock.sendall(records(obj, out, b"a" * 1000))
    if mode == "cut":
        rec = records(obj, out, b"b" * 16384)
        sock.sendall(rec[:5 + 100])
    sock.shutdown(socket.SHUT_WR)
    # Wait for the peer to go, so that nothing answers with a reset.
    sock.settimeout(10)
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass
    sock.close()


def tls_session(sock, ctx, server_side, mode):
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_side=server_side,
                       server_hostname=None if server_side else "localhost")
    pump_handshake(sock, obj, inc, out)
    send_cut(sock, obj, out, mode)


def server(cert, key, mode, n):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    print(srv.getsockname()[1], flush=True)
    for _ in range(n):
        c, _ = srv.accept()
        try:
            tls_session(c, ctx, True, mode)
        except OSError:
            c.close()


def client(port, mode):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    sock = socket.create_connection(("127.0.0.1", port))
    tls_session(sock, ctx, False, mode)
    print("done", flush=True)


if sys.argv[1] == "server":
    server(sys.argv[2], sys.argv[3], sys.argv[4],
           int(sys.argv[5]) if len(sys.argv) > 5 else 1)
else:
    client(int(sys.argv[2]), sys.argv[3])
