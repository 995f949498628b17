#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# connect -z and unix-connect -z: port checks against real listeners
# (cstream serve, nc.openbsd -l, ncat -l, socat), their output in port
# order, -v and --json, the exit status (0 open, 1 none, 4 all timed out).

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
PEERS=$BATS_TEST_DIRNAME/../peers

# listening PORT: is anything listening on 127.0.0.1:PORT?
listening() {
	grep -q "^ *[0-9]*: 0100007F:$(printf '%04X' "$1") 00000000:0000 0A " \
	    /proc/net/tcp
}

# wait_listen PID PORT: until PID's server listens on 127.0.0.1:PORT.
wait_listen() {
	local deadline

	deadline=$(_helpers_deadline "$HELPERS_WAIT")
	until listening "$2"; do
		pid_running "$1" || { echo "pid $1 exited" >&2; return 1; }
		[ "$(_helpers_now)" -lt "$deadline" ] ||
		    { echo "no listener on $2" >&2; return 1; }
		sleep 0.02
	done
}

# closed_port: a port on 127.0.0.1 nothing listens on a moment ago.
closed_port() {
	local p

	p=$(free_port)
	while listening "$p"; do p=$(free_port); done
	printf '%s\n' "$p"
}

@test "-z: open ports on stdout in ascending order, closed ones silent" {
	start_server A "$CSTREAM" serve --discard 127.0.0.1 0
	start_server B "$CSTREAM" serve --discard 127.0.0.1 0
	c=$(closed_port)
	lo=$A_PORT hi=$B_PORT
	[ "$lo" -lt "$hi" ] || { lo=$B_PORT; hi=$A_PORT; }
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect -z \
	    127.0.0.1 "$hi,$c,$lo"
	[ "$status" -eq 0 ]
	[ "$output" = "127.0.0.1 $lo open"$'\n'"127.0.0.1 $hi open" ]
	[ -z "$stderr" ]
}

@test "-z -v: closed ports on stderr as 'HOST PORT closed'" {
	start_server A "$CSTREAM" serve --discard 127.0.0.1 0
	c=$(closed_port)
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect -z -v \
	    127.0.0.1 "$A_PORT,$c"
	[ "$status" -eq 0 ]
	[ "$output" = "127.0.0.1 $A_PORT open" ]
	[ "$stderr" = "127.0.0.1 $c closed" ]
}

@test "-z: HOST is printed as written (localhost)" {
	start_server A "$CSTREAM" serve --discard 127.0.0.1 0
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect -4 -z \
	    localhost "$A_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "localhost $A_PORT open" ]
}

@test "-z: nothing open exits 1 with empty stdout" {
	c=$(closed_port)
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect -z \
	    127.0.0.1 "$c"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "-z: every port timed out exits 4; -v says timeout" {
	py_server "$PEERS/backlog.py"
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect -z -v \
	    --connect-timeout 0.5 127.0.0.1 "$PY_PORT"
	[ "$status" -eq 4 ]
	[ -z "$output" ]
	[ "$stderr" = "127.0.0.1 $PY_PORT timeout" ]
}

@test "-z: one closed port among timeouts is exit 1, not 4" {
	py_server "$PEERS/backlog.py"
	c=$(closed_port)
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect -z \
	    --connect-timeout 0.5 127.0.0.1 "$PY_PORT,$c"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

@test "-z --json: one object per port, every state, in port order" {
	start_server A "$CSTREAM" serve --discard 127.0.0.1 0
	py_server "$PEERS/backlog.py"
	c=$(closed_port)
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect -z \
	    --json --connect-timeout 0.5 127.0.0.1 "$A_PORT,$PY_PORT,$c"
	[ "$status" -eq 0 ]
	# The timings are checked in scripting.bats: drop them.
	output=$(printf '%s\n' "$output" | sed 's/,"dns_ms".*}$/}/')
	expected=$(for p in $(printf '%s\n' "$A_PORT" "$PY_PORT" "$c" |
	    sort -n); do
		s=closed
		[ "$p" = "$A_PORT" ] && s=open
		[ "$p" = "$PY_PORT" ] && s=timeout
		printf '{"host":"127.0.0.1","port":%s,"state":"%s"}\n' "$p" "$s"
	done)
	[ "$output" = "$expected" ]
	[ -z "$stderr" ]
	# Each line is JSON that jq reads.
	if command -v jq >/dev/null; then
		[ "$(printf '%s\n' "$output" | jq -r .state | sort | tr '\n' ' ')" = \
		    "closed open timeout " ]
	fi
}

@test "-z: ranges, lists and service names (ssh,http) become ports" {
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect -z \
	    --json --connect-timeout 1 127.0.0.1 'http,ssh,20-22,21'
	[ "$status" -le 1 ]
	[ "$(printf '%s\n' "$output" | sed 's/.*"port":\([0-9]*\).*/\1/' |
	    tr '\n' ' ')" = "20 21 22 80 " ]
}

@test "-z: real single-client listeners (nc.openbsd, ncat, socat) are open" {
	require_cmd nc.openbsd ncat socat
	p1=$(closed_port); p2=$(closed_port); p3=$(closed_port)
	bg N nc.openbsd -l 127.0.0.1 "$p1"
	bg K ncat -l 127.0.0.1 "$p2"
	bg S socat "TCP-LISTEN:$p3,bind=127.0.0.1,reuseaddr" STDOUT
	wait_listen "$N_PID" "$p1"
	wait_listen "$K_PID" "$p2"
	wait_listen "$S_PID" "$p3"
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect -z \
	    127.0.0.1 "$p1,$p2,$p3"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf '127.0.0.1 %s open\n' $(printf '%s\n' "$p1" \
	    "$p2" "$p3" | sort -n))" ]
}

# The full scan runs in a network namespace of its own (unshare -n, its own
# loopback): a scan of every port of the shared 127.0.0.1 would connect to
# the servers of tests running beside it and take their one client slot.
@test "-z 1-65535 on 127.0.0.1 finds the listeners, in order, in bounded time" {
	require_cmd unshare
	require_cmd ip
	cat >"$T/scan.sh" <<'SH'
ip link set lo up || exit 97
python3 -u -c '
import socket, sys, time
ls = []
for _ in range(2):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16); ls.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ls))
time.sleep(120)' >"$T/ports" &
py=$!
for i in $(seq 100); do [ -s "$T/ports" ] && break; sleep 0.05; done
"$CSTREAM" connect -z 127.0.0.1 1-65535 >"$T/out" 2>"$T/err"
echo $? >"$T/rc"
kill $py
SH
	export T CSTREAM
	run run_with_timeout 90 unshare -n bash "$T/scan.sh"
	[ "$status" -eq 0 ] || { echo "unshare -n: $status: $output" >&2; false; }
	read -r p1 p2 <"$T/ports"
	[ "$(cat "$T/rc")" -eq 0 ]
	[ ! -s "$T/err" ]
	# Exactly the two listeners, ascending.
	[ "$(cat "$T/out")" = "$(printf '127.0.0.1 %s open\n' $(printf '%s\n' \
	    "$p1" "$p2" | sort -n))" ]
}

@test "-z on ::1" {
	python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.close()' ||
	    skip "no IPv6"
	start_server A "$CSTREAM" serve --discard ::1 0
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect -z \
	    ::1 "$A_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "::1 $A_PORT open" ]
}

@test "unix-connect -z: 0 when something listens, 1 when nothing does" {
	start_server U "$CSTREAM" unix-serve --discard "$T/s.sock"
	run --separate-stderr run_with_timeout 10 "$CSTREAM" unix-connect -z \
	    "$T/s.sock"
	[ "$status" -eq 0 ]
	[ "$output" = "$T/s.sock open" ]
	run --separate-stderr run_with_timeout 10 "$CSTREAM" unix-connect -z -v \
	    "$T/none.sock"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = "$T/none.sock closed" ]
}

@test "-z: bad port lists are usage errors naming the problem" {
	run --separate-stderr "$CSTREAM" connect -z 127.0.0.1 nosuchservice
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: unknown service: nosuchservice" ]
	run --separate-stderr "$CSTREAM" connect -z 127.0.0.1 10-5
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: port range 10-5: the first port is above the last" ]
	run --separate-stderr "$CSTREAM" connect -z 127.0.0.1 '22,,80'
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: ports 22,,80: empty item" ]
	run --separate-stderr "$CSTREAM" connect -z 127.0.0.1 1-70000
	[ "$status" -eq 2 ]
	run --separate-stderr "$CSTREAM" connect -z 127.0.0.1 0
	[ "$status" -eq 2 ]
}

@test "-z: options it cannot use, and --json/--concurrency without it" {
	run --separate-stderr "$CSTREAM" connect -z 127.0.0.1 80 --send x
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: -z sends and reads nothing: no --send or --read options with it" ]
	run --separate-stderr "$CSTREAM" connect -z -C 127.0.0.1 80
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: --crlf cannot be used with -z" ]
	run --separate-stderr "$CSTREAM" connect --json 127.0.0.1 80
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: --json and --concurrency need -z" ]
	run --separate-stderr "$CSTREAM" connect -z --concurrency 0 127.0.0.1 80
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: --concurrency 0: too small" ]
}

@test "-z --concurrency 1 and a low descriptor limit still scan every port" {
	start_server A "$CSTREAM" serve --discard 127.0.0.1 0
	run --separate-stderr run_with_timeout 20 bash -c \
	    'ulimit -n 24; exec "$0" connect -z --concurrency 5000 127.0.0.1 "$1"' \
	    "$CSTREAM" "$((A_PORT > 200 ? A_PORT - 200 : 1))-$((A_PORT + 200))"
	[ "$status" -eq 0 ]
	printf '%s\n' "$output" | grep -qx "127.0.0.1 $A_PORT open"
	run --separate-stderr run_with_timeout 20 "$CSTREAM" connect -z \
	    --concurrency 1 127.0.0.1 "$A_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "127.0.0.1 $A_PORT open" ]
}

@test "-z: a host that does not resolve is exit 3" {
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect -z \
	    nosuch.invalid 80
	[ "$status" -eq 3 ]
	[ -z "$output" ]
	[ "$stderr" = "cstream: connect: nosuch.invalid: Name or service not known" ]
}
