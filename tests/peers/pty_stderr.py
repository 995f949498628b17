# Run argv[2:] with a terminal (a pty in raw mode, so "\n" stays "\n") as
# its stderr; stdin and stdout are ours. What it writes to the terminal
# goes to the file argv[1] with the control sequences spelled out: "\r"
# as <CR>, ESC [ A (cursor up) as <UP>, ESC [ K (erase to the end of the
# line) as <EOL>. Exits with the command's status. PTY_COLS=N in the
# environment gives the terminal N columns (a pty has 0, unknown, else).
import fcntl
import os
import struct
import termios
import pty
import select
import subprocess
import sys
import tty

master, slave = pty.openpty()
tty.setraw(slave)
if os.environ.get("PTY_COLS"):
    fcntl.ioctl(slave, termios.TIOCSWINSZ,
                struct.pack("HHHH", 24, int(os.environ["PTY_COLS"]), 0, 0))
p = subprocess.Popen(sys.argv[2:], stderr=slave)
os.close(slave)
data = b""
while True:
    r, _, _ = select.select([master], [], [], 10)
    if not r:
        break
    try:
        chunk = os.read(master, 4096)
    except OSError:		# EIO: every writer has gone
        break
    if not chunk:
        break
    data += chunk
rc = p.wait(timeout=10)
text = data.decode("utf-8", "replace")
for k, v in (("\r", "<CR>"), ("\x1b[A", "<UP>"), ("\x1b[K", "<EOL>")):
    text = text.replace(k, v)
with open(sys.argv[1], "w") as f:
    f.write(text)
sys.exit(rc)
