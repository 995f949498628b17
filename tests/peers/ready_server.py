# An HTTP server on 127.0.0.1 port 0 that is "starting up": it answers
# HEAD with 503 for the first N requests (argv[1], default 2), then 200.
# With argv[2] = MS, every answer waits MS milliseconds before its first
# byte, the delay a timings test measures. Prints its port on stdout.
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

FAILS = int(sys.argv[1]) if len(sys.argv) > 1 else 2
DELAY = int(sys.argv[2]) / 1000.0 if len(sys.argv) > 2 else 0.0
count = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def version_string(self):
        return "ready_server"

    def date_time_string(self, timestamp=None):
        return "Thu, 01 Jan 2026 00:00:00 GMT"

    def do_HEAD(self):
        global count
        count += 1
        if DELAY:
            time.sleep(DELAY)
        self.send_response(503 if count <= FAILS else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


srv = HTTPServer(("127.0.0.1", 0), Handler)
print(srv.server_address[1], flush=True)
srv.serve_forever()
