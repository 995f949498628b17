# The asyncio documentation's socketpair example with cstream on one end:
# cstream connect --fd N gets one socket, this script the other.
import socket
import subprocess
import sys

a, b = socket.socketpair()
p = subprocess.Popen([sys.argv[1], "connect", "--fd", str(b.fileno()),
                      "--send", "hello\\n", "--read-line"],
                     pass_fds=[b.fileno()], stdout=subprocess.PIPE)
b.close()
data = a.recv(100)
a.sendall(b"echo: " + data)
out, _ = p.communicate(timeout=10)
sys.stdout.write("sent=%r got=%r rc=%d\n" % (data, out, p.returncode))
