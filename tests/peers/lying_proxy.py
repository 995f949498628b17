# A proxy that breaks its protocol, for the error tests. Prints its port,
# then answers every client the way MODE says:
#   http-garbage   reads a request, answers "SSH-2.0-liar" and closes
#   http-silent    reads a request, closes without a word
#   http-status    reads a request, answers STATUS (the next argument)
#   http-nul       reads a request, answers a 200 status line with a NUL
#   http-hang      reads a request, never answers
#   socks-truncate SOCKS5: accepts no-auth, cuts the CONNECT reply short
#   socks-version  SOCKS5: answers the greeting with version 4
#   socks-reply    SOCKS5: refuses CONNECT with reply code CODE (next arg)
import socket
import sys

mode = sys.argv[1]
arg = sys.argv[2] if len(sys.argv) > 2 else ""
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
print(srv.getsockname()[1], flush=True)


def read_head(c):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk


def socks_request(c):
    c.recv(64)                  # greeting
    c.sendall(b"\x05\x00")
    c.recv(600)                 # CONNECT


while True:
    c, _ = srv.accept()
    try:
        if mode == "http-garbage":
            read_head(c)
            c.sendall(b"SSH-2.0-liar\r\n\r\n")
        elif mode == "http-silent":
            read_head(c)
        elif mode == "http-hang":
            read_head(c)
            c.recv(1)
        elif mode == "http-nul":
            read_head(c)
            c.sendall(b"HTTP/1.1 200\x00 Connection established\r\n\r\n")
        elif mode == "http-status":
            read_head(c)
            c.sendall(arg.encode() + b"\r\nServer: liar\r\n\r\n")
        elif mode == "socks-truncate":
            socks_request(c)
            c.sendall(b"\x05\x00\x00\x01\x7f")
        elif mode == "socks-version":
            c.recv(64)
            c.sendall(b"\x04\x00")
        elif mode == "socks-reply":
            socks_request(c)
            c.sendall(bytes([5, int(arg), 0, 1, 0, 0, 0, 0, 0, 0]))
    except OSError:
        pass
    c.close()
