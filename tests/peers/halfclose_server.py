# A peer that half-closes at once (shutdown SHUT_WR) and then reads to EOF;
# it reports "first" on its stdout when the first bytes came (so a test can
# send more only after the half-close went out) and "got N" at the end.
# cstream must see EOF and still deliver.
import socket

srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(4)
print(srv.getsockname()[1], flush=True)
c, _ = srv.accept()
c.shutdown(socket.SHUT_WR)
n = 0
while True:
    d = c.recv(65536)
    if not d:
        break
    if n == 0:
        print("first", flush=True)
    n += len(d)
print("got %d" % n, flush=True)
