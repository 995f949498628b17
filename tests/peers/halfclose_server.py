# A peer that half-closes at once (shutdown SHUT_WR) and then reads to EOF;
# it reports "got N" on its stdout. cstream must see EOF and still deliver.
import socket
import time

srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(4)
print(srv.getsockname()[1], flush=True)
c, _ = srv.accept()
c.shutdown(socket.SHUT_WR)
time.sleep(0.3)
n = 0
while True:
    d = c.recv(65536)
    if not d:
        break
    n += len(d)
print("got %d" % n, flush=True)
