# A peer that reads to EOF, prints "eof N" (N bytes read) or "reset N" if
# the connection was reset instead, then holds the connection open without
# closing it (until it is stopped). Prints its port first. A connection
# that brings no byte at all (a stray probe of the port) is skipped.
import socket
import time

srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(4)
print(srv.getsockname()[1], flush=True)
while True:
    c, _ = srv.accept()
    n = 0
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            n += len(d)
        if n == 0:
            continue
        print("eof %d" % n, flush=True)
    except ConnectionResetError:
        if n == 0:
            continue
        print("reset %d" % n, flush=True)
    break
time.sleep(30)
