#!/usr/bin/env python3
"""TLS peers that reset the connection (SO_LINGER 0) mid-transfer.

tls_reset.py client PORT SEND READ
    Connect to 127.0.0.1:PORT over TLS (no verification), send SEND bytes
    while reading, read READ bytes, then reset the connection. Prints
    "sent N read M" and exits 0.
tls_reset.py server CERT KEY READ
    Listen on 127.0.0.1 port 0 (the port is the first line of stdout),
    accept one TLS client, read READ bytes of application data, then reset
    the connection and exit.
tls_reset.py unix-hs-close PATH
    Listen on the unix socket PATH ("listening" on stdout once it does),
    accept one client, read its ClientHello and close without answering.
"""
import os
import select
import socket
import ssl
import struct
import sys


def reset(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    sock.close()


def client(port, send, want):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection(("127.0.0.1", port))
    tls = ctx.wrap_socket(raw, server_hostname="localhost")
    tls.setblocking(False)
    data = b"x" * 16384
    sent = got = 0
    while sent < send or got < want:
        r, w, _ = select.select([tls] if got < want else [],
                                [tls] if sent < send else [], [], 10)
        if not r and not w:
            break
        if r:
            try:
                chunk = tls.recv(want - got)
                if not chunk:
                    break
                got += len(chunk)
            except ssl.SSLWantReadError:
                pass
        if w:
            try:
                sent += tls.send(data[:min(len(data), send - sent)])
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                pass
    print("sent %d read %d" % (sent, got), flush=True)
    reset(tls)


def server(cert, key, want):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    print(ls.getsockname()[1], flush=True)
    raw, _ = ls.accept()
    tls = ctx.wrap_socket(raw, server_side=True)
    got = 0
    while got < want:
        chunk = tls.recv(min(65536, want - got))
        if not chunk:
            break
        got += len(chunk)
    reset(tls)


def unix_hs_close(path):
    ls = socket.socket(socket.AF_UNIX)
    ls.bind(path)
    ls.listen(1)
    print("listening", flush=True)
    c, _ = ls.accept()
    c.recv(4096)
    c.close()
    ls.close()


def main():
    mode = sys.argv[1]
    if mode == "client":
        client(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "server":
        server(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif mode == "unix-hs-close":
        unix_hs_close(sys.argv[2])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
