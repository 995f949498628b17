#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Interoperability: cstream against the tools a user pairs it with:
# redis-server, OpenBSD nc, ncat, socat, openssl s_server and s_client, and
# curl, in both roles, over TCP, unix sockets and TLS. Bytes are compared
# exactly (bulk transfers by SHA-256) and every exit status is checked, the
# peer's too.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/tls"

setup_file() {
	local w=$BATS_FILE_TMPDIR

	# Two different 32 MiB files, so that a transfer both ways at once
	# cannot pass by sending one file back.
	export BIG=$w/big.a BIG2=$w/big.b
	head -c 33554432 /dev/urandom >"$BIG"
	head -c 33554432 /dev/urandom >"$BIG2"
	BIG_SUM=$(sha256 "$BIG")
	BIG2_SUM=$(sha256 "$BIG2")
	export BIG_SUM BIG2_SUM
	export PKI=$w/pki
	if command -v openssl >/dev/null 2>&1; then
		tls_make_ca "$PKI" ca &&
		tls_make_cert "$PKI" ca good "DNS:localhost,IP:127.0.0.1" &&
		tls_make_cert "$PKI" ca wronghost "DNS:wrong.example"
	fi
}

# --- helpers ----------------------------------------------------------------

# out_run SECS CMD [ARGS...]: run CMD as run_with_timeout does, with its
# stdout in $T/run.out, byte for byte (bats' run strips trailing newlines,
# and a CR before them matters here), its stderr in $T/run.err. Sets RC.
out_run() {
	RC=0
	run_with_timeout "$@" >"$T/run.out" 2>"$T/run.err" || RC=$?
}

# bytes_are FILE STRING: FILE holds exactly the bytes of STRING, written with
# printf %b escapes (\r, \n, \0, \xHH). On a mismatch, both are shown.
bytes_are() {
	printf '%b' "$2" >"$T/want"
	if ! cmp -s "$T/want" "$1"; then
		echo "bytes_are: $1 differs; want, then got:" >&2
		od -c "$T/want" | sed 's/^/  /' >&2
		od -c "$1" | sed 's/^/  /' >&2
		return 1
	fi
}

# out_is STRING, err_is STRING: the last out_run's stdout, stderr.
out_is() {
	bytes_are "$T/run.out" "$1"
}

err_is() {
	bytes_are "$T/run.err" "$1"
}

# peer_exit PREFIX [SECS]: wait for a peer started with bg or start_server
# to exit on its own, and require exit status 0.
peer_exit() {
	local pid=${1}_PID

	wait_pid_exit "${!pid}" "${2:-$HELPERS_WAIT}" || true
	if [ "$EXIT_STATUS" != 0 ]; then
		echo "peer_exit: $1 exited with $EXIT_STATUS" >&2
		return 1
	fi
}

# _wait_until PID WHAT CMD [ARGS...]: wait (at most $HELPERS_WAIT s) until
# CMD succeeds; fail if PID exits first.
_wait_until() {
	local pid=$1 what=$2 deadline

	shift 2
	deadline=$(_helpers_deadline "$HELPERS_WAIT")
	until "$@"; do
		if ! pid_running "$pid"; then
			echo "pid $pid exited before $what" >&2
			return 1
		fi
		if [ "$(_helpers_now)" -ge "$deadline" ]; then
			echo "no $what within $HELPERS_WAIT s" >&2
			return 1
		fi
		sleep 0.02
	done
}

_tcp_listening() {
	# /proc/net/tcp: "sl local rem st": 127.0.0.1 is 0100007F, LISTEN 0A.
	grep -q "^ *[0-9]*: 0100007F:$1 00000000:0000 0A " /proc/net/tcp
}

_tcp6_listening() {
	# ::1 is 00000000000000000000000001000000 in /proc/net/tcp6.
	grep -q "^ *[0-9]*: 0\{24\}01000000:$1 0\{32\}:0000 0A " \
	    /proc/net/tcp6
}

_unix_listening() {
	# /proc/net/unix: flags 00010000 is a listening socket.
	awk -v p="$1" '$4 == "00010000" && $8 == p { f = 1 } END { exit !f }' \
	    /proc/net/unix
}

# wait_tcp_listen PID PORT: wait until PID's server listens on
# 127.0.0.1:PORT. The tools that serve one client (nc -l, ncat -l, socat,
# s_server -naccept 1) cannot be probed with a connection, and do not report
# the port they bound: the kernel's table says when listen() was done.
wait_tcp_listen() {
	_wait_until "$1" "listen on 127.0.0.1:$2" _tcp_listening \
	    "$(printf '%04X' "$2")"
}

# wait_unix_listen PID PATH: the same for a unix socket; the file alone
# exists between bind() and listen().
wait_unix_listen() {
	_wait_until "$1" "listen on $2" _unix_listening "$2"
}

_redis_pongs() {
	[ "$(timeout 2 "$CSTREAM" connect 127.0.0.1 "$R_PORT" \
	    --send 'PING\r\n' --read-line 2>/dev/null)" = $'+PONG\r' ]
}

# start_redis: a throw-away redis-server on 127.0.0.1 (no persistence),
# ready when cstream gets +PONG from it. Sets R_PORT, R_PID.
start_redis() {
	require_cmd redis-server
	R_PORT=$(free_port)
	bg R redis-server --port "$R_PORT" --bind 127.0.0.1 --save '' \
	    --appendonly no --daemonize no --dir "$T"
	_wait_until "$R_PID" "+PONG from redis-server" _redis_pongs
}

_s_server_accepts() {
	grep -q '^ACCEPT 127\.0\.0\.1:[0-9]*$' "$1"
}

# s_server PREFIX ARGS...: openssl s_server ARGS on 127.0.0.1 port 0. It
# prints "ACCEPT 127.0.0.1:PORT" on stdout unless -quiet, so this is for the
# modes that leave stdout to it (-rev). Sets PREFIX_PID, PREFIX_PORT.
s_server() {
	local prefix=$1 pid line

	shift
	bg "$prefix" openssl s_server -accept 127.0.0.1:0 "$@"
	pid=${prefix}_PID
	_wait_until "${!pid}" "ACCEPT from s_server" _s_server_accepts \
	    "$T/$prefix.out"
	line=$(grep '^ACCEPT ' "$T/$prefix.out")
	printf -v "${prefix}_PORT" '%s' "${line##*:}"
}

# hold_stdin PREFIX FIFO [BYTES]: a writer that keeps FIFO open (so that
# the reader never sees EOF) for 20 s at most, after writing BYTES (printf
# %b); start the reader with BG_STDIN=FIFO. s_server closes the connection
# when its stdin ends, and drops what it has not written out yet.
hold_stdin() {
	mkfifo "$2"
	bg "$1" bash -c 'exec >"$1"; printf "%b" "$2"; exec sleep 20' \
	    _ "$2" "${3:-}"
}

# --- redis-server -----------------------------------------------------------

@test "redis: PING with --send and --read-line prints +PONG" {
	start_redis
	out_run 5 "$CSTREAM" connect 127.0.0.1 "$R_PORT" --send 'PING\r\n' \
	    --read-line
	[ "$RC" -eq 0 ]
	out_is '+PONG\r\n'
	err_is ''
}

@test "redis: SET with --read-until, GET's bulk string with --read-exactly" {
	start_redis
	out_run 5 "$CSTREAM" connect 127.0.0.1 "$R_PORT" \
	    --send 'SET greeting hello\r\n' --read-until '\r\n'
	[ "$RC" -eq 0 ]
	out_is '+OK\r\n'
	out_run 5 "$CSTREAM" connect 127.0.0.1 "$R_PORT" \
	    --send 'GET greeting\r\n' --read-line --read-exactly 7
	[ "$RC" -eq 0 ]
	out_is '$5\r\nhello\r\n'
	err_is ''
}

@test "redis: binary value with NUL and 0xff through --send escapes" {
	start_redis
	out_run 5 "$CSTREAM" connect 127.0.0.1 "$R_PORT" \
	    --send '*3\r\n$3\r\nSET\r\n$3\r\nbin\r\n$5\r\na\0\xffb\n\r\n' \
	    --read-line
	[ "$RC" -eq 0 ]
	out_is '+OK\r\n'
	out_run 5 "$CSTREAM" connect 127.0.0.1 "$R_PORT" \
	    --send 'STRLEN bin\r\n' --send '*2\r\n$3\r\nGET\r\n$3\r\nbin\r\n' \
	    --read-line --read-line --read-exactly 7
	[ "$RC" -eq 0 ]
	out_is ':5\r\n$5\r\na\0\xffb\n\r\n'
}

@test "redis: a pipeline from stdin with -N --read-all" {
	start_redis
	printf 'SET n 1\r\nINCR n\r\nINCRBY n 41\r\nGET n\r\nPING\r\n' >"$T/in"
	out_run 5 "$CSTREAM" connect -N 127.0.0.1 "$R_PORT" --read-all <"$T/in"
	[ "$RC" -eq 0 ]
	out_is '+OK\r\n:2\r\n:43\r\n$2\r\n43\r\n+PONG\r\n'
	err_is ''
}

@test "redis: relay mode, QUIT closes and connect exits 0" {
	start_redis
	printf 'PING\r\nECHO relay\r\nQUIT\r\n' >"$T/in"
	out_run 5 "$CSTREAM" connect 127.0.0.1 "$R_PORT" <"$T/in"
	[ "$RC" -eq 0 ]
	out_is '+PONG\r\n$5\r\nrelay\r\n+OK\r\n'
	err_is ''
}

@test "redis: a 1 MiB value from --send-file read back with --read-exactly" {
	start_redis
	head -c 1048576 /dev/urandom >"$T/value"
	{
		printf '*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$1048576\r\n'
		cat "$T/value"
		printf '\r\n'
	} >"$T/req"
	out_run 10 "$CSTREAM" connect 127.0.0.1 "$R_PORT" --send-file "$T/req" \
	    --read-line
	[ "$RC" -eq 0 ]
	out_is '+OK\r\n'
	out_run 10 "$CSTREAM" connect 127.0.0.1 "$R_PORT" \
	    --send 'GET big\r\n' --read-line --read-exactly 1048576 \
	    --read-exactly 2
	[ "$RC" -eq 0 ]
	{ printf '$1048576\r\n'; cat "$T/value"; printf '\r\n'; } >"$T/want.big"
	cmp "$T/want.big" "$T/run.out"
}

@test "redis: a value line longer than --limit exits 6, --read-exactly reads it" {
	start_redis
	long=$(printf 'x%.0s' {1..5000})
	out_run 5 "$CSTREAM" connect 127.0.0.1 "$R_PORT" --send 'SET long ' \
	    --send "$long" --send '\r\n' --read-line
	[ "$RC" -eq 0 ]
	out_is '+OK\r\n'
	out_run 5 "$CSTREAM" connect --limit 4k 127.0.0.1 "$R_PORT" \
	    --send 'GET long\r\n' --read-line --read-line
	[ "$RC" -eq 6 ]
	out_is '$5000\r\n'
	err_is "cstream: connect: 127.0.0.1:$R_PORT: line longer than --limit (4096 bytes)\n"
	out_run 5 "$CSTREAM" connect --limit 4k 127.0.0.1 "$R_PORT" \
	    --send 'GET long\r\n' --read-line --read-exactly 5002
	[ "$RC" -eq 0 ]
	out_is "\$5000\r\n$long\r\n"
}

@test "redis: QUIT then --read-line at EOF exits 5" {
	start_redis
	out_run 5 "$CSTREAM" connect 127.0.0.1 "$R_PORT" --send 'QUIT\r\n' \
	    --read-line --read-line
	[ "$RC" -eq 5 ]
	out_is '+OK\r\n'
	err_is "cstream: connect: 127.0.0.1:$R_PORT: EOF after 0 bytes (--read-line)\n"
}

# --- OpenBSD netcat -----------------------------------------------------------

@test "nc.openbsd -l as server, connect as client: bytes both ways" {
	require_cmd nc.openbsd
	port=$(free_port)
	printf 'from nc\n' >"$T/nc.in"
	BG_STDIN=$T/nc.in bg N nc.openbsd -l 127.0.0.1 "$port"
	wait_tcp_listen "$N_PID" "$port"
	printf 'from cstream\r\n\0end' >"$T/in"
	out_run 5 "$CSTREAM" connect 127.0.0.1 "$port" <"$T/in"
	[ "$RC" -eq 0 ]
	out_is 'from nc\n'
	err_is ''
	peer_exit N
	bytes_are "$N_OUT" 'from cstream\r\n\0end'
}

@test "serve as server, nc.openbsd -N as client: bytes both ways" {
	require_cmd nc.openbsd
	printf 'from cstream\n' >"$T/in"
	BG_STDIN=$T/in start_server S "$CSTREAM" serve 127.0.0.1 0
	printf 'from nc\r\n\0end' >"$T/nc.in"
	out_run 5 nc.openbsd -N 127.0.0.1 "$S_PORT" <"$T/nc.in"
	[ "$RC" -eq 0 ]
	out_is 'from cstream\n'
	peer_exit S
	bytes_are "$S_OUT" 'from nc\r\n\0end'
	bytes_are "$S_ERR" "Serving on 127.0.0.1:$S_PORT\n"
}

@test "nc.openbsd -N -l and connect --no-shutdown: 32 MiB each way at once" {
	# OpenBSD nc -l quits once the network side reaches EOF, even with
	# its stdin unsent ("listen and net in gone" in its readwrite()): a
	# half-close from connect would race nc, not test cstream. So connect
	# does not half-close; nc -N half-closes after its stdin, and connect,
	# its own stdin sent, closes: nc then has everything and quits.
	require_cmd nc.openbsd
	port=$(free_port)
	BG_STDIN=$BIG bg N nc.openbsd -N -l 127.0.0.1 "$port"
	wait_tcp_listen "$N_PID" "$port"
	out_run 30 "$CSTREAM" connect --no-shutdown 127.0.0.1 "$port" <"$BIG2"
	[ "$RC" -eq 0 ]
	err_is ''
	peer_exit N 10
	[ "$(sha256 "$T/run.out")" = "$BIG_SUM" ]
	[ "$(sha256 "$N_OUT")" = "$BIG2_SUM" ]
}

@test "serve and nc.openbsd -N: 32 MiB each way at once" {
	require_cmd nc.openbsd
	BG_STDIN=$BIG start_server S "$CSTREAM" serve 127.0.0.1 0
	out_run 30 nc.openbsd -N 127.0.0.1 "$S_PORT" <"$BIG2"
	[ "$RC" -eq 0 ]
	peer_exit S 10
	[ "$(sha256 "$T/run.out")" = "$BIG_SUM" ]
	[ "$(sha256 "$S_OUT")" = "$BIG2_SUM" ]
}

@test "nc.openbsd -l -U as server, unix-connect as client: bytes both ways" {
	require_cmd nc.openbsd
	printf 'from nc\n' >"$T/nc.in"
	BG_STDIN=$T/nc.in bg N nc.openbsd -l -U "$T/s.sock"
	wait_unix_listen "$N_PID" "$T/s.sock"
	printf 'from cstream\n' >"$T/in"
	out_run 5 "$CSTREAM" unix-connect "$T/s.sock" <"$T/in"
	[ "$RC" -eq 0 ]
	out_is 'from nc\n'
	err_is ''
	peer_exit N
	bytes_are "$N_OUT" 'from cstream\n'
}

@test "unix-serve as server, nc.openbsd -N -U as client: bytes both ways" {
	require_cmd nc.openbsd
	printf 'from cstream\n' >"$T/in"
	BG_STDIN=$T/in start_server S "$CSTREAM" unix-serve "$T/s.sock"
	[ "$S_ADDR" = "$T/s.sock" ]
	printf 'from nc\n' >"$T/nc.in"
	out_run 5 nc.openbsd -N -U "$T/s.sock" <"$T/nc.in"
	[ "$RC" -eq 0 ]
	out_is 'from cstream\n'
	peer_exit S
	bytes_are "$S_OUT" 'from nc\n'
	[ ! -e "$T/s.sock" ]
}

@test "serve --echo answers nc.openbsd -N" {
	require_cmd nc.openbsd
	start_server S "$CSTREAM" serve --echo 127.0.0.1 0
	printf 'echo nc\r\nline two\n' >"$T/nc.in"
	out_run 5 nc.openbsd -N 127.0.0.1 "$S_PORT" <"$T/nc.in"
	[ "$RC" -eq 0 ]
	out_is 'echo nc\r\nline two\n'
	out_run 20 nc.openbsd -N 127.0.0.1 "$S_PORT" <"$BIG"
	[ "$RC" -eq 0 ]
	[ "$(sha256 "$T/run.out")" = "$BIG_SUM" ]
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" = 0 ]
}

# --- ncat ---------------------------------------------------------------------

@test "ncat -l --recv-only receives 32 MiB from connect" {
	require_cmd ncat
	port=$(free_port)
	bg N ncat -l 127.0.0.1 "$port" --recv-only
	wait_tcp_listen "$N_PID" "$port"
	out_run 30 "$CSTREAM" connect 127.0.0.1 "$port" <"$BIG"
	[ "$RC" -eq 0 ]
	out_is ''
	err_is ''
	peer_exit N 10
	[ "$(sha256 "$N_OUT")" = "$BIG_SUM" ]
}

@test "ncat -l --send-only sends 32 MiB to connect" {
	require_cmd ncat
	port=$(free_port)
	BG_STDIN=$BIG bg N ncat -l 127.0.0.1 "$port" --send-only
	wait_tcp_listen "$N_PID" "$port"
	out_run 30 "$CSTREAM" connect 127.0.0.1 "$port" </dev/null
	[ "$RC" -eq 0 ]
	err_is ''
	peer_exit N 10
	[ "$(sha256 "$T/run.out")" = "$BIG_SUM" ]
}

@test "ncat -l as server, connect as client: bytes both ways" {
	require_cmd ncat
	port=$(free_port)
	printf 'from ncat\n' >"$T/nc.in"
	BG_STDIN=$T/nc.in bg N ncat -l 127.0.0.1 "$port"
	wait_tcp_listen "$N_PID" "$port"
	printf 'from cstream\n' >"$T/in"
	out_run 5 "$CSTREAM" connect 127.0.0.1 "$port" <"$T/in"
	[ "$RC" -eq 0 ]
	out_is 'from ncat\n'
	err_is ''
	peer_exit N
	bytes_are "$N_OUT" 'from cstream\n'
}

@test "serve as server, ncat as client: bytes both ways" {
	require_cmd ncat
	printf 'from cstream\n' >"$T/in"
	BG_STDIN=$T/in start_server S "$CSTREAM" serve 127.0.0.1 0
	printf 'from ncat\n' >"$T/nc.in"
	out_run 5 ncat 127.0.0.1 "$S_PORT" <"$T/nc.in"
	[ "$RC" -eq 0 ]
	out_is 'from cstream\n'
	peer_exit S
	bytes_are "$S_OUT" 'from ncat\n'
}

@test "serve --echo answers ncat, and unix-serve --echo answers ncat -U" {
	require_cmd ncat
	start_server S "$CSTREAM" serve --echo 127.0.0.1 0
	printf 'echo ncat\n' >"$T/nc.in"
	out_run 5 ncat 127.0.0.1 "$S_PORT" <"$T/nc.in"
	[ "$RC" -eq 0 ]
	out_is 'echo ncat\n'
	start_server U "$CSTREAM" unix-serve --echo "$T/s.sock"
	out_run 5 ncat -U "$T/s.sock" <"$T/nc.in"
	[ "$RC" -eq 0 ]
	out_is 'echo ncat\n'
	stop_pid "$U_PID"
	[ "$EXIT_STATUS" = 0 ]
	[ ! -e "$T/s.sock" ]
}

@test "ncat --ssl -l and connect --tls: bytes both ways, 32 MiB to --recv-only" {
	require_cmd ncat openssl
	port=$(free_port)
	printf 'from ncat\n' >"$T/nc.in"
	BG_STDIN=$T/nc.in bg N ncat --ssl --ssl-cert "$PKI/good.crt" \
	    --ssl-key "$PKI/good.key" -l 127.0.0.1 "$port"
	wait_tcp_listen "$N_PID" "$port"
	printf 'from cstream\n' >"$T/in"
	out_run 10 "$CSTREAM" connect --tls --cafile "$PKI/ca.crt" localhost \
	    "$port" <"$T/in"
	[ "$RC" -eq 0 ]
	out_is 'from ncat\n'
	err_is ''
	peer_exit N
	bytes_are "$N_OUT" 'from cstream\n'

	port=$(free_port)
	bg M ncat --ssl --ssl-cert "$PKI/good.crt" --ssl-key "$PKI/good.key" \
	    -l 127.0.0.1 "$port" --recv-only
	wait_tcp_listen "$M_PID" "$port"
	out_run 30 "$CSTREAM" connect --tls --cafile "$PKI/ca.crt" localhost \
	    "$port" <"$BIG"
	[ "$RC" -eq 0 ]
	out_is ''
	peer_exit M 10
	[ "$(sha256 "$M_OUT")" = "$BIG_SUM" ]
}

@test "serve --tls --echo answers ncat --ssl with verification, 32 MiB included" {
	require_cmd ncat openssl
	start_server S "$CSTREAM" serve --tls --cert "$PKI/good.crt" \
	    --key "$PKI/good.key" --echo 127.0.0.1 0
	printf 'echo ncat ssl\n' >"$T/nc.in"
	out_run 10 ncat --ssl --ssl-verify --ssl-trustfile "$PKI/ca.crt" \
	    localhost "$S_PORT" <"$T/nc.in"
	[ "$RC" -eq 0 ]
	out_is 'echo ncat ssl\n'
	out_run 30 ncat --ssl --ssl-verify --ssl-trustfile "$PKI/ca.crt" \
	    localhost "$S_PORT" <"$BIG"
	[ "$RC" -eq 0 ]
	[ "$(sha256 "$T/run.out")" = "$BIG_SUM" ]
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" = 0 ]
}

@test "http-head --cafile reads the header block of ncat --ssl --sh-exec" {
	require_cmd ncat openssl
	port=$(free_port)
	bg N ncat -l 127.0.0.1 "$port" --ssl --ssl-cert "$PKI/good.crt" \
	    --ssl-key "$PKI/good.key" --sh-exec \
	    'printf "HTTP/1.1 204 No Content\r\nServer: ncat\r\n\r\n"'
	wait_tcp_listen "$N_PID" "$port"
	out_run 10 "$CSTREAM" http-head --cafile "$PKI/ca.crt" \
	    "https://localhost:$port/"
	[ "$RC" -eq 0 ]
	out_is 'HTTP/1.1 204 No Content\nServer: ncat\n'
	err_is ''
	peer_exit N
}

# --- socat --------------------------------------------------------------------

@test "socat -u TCP-LISTEN receives 32 MiB from connect" {
	require_cmd socat
	port=$(free_port)
	bg X socat -u "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" STDOUT
	wait_tcp_listen "$X_PID" "$port"
	out_run 30 "$CSTREAM" connect 127.0.0.1 "$port" <"$BIG"
	[ "$RC" -eq 0 ]
	out_is ''
	err_is ''
	peer_exit X 10
	[ "$(sha256 "$X_OUT")" = "$BIG_SUM" ]
}

@test "socat -u FILE TCP-LISTEN sends 32 MiB to connect" {
	require_cmd socat
	port=$(free_port)
	bg X socat -u "FILE:$BIG" "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr"
	wait_tcp_listen "$X_PID" "$port"
	out_run 30 "$CSTREAM" connect 127.0.0.1 "$port" </dev/null
	[ "$RC" -eq 0 ]
	err_is ''
	peer_exit X 10
	[ "$(sha256 "$T/run.out")" = "$BIG_SUM" ]
}

@test "socat TCP-LISTEN as server, connect as client: bytes both ways" {
	require_cmd socat
	port=$(free_port)
	printf 'from socat\n' >"$T/x.in"
	BG_STDIN=$T/x.in bg X socat -t 5 \
	    "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" -
	wait_tcp_listen "$X_PID" "$port"
	printf 'from cstream\n' >"$T/in"
	out_run 5 "$CSTREAM" connect 127.0.0.1 "$port" <"$T/in"
	[ "$RC" -eq 0 ]
	out_is 'from socat\n'
	err_is ''
	peer_exit X
	bytes_are "$X_OUT" 'from cstream\n'
}

@test "serve as server, socat as client: bytes both ways" {
	require_cmd socat
	printf 'from cstream\n' >"$T/in"
	BG_STDIN=$T/in start_server S "$CSTREAM" serve 127.0.0.1 0
	printf 'from socat\n' >"$T/x.in"
	out_run 5 socat -t 5 - "TCP:127.0.0.1:$S_PORT" <"$T/x.in"
	[ "$RC" -eq 0 ]
	out_is 'from cstream\n'
	peer_exit S
	bytes_are "$S_OUT" 'from socat\n'
}

@test "socat -u sends 32 MiB to serve" {
	require_cmd socat
	start_server S "$CSTREAM" serve 127.0.0.1 0
	out_run 30 socat -u "FILE:$BIG" "TCP:127.0.0.1:$S_PORT"
	[ "$RC" -eq 0 ]
	peer_exit S 10
	[ "$(sha256 "$S_OUT")" = "$BIG_SUM" ]
}

@test "socat UNIX-LISTEN as server, unix-connect as client: bytes both ways" {
	require_cmd socat
	printf 'from socat\n' >"$T/x.in"
	BG_STDIN=$T/x.in bg X socat -t 5 "UNIX-LISTEN:$T/s.sock" -
	wait_unix_listen "$X_PID" "$T/s.sock"
	printf 'from cstream\n' >"$T/in"
	out_run 5 "$CSTREAM" unix-connect "$T/s.sock" <"$T/in"
	[ "$RC" -eq 0 ]
	out_is 'from socat\n'
	err_is ''
	peer_exit X
	bytes_are "$X_OUT" 'from cstream\n'
}

@test "unix-serve as server, socat UNIX-CONNECT as client: bytes both ways" {
	require_cmd socat
	printf 'from cstream\n' >"$T/in"
	BG_STDIN=$T/in start_server S "$CSTREAM" unix-serve "$T/s.sock"
	printf 'from socat\n' >"$T/x.in"
	out_run 5 socat -t 5 - "UNIX-CONNECT:$T/s.sock" <"$T/x.in"
	[ "$RC" -eq 0 ]
	out_is 'from cstream\n'
	peer_exit S
	bytes_are "$S_OUT" 'from socat\n'
	[ ! -e "$T/s.sock" ]
}

@test "serve --echo answers socat" {
	require_cmd socat
	start_server S "$CSTREAM" serve --echo 127.0.0.1 0
	printf 'echo socat\n' >"$T/x.in"
	out_run 5 socat -t 5 - "TCP:127.0.0.1:$S_PORT" <"$T/x.in"
	[ "$RC" -eq 0 ]
	out_is 'echo socat\n'
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" = 0 ]
}

@test "32 MiB from connect through a socat forwarder to serve --echo and back" {
	require_cmd socat
	start_server S "$CSTREAM" serve --echo 127.0.0.1 0
	port=$(free_port)
	bg X socat -t 10 "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" \
	    "TCP:127.0.0.1:$S_PORT"
	wait_tcp_listen "$X_PID" "$port"
	out_run 30 "$CSTREAM" connect 127.0.0.1 "$port" <"$BIG"
	[ "$RC" -eq 0 ]
	err_is ''
	[ "$(sha256 "$T/run.out")" = "$BIG_SUM" ]
	peer_exit X
}

@test "socat TCP6-LISTEN on ::1 and connect -6 ::1" {
	require_cmd socat
	require_ipv6
	port=$(free_port)
	bg X socat -u "TCP6-LISTEN:$port,bind=[::1],reuseaddr" STDOUT
	_wait_until "$X_PID" "listen on [::1]:$port" _tcp6_listening \
	    "$(printf '%04X' "$port")"
	printf 'over v6\n' >"$T/in"
	out_run 5 "$CSTREAM" connect -6 ::1 "$port" <"$T/in"
	[ "$RC" -eq 0 ]
	err_is ''
	peer_exit X
	bytes_are "$X_OUT" 'over v6\n'
}

# --- openssl s_server and s_client ------------------------------------------

@test "s_server -rev: connect --tls verifies localhost and 127.0.0.1" {
	require_cmd openssl
	s_server O -cert "$PKI/good.crt" -key "$PKI/good.key" -rev
	out_run 10 "$CSTREAM" connect --tls --cafile "$PKI/ca.crt" localhost \
	    "$O_PORT" --send 'hello\n' --read-line
	[ "$RC" -eq 0 ]
	out_is 'olleh\n'
	err_is ''
	out_run 10 "$CSTREAM" connect --tls --cafile "$PKI/ca.crt" 127.0.0.1 \
	    "$O_PORT" --send 'stressed\n' --read-line
	[ "$RC" -eq 0 ]
	out_is 'desserts\n'
}

@test "s_server with a certificate for another name: exit 7, -k passes" {
	require_cmd openssl
	s_server O -cert "$PKI/wronghost.crt" -key "$PKI/wronghost.key" -rev
	out_run 10 "$CSTREAM" connect --tls --cafile "$PKI/ca.crt" localhost \
	    "$O_PORT" --send 'hello\n' --read-line
	[ "$RC" -eq 7 ]
	out_is ''
	err_is "cstream: connect: tls handshake with localhost:$O_PORT: certificate verify failed: hostname mismatch\\n"
	out_run 10 "$CSTREAM" connect --tls localhost "$O_PORT" \
	    --send 'hello\n' --read-line
	[ "$RC" -eq 7 ]
	err_is "cstream: connect: tls handshake with localhost:$O_PORT: certificate verify failed: unable to get local issuer certificate\\nhint: use --cafile FILE to trust its issuer, or -k to skip verification\\n"
	out_run 10 "$CSTREAM" connect --tls -k localhost "$O_PORT" \
	    --send 'hello\n' --read-line
	[ "$RC" -eq 0 ]
	out_is 'olleh\n'
}

@test "s_server -quiet and connect --tls: bytes both ways, close_notify ends it" {
	require_cmd openssl
	port=$(free_port)
	hold_stdin W "$T/fifo" 'from s_server\n'
	BG_STDIN=$T/fifo bg O openssl s_server -accept "127.0.0.1:$port" \
	    -cert "$PKI/good.crt" -key "$PKI/good.key" -quiet -naccept 1
	wait_tcp_listen "$O_PID" "$port"
	# s_server closes when it gets close_notify: send cstream's bytes
	# (and so, at their EOF, its close_notify) only once s_server's have
	# arrived, or s_server could close before sending them.
	out_run 10 bash -c '{
		until grep -qs "^from s_server$" "$1"; do sleep 0.02; done
		printf "from cstream\n"
	    } | "$2" connect --tls --cafile "$3" localhost "$4"' \
	    _ "$T/run.out" "$CSTREAM" "$PKI/ca.crt" "$port"
	[ "$RC" -eq 0 ]
	out_is 'from s_server\n'
	peer_exit O
	bytes_are "$O_OUT" 'from cstream\n'
}

@test "connect --tls sends 32 MiB to s_server" {
	require_cmd openssl
	port=$(free_port)
	hold_stdin W "$T/fifo"
	BG_STDIN=$T/fifo bg O openssl s_server -accept "127.0.0.1:$port" \
	    -cert "$PKI/good.crt" -key "$PKI/good.key" -quiet -naccept 1
	wait_tcp_listen "$O_PID" "$port"
	out_run 30 "$CSTREAM" connect --tls --cafile "$PKI/ca.crt" localhost \
	    "$port" <"$BIG"
	[ "$RC" -eq 0 ]
	out_is ''
	err_is ''
	peer_exit O 10
	[ "$(sha256 "$O_OUT")" = "$BIG_SUM" ]
}

@test "serve --tls and s_client: verified, bytes both ways" {
	require_cmd openssl
	mkfifo "$T/fifo"
	# serve's stdin: its bytes, then EOF (close_notify) only once
	# s_client's bytes have arrived, as s_client -quiet exits on it.
	bg W bash -c 'exec >"$1"; printf "from cstream\n"
	    until grep -qs "^from s_client$" "$2"; do sleep 0.02; done' \
	    _ "$T/fifo" "$T/S.out"
	BG_STDIN=$T/fifo start_server S "$CSTREAM" serve --tls \
	    --cert "$PKI/good.crt" --key "$PKI/good.key" 127.0.0.1 0
	printf 'from s_client\n' >"$T/o.in"
	out_run 10 openssl s_client -connect "127.0.0.1:$S_PORT" -quiet \
	    -CAfile "$PKI/ca.crt" -verify_return_error \
	    -verify_hostname localhost <"$T/o.in"
	[ "$RC" -eq 0 ]
	out_is 'from cstream\n'
	peer_exit S
	bytes_are "$S_OUT" 'from s_client\n'
}

@test "serve --tls --echo answers socat OPENSSL, 32 MiB included" {
	require_cmd openssl socat
	start_server S "$CSTREAM" serve --tls --cert "$PKI/good.crt" \
	    --key "$PKI/good.key" --echo 127.0.0.1 0
	printf 'echo over tls\n' >"$T/x.in"
	out_run 10 socat -t 5 - \
	    "OPENSSL:localhost:$S_PORT,cafile=$PKI/ca.crt" <"$T/x.in"
	[ "$RC" -eq 0 ]
	out_is 'echo over tls\n'
	out_run 30 socat -t 10 - \
	    "OPENSSL:localhost:$S_PORT,cafile=$PKI/ca.crt" <"$BIG"
	[ "$RC" -eq 0 ]
	[ "$(sha256 "$T/run.out")" = "$BIG_SUM" ]
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" = 0 ]
}

# --- curl ---------------------------------------------------------------------

@test "curl gets an HTTP response from serve --sh-exec" {
	require_cmd curl
	start_server S "$CSTREAM" serve 127.0.0.1 0 --sh-exec \
	    'printf "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi"'
	out_run 5 curl -s "http://127.0.0.1:$S_PORT/"
	[ "$RC" -eq 0 ]
	out_is 'hi'
	out_run 5 curl -sS -o /dev/null -w '%{http_code} %{size_download}' \
	    "http://127.0.0.1:$S_PORT/again"
	[ "$RC" -eq 0 ]
	out_is '200 2'
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" = 0 ]
}

@test "http-head prints the header block curl -I prints" {
	require_cmd curl
	start_server S "$CSTREAM" serve 127.0.0.1 0 --sh-exec 'printf "%s\r\n" \
	    "HTTP/1.1 200 OK" "Content-Type: text/plain" "X-Two: a  b" \
	    "Content-Length: 2" ""'
	out_run 5 curl -sSI "http://127.0.0.1:$S_PORT/"
	[ "$RC" -eq 0 ]
	tr -d '\r' <"$T/run.out" | sed '/^$/d' >"$T/curl.out"
	out_run 5 "$CSTREAM" http-head "http://127.0.0.1:$S_PORT/"
	[ "$RC" -eq 0 ]
	out_is 'HTTP/1.1 200 OK\nContent-Type: text/plain\nX-Two: a  b\nContent-Length: 2\n'
	cmp "$T/curl.out" "$T/run.out"
}

@test "curl --cacert talks HTTPS to serve --tls" {
	require_cmd curl openssl
	# No Content-Length: curl reads to our close_notify, so it never
	# closes with it unread (a reset that would fail serve, rightly).
	printf 'HTTP/1.0 200 OK\r\n\r\nhi' >"$T/resp"
	BG_STDIN=$T/resp start_server S "$CSTREAM" serve --tls \
	    --cert "$PKI/good.crt" --key "$PKI/good.key" 127.0.0.1 0
	out_run 10 curl -sS --cacert "$PKI/ca.crt" -H 'User-Agent:' \
	    -H 'Accept:' "https://localhost:$S_PORT/x"
	[ "$RC" -eq 0 ]
	out_is 'hi'
	err_is ''
	peer_exit S
	bytes_are "$S_OUT" "GET /x HTTP/1.1\r\nHost: localhost:$S_PORT\r\n\r\n"
}

@test "curl --cacert gets an HTTP response from serve --tls --sh-exec" {
	require_cmd curl openssl

	start_server S "$CSTREAM" serve --tls --cert "$PKI/good.crt" \
	    --key "$PKI/good.key" 127.0.0.1 0 --sh-exec \
	    'printf "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi"'
	out_run 10 curl -sS --cacert "$PKI/ca.crt" "https://localhost:$S_PORT/"
	[ "$RC" -eq 0 ]
	out_is 'hi'
	out_run 10 curl -sS --cacert "$PKI/ca.crt" "https://127.0.0.1:$S_PORT/"
	[ "$RC" -eq 0 ]
	out_is 'hi'
	stop_pid "$S_PID"
	[ "$EXIT_STATUS" = 0 ]
}

# --- a peer that answers and closes while cstream still sends ----------------

# The peer's bytes are in the kernel, readable after the EPIPE or reset
# (ncat prints them in the same case); cstream must write them out before it
# exits 1.

@test "connect: a peer's reply before it closes is printed, then exit 1" {
	require_cmd ncat

	port=$(free_port)
	printf 'bye\n' >"$T/nc.in"
	BG_STDIN=$T/nc.in bg N ncat -l 127.0.0.1 "$port" --send-only
	wait_tcp_listen "$N_PID" "$port"
	out_run 10 "$CSTREAM" connect 127.0.0.1 "$port" <"$BIG"
	[ "$RC" -eq 1 ]
	out_is 'bye\n'
	err_is "cstream: connect: 127.0.0.1:$port: peer closed before all input was sent\n"
	peer_exit N
}

@test "serve: a client's bytes before it closes are written, then exit 1" {
	require_cmd ncat

	BG_STDIN=$BIG start_server S "$CSTREAM" serve 127.0.0.1 0
	printf 'bye\n' >"$T/nc.in"
	out_run 10 ncat --send-only 127.0.0.1 "$S_PORT" <"$T/nc.in"
	[ "$RC" -eq 0 ]
	wait_pid_exit "$S_PID" 10 || true
	[ "$EXIT_STATUS" = 1 ]
	bytes_are "$S_OUT" 'bye\n'
	[ "$(sed -n 1p "$S_ERR")" = "Serving on 127.0.0.1:$S_PORT" ]
	[[ "$(sed -n 2p "$S_ERR")" =~ ^cstream:\ serve:\ 127\.0\.0\.1:[0-9]+:\ peer\ closed\ before\ all\ input\ was\ sent$ ]]
	[ "$(wc -l <"$S_ERR")" -eq 2 ]
}
