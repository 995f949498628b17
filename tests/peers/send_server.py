# A peer that sends argv[1] (Python escapes allowed: b"...") as soon as a
# client connects, then does argv[2]: "close" (close at once), "hold" (keep
# the connection open without reading), "drop" (close without reading, so
# what the client still sends is refused). It prints "closed" on its stdout
# once it has closed a connection, for a test that must act after that.
import socket
import sys
import time

payload = sys.argv[1].encode().decode("unicode_escape").encode("latin-1")
then = sys.argv[2] if len(sys.argv) > 2 else "close"
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
print(srv.getsockname()[1], flush=True)
while True:
    c, _ = srv.accept()
    c.sendall(payload)
    if then == "hold":
        time.sleep(30)
    elif then == "drop":
        # Let the client see the connection up and fill our buffers first.
        time.sleep(0.3)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    c.close()
    print("closed", flush=True)
