# helpers.bash: shared helpers for cstream's bats suites.
#
# Load it at the top of a suite:
#
#	load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
#
# make check exports CSTREAM (the binary under test) and TESTS_LIB (this
# directory). Conventions:
#
#   - $T is the test's own temporary directory (bats' BATS_TEST_TMPDIR, which
#     bats removes after the test). Put every file, socket and log there.
#     Its path is short enough for a unix socket ($T/s.sock).
#   - Every process a test starts in the background is started through
#     start_server, py_server or bg, or handed to track_pid, so that the
#     default teardown stops it whether the test passed or not.
#   - Every wait is bounded. A server that never says "Serving on" or a
#     process that never exits fails the test with a message, never hangs it.
#   - Do not call start_server, py_server, bg or wait_pid_exit under bats'
#     `run`: run executes in a subshell, whose variables and children are
#     lost to the test.
#
# This file defines setup() and teardown(). A suite that needs its own must
# call common_setup and common_teardown from them.
#
# Background processes close bats' descriptor 3: bats waits for it to be
# closed before it reports a test, so a leftover holder would hang the run.

: "${CSTREAM:=$BATS_TEST_DIRNAME/../../src/cstream}"
: "${HELPERS_WAIT:=5}"		# default bound, in seconds, of every wait

# CSTREAM_VALGRIND=1 (make check CSTREAM_VALGRIND=1, on the plain build,
# not the sanitizers one): every run of $CSTREAM goes through valgrind,
# which exits 99 on a memory error or a definite leak; its reports go to
# $T/valgrind/, and teardown fails the test if there is one, so a leak in
# a background server whose status no test checks is counted too. Timing
# bounds are made for native speed: expect some timeouts to fail under it.
if [ "${CSTREAM_VALGRIND:-0}" = 1 ] && [ -z "${HELPERS_VALGRIND_REAL:-}" ]; then
	export HELPERS_VALGRIND_REAL=$CSTREAM
	CSTREAM=${BATS_RUN_TMPDIR:-${TMPDIR:-/tmp}}/cstream-valgrind.$$
	cat >"$CSTREAM" <<VG
#!/bin/sh
exec valgrind -q --leak-check=full --errors-for-leak-kinds=definite \\
    --error-exitcode=99 --log-file="\${CSTREAM_VALGRIND_DIR:-/tmp}/vg.%p" \\
    "$HELPERS_VALGRIND_REAL" "\$@"
VG
	chmod +x "$CSTREAM"
	# RSS and speed figures mean nothing under valgrind either.
	export CSTREAM_SANITIZERS=1
fi

# --- set up and tear down ---------------------------------------------------

common_setup() {
	if [ -n "${BATS_TEST_TMPDIR:-}" ]; then
		T=$BATS_TEST_TMPDIR
	else
		# bats older than 1.4 has no per-test directory.
		T=$(mktemp -d "${TMPDIR:-/tmp}/cstream-test.XXXXXX")
		HELPERS_OWN_T=1
	fi
	: >"$T/.pids"
	if [ -n "${HELPERS_VALGRIND_REAL:-}" ]; then
		export CSTREAM_VALGRIND_DIR=$T/valgrind
		mkdir -p "$CSTREAM_VALGRIND_DIR"
	fi
}

# _helpers_valgrind_check: fail if valgrind reported anything in this test.
_helpers_valgrind_check() {
	local f bad=0

	[ -n "${HELPERS_VALGRIND_REAL:-}" ] || return 0
	for f in "$T"/valgrind/vg.*; do
		[ -s "$f" ] || continue
		echo "# --- valgrind: ${f##*/} ---"
		sed 's/^/# /' "$f"
		bad=1
	done
	return "$bad"
}

common_teardown() {
	local pid rc

	if [ -n "${T:-}" ] && [ -f "$T/.pids" ]; then
		while read -r pid; do
			stop_pid "$pid" 2 || true
			# Stragglers of the process group: --exec children,
			# --workers, a shell's background jobs.
			kill -KILL -- "-$pid" 2>/dev/null || true
		done <"$T/.pids"
		# A failed test shows what its servers said.
		if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
			_helpers_dump_logs
		fi
	fi
	rc=0
	_helpers_valgrind_check || rc=1
	if [ -n "${HELPERS_OWN_T:-}" ]; then
		rm -rf "$T"
	fi
	return "$rc"
}

setup() {
	common_setup
}

teardown() {
	common_teardown
}

_helpers_dump_logs() {
	local f

	for f in "$T"/*.err "$T"/*.out; do
		[ -s "$f" ] || continue
		echo "# --- ${f##*/} (last 20 lines) ---"
		tail -n 20 "$f" | sed 's/^/# /'
	done
}

# --- time -------------------------------------------------------------------

# _helpers_now: microseconds since the epoch (bash 5's EPOCHREALTIME; the
# decimal point depends on the locale, so keep only the digits).
_helpers_now() {
	printf '%s\n' "${EPOCHREALTIME//[!0-9]/}"
}

# _helpers_us SECS: decimal seconds ("5", "0.25") as microseconds.
_helpers_us() {
	local int=${1%%.*} frac=

	case $1 in
	*.*)	frac=${1#*.} ;;
	esac
	frac=${frac}000000
	printf '%s\n' $(( 10#${int:-0} * 1000000 + 10#${frac:0:6} ))
}

# _helpers_deadline SECS: the time, in microseconds, SECS from now.
_helpers_deadline() {
	printf '%s\n' $(( $(_helpers_now) + $(_helpers_us "$1") ))
}

# --- processes --------------------------------------------------------------

# track_pid PID: stop PID (and its process group) in teardown.
track_pid() {
	printf '%s\n' "$1" >>"$T/.pids"
}

# pid_running PID: true while PID exists and has not exited. A child that
# exited but is not reaped yet is a zombie, which kill -0 still finds.
pid_running() {
	local stat

	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# wait_pid_exit PID [SECS]: wait at most SECS (default $HELPERS_WAIT) for
# PID, a child of this shell, to exit. Sets EXIT_STATUS to its exit status
# and returns it, so that under bats' set -e a non-zero exit fails the test
# unless written `wait_pid_exit "$P" 5 || true`. On timeout: a message,
# EXIT_STATUS=timeout (any numeric check of it then fails), return 124.
wait_pid_exit() {
	local pid=$1 deadline

	deadline=$(_helpers_deadline "${2:-$HELPERS_WAIT}")
	while pid_running "$pid"; do
		if [ "$(_helpers_now)" -ge "$deadline" ]; then
			echo "wait_pid_exit: pid $pid still running after" \
			    "${2:-$HELPERS_WAIT} s" >&2
			EXIT_STATUS=timeout
			return 124
		fi
		sleep 0.02
	done
	EXIT_STATUS=0
	wait "$pid" 2>/dev/null || EXIT_STATUS=$?
	return "$EXIT_STATUS"
}

# stop_pid PID [SECS]: SIGTERM, wait at most SECS (default $HELPERS_WAIT),
# then SIGKILL to PID and its process group. Sets EXIT_STATUS as
# wait_pid_exit does (143 for a process killed by SIGTERM, 137 by SIGKILL)
# and returns 0; a test of graceful shutdown checks EXIT_STATUS.
stop_pid() {
	local pid=$1

	EXIT_STATUS=
	if pid_running "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		if ! wait_pid_exit "$pid" "${2:-$HELPERS_WAIT}" 2>/dev/null &&
		    [ "$EXIT_STATUS" = timeout ]; then
			echo "stop_pid: pid $pid ignored SIGTERM; killed" >&2
			kill -KILL -- "-$pid" 2>/dev/null ||
			    kill -KILL "$pid" 2>/dev/null || true
			wait_pid_exit "$pid" 2 || true
		fi
	else
		# Reap it, and keep its status, if it is our child.
		wait "$pid" 2>/dev/null && EXIT_STATUS=0 || EXIT_STATUS=$?
	fi
	return 0
}

# bg PREFIX CMD [ARGS...]: run CMD in the background in its own process
# group, stdin from $BG_STDIN (default /dev/null), stdout to $T/PREFIX.out,
# stderr to $T/PREFIX.err. Sets PREFIX_PID, PREFIX_OUT and PREFIX_ERR.
# For a FIFO on stdin, open a writer first (exec 4<>"$fifo"), or the
# background open blocks.
bg() {
	local prefix=$1 pid

	shift
	setsid "$@" <"${BG_STDIN:-/dev/null}" >"$T/$prefix.out" \
	    2>"$T/$prefix.err" 3>&- &
	pid=$!
	track_pid "$pid"
	printf -v "${prefix}_PID" '%s' "$pid"
	printf -v "${prefix}_OUT" '%s' "$T/$prefix.out"
	printf -v "${prefix}_ERR" '%s' "$T/$prefix.err"
}

# _helpers_wait_line PID FILE PATTERN SECS: print the first complete line
# of FILE matching the extended regex PATTERN, waiting at most SECS; fail
# if PID exits first or time runs out.
_helpers_wait_line() {
	local pid=$1 file=$2 pattern=$3 deadline line

	deadline=$(_helpers_deadline "$4")
	while :; do
		# read skips a last line that has no newline yet.
		if [ -f "$file" ]; then
			while IFS= read -r line; do
				if [[ $line =~ $pattern ]]; then
					printf '%s\n' "$line"
					return 0
				fi
			done <"$file"
		fi
		if ! pid_running "$pid"; then
			echo "pid $pid exited before printing /$pattern/" >&2
			return 1
		fi
		if [ "$(_helpers_now)" -ge "$deadline" ]; then
			echo "no /$pattern/ within $4 s" >&2
			return 1
		fi
		sleep 0.02
	done
}

# start_server PREFIX CMD [ARGS...]: start a server as bg does and wait (at
# most $HELPERS_WAIT s) for its first "Serving on ADDR" line on stderr.
# Sets PREFIX_PID, PREFIX_OUT, PREFIX_ERR, PREFIX_ADDR (what follows
# "Serving on ": 127.0.0.1:PORT, [::]:PORT or a unix path) and PREFIX_PORT
# (the port, empty for a unix path). Fails the test if the line does not
# come. Stdin is $BG_STDIN or /dev/null, as for bg.
#
#	start_server S "$CSTREAM" serve --echo 127.0.0.1 0
#	"$CSTREAM" connect 127.0.0.1 "$S_PORT" --send hi --read-line
start_server() {
	local prefix=$1 line addr port= pid

	bg "$@"
	pid=${prefix}_PID
	pid=${!pid}
	if ! line=$(_helpers_wait_line "$pid" "$T/$prefix.err" \
	    '^Serving on ' "$HELPERS_WAIT" 2>&1); then
		echo "start_server $prefix ($*): $line" >&2
		sed 's/^/  stderr: /' "$T/$prefix.err" >&2
		stop_pid "$pid" 1
		return 1
	fi
	addr=${line#Serving on }
	if [[ $addr =~ :([0-9]+)$ ]]; then
		port=${BASH_REMATCH[1]}
	fi
	printf -v "${prefix}_ADDR" '%s' "$addr"
	printf -v "${prefix}_PORT" '%s' "$port"
}

# py_server_as PREFIX SCRIPT [ARGS...]: run a python3 peer (an asyncio
# server, a fake HTTP server) that prints its port as the first line of its
# stdout, either the bare number or ending in ":PORT", and flushes it.
# Sets PREFIX_PID, PREFIX_PORT, PREFIX_OUT, PREFIX_ERR; fails the test when
# no port comes within $HELPERS_WAIT s. python3 runs unbuffered (-u).
py_server_as() {
	local prefix=$1 script=$2 line pid

	shift 2
	bg "$prefix" python3 -u "$script" "$@"
	pid=${prefix}_PID
	pid=${!pid}
	if ! line=$(_helpers_wait_line "$pid" "$T/$prefix.out" \
	    '(^|:)[0-9]+$' "$HELPERS_WAIT" 2>&1); then
		echo "py_server $script: $line" >&2
		sed 's/^/  stderr: /' "$T/$prefix.err" >&2
		stop_pid "$pid" 1
		return 1
	fi
	printf -v "${prefix}_PORT" '%s' "${line##*:}"
}

# py_server SCRIPT [ARGS...]: py_server_as PY: sets PY_PID, PY_PORT, ...
py_server() {
	py_server_as PY "$@"
}

# --- waiting, ports, checksums ----------------------------------------------

# wait_for_file FILE [SECS]: wait until FILE exists (a socket counts).
wait_for_file() {
	local deadline

	deadline=$(_helpers_deadline "${2:-$HELPERS_WAIT}")
	until [ -e "$1" ] || [ -S "$1" ]; do
		if [ "$(_helpers_now)" -ge "$deadline" ]; then
			echo "wait_for_file: no $1 after ${2:-$HELPERS_WAIT} s" >&2
			return 1
		fi
		sleep 0.02
	done
}

# wait_for_match FILE REGEX [SECS]: wait until a complete line of FILE
# matches the extended REGEX (a -v log line, a server's output).
wait_for_match() {
	local deadline line

	deadline=$(_helpers_deadline "${3:-$HELPERS_WAIT}")
	while :; do
		if [ -f "$1" ]; then
			while IFS= read -r line; do
				[[ $line =~ $2 ]] && return 0
			done <"$1"
		fi
		if [ "$(_helpers_now)" -ge "$deadline" ]; then
			echo "wait_for_match: no /$2/ in $1 after" \
			    "${3:-$HELPERS_WAIT} s" >&2
			return 1
		fi
		sleep 0.02
	done
}

# wait_line_cmd FILE REGEX [SECS]: print a shell command that waits until a
# line of FILE matches the extended REGEX, polling every 20 ms for at most
# SECS (default $HELPERS_WAIT), and exits 1 with a message on timeout. For
# the input side of a pipeline run by bash -c, which cannot call these
# functions: "(echo a; $(wait_line_cmd "$PY_OUT" '^first$'); echo b) | ..."
wait_line_cmd() {
	local tries=$(( ($(_helpers_us "${3:-$HELPERS_WAIT}") + 19999) / 20000 ))

	printf 'for _w in $(seq %d); do grep -Eq %q %q 2>/dev/null && break; ' \
	    "$tries" "$2" "$1"
	printf '[ $_w -lt %d ] || { echo %q >&2; exit 1; }; sleep 0.02; done' \
	    "$tries" "no /$2/ in $1 after ${3:-$HELPERS_WAIT} s"
}

# wait_for [-t SECS] CMD [ARGS...]: run CMD every 20 ms until it succeeds,
# for at most SECS (default $HELPERS_WAIT); a message and failure when time
# runs out. CMD is a command or a shell function, run as is (its stdout
# and stderr are dropped), so a compound condition is a small function:
#
#	wait_for tcp_listening "$port"
#	wait_for -t 10 lines_matching "$S_ERR" '^cstream: accepted ' 2
wait_for() {
	local secs=$HELPERS_WAIT deadline

	if [ "$1" = -t ]; then
		secs=$2
		shift 2
	fi
	deadline=$(_helpers_deadline "$secs")
	until "$@" >/dev/null 2>&1; do
		if [ "$(_helpers_now)" -ge "$deadline" ]; then
			echo "wait_for: '$*' still false after $secs s" >&2
			return 1
		fi
		sleep 0.02
	done
}

# lines_matching FILE REGEX N: true when at least N complete lines of FILE
# match the extended REGEX (N clients accepted, N records written).
lines_matching() {
	local line n=0

	[ -f "$1" ] || return 1
	while IFS= read -r line; do
		[[ $line =~ $2 ]] && n=$((n + 1))
	done <"$1"
	[ "$n" -ge "$3" ]
}

# tcp_listening PORT: true when a TCP socket listens on PORT, on any
# address (/proc/net/tcp and tcp6, state 0A), for a server that prints no
# "Serving on" line (-q, redis-server, nginx).
tcp_listening() {
	local hex

	printf -v hex ':%04X' "$1"
	awk -v p="$hex" '$2 ~ p"$" && $4 == "0A" { found = 1 }
	    END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# free_port: print a TCP port on 127.0.0.1 that was free a moment ago, for
# servers that cannot listen on port 0 and report it (redis-server, nginx).
# Racy by nature: prefer port 0 and "Serving on" whenever the server can.
free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# run_with_timeout SECS CMD [ARGS...]: run an external CMD (not a shell
# function: use bash -c for a pipeline) for at most SECS; a hang returns 124
# with a message instead of blocking the suite. Use under run:
#
#	run run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$S_PORT" --read-all
run_with_timeout() {
	local secs=$1 rc=0

	shift
	timeout -k 2 "$secs" "$@" 3>&- || rc=$?
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "run_with_timeout: '$*' timed out after $secs s" >&2
		rc=124
	fi
	return "$rc"
}

# sha256 FILE: the SHA-256 of FILE (- for stdin) as 64 hex digits.
sha256() {
	local sum

	sum=$(sha256sum -b -- "$1") || return 1
	printf '%s\n' "${sum%% *}"
}

# require_cmd CMD...: skip the test when a tool it needs is missing; in CI
# (CI=true), where .ci/run installs every tool, fail instead of skipping.
require_cmd() {
	local c

	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 && continue
		if [ "${CI:-}" = true ]; then
			echo "require_cmd: $c is not installed" >&2
			return 1
		fi
		skip "$c is not installed"
	done
}

# require_ipv6: skip the test on a host without IPv6 (no ::1); in CI
# (CI=true) fail instead, as require_cmd does: a Debian 12 machine has it.
require_ipv6() {
	grep -qs . /proc/net/if_inet6 && return 0
	if [ "${CI:-}" = true ]; then
		echo "require_ipv6: this host has no IPv6" >&2
		return 1
	fi
	skip "no IPv6"
}

# --- running cstream and measuring it -----------------------------------------

# cs ARGS...: run cstream under bats' run, stdout and stderr apart, at
# most 10 s.
cs() {
	run --separate-stderr run_with_timeout 10 "$CSTREAM" "$@"
}

# nfds PID: how many descriptors PID holds.
nfds() {
	local f n=0

	for f in /proc/"$1"/fd/*; do
		n=$((n + 1))
	done
	printf '%s\n' "$n"
}

# peak_kb PID: the peak resident set size of PID (VmHWM), in KiB.
peak_kb() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

# assert_peak LABEL KB BOUND: a peak of KB KiB (from peak_kb) is under
# BOUND KiB; the figure goes to the TAP output. Under the sanitizers
# (CSTREAM_SANITIZERS, valgrind too) the test is skipped here: their
# shadow memory is most of the RSS, so the figure says nothing. Call it
# last in a test, after the checks that hold in every build.
assert_peak() {
	echo "# $1: peak $2 kB (bound $3 kB)" >&3
	if [ -n "${CSTREAM_SANITIZERS:-}" ]; then
		skip "peak memory is not measured under the sanitizers"
	fi
	if [ "$2" -ge "$3" ]; then
		echo "$1: peak $2 kB, over $3 kB" >&2
		return 1
	fi
}
