# Run argv[1:] with a terminal (a pty nobody types on) as its stdin; print
# its stdout and then "rc=N". For the rule "the peer closed first and stdin
# is a terminal: exit 0 at once".
import pty
import subprocess
import sys

master, slave = pty.openpty()
p = subprocess.run(sys.argv[1:], stdin=slave, stdout=subprocess.PIPE,
                   timeout=10)
sys.stdout.write(p.stdout.decode())
print("rc=%d" % p.returncode)
