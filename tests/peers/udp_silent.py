# A bound UDP socket that never reads or answers: a "silent" port, for
# connect -u's quiet period and connect -zu's open|filtered. Prints its port.
import socket
import time

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True)
time.sleep(60)
