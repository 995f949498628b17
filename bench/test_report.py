#!/usr/bin/python3
"""Checks of report.py's target judgement and rendering on synthetic results.tsv rows.

    python3 bench/test_report.py        (or: make -C bench check)
"""
import importlib.util
import io
import os
import sys
import tempfile
import unittest
from contextlib import redirect_stdout

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("report", os.path.join(HERE, "report.py"))
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)


def r(section, name, metric, value, transport="-", conns="-", size="-", note=""):
    return dict(section=section, name=name, transport=transport, conns=str(conns), size=str(size),
                metric=metric, value=str(value), unit="", note=note)


def bulk(name, tr, gbps, foreign=0, why=None):
    note = (f"failed: {why}; " if why else "") + f"median of 3; runs=1,1,1; verified=yes; foreign_max={foreign}"
    return r("bulk", name, "GBps", "" if why else gbps, tr, 1, 2147483648, note)


def echo(name, c, s, rps, cpu, errors=0, foreign=0, why=None, tr="tcp"):
    if why:
        return [r("echo", name, "rps", "", tr, c, s, f"failed: {why}")]
    return [r("echo", name, "rps", rps, tr, c, s), r("echo", name, "server_cpu_us_per_req", cpu, tr, c, s),
            r("echo", name, "errors", errors, tr, c, s), r("echo", name, "foreign_pct", foreign, tr, c, s),
            r("echo", name, "vmhwm_kB", 5000, tr, c, s)]


def passing():
    """a run in which cstream meets every target"""
    rows = []
    for tr in ("tcp", "unix"):
        rows += [bulk("nc.openbsd", tr, 1.0), bulk("socat-b128k", tr, 1.5), bulk("cstream", tr, 3.0),
                 bulk("cstream-progress", tr, 2.7)]
        rows += [r("bulk", "cstream", "maxrss_srv_kB", 4000, tr), r("bulk", "cstream", "maxrss_cli_kB", 4100, tr)]
    for c, s in ((50, 64), (500, 16384)):
        rows += echo("epoll_echo", c, s, 100000, 10.0) + echo("uvloop", c, s, 50000, 20.0)
        rows += echo("cstream", c, s, 50000, 12.0)
    rows += [r("idle", "cstream", "opened", 10000), r("idle", "cstream", "alive", 10000),
             r("idle", "cstream", "bytes_per_conn_idle", 1024), r("idle", "epoll_echo", "bytes_per_conn_idle", 0)]
    rows += [r("http", "curl", "mean_ms", 6.0, note="runs=200; command: curl -sI u"),
             r("http", "cstream", "mean_ms", 3.0, note="runs=200; command: cstream http-head u")]
    # TLS and proxy rows
    rows += [bulk("socat-b128k", "tls", 0.5), bulk("cstream", "tls", 1.0),
             r("tls", "openssl-speed", "GBps", 2.0, "tls", 1, 16384)]
    for tr in ("socks5", "httpproxy"):
        rows += [bulk("nc.openbsd", tr, 1.0), bulk("cstream", tr, 1.0)]
    # the forwarding rows
    rows += [bulk("direct", "fwd", 2.0), bulk("cstream", "fwd", 1.6), bulk("socat-fork", "fwd", 0.8),
             bulk("haproxy", "fwd", 1.6)]
    for n, cps in (("cstream", 10000), ("haproxy", 10000), ("socat-fork", 2000)):
        rows += [r("fwdrate", n, "conns_per_s", cps, "tcp", 50, 64)]
    for n, cps, cpu in (("epoll_echo", 20000, 10.0), ("cstream", 20000, 12.0), ("uvloop", 19999, 30.0),
                        ("node", 19999, 40.0)):
        rows += [r("connrate", n, "conns_per_s", cps, "tcp", 50, 64),
                 r("connrate", n, "server_cpu_us_per_conn", cpu, "tcp", 50, 64)]
    rows += [r("https", "curl", "mean_ms", 20.0), r("https", "cstream", "mean_ms", 10.0),
             r("scan", "nmap", "mean_ms", 1000.0), r("scan", "nc.openbsd", "mean_ms", 5000.0),
             r("scan", "cstream", "mean_ms", 500.0), r("startup", "nc.openbsd", "mean_ms", 2.0)]
    rows += [r("startup", n, "mean_ms", 3.0) for n in ("cstream", "cstream-connect", "cstream-serve",
                                                       "cstream-http-head")]
    return rows


def status(rows, tid):
    return next(t for t in report.targets(rows) if t["id"] == tid)["status"]


def replace(rows, new):
    """rows with every row of the same key as a row of `new` replaced by it"""
    key = lambda x: (x["section"], x["name"], x["transport"], x["conns"], x["size"], x["metric"])
    keys = {key(n) for n in new}
    return [x for x in rows if key(x) not in keys] + new


class Targets(unittest.TestCase):
    def test_all_met_at_the_limits(self):
        ts = report.targets(passing())
        self.assertEqual(len(ts), 32)
        self.assertEqual([t["id"] for t in ts if t["status"] != "met"], [])

    def test_just_below_the_limits(self):
        rows = replace(passing(), [bulk("cstream", "tcp", 2.99)])
        self.assertEqual(status(rows, "bulk_tcp_vs_nc.openbsd"), "NOT met")
        self.assertEqual(status(rows, "bulk_tcp_vs_socat-b128k"), "NOT met")   # 2.99 / 1.5 < 2
        self.assertEqual(status(rows, "bulk_unix_vs_socat-b128k"), "met")
        rows = replace(passing(), echo("cstream", 50, 64, 49999, 12.01))
        self.assertEqual(status(rows, "echo_tcp_50x64B_cpu"), "NOT met")
        self.assertEqual(status(rows, "echo_tcp_50x64B_rps"), "NOT met")
        rows = replace(passing(), [r("idle", "cstream", "bytes_per_conn_idle", 1025)])
        self.assertEqual(status(rows, "idle_bytes_per_conn"), "NOT met")
        rows = replace(passing(), [r("http", "cstream", "mean_ms", 3.01)])
        self.assertEqual(status(rows, "http_head_vs_curl"), "NOT met")
        rows = replace(passing(), [bulk("cstream", "fwd", 1.59)])
        self.assertEqual(status(rows, "fwd_vs_direct"), "NOT met")
        self.assertEqual(status(rows, "fwd_vs_haproxy"), "NOT met")
        rows = replace(passing(), [r("fwdrate", "socat-fork", "conns_per_s", 2001, "tcp", 50, 64)])
        self.assertEqual(status(rows, "fwdrate_vs_socat-fork"), "NOT met")
        rows = replace(passing(), [bulk("cstream", "tls", 0.99)])
        self.assertEqual(status(rows, "tls_vs_socat"), "NOT met")
        self.assertEqual(status(rows, "tls_vs_cipher"), "NOT met")
        rows = replace(passing(), [r("scan", "cstream", "mean_ms", 500.1)])
        self.assertEqual(status(rows, "scan_vs_nmap"), "NOT met")
        self.assertEqual(status(rows, "scan_vs_nc"), "NOT met")
        rows = replace(passing(), [r("startup", "cstream-serve", "mean_ms", 3.01)])
        self.assertEqual(status(rows, "startup_cstream-serve"), "NOT met")
        rows = replace(passing(), [r("connrate", "cstream", "server_cpu_us_per_conn", 12.01, "tcp", 50, 64)])
        self.assertEqual(status(rows, "connrate_cpu"), "NOT met")
        rows = replace(passing(), [bulk("cstream", "socks5", 0.99)])
        self.assertEqual(status(rows, "proxy_socks5"), "NOT met")
        rows = replace(passing(), [r("bulk", "cstream", "maxrss_cli_kB", 65536, "unix")])
        self.assertTrue(status(rows, "rss_bulk_echo").startswith("NOT met"))

    def test_failed_cstream_is_not_measured_with_its_reason(self):
        rows = replace(passing(), [bulk("cstream", "unix", "", why="listener did not start: exited with status 2")])
        st = status(rows, "bulk_unix_vs_nc.openbsd")
        self.assertTrue(st.startswith("not measured: cstream: listener did not start"), st)
        # the other runs stayed below 64 MiB, but "every run" cannot be claimed
        self.assertTrue(status(rows, "rss_bulk_echo").startswith("not measured"))
        rows = [x for x in passing() if not (x["section"], x["name"], x["conns"]) == ("echo", "cstream", "500")]
        rows += echo("cstream", 500, 16384, "", "", why="server did not start: exited with status 2")
        self.assertIn("server did not start", status(rows, "echo_tcp_500x16KiB_cpu"))
        self.assertIn("server did not start", status(rows, "echo_tcp_500x16KiB_rps"))

    def test_missing_anchor_or_section(self):
        rows = [x for x in passing() if x["name"] != "uvloop"]
        self.assertTrue(status(rows, "echo_tcp_50x64B_rps").startswith("not measured: uvloop"))
        rows = [x for x in passing() if x["section"] != "http"]
        self.assertTrue(status(rows, "http_head_vs_curl").startswith("not measured"))

    def test_echo_errors_and_dropped_idle_connections_fail(self):
        rows = replace(passing(), echo("cstream", 50, 64, 90000, 5.0, errors=3))
        self.assertEqual(status(rows, "echo_tcp_50x64B_cpu"), "NOT met: 3 echo errors")
        self.assertEqual(status(rows, "echo_tcp_50x64B_rps"), "NOT met: 3 echo errors")
        rows = replace(passing(), [r("idle", "cstream", "alive", 9000)])
        self.assertIn("only 9000 of 10000", status(rows, "idle_bytes_per_conn"))

    def test_noise_is_flagged(self):
        rows = replace(passing(), [bulk("nc.openbsd", "tcp", 1.0, foreign=25)])
        t = next(t for t in report.targets(rows) if t["id"] == "bulk_tcp_vs_nc.openbsd")
        self.assertEqual((t["status"], t["noisy"]), ("met", "25%"))


class Files(unittest.TestCase):
    def write(self, rows, extra=""):
        f = tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False)
        f.write("section\tname\ttransport\tconns\tsize\tmetric\tvalue\tunit\tnote\n")
        for x in rows:
            f.write("\t".join(x[k] for k in ("section", "name", "transport", "conns", "size", "metric", "value",
                                              "unit", "note")) + "\n")
        f.write(extra)
        f.close()
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_target_rows_in_the_file_are_recomputed(self):
        stale = "target\tbulk_tcp_vs_nc.openbsd\t-\t-\t-\tratio\t0.1\tx\tNOT met; stale\n"
        rows = report.load(self.write(passing(), stale))
        self.assertFalse(any(x["section"] == "target" for x in rows))
        tsv = report.targets_tsv(rows)
        self.assertEqual(len(tsv.splitlines()), 32)
        self.assertIn("bulk_tcp_vs_nc.openbsd\t-\t-\t-\tratio\t3.00\tx\tmet;", tsv)

    def test_markdown_shows_failures_per_row(self):
        rows = [x for x in passing() if not (x["section"], x["name"], x["conns"]) == ("echo", "cstream", "50")]
        rows = replace(rows, [bulk("cstream", "tcp", "", why="no cstream executable at /x")]
                       + echo("cstream", 50, 64, "", "", why="server did not start: status 2"))
        rows.append(r("idle", "asyncio", "bytes_per_conn_idle", "", conns=10000, size=0,
                      note="failed: python3 lacks uvloop"))
        path = self.write(rows)
        out = io.StringIO()
        sys.argv = ["report.py", path]
        with redirect_stdout(out):
            report.main()
        md = out.getvalue()
        self.assertIn("tcp: failed: no cstream executable at /x", md)
        self.assertIn("| **cstream** | failed |", md)   # the 50x64 cell of the echo table
        self.assertIn("failed: python3 lacks uvloop", md)
        self.assertIn("## Targets\n", md)


if __name__ == "__main__":
    unittest.main(verbosity=1)
