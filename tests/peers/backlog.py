# A listener that never accepts, with its backlog filled, so that the next
# connect to it hangs on loopback: for --connect-timeout tests.
import socket
import time

srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(0)
port = srv.getsockname()[1]
fill = []
for _ in range(8):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    fill.append(s)
time.sleep(0.2)
print(port, flush=True)
time.sleep(60)
