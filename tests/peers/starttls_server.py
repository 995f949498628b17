# A POP3 or FTP server's STARTTLS dialogue, for the protocols no Debian
# package of the test set serves (dovecot-imapd has no POP3, and there is
# no FTP server in it): argv[1] is pop3 or ftp, argv[2] and argv[3] the
# certificate and key, argv[4] "ok" (upgrade), "refuse" (answer the
# upgrade command with an error) or a raw greeting to send instead of the
# protocol's (Python escapes allowed). After the handshake every line is
# answered "PROTO-OK line" over TLS until the client closes. Prints its
# port on the first line of stdout.
import socket
import ssl
import sys
import threading

proto, cert, key = sys.argv[1], sys.argv[2], sys.argv[3]
mode = sys.argv[4] if len(sys.argv) > 4 else "ok"
greeting = {"pop3": b"+OK POP3 ready\r\n", "ftp": b"220-Welcome\r\n220 FTP ready\r\n"}
command = {"pop3": b"STLS", "ftp": b"AUTH TLS"}
yes = {"pop3": b"+OK Begin TLS\r\n", "ftp": b"234 AUTH TLS ok\r\n"}
no = {"pop3": b"-ERR not now\r\n", "ftp": b"502 Not implemented\r\n"}
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)


def serve(c):
    try:
        f = c.makefile("rb")
        if mode not in ("ok", "refuse"):
            c.sendall(mode.encode().decode("unicode_escape").encode("latin-1"))
            f.readline()
            return
        c.sendall(greeting[proto])
        line = f.readline().rstrip(b"\r\n")
        if line != command[proto] or mode == "refuse":
            c.sendall(no[proto])
            f.readline()
            return
        c.sendall(yes[proto])
        t = ctx.wrap_socket(c, server_side=True)
        tf = t.makefile("rb")
        for line in tf:
            t.sendall(proto.encode() + b"-OK " + line)
    except (OSError, ssl.SSLError):
        pass
    finally:
        c.close()


srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
print(srv.getsockname()[1], flush=True)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
