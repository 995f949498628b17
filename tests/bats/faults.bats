#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Faults: peers that reset (SO_LINGER 0) mid-transfer in both
# directions, during the TLS handshake and during shutdown, over plain TCP
# and TLS, against connect and every serve mode; clients that never read;
# mass disconnects. After each fault a server must hold no more
# descriptors than before, use no CPU, and still serve; its peak memory
# (VmHWM) stays under a stated bound. The peers are tests/peers/faults.py.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/tls"

setup_file() {
	tls_file_pki
}

setup() {
	common_setup
	require_cmd python3 openssl
	PEER=$BATS_TEST_DIRNAME/../peers/faults.py
}

# --- measures ---------------------------------------------------------------

# wait_nfds PID N: wait until PID holds N descriptors (closing a dead
# connection takes the server a loop turn or a linger period).
wait_nfds() {
	local deadline

	deadline=$(_helpers_deadline 8)
	until [ "$(nfds "$1")" -eq "$2" ]; do
		if [ "$(_helpers_now)" -ge "$deadline" ]; then
			echo "pid $1 holds $(nfds "$1") descriptors, not $2:" >&2
			ls -l /proc/"$1"/fd >&2
			return 1
		fi
		sleep 0.05
	done
}

# cpu_ticks PID: user + system CPU time of PID so far, in clock ticks.
cpu_ticks() {
	local stat f

	read -r stat <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	read -r -a f <<<"$stat"
	printf '%s\n' $(( f[11] + f[12] ))
}

# assert_idle PID: PID uses at most 2 clock ticks over one second (a
# server spinning on a dead socket uses all of them).
assert_idle() {
	local before after

	before=$(cpu_ticks "$1")
	sleep 1		# the interval measured, not a wait for an event
	after=$(cpu_ticks "$1")
	if [ $(( after - before )) -gt 2 ]; then
		echo "pid $1 used $(( after - before )) ticks in 1 s" >&2
		return 1
	fi
}

# peer ARGS...: run the hostile peer, at most 30 s.
peer() {
	run_with_timeout 30 python3 "$PEER" "$@"
}

# --- servers ----------------------------------------------------------------

# serve_mode PREFIX MODE [--tls]: start serve on 127.0.0.1 port 0 in MODE
# (keep-open, echo, discard, exec, sh-exec, broker; -v for the logs).
# keep-open reads stdin from $BG_STDIN (default /dev/null).
serve_mode() {
	local prefix=$1 mode=$2 tls=()
	local -a args

	[ "${3:-}" = --tls ] && tls=(--tls --cert "$PKI/good.crt" \
	    --key "$PKI/good.key")
	case $mode in
	keep-open)	args=(-k) ;;
	exec)		args=(--exec cat) ;;
	sh-exec)	args=(--sh-exec 'exec cat') ;;
	*)		args=("--$mode") ;;
	esac
	start_server "$prefix" "$CSTREAM" -v serve "${tls[@]}" "${args[@]}" \
	    127.0.0.1 0
}

# still_serves PORT MODE [--tls]: a new client is served after the faults
# (a line comes back in the modes that answer).
still_serves() {
	local port=$1 mode=$2 tls=()

	[ "${3:-}" = --tls ] && tls=(--tls --cafile "$PKI/ca.crt")
	case $mode in
	echo|exec|sh-exec)
		run --separate-stderr run_with_timeout 10 "$CSTREAM" connect \
		    "${tls[@]}" 127.0.0.1 "$port" --send 'again\n' --read-line
		[ "$status" -eq 0 ]
		[ "$output" = again ]
		;;
	*)
		run --separate-stderr run_with_timeout 10 "$CSTREAM" connect \
		    "${tls[@]}" 127.0.0.1 "$port" --send 'again\n' -N
		[ "$status" -eq 0 ]
		[ "$stderr" = "" ]
		;;
	esac
}

# after_faults PID PORT MODE BASE [--tls]: descriptors back to BASE, no
# CPU use, still serving, and still at BASE descriptors after that.
after_faults() {
	wait_nfds "$1" "$4"
	assert_idle "$1"
	still_serves "$2" "$3" "${5:-}"
	wait_nfds "$1" "$4"
	assert_idle "$1"
}

# stops_at_sigterm PID: SIGTERM ends PID with exit 0 within 5 s.
stops_at_sigterm() {
	kill -TERM "$1"
	wait_pid_exit "$1" 8
	[ "$EXIT_STATUS" -eq 0 ]
}

# --- serve: resets in every phase, mass disconnects -------------------------

# faults_against MODE [--tls]: against serve in MODE, a client that resets
# mid-transfer (both directions in the modes that answer), one that resets
# in the handshake (plain: at once), one that resets while the server
# ends the connection, then 200 (TLS: 100) that connect at once and
# vanish, a quarter of them with a reset halfway through the handshake.
# After them: descriptors back to the baseline, no CPU use, still serving.
faults_against() {
	local mode=$1 tls=${2:-} base read=0 n=200

	case $mode in
	echo|exec|sh-exec)	read=100 ;;
	esac
	[ -n "$tls" ] && n=100
	serve_mode S "$mode" $tls
	base=$(nfds "$S_PID")
	run peer mid "$S_PORT" 1048576 "$read" $tls
	[ "$status" -eq 0 ]
	[ "$output" = "sent 1048576 read $read" ]
	run peer handshake "$S_PORT" $tls
	[ "$output" = reset ]
	run peer shutdown "$S_PORT" $(( read ? 2 : 0 )) $tls
	[ "$status" -eq 0 ]
	[ "$output" = "got 0" ]
	run peer mass "$S_PORT" "$n" $tls
	[ "$status" -eq 0 ]
	[ "$output" = "done $n" ]
	after_faults "$S_PID" "$S_PORT" "$mode" "$base" $tls
	stops_at_sigterm "$S_PID"
}

@test "serve -k: resets in every phase and 200 vanishing clients leave it as it was" {
	faults_against keep-open
}

@test "serve -k --tls: resets in every phase and 100 vanishing clients leave it as it was" {
	faults_against keep-open --tls
}

@test "serve --echo: resets in every phase and 200 vanishing clients leave it as it was" {
	faults_against echo
}

@test "serve --echo --tls: resets in every phase and 100 vanishing clients leave it as it was" {
	faults_against echo --tls
}

@test "serve --discard: resets in every phase and 200 vanishing clients leave it as it was" {
	faults_against discard
}

@test "serve --discard --tls: resets in every phase and 100 vanishing clients leave it as it was" {
	faults_against discard --tls
}

@test "serve --exec: resets in every phase and 200 vanishing clients leave it as it was" {
	faults_against exec
}

@test "serve --exec --tls: resets in every phase and 100 vanishing clients leave it as it was" {
	faults_against exec --tls
}

@test "serve --sh-exec: resets in every phase and 200 vanishing clients leave it as it was" {
	faults_against sh-exec
}

@test "serve --sh-exec --tls: resets in every phase and 100 vanishing clients leave it as it was" {
	faults_against sh-exec --tls
}

@test "serve --broker: resets in every phase and 200 vanishing clients leave it as it was" {
	faults_against broker
}

@test "serve --broker --tls: resets in every phase and 100 vanishing clients leave it as it was" {
	faults_against broker --tls
}

# --- clients that never read: peak memory ------------------------------------

# never_read MODE BOUND_KB [--tls]: 20 clients send what they can for 1 s
# and never read, while the server has bytes for them (stdin /dev/zero in
# -k, their echo, `yes` in --sh-exec, each other's bytes in --broker).
# Peak memory under BOUND_KB; after their resets, descriptors back, idle.
never_read() {
	local mode=$1 bound=$2 tls=${3:-} base peak

	if [ "$mode" = sh-exec ]; then
		start_server S "$CSTREAM" -v serve ${tls:+--tls --cert \
		    "$PKI/good.crt" --key "$PKI/good.key"} --sh-exec 'exec yes' \
		    127.0.0.1 0
	else
		BG_STDIN=/dev/zero serve_mode S "$mode" $tls
	fi
	base=$(nfds "$S_PID")
	bg N python3 -u "$PEER" noread "$S_PORT" 20 1 $tls
	wait_for_match "$N_OUT" '^sent [0-9]+$' 15
	peak=$(peak_kb "$S_PID")
	stop_pid "$N_PID"
	wait_nfds "$S_PID" "$base"
	assert_idle "$S_PID"
	stops_at_sigterm "$S_PID"
	assert_peak "serve --$mode${tls:+ --tls}, 20 clients that never read" \
	    "$peak" "$bound"
}

# The bounds: about twice what was measured (plain 4-18 MiB, TLS 8-22 MiB;
# the kernel's socket buffers hold the rest).
@test "serve -k with stdin /dev/zero: 20 clients that never read, peak under 32 MiB" {
	never_read keep-open 32768
}

@test "serve --echo: 20 clients that never read, peak under 32 MiB" {
	never_read echo 32768
}

@test "serve --echo --tls: 20 clients that never read, peak under 48 MiB" {
	never_read echo 49152 --tls
}

@test "serve --discard: 20 clients that never read, peak under 32 MiB" {
	never_read discard 32768
}

@test "serve --exec cat: 20 clients that never read, peak under 32 MiB" {
	never_read exec 32768
}

@test "serve --sh-exec 'exec yes': 20 clients that never read, peak under 32 MiB" {
	never_read sh-exec 32768
}

@test "serve --sh-exec 'exec yes' --tls: 20 clients that never read, peak under 48 MiB" {
	never_read sh-exec 49152 --tls
}

@test "serve --broker: 20 clients that never read, peak under 32 MiB" {
	never_read broker 32768
}

@test "serve (default) with stdin /dev/zero: a client that never reads, peak under 32 MiB; its reset ends it with 1" {
	BG_STDIN=/dev/zero start_server S "$CSTREAM" serve 127.0.0.1 0
	bg N python3 -u "$PEER" noread "$S_PORT" 1 1
	wait_for_match "$N_OUT" '^sent [0-9]+$' 15
	peak=$(peak_kb "$S_PID")
	stop_pid "$N_PID"
	wait_pid_exit "$S_PID" 5 || true
	[ "$EXIT_STATUS" -eq 1 ]
	run cat "$S_ERR"
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[1]} =~ ^cstream:\ serve:\ 127\.0\.0\.1:[0-9]+:\ peer\ closed\ before\ all\ input\ was\ sent$ ]]
	assert_peak "serve (default), a client that never reads" "$peak" 32768
}

# --- serve's default mode: one client, so its fault ends the server ---------

@test "serve (default): a client that resets mid-transfer: exit 1 naming it" {
	start_server S "$CSTREAM" serve 127.0.0.1 0
	run peer mid "$S_PORT" 1048576 0
	[ "$output" = "sent 1048576 read 0" ]
	wait_pid_exit "$S_PID" 5 || true
	[ "$EXIT_STATUS" -eq 1 ]
	run cat "$S_ERR"
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[1]} =~ ^cstream:\ serve:\ read\ from\ 127\.0\.0\.1:[0-9]+:\ Connection\ reset\ by\ peer$ ]]
}

@test "serve --tls (default): a client that resets mid-transfer: exit 1, not a silent end" {
	start_server S "$CSTREAM" serve --tls --cert "$PKI/good.crt" \
	    --key "$PKI/good.key" 127.0.0.1 0
	run peer mid "$S_PORT" 1048576 0 --tls
	[ "$output" = "sent 1048576 read 0" ]
	wait_pid_exit "$S_PID" 5 || true
	[ "$EXIT_STATUS" -eq 1 ]
	run cat "$S_ERR"
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[1]} =~ ^cstream:\ serve:\ read\ from\ 127\.0\.0\.1:[0-9]+:\ Connection\ reset\ by\ peer$ ]]
}

@test "serve --tls (default): a handshake cut by a reset is logged; the next client is served" {
	start_server S "$CSTREAM" serve --tls --cert "$PKI/good.crt" \
	    --key "$PKI/good.key" 127.0.0.1 0
	run peer handshake "$S_PORT" --tls
	[ "$output" = reset ]
	wait_for_match "$S_ERR" 'tls handshake'
	grep -Eq '^cstream: serve: 127\.0\.0\.1:[0-9]+: tls handshake: ' "$S_ERR"
	assert_idle "$S_PID"
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --tls \
	    --cafile "$PKI/ca.crt" 127.0.0.1 "$S_PORT" --send 'late\n' -N
	[ "$status" -eq 0 ]
	wait_pid_exit "$S_PID" 5
	[ "$(cat "$S_OUT")" = late ]
}

@test "serve (default): a client that resets after both ends closed: exit 0, nothing was cut" {
	start_server S "$CSTREAM" serve 127.0.0.1 0
	run peer shutdown "$S_PORT" 0
	[ "$output" = "got 0" ]
	wait_pid_exit "$S_PID" 5
	[ "$(cat "$S_OUT")" = x ]
}

# --- connect against servers that reset -------------------------------------

# connect_fault [--tls]: CONNECT, the command without its port, and CERT,
# the peer server's certificate arguments.
connect_fault() {
	local tls=${1:-} cert=() copt=()

	[ -n "$tls" ] && cert=("$PKI/good.crt" "$PKI/good.key") &&
	    copt=(--tls --cafile "$PKI/ca.crt")
	CONNECT=("$CSTREAM" connect "${copt[@]}" 127.0.0.1)
	CERT=("${cert[@]}")
}

# for_both FUNC: FUNC over plain TCP, then over TLS.
for_both() {
	"$1" ""
	"$1" --tls
}

@test "connect (plain and TLS): a server that resets after 1 MiB of 10 MiB: exit 1" {
	one() {
		connect_fault "$1"
		py_server "$PEER" srv-read-reset 1048576 "${CERT[@]}"
		run --separate-stderr run_with_timeout 10 bash -c \
		    'head -c 10485760 /dev/zero | "$@"' _ "${CONNECT[@]}" "$PY_PORT"
		[ "$status" -eq 1 ]
		[ "$stderr" = "cstream: connect: 127.0.0.1:$PY_PORT: peer closed before all input was sent" ]
		stop_pid "$PY_PID"
	}
	for_both one
}

@test "connect (plain and TLS): a server that resets while sending: exit 1, reset named" {
	one() {
		connect_fault "$1"
		py_server "$PEER" srv-send-reset 1048576 "${CERT[@]}"
		run --separate-stderr run_with_timeout 10 bash -c \
		    '{ echo go; sleep 5; } | "$@" | wc -c' _ "${CONNECT[@]}" "$PY_PORT"
		# Over TLS the reset may be met writing: stdin is unfinished.
		[ "$stderr" = "cstream: connect: read from 127.0.0.1:$PY_PORT: Connection reset by peer" ] ||
		    { [ -n "$1" ] && [ "$stderr" = "cstream: connect: 127.0.0.1:$PY_PORT: peer closed before all input was sent" ]; }
		[ "$output" -le 1048576 ]
		stop_pid "$PY_PID"
	}
	for_both one
}

@test "connect --tls: a server that resets in the handshake: exit 7" {
	py_server "$PEER" srv-handshake-reset
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect --tls \
	    --cafile "$PKI/ca.crt" 127.0.0.1 "$PY_PORT" </dev/null
	[ "$status" -eq 7 ]
	[ "$stderr" = "cstream: connect: tls handshake with 127.0.0.1: connection closed during the handshake" ]
}

@test "connect (plain and TLS): a server that answers then resets at the end: exit 1" {
	one() {
		connect_fault "$1"
		py_server "$PEER" srv-shutdown-reset "${CERT[@]}"
		run --separate-stderr run_with_timeout 10 bash -c \
		    'echo hi | "$@"' _ "${CONNECT[@]}" "$PY_PORT"
		[ "$status" -eq 1 ]
		# A reset may destroy bytes in flight (a TLS record, here).
		[ "$output" = bye ] || { [ -n "$1" ] && [ "$output" = "" ]; }
		[ "$stderr" = "cstream: connect: read from 127.0.0.1:$PY_PORT: Connection reset by peer" ]
		stop_pid "$PY_PID"
	}
	for_both one
}
