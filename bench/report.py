#!/usr/bin/python3
"""Render bench/results.tsv (written by bench/run) as markdown, and judge the project's targets.

    report.py results.tsv > RESULTS.md      the tables, the targets first
    report.py --targets results.tsv          only the targets, as results.tsv rows (section "target")

Targets are always recomputed from the measurements; "target" rows already in the file are ignored,
so re-rendering an edited or older TSV gives consistent figures.
"""
import csv
import sys
from collections import OrderedDict, defaultdict


NOISE_MAX = 10  # same default as bench/run
RSS_LIMIT_KB = 64 * 1024
IDLE_LIMIT_B = 1024


def load(path):
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f, delimiter="\t") if r["section"] != "target"]


def fnum(v, fmt="{:,.0f}"):
    try:
        return fmt.format(float(v))
    except (TypeError, ValueError):
        return "n/a"


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def size_label(s):
    s = int(s)
    return f"{s // 1024}KiB" if s >= 1024 and s % 1024 == 0 else f"{s}B"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


def sig3(v):
    """3 significant digits, thousands separated: 8.34, 48.8, 120, 1,234"""
    v = float(v)
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def failed_reason(note):
    """'failed: WHY; median of ...' -> WHY; None when the note is not a failure"""
    if not note or not note.startswith("failed: "):
        return None
    return note[8:].split("; median of")[0].rstrip("; ")


def bold(name):
    return f"**{name}**" if name == "cstream" else name


class Data:
    """Index of the measurement rows: (section, name, transport, conns, size, metric) -> row"""

    def __init__(self, rows):
        self.rows = rows
        self.idx = {}
        for r in rows:
            self.idx[(r["section"], r["name"], r["transport"], r["conns"], r["size"], r["metric"])] = r

    def find(self, section, name, metric, transport=None, conns=None, size=None):
        for r in self.rows:
            if (r["section"] == section and r["name"] == name and r["metric"] == metric
                    and (transport is None or r["transport"] == transport)
                    and (conns is None or r["conns"] == str(conns))
                    and (size is None or r["size"] == str(size))):
                return r
        return None

    def all(self, section, name, metric):
        return [r for r in self.rows if r["section"] == section and r["name"] == name and r["metric"] == metric]


# ---------------------------------------------------------------- targets
def measured(d, section, name, metric, transport=None, conns=None, size=None):
    """-> (value or None, why-not text)"""
    r = d.find(section, name, metric, transport, conns, size)
    if r is None:
        return None, f"{name} not run in this mode/sections"
    v = num(r["value"])
    if v is None:
        return None, f"{name}: " + (failed_reason(r["note"]) or "no value")
    return v, ""


def judge(ok, ratio_txt):
    return ("met" if ok else "NOT met"), ratio_txt


def targets(rows):
    """The targets, each a dict: id, what, goal, cstream, anchor, ratio, status, noisy"""
    d = Data(rows)
    out = []

    def add(tid, what, goal, cs_txt, an_txt, ratio_txt, status, noisy=""):
        out.append(dict(id=tid, what=what, goal=goal, cstream=cs_txt, anchor=an_txt, ratio=ratio_txt,
                        status=status, noisy=noisy))

    def bulk_noise(tool, tr):
        r = d.find("bulk", tool, "GBps", tr)
        if not r:
            return 0.0
        fm = next((x.strip()[12:] for x in r["note"].split(";") if x.strip().startswith("foreign_max=")), "0")
        return num(fm) or 0.0

    for tr in ("tcp", "unix"):
        for anchor, k in (("nc.openbsd", 3.0), ("socat-b128k", 2.0)):
            label = "socat -b 131072" if anchor == "socat-b128k" else anchor
            tid = f"bulk_{tr}_vs_{anchor}"
            what = f"bulk {tr.upper() if tr == 'tcp' else tr}: cstream GB/s vs {label}"
            goal = f">= {k:g}x"
            cs, why_c = measured(d, "bulk", "cstream", "GBps", tr)
            an, why_a = measured(d, "bulk", anchor, "GBps", tr)
            if cs is None or an is None or an == 0:
                add(tid, what, goal, fmt_gb(cs), fmt_gb(an), "", "not measured: " + (why_c or why_a or "anchor is 0"))
                continue
            ratio = cs / an
            noise = max(bulk_noise("cstream", tr), bulk_noise(anchor, tr))
            st, rt = judge(ratio >= k, f"{ratio:.2f}x")
            add(tid, what, goal, fmt_gb(cs), fmt_gb(an), rt, st, f"{noise:.0f}%" if noise > NOISE_MAX else "")

    for c, s in ((50, 64), (500, 16384)):
        pt = f"{c}x{size_label(s)}"
        fp = [num((d.find("echo", n, "foreign_pct", "tcp", c, s) or {}).get("value")) or 0.0
              for n in ("cstream", "epoll_echo", "uvloop")]
        noise = f"{max(fp):.0f}%" if max(fp) > NOISE_MAX else ""
        errs = num((d.find("echo", "cstream", "errors", "tcp", c, s) or {}).get("value"))
        # server CPU per request against the minimal C server
        tid, what, goal = f"echo_tcp_{pt}_cpu", f"echo TCP {c} conns x {size_label(s)}: server CPU µs/request vs epoll_echo", "<= 1.2x"
        cs, why_c = measured(d, "echo", "cstream", "server_cpu_us_per_req", "tcp", c, s)
        an, why_a = measured(d, "echo", "epoll_echo", "server_cpu_us_per_req", "tcp", c, s)
        rps_why = failed_reason((d.find("echo", "cstream", "rps", "tcp", c, s) or {}).get("note"))
        if cs is None or an is None or an == 0:
            add(tid, what, goal, fmt_us(cs), fmt_us(an), "",
                "not measured: " + (f"cstream: {rps_why}" if rps_why else why_c or why_a or "anchor is 0"))
        elif errs:
            add(tid, what, goal, fmt_us(cs), fmt_us(an), f"{cs / an:.2f}x", f"NOT met: {errs:.0f} echo errors", noise)
        else:
            st, rt = judge(cs / an <= 1.2, f"{cs / an:.2f}x")
            add(tid, what, goal, fmt_us(cs), fmt_us(an), rt, st, noise)
        # requests/s against uvloop
        tid, what, goal = f"echo_tcp_{pt}_rps", f"echo TCP {c} conns x {size_label(s)}: requests/s vs uvloop", ">= 1.0x"
        cs, why_c = measured(d, "echo", "cstream", "rps", "tcp", c, s)
        an, why_a = measured(d, "echo", "uvloop", "rps", "tcp", c, s)
        if cs is None or an is None or an == 0:
            add(tid, what, goal, fmt_rps(cs), fmt_rps(an), "", "not measured: " + (why_c or why_a or "anchor is 0"))
        elif errs:
            add(tid, what, goal, fmt_rps(cs), fmt_rps(an), f"{cs / an:.2f}x", f"NOT met: {errs:.0f} echo errors", noise)
        else:
            st, rt = judge(cs / an >= 1.0, f"{cs / an:.2f}x")
            add(tid, what, goal, fmt_rps(cs), fmt_rps(an), rt, st, noise)

    # idle memory: an absolute limit; epoll_echo is shown as the floor
    tid, what, goal = "idle_bytes_per_conn", "idle: server RSS bytes per connection at 10,000 connections", f"<= {IDLE_LIMIT_B} B"
    cs, why_c = measured(d, "idle", "cstream", "bytes_per_conn_idle")
    an, _ = measured(d, "idle", "epoll_echo", "bytes_per_conn_idle")
    an_txt = f"epoll_echo {an:,.0f} B" if an is not None else ""
    if cs is None:
        add(tid, what, goal, "", an_txt, "", "not measured: " + why_c)
    else:
        opened = (d.find("idle", "cstream", "opened") or {}).get("value", "?")
        alive = (d.find("idle", "cstream", "alive") or {}).get("value", "?")
        status = "met" if cs <= IDLE_LIMIT_B else "NOT met"
        if alive != opened:  # a server that drops idle connections has nothing to hold
            status = f"NOT met: only {alive} of {opened} connections echoed after the idle hold"
        add(tid, what, goal, f"{cs:,.0f} B ({opened} conns)", an_txt, f"{cs / IDLE_LIMIT_B:.2f} of limit", status)

    # http-head wall time against curl -sI
    tid, what, goal = "http_head_vs_curl", "http-head: cstream http-head mean wall time vs curl -sI", "<= 0.5x"
    cs, why_c = measured(d, "http", "cstream", "mean_ms")
    an, why_a = measured(d, "http", "curl", "mean_ms")
    if cs is None or an is None or an == 0:
        add(tid, what, goal, fmt_ms(cs), fmt_ms(an), "", "not measured: " + (why_c or why_a or "anchor is 0"))
    else:
        fp = max(num((d.find("http", n, "foreign_pct") or {}).get("value")) or 0.0 for n in ("cstream", "curl"))
        st, rt = judge(cs / an <= 0.5, f"{cs / an:.2f}x")
        add(tid, what, goal, fmt_ms(cs), fmt_ms(an), rt, st, f"{fp:.0f}%" if fp > NOISE_MAX else "")

    # --progress=always on both ends costs the bulk path nothing worth measuring
    for tr in ("tcp", "unix"):
        tid, what, goal = f"progress_{tr}", f"bulk {tr}: cstream --progress=always GB/s vs without", ">= 0.9x"
        cs, why_c = measured(d, "bulk", "cstream-progress", "GBps", tr)
        an, why_a = measured(d, "bulk", "cstream", "GBps", tr)
        if cs is None or an is None or an == 0:
            add(tid, what, goal, fmt_gb(cs), fmt_gb(an), "", "not measured: " + (why_c or why_a or "anchor is 0"))
        else:
            st, rt = judge(cs / an >= 0.9, f"{cs / an:.2f}x")
            add(tid, what, goal, fmt_gb(cs), fmt_gb(an), rt, st)

    # TLS bulk: against socat's OPENSSL address, and against what the cipher does on one core
    cs, why_c = measured(d, "bulk", "cstream", "GBps", "tls")
    for tid, what, goal, an_name, k in (
            ("tls_vs_socat", "TLS bulk: cstream GB/s vs socat OPENSSL -b 131072", ">= 2x", "socat-b128k", 2.0),
            ("tls_vs_cipher", "TLS bulk: cstream GB/s vs openssl speed -evp aes-256-gcm (one core)", ">= 0.5x",
             "openssl-speed", 0.5)):
        sec = "tls" if an_name == "openssl-speed" else "bulk"
        an, why_a = measured(d, sec, an_name, "GBps", "tls")
        if cs is None or an is None or an == 0:
            add(tid, what, goal, fmt_gb(cs), fmt_gb(an), "", "not measured: " + (why_c or why_a or "anchor is 0"))
        else:
            st, rt = judge(cs / an >= k, f"{cs / an:.2f}x")
            add(tid, what, goal, fmt_gb(cs), fmt_gb(an), rt, st, f"{bulk_noise('cstream', 'tls'):.0f}%"
                if bulk_noise("cstream", "tls") > NOISE_MAX else "")

    # the proxy hop: cstream through the proxy at least as fast as nc.openbsd through the same proxy
    for tr, label in (("socks5", "SOCKS5 (microsocks)"), ("httpproxy", "HTTP CONNECT (tinyproxy)")):
        tid, what, goal = f"proxy_{tr}", f"bulk through {label}: cstream vs nc.openbsd -x through it", ">= 1.0x"
        cs, why_c = measured(d, "bulk", "cstream", "GBps", tr)
        an, why_a = measured(d, "bulk", "nc.openbsd", "GBps", tr)
        direct, _ = measured(d, "bulk", "cstream", "GBps", "tcp")
        an_txt = fmt_gb(an) + (f" (cstream direct {fmt_gb(direct)})" if direct else "")
        if cs is None or an is None or an == 0:
            add(tid, what, goal, fmt_gb(cs), an_txt, "", "not measured: " + (why_c or why_a or "anchor is 0"))
        else:
            st, rt = judge(cs / an >= 1.0, f"{cs / an:.2f}x")
            add(tid, what, goal, fmt_gb(cs), an_txt, rt, st)

    # forwarding: bulk through cstream serve --to against direct loopback, socat fork and
    # haproxy; connections per second through the forwarders
    for tid, label, anchor, k in (("fwd_vs_direct", "direct loopback", "direct", 0.8),
                                  ("fwd_vs_socat_fork", "socat fork", "socat-fork", 2.0),
                                  ("fwd_vs_haproxy", "haproxy mode tcp (splice)", "haproxy", 1.0)):
        what, goal = f"bulk through a forwarder: cstream serve --to GB/s vs {label}", f">= {k:g}x"
        cs, why_c = measured(d, "bulk", "cstream", "GBps", "fwd")
        an, why_a = measured(d, "bulk", anchor, "GBps", "fwd")
        if cs is None or an is None or an == 0:
            add(tid, what, goal, fmt_gb(cs), fmt_gb(an), "", "not measured: " + (why_c or why_a or "anchor is 0"))
            continue
        st, rt = judge(cs / an >= k, f"{cs / an:.2f}x")
        add(tid, what, goal, fmt_gb(cs), fmt_gb(an), rt, st)
    for an_name, k in (("haproxy", 1.0), ("socat-fork", 5.0)):
        tid, what, goal = f"fwdrate_vs_{an_name}", f"connections/s through a forwarder: cstream vs {an_name}", f">= {k:g}x"
        cs, why_c = measured(d, "fwdrate", "cstream", "conns_per_s")
        an, why_a = measured(d, "fwdrate", an_name, "conns_per_s")
        if cs is None or an is None or an == 0:
            add(tid, what, goal, fmt_rps(cs), fmt_rps(an), "", "not measured: " + (why_c or why_a or "anchor is 0"))
        else:
            st, rt = judge(cs / an >= k, f"{cs / an:.2f}x")
            add(tid, what, goal, fmt_rps(cs), fmt_rps(an), rt, st)

    # connection rate: server CPU per connection against epoll_echo; connections/s against uvloop and node
    tid, what, goal = "connrate_cpu", "connection rate: server CPU µs/connection vs epoll_echo", "<= 1.2x"
    cs, why_c = measured(d, "connrate", "cstream", "server_cpu_us_per_conn")
    an, why_a = measured(d, "connrate", "epoll_echo", "server_cpu_us_per_conn")
    if cs is None or an is None or an == 0:
        add(tid, what, goal, fmt_us(cs), fmt_us(an), "", "not measured: " + (why_c or why_a or "anchor is 0"))
    else:
        st, rt = judge(cs / an <= 1.2, f"{cs / an:.2f}x")
        add(tid, what, goal, fmt_us(cs), fmt_us(an), rt, st)
    for an_name in ("uvloop", "node"):
        tid, what, goal = f"connrate_vs_{an_name}", f"connection rate: connections/s vs {an_name}", "> 1.0x"
        cs, why_c = measured(d, "connrate", "cstream", "conns_per_s")
        an, why_a = measured(d, "connrate", an_name, "conns_per_s")
        if cs is None or an is None or an == 0:
            add(tid, what, goal, fmt_rps(cs), fmt_rps(an), "", "not measured: " + (why_c or why_a or "anchor is 0"))
        else:
            st, rt = judge(cs / an > 1.0, f"{cs / an:.2f}x")
            add(tid, what, goal, fmt_rps(cs), fmt_rps(an), rt, st)

    # timed commands: https against curl, the port scan against nmap and nc, start-up against nc
    timed = [("https_vs_curl", "https http-head --cafile: mean wall time vs curl -sI --cacert", "<= 0.5x",
              "https", "cstream", "curl", 0.5),
             ("scan_vs_nmap", "connect -z 127.0.0.1 1-65535: mean wall time vs nmap -sT -T5", "<= 0.5x",
              "scan", "cstream", "nmap", 0.5),
             ("scan_vs_nc", "connect -z 127.0.0.1 1-65535: mean wall time vs nc.openbsd -z", "<= 0.1x",
              "scan", "cstream", "nc.openbsd", 0.1)]
    for cmd in ("cstream", "cstream-connect", "cstream-serve", "cstream-http-head"):
        what = "cstream --version" if cmd == "cstream" else f"cstream {cmd[8:]} --help"
        timed.append((f"startup_{cmd}", f"start-up: {what} vs nc.openbsd -h", "<= 1.5x", "startup", cmd,
                      "nc.openbsd", 1.5))
    for tid, what, goal, sec, name, an_name, k in timed:
        cs, why_c = measured(d, sec, name, "mean_ms")
        an, why_a = measured(d, sec, an_name, "mean_ms")
        if cs is None or an is None or an == 0:
            add(tid, what, goal, fmt_ms(cs), fmt_ms(an), "", "not measured: " + (why_c or why_a or "anchor is 0"))
            continue
        fp = max(num((d.find(sec, n, "foreign_pct") or {}).get("value")) or 0.0 for n in (name, an_name))
        st, rt = judge(cs / an <= k, f"{cs / an:.2f}x")
        add(tid, what, goal, fmt_ms(cs), fmt_ms(an), rt, st, f"{fp:.0f}%" if fp > NOISE_MAX else "")

    # peak RSS of every cstream process in the bulk (both directions) and echo runs
    tid, what, goal = "rss_bulk_echo", "peak RSS of every cstream process in the bulk and echo runs", "< 64 MiB"
    peaks = []
    for sec, metric in (("bulk", "maxrss_srv_kB"), ("bulk", "maxrss_cli_kB"), ("sink", "maxrss_srv_kB"),
                        ("echo", "vmhwm_kB")):
        for r in d.all(sec, "cstream", metric):
            v = num(r["value"])
            if v is not None:
                peaks.append((v, f"{sec} {r['transport']} {metric.split('_')[1] if sec != 'echo' else 'server'}"))
    if not peaks:
        add(tid, what, goal, "", "", "", "not measured: no cstream bulk or echo run completed")
    else:
        v, where = max(peaks)
        failed_runs = sum(1 for sec in ("bulk", "echo") for r in d.all(sec, "cstream", "GBps" if sec == "bulk" else "rps")
                          if num(r["value"]) is None)
        extra = f"; {failed_runs} cstream bulk/echo measurements failed and are not covered" if failed_runs else ""
        if v >= RSS_LIMIT_KB:
            status = "NOT met" + extra
        elif failed_runs:  # "every run" cannot be claimed while some of them did not run
            status = f"not measured: {failed_runs} cstream bulk/echo measurements failed (the others peak below the limit)"
        else:
            status = "met"
        add(tid, what, goal, f"{v / 1024:.1f} MiB ({where})", "", f"{v / RSS_LIMIT_KB:.2f} of limit", status)
    return out


def fmt_gb(v):
    return "" if v is None else f"{v:.2f} GB/s"


def fmt_us(v):
    return "" if v is None else f"{sig3(v)} µs"


def fmt_rps(v):
    return "" if v is None else f"{v:,.0f}/s"


def fmt_ms(v):
    return "" if v is None else f"{v:.2f} ms"


def targets_tsv(rows):
    lines = []
    for t in targets(rows):
        note = f"{t['status']}; goal {t['goal']}; cstream {t['cstream'] or '-'}; anchor {t['anchor'] or '-'}"
        if t["noisy"]:
            note += f"; noisy: {t['noisy']} foreign CPU load"
        ratio = t["ratio"].split("x")[0].split(" ")[0] if t["ratio"] else ""
        unit = "fraction_of_limit" if "of limit" in t["ratio"] else "x"
        fields = ["target", t["id"], "-", "-", "-", "ratio", ratio, unit, note]
        lines.append("\t".join(f.replace("\t", " ") for f in fields))
    return "\n".join(lines) + ("\n" if lines else "")


def targets_md(rows):
    ts = targets(rows)
    body = [[t["what"], t["goal"], t["cstream"], t["anchor"], t["ratio"],
             (f"**{t['status']}**" if t["status"].startswith("NOT") else t["status"])
             + (f" (noisy: {t['noisy']} foreign load)" if t["noisy"] else "")] for t in ts]
    counts = defaultdict(int)
    for t in ts:
        counts["met" if t["status"].startswith("met") else "not met" if t["status"].startswith("NOT") else "not measured"] += 1
    out = ["## Targets\n",
           f"{counts['met']} met, {counts['not met']} not met, {counts['not measured']} not measured. Ratios are "
           "within this run (cstream / anchor). Echo targets use TCP; at 50 connections requests/s of an "
           "efficient server is capped by loadgen (see the CPU busy table), so server CPU per request is the "
           "sharper test. `noisy` = other processes used more than "
           f"{NOISE_MAX}% of the machine during a measurement involved: repeat before relying on it.\n",
           table(["target", "goal", "cstream", "anchor", "ratio", "status"], body), ""]
    return out


# ---------------------------------------------------------------- tables
def cpu_tables(val, servers, points, hdr, name):
    """server CPU per request (absolute, ratio to epoll_echo) and CPU busy of server / loadgen"""
    def marks(srv, pt):
        m = ""
        note = val.get((srv, pt, "cpu_note")) or ""
        if note.startswith("approx"):
            m += " ≈"
        try:  # "procs=A->B": the server started processes during the window
            a, b = note.split("procs=")[1].split()[0].split("->")
            if int(b) > int(a):
                m += " +"
        except (IndexError, ValueError):
            pass
        if (num(val.get((srv, pt, "foreign_pct"))) or 0) > NOISE_MAX:
            m += " *"
        return m

    def n(srv, pt, metric):
        return num(val.get((srv, pt, metric)))

    def absolute(srv, pt):
        if (srv, pt, "server_cpu_us_per_req") not in val:
            return "failed" if (srv, pt, "rps") in val else "—"
        v = n(srv, pt, "server_cpu_us_per_req")
        return "n/a" if v is None else sig3(v) + marks(srv, pt)

    def ratio(srv, pt):
        if (srv, pt, "server_cpu_us_per_req") not in val:
            return "failed" if (srv, pt, "rps") in val else "—"
        a, b = n(srv, pt, "server_cpu_us_per_req"), n("epoll_echo", pt, "server_cpu_us_per_req")
        if a is None or not b:
            return "n/a"
        return f"{a / b:.2f}" + marks(srv, pt)

    def busy(srv, pt):
        if (srv, pt, "server_cpu_pct") not in val:
            return "failed" if (srv, pt, "rps") in val else "—"
        a, b = n(srv, pt, "server_cpu_pct"), n(srv, pt, "loadgen_cpu_pct")
        return " / ".join("n/a" if x is None else f"{x:.0f}" for x in (a, b))

    out = []
    out.append(
        "\nserver CPU µs per request: the server's CPU time (user + system, all threads, plus every process it "
        "forked, alive or already reaped) over the measured window, divided by the requests answered in that "
        "window. Lower is better. Unlike requests/s it does not depend on whether loadgen or the server runs out "
        "of CPU first, so it is the figure that ranks servers at 50 and 500 connections. `+` = the server started "
        "processes during the window (a fork-per-connection server still setting up its connections: that cost "
        "is included); `≈` = a server process ended during the window, or a CPU time was only readable in clock "
        f"ticks; `*` = more than {NOISE_MAX}% foreign CPU load.\n")
    out.append(table(hdr, server_rows(val, servers, points, name, absolute)))
    if "epoll_echo" in servers:
        out.append("\nserver CPU per request as ratio to epoll_echo (same run; 1.00 = as cheap as the minimal C "
                   "server, 2.00 = twice its CPU per request):\n")
        out.append(table(hdr, server_rows(val, servers, points, name, ratio)))
    out.append("\nCPU busy during the window, % of one core: server / loadgen. A server near 100 is saturated; "
               "loadgen near 100 means requests/s was capped by the load generator, not by the server.\n")
    out.append(table(hdr, server_rows(val, servers, points, name, busy)))
    return out


def server_rows(val, servers, points, name, cellf):
    """one row per server; a server that failed at every point with one reason gets one 'failed: WHY' cell"""
    body = []
    for s in servers:
        whys = {val.get((s, p, "fail")) for p in points if (s, p, "rps") in val}
        if len(whys) == 1 and None not in whys:
            body.append([name(s), "failed: " + whys.pop()] + [""] * (len(points) - 1))
        else:
            body.append([name(s)] + [cellf(s, p) for p in points])
    return body


def fwd_section(rows):
    """bulk through a forwarder (transport fwd): one table of its own"""
    fwd = [r for r in rows if r["section"] == "bulk" and r["metric"] == "GBps" and r["transport"] == "fwd"]
    if not fwd:
        return []
    body = []
    for r in fwd:
        why = failed_reason(r["note"])
        parts = [x.strip() for x in r["note"].split(";") if x.strip()]
        runs = next((x[5:] for x in parts if x.startswith("runs=")), "")
        ver = next((x[9:] for x in parts if x.startswith("verified=")), "")
        fm = next((x[12:] for x in parts if x.startswith("foreign_max=")), "")
        body.append([bold(r["name"]), "failed: " + why if why is not None else fnum(r["value"], "{:.2f}"),
                     runs, "ok" if ver == "yes" else "FAIL", f"{fm}%" if fm else ""])
    return ["## a(2). Bulk through a forwarder (one TCP stream, socat -b 131072 client and sink)\n",
            "`direct`: client to sink on loopback; the others through `cstream serve --to`, "
            "`socat TCP-LISTEN,fork TCP:` and haproxy `mode tcp` with `option splice-auto`.\n",
            table(["forwarder", "GB/s", "runs", "verified", "foreign load max"], body), ""]


def bulk_section(rows):
    out = []
    bulk = [r for r in rows if r["section"] == "bulk" and r["metric"] == "GBps" and r["transport"] != "fwd"]
    if not bulk:
        return out
    d = Data(rows)
    by = defaultdict(dict)
    order = []
    for r in bulk:
        if r["name"] not in order:
            order.append(r["name"])
        by[r["name"]][r["transport"]] = r
    ip = by.get("iperf3", {}).get("tcp")
    ipv = num(ip["value"]) if ip else None
    order = ["iperf3"] + [t for t in order if t != "iperf3"] if "iperf3" in order else order
    body = []
    for t in order:
        cells = [bold(t)]
        vers, extra, fmax, rss = [], [], [], []
        for tr in ("tcp", "unix", "tls", "socks5", "httpproxy"):
            r = by[t].get(tr)
            if not r:
                cells += ["—", ""] + ([""] if tr == "tcp" else [])
                continue
            why = failed_reason(r["note"])
            parts = [x.strip() for x in r["note"].split(";") if x.strip()]
            runs = next((x[5:] for x in parts if x.startswith("runs=")), "")
            ver = next((x[9:] for x in parts if x.startswith("verified=")), None)
            vers.append("-" if ver is None else ("ok" if ver == "yes" else "FAIL"))
            fm = next((x[12:] for x in parts if x.startswith("foreign_max=")), "")
            fmax.append(f"{fm}%" if fm else "")
            if why is not None:
                extra.append(f"{tr}: failed: {why}")
            else:
                extra += [f"{tr}: {x}" for x in parts
                          if not x.startswith(("median of", "runs=", "verified=", "memory-to-memory", "foreign_max="))]
            cells += [fnum(r["value"], "{:.2f}") if r["value"] else "failed", runs]
            if tr == "tcp":
                cells.append(f"{100 * float(r['value']) / ipv:.0f}%" if ipv and r["value"] else "")
            s_ = num((d.find("bulk", t, "maxrss_srv_kB", tr) or {}).get("value"))
            c_ = num((d.find("bulk", t, "maxrss_cli_kB", tr) or {}).get("value"))
            if s_ is not None or c_ is not None:
                rss.append(f"{tr} " + "/".join("?" if x is None else f"{x / 1024:.1f}" for x in (s_, c_)))
        cells += ["/".join(vers), "; ".join(rss), "/".join(fmax) if any(fmax) else "", "; ".join(extra)]
        body.append(cells)
    size = next((r["size"] for r in bulk if r["name"] != "iperf3"), "?")
    try:
        size = f"{int(size) / 2**30:.2f} GiB"
    except ValueError:
        pass
    out.append(f"## a. Bulk throughput, one direction ({size} from /dev/shm → client → server → /dev/null)\n")
    out.append(
        "Wall time from client start until both client and listener have exited; median of the runs "
        "listed. iperf3 is memory-to-memory (`-c 127.0.0.1 -t N`), the loopback TCP ceiling. "
        "`verified` = a separate untimed 16 MiB transfer arrived byte-identical (tcp/unix). `peak RSS` = "
        "listener/client maximum resident set in MiB (GNU time `%M`) over the check and the timed runs. "
        "`foreign load max` = the most CPU (% of the machine) that other processes used during one of the chosen "
        "runs (tcp/unix); runs above " + str(NOISE_MAX) + "% are re-run while the retry budget lasts.\n"
    )
    out.append(table(["tool", "TCP GB/s", "TCP runs", "% of iperf3", "unix GB/s", "unix runs", "TLS GB/s", "TLS runs",
                      "via SOCKS5 GB/s", "runs", "via HTTP CONNECT GB/s", "runs", "verified",
                      "peak RSS MiB listener/client", "foreign load max", "notes"], body))
    out.append("")
    return out


def echo_section(rows):
    out = []
    echo = [r for r in rows if r["section"] == "echo"]
    for tr, title in (("tcp", "b. Echo ping-pong over TCP (127.0.0.1)"), ("unix", "b'. Echo ping-pong over unix sockets")):
        rs = [r for r in echo if r["transport"] == tr]
        if not rs:
            continue
        val = {}
        servers, points = [], []
        for r in rs:
            if r["name"] not in servers:
                servers.append(r["name"])
            pt = (int(r["conns"]), int(r["size"]))
            if pt not in points:
                points.append(pt)
            val[(r["name"], pt, r["metric"])] = r["value"]
            if r["metric"] == "rps":
                why = failed_reason(r["note"])
                if why is not None and r["value"] == "":
                    val[(r["name"], pt, "fail")] = why
            if r["metric"] == "rps_win":
                val[(r["name"], pt, "rps_win_note")] = r["note"]
            if r["metric"] == "foreign_pct":
                val[(r["name"], pt, "attempts")] = r["note"].split("attempts=")[-1]
            if r["metric"] == "server_cpu_us_per_req":
                val[(r["name"], pt, "cpu_note")] = r["note"]
        points.sort()
        hdr = ["server"] + [f"c={c} {size_label(s)}" for c, s in points]

        def cell(srv, pt, metric, fmt):
            if (srv, pt, "fail") in val:
                return "failed"
            v = val.get((srv, pt, metric))
            if v is None:
                return "—"
            if v == "":
                return "n/a"
            txt = fnum(v, fmt)
            if metric == "rps":
                try:  # flag points whose 0.5 s windows spread by more than 30% of their median
                    med = float(val.get((srv, pt, "rps_win")))
                    note = val.get((srv, pt, "rps_win_note"), "")
                    lo = float(note.split("min=")[1].split()[0])
                    hi = float(note.split("max=")[1].split()[0])
                    if med > 0 and (hi - lo) / med > 0.3:
                        txt += " ~"
                except (TypeError, ValueError, IndexError):
                    pass
            if (num(val.get((srv, pt, "foreign_pct"))) or 0) > NOISE_MAX:
                txt += " *"
            err = val.get((srv, pt, "errors"))
            if err not in (None, "", "0"):
                txt += f" ⚠err={err}"
            return txt

        def rows_of(metric, fmt):
            return server_rows(val, servers, points, bold, lambda s, p: cell(s, p, metric, fmt))

        out.append(f"## {title}\n")
        out.append(
            "Closed loop: each connection sends `size` bytes, waits for the same bytes back (verified), repeats. "
            "Server pinned to CPU 0, loadgen to CPU 1. `—` = not run.\n"
        )
        out.append(
            "requests/s. `~` = the point's 0.5 s windows spread by more than 30% of their median; `*` = other "
            f"processes on the machine used more than {NOISE_MAX}% of its CPU during the point (after up to 2 "
            "re-runs): both mean \"noisy, do not trust small differences\". `⚠err` = echoed bytes differed or "
            "the server closed connections.\n"
        )
        out.append(table(hdr, rows_of("rps", "{:,.0f}")))
        out.append("\np99 latency (µs):\n")
        out.append(table(hdr, rows_of("p99_us", "{:,.0f}")))
        out.append("\np50 latency (µs):\n")
        out.append(table(hdr, rows_of("p50_us", "{:,.0f}")))
        out.append("\nforeign CPU load during the point (% of the machine used by processes other than this benchmark):\n")
        out.append(table(hdr, server_rows(val, servers, points, bold, lambda s, p:
            (lambda v, a: "—" if v is None else f"{v}%" + (f" ({a} runs)" if a not in (None, "", "1") else ""))(
                val.get((s, p, "foreign_pct")), val.get((s, p, "attempts"))))))
        if "epoll_echo" in servers:
            out.append("\nrequests/s as % of epoll_echo (same run):\n")

            def pct(s, p):
                if (s, p, "fail") in val:
                    return "failed"
                a, b = num(val.get((s, p, "rps"))), num(val.get(("epoll_echo", p, "rps")))
                return f"{100 * a / b:.0f}%" if a is not None and b else "—"
            out.append(table(hdr, server_rows(val, servers, points, bold, pct)))
        if any(k[2] == "server_cpu_us_per_req" for k in val):
            out += cpu_tables(val, servers, points, hdr, bold)
        out.append("\nserver peak RSS (VmHWM of the server process after the point, MiB; it only grows, so each "
                   "column covers every point before it; `—` = not run):\n")

        def hwm(s, p):
            v = num(val.get((s, p, "vmhwm_kB")))
            return "n/a" if v is None else f"{v / 1024:.1f}"
        out.append(table(hdr, server_rows(val, servers, points, bold,
                                          lambda s, p: hwm(s, p) if (s, p, "vmhwm_kB") in val else "—")))
        out.append("")
    return out


def idle_section(rows):
    out = []
    idle = [r for r in rows if r["section"] == "idle"]
    if not idle:
        return out
    v = defaultdict(dict)
    order = []
    for r in idle:
        if r["name"] not in order:
            order.append(r["name"])
        v[r["name"]][r["metric"]] = r
    out.append("## c. Idle connections: server RSS growth per connection\n")
    out.append(
        "Server warmed with a short echo run, RSS (VmRSS of the server PID) read before; loadgen opens the "
        "connections, and once the server holds an fd for each, RSS is read again (`idle`). After the hold, "
        "each connection echoes 1 byte (`alive`) and RSS is read a third time. User-space memory only: kernel "
        "socket buffers are not in RSS.\n"
    )
    body = []
    for s in order:
        d = v[s]
        g = lambda m: d[m]["value"] if m in d else ""
        bpc = d.get("bytes_per_conn_idle")
        why = failed_reason(bpc["note"]) if bpc else None
        if why is not None and "opened" not in d:
            body.append([bold(s), d["bytes_per_conn_idle"]["conns"], "failed: " + why] + [""] * 7)
            continue
        body.append([
            bold(s), d["opened"]["conns"] if "opened" in d else "", g("opened"), g("alive"),
            fnum(g("rss_before_kB")), fnum(g("rss_idle_kB")), fnum(g("rss_after_echo_kB")),
            (fnum(g("bytes_per_conn_idle")) if g("bytes_per_conn_idle") else "failed: " + (why or "")),
            fnum(g("bytes_per_conn_after_echo")), g("ramp_s"),
        ])
    out.append(table(["server", "conns asked", "opened", "alive", "RSS before kB", "RSS idle kB",
                      "RSS after echo kB", "bytes/conn idle", "bytes/conn after 1-byte echo", "ramp s"], body))
    out.append("")
    return out


def sink_section(rows):
    out = []
    d = Data(rows)
    sink = [r for r in rows if r["section"] == "sink" and r["metric"] == "GBps"]
    if not sink:
        return out
    out.append("## Server sends (listener reads the file from stdin, `loadgen sink` reads to EOF)\n")
    body = []
    for r in sink:
        why = failed_reason(r["note"])
        parts = [x.strip() for x in r["note"].split(";") if x.strip()]
        runs = next((x[5:] for x in parts if x.startswith("runs=")), "")
        fm = next((x[12:] + "%" for x in parts if x.startswith("foreign_max=")), "")
        rest = "failed: " + why if why is not None else \
            "; ".join(x for x in parts if not x.startswith(("median of", "runs=", "foreign_max=")))
        rss = num((d.find("sink", r["name"], "maxrss_srv_kB") or {}).get("value"))
        body.append([bold(r["name"]), fnum(r["value"], "{:.2f}") if r["value"] else "failed", runs,
                     "" if rss is None else f"{rss / 1024:.1f}", fm, rest])
    out.append(
        "Commands: `nc.openbsd -N -l 127.0.0.1 P < file` (`-N`: shut the socket down at stdin EOF, else the "
        "reader never sees EOF), `ncat -l 127.0.0.1 P --send-only < file`, `socat -u STDIN "
        "TCP-LISTEN:P,bind=127.0.0.1,reuseaddr < file`, `cstream serve 127.0.0.1 P < file`; time from "
        "connect to EOF as loadgen sees it.\n"
    )
    out.append(table(["listener", "TCP GB/s", "runs", "peak RSS MiB", "foreign load max", "notes"], body))
    out.append("")
    return out


def connrate_section(rows, sec="connrate",
                     title="## b''. Connection rate (50 clients; each request a new connection: connect, 64 B, echo, close)\n",
                     intro="`loadgen connrate`; server CPU per connection is read as in the echo tables.\n"):
    d = Data(rows)
    names = []
    for r in rows:
        if r["section"] == sec and r["name"] not in names:
            names.append(r["name"])
    if not names:
        return []
    body = []
    for n in names:
        r = d.find(sec, n, "conns_per_s")
        why = failed_reason(r["note"]) if r else None
        fp = num((d.find(sec, n, "foreign_pct") or {}).get("value"))
        body.append([bold(n), "failed: " + why if why is not None else fnum(r["value"]),
                     fnum((d.find(sec, n, "server_cpu_us_per_conn") or {}).get("value"), "{:.2f}"),
                     "" if fp is None else f"{fp:.0f}%"])
    return [title, intro,
            table(["server", "connections/s", "server CPU µs/connection", "foreign load"], body), ""]


def timed_section(rows, sec, title, intro, ref, ref_label):
    out = []
    names = []
    for r in rows:
        if r["section"] == sec and r["name"] not in names:
            names.append(r["name"])
    if not names:
        return out
    # the reference first, cstream next, then the others in the order they ran
    names.sort(key=lambda n: (n != ref, n != "cstream"))
    d = Data(rows)

    def g(n, m):
        return num((d.find(sec, n, m) or {}).get("value"))
    refv = g(ref, "mean_ms")
    body = []
    for n in names:
        r = d.find(sec, n, "mean_ms")
        why = failed_reason(r["note"]) if r else None
        if why is not None:
            body.append([bold(n), "failed: " + why] + [""] * 7)
            continue
        mean = g(n, "mean_ms")
        runs = next((x.strip()[5:] for x in r["note"].split(";") if x.strip().startswith("runs=")), "")
        cmd = r["note"].split("command: ", 1)[-1].strip()
        fp = g(n, "foreign_pct")
        body.append([bold(n), f"{mean:.3f}", fnum(g(n, "median_ms"), "{:.3f}"), fnum(g(n, "stddev_ms"), "{:.3f}"),
                     fnum(g(n, "min_ms"), "{:.3f}"),
                     " / ".join(fnum(g(n, m), "{:.3f}") for m in ("user_ms", "sys_ms")),
                     f"{mean / refv:.2f}" if refv else "",
                     runs, ("" if fp is None else f"{fp:.0f}%" + (" *" if fp > NOISE_MAX else "")) + f" · `{cmd}`"])
    out.append(f"## {title}\n")
    out.append(intro + "\n")
    out.append(table(["command", "mean ms", "median ms", "stddev ms", "min ms", "user / sys ms", f"÷ {ref_label}",
                      "runs", "foreign load · command"], body))
    out.append("")
    return out


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--targets":
        sys.stdout.write(targets_tsv(load(sys.argv[2])))
        return
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        sys.exit(2)
    rows = load(sys.argv[1])
    meta = OrderedDict((r["name"], r["value"]) for r in rows if r["section"] == "meta")
    notes = [(r["name"], r["value"]) for r in rows if r["section"] == "note"]
    out = []
    out.append("# cstream benchmark results\n")
    out.append(
        "Generated by `bench/run` (raw data: `bench/results.tsv`; how to read it: `bench/README`). Noisy shared "
        "2-core VM: **compare ratios within one run**, not absolute numbers across runs. GB/s and MB/s are "
        "decimal (1e9 / 1e6 bytes per second); MiB = 2^20 bytes.\n"
    )
    out.append(table(["key", "value"], [[k, v] for k, v in meta.items()]))
    out.append("")
    out += targets_md(rows)
    out += bulk_section(rows)
    out += fwd_section(rows)
    out += echo_section(rows)
    out += idle_section(rows)
    out += sink_section(rows)
    out += timed_section(
        rows, "http", "d. http-head against curl -sI (local nginx)",
        "`HEAD /` on a temporary nginx (one worker, `master_process off`, pinned to CPU 0) on 127.0.0.1; each "
        "command runs sequentially, pinned to CPU 1, one process per request (start-up included: that is the "
        "wall time a script sees). Timed with `hyperfine -N` (no shell) when installed, after a checked run "
        "that must print an `HTTP/1.x 200` status line.", "curl", "curl")
    out += connrate_section(rows)
    out += connrate_section(rows, "fwdrate",
                            "## b(3). Connections per second through a forwarder (to epoll_echo; 50 clients, a new "
                            "connection per 64 B request)\n",
                            "cstream serve --to, haproxy mode tcp, socat fork: each client connection is a new "
                            "back-end connection too; forwarder CPU includes its children (socat's forks).\n")
    out += timed_section(
        rows, "https", "d'. https http-head against curl -sI (local nginx, TLS 1.3, P-256 certificate)",
        "`HEAD /` over TLS on the same nginx setup; `--cafile`/`--cacert` name the test certificate, so both "
        "verify it.", "curl", "curl")
    out += timed_section(
        rows, "scan", "f. Port scan of 127.0.0.1 1-65535",
        "TCP connect scan of every port of 127.0.0.1, two of them listening (cstream must report both).",
        "nmap", "nmap")
    out += timed_section(
        rows, "startup", "e. Start-up cost",
        "Mean wall time of one run of each command (fork + exec + run + exit), sequential, pinned to CPU 1; "
        "`true` is the floor of starting any process here. cstream links libevent and OpenSSL dynamically "
        "(the default build); `cstream-static`, when measured, is the same `--version` of a build configured "
        "with `--enable-static-deps`.", "true", "true")
    out.append("## Commands and tool quirks\n")
    out.append(QUIRKS.strip())
    if notes:
        out.append("\nNotes from this run:\n")
        out += [f"- [{k}] {t}" for k, t in notes]
    out.append("")
    sys.stdout.write("\n".join(out) + "\n")


QUIRKS = """
Bulk (listener `> /dev/null < /dev/null`, client `< file`; `P` = port, `S` = socket path). Every listener and
client runs under GNU `time -f %M` for its peak RSS:

| tool | listener | client | needed to exit at EOF |
|---|---|---|---|
| nc.openbsd | `nc.openbsd -l 127.0.0.1 P` / `nc.openbsd -U -l S` | `nc.openbsd -N 127.0.0.1 P` / `-U -N S` | client needs `-N` (shutdown(SHUT_WR) at stdin EOF), else it waits forever; the listener exits at network EOF. `-U -l` leaves the socket file behind (bench/run removes it). |
| ncat | `ncat -l 127.0.0.1 P --recv-only` / `ncat -U -l S --recv-only` | `ncat --send-only 127.0.0.1 P` / `-U --send-only S` | works as given; ~50-100 ms start-up per process; `-U -l` leaves the socket file behind. |
| socat | `socat -u TCP-LISTEN:P,bind=127.0.0.1,reuseaddr STDOUT` / `UNIX-LISTEN:S` | `socat -u STDIN TCP:127.0.0.1:P` / `UNIX-CONNECT:S` | works as given (`-u` = one direction, exits at EOF); default 8 KiB buffer (`socat-b128k` row: `-b 131072` on both ends). |
| iperf3 | `iperf3 -s -1 -B 127.0.0.1 -p P` | `iperf3 -c 127.0.0.1 -p P -t N -J` | `-1`: server exits after one test. |
| cstream | `cstream serve 127.0.0.1 P` / `cstream unix-serve S` | `cstream connect 127.0.0.1 P` / `cstream unix-connect S` | must exit at EOF like the others (a listener still running 5 s after its client exited is killed and the run is marked failed). |

Echo servers (all listen with backlog 4096; the TCP ones written here set TCP_NODELAY):

| name | command |
|---|---|
| epoll_echo | `servers/epoll_echo --tcp 127.0.0.1:P` (C, single thread, level-triggered epoll, shared 64 KiB buffer) |
| asyncio | `/usr/bin/python3 servers/asyncio_echo.py --tcp 127.0.0.1:P` (streams, `await reader.read(65536)` / `write` / `await drain()`) |
| uvloop | same file with `--uvloop` |
| node | `node servers/node_echo.js --tcp 127.0.0.1:P` (`net`, `socket.pipe(socket)`, `noDelay: true`) |
| cstream | `cstream serve 127.0.0.1 P --echo` / `cstream unix-serve S --echo`; idle test: `--max-conns 11000` added |

(`ECHO_TCP_SERVERS` can add the yardstick's fork-per-connection servers `socat-pipe`, `socat-exec`,
`socat-tuned` and `ncat`, which run at 1 and 50 connections only.)

http-head: `curl -sI http://127.0.0.1:P/` and `cstream http-head http://127.0.0.1:P/`. Start-up:
`true`, `cstream --version`, `cstream COMMAND --help`, `nc.openbsd -h`, `curl --version`, `socat -V`,
`ncat --version` (and `cstream-static --version` when `CSTREAM_STATIC` names a static build).

Every echo server gets discarded warm-up runs after start: 1 s of 64 B messages (asyncio's first ~2 s are about
2x slower otherwise) and 0.3 s of 1 MiB messages (until glibc's dynamic mmap threshold has been raised by one
large free, CPython's asyncio mmap()s/mremap()s/munmap()s its 256 KiB recv buffer on every read).

Reading the echo tables: at 1 connection the figure is bound by wake-up latency on this VM (both sides sleep
between messages) and moves by ±30% between runs, so a slower server can even post a lower latency; at 50/500
connections it is server CPU bound, except `epoll_echo`, which is at the limit of loadgen itself (both use
~90% of a core), so it is the harness's ceiling rather than the server's. Server CPU per request is read by
loadgen (`--cpu-pid`) from the server's process CPU clock and `/proc/PID/stat` when the measured window starts
and ends: it stays meaningful when requests/s is capped by loadgen, and it is the figure that ranks servers
at 50 and 500 connections (see the "CPU busy" tables: loadgen near 100% = loadgen-bound point).
"""

if __name__ == "__main__":
    main()
