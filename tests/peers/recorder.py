# A peer that records every byte a client sends, for -C and -x tests.
#
#	recorder.py OUT [--host H] [--greet STR] [--reply STR] [--echo]
#
# Prints its port, accepts one client, writes "HOST PORT" of the client's
# address to OUT.peer, sends --greet at once, records everything until the
# client's EOF to OUT (echoing each chunk back with --echo), then sends
# --reply and closes. STR takes Python escapes ("250 ok\r\n").
import argparse
import socket


def unescape(s):
    return s.encode().decode("unicode_escape").encode("latin-1")


ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--greet", default="")
ap.add_argument("--reply", default="")
ap.add_argument("--echo", action="store_true")
a = ap.parse_args()
family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
srv = socket.socket(family)
srv.bind((a.host, 0))
srv.listen(8)
print(srv.getsockname()[1], flush=True)
c, peer = srv.accept()
with open(a.out + ".peer", "w") as f:
    f.write("%s %d\n" % (peer[0], peer[1]))
c.sendall(unescape(a.greet))
data = bytearray()
while True:
    chunk = c.recv(65536)
    if not chunk:
        break
    data += chunk
    if a.echo:
        c.sendall(chunk)
with open(a.out + ".tmp", "wb") as f:
    f.write(data)
import os
os.rename(a.out + ".tmp", a.out)
c.sendall(unescape(a.reply))
c.close()
