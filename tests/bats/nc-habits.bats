#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# What misleads a user who comes from nc or ncat: their everyday flags get
# a one-line hint with the cstream spelling instead of a dead end or a
# silent surprise (nc's -x is a proxy, cstream's a dump file); IPv6
# literals in brackets; one address format in messages; hints on every
# TLS command; completion after --exec.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"

CU="usage: cstream connect [OPTIONS] HOST PORT"
SU="usage: cstream serve [OPTIONS] [HOST] PORT"
GENERIC_USAGE="usage: cstream [GLOBAL OPTIONS] COMMAND ... (cstream help lists the commands)"

# usage_error EXPECTED_ERROR EXPECTED_HINT EXPECTED_USAGE -- ARGS...
usage_error() {
	local err=$1 hint=$2 usage=$3

	shift 4
	run --separate-stderr run_with_timeout 5 "$CSTREAM" "$@"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "${stderr_lines[0]}" = "$err" ]
	[ "${stderr_lines[1]}" = "$hint" ]
	[ "${stderr_lines[2]}" = "$usage" ]
	[ "${#stderr_lines[@]}" -eq 3 ]
}

# --- 9. nc's -x and -X ----------------------------------------------------------

@test "connect -x HOST:PORT is nc's proxy: refused with the --proxy hint, no file written" {
	cd "$T"
	usage_error "cstream: connect: -x 127.0.0.1:3128: nc's proxy option; -x here is --hex-dump FILE" \
	    "hint: use --proxy http://127.0.0.1:3128" "$CU" -- \
	    connect -x 127.0.0.1:3128 127.0.0.1 80
	[ ! -e "$T/127.0.0.1:3128" ]
	usage_error "cstream: connect: -x [::1]:1080: nc's proxy option; -x here is --hex-dump FILE" \
	    "hint: use --proxy socks5://[::1]:1080" "$CU" -- \
	    connect -x '[::1]:1080' 127.0.0.1 80
	[ ! -e "$T/[::1]:1080" ]
}

@test "connect -x ./NAME:PORT is still a dump file" {
	start_server S "$CSTREAM" serve --echo 127.0.0.1 0
	cd "$T"
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    -x ./d:80 127.0.0.1 "$S_PORT" --send hi --read-exactly 2
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
	[ -s "$T/d:80" ]
}

@test "-X 5|4|connect: the --proxy hint with the matching scheme" {
	usage_error "cstream: connect: unknown option: -X" \
	    "hint: use --proxy socks5://127.0.0.1:1080" "$CU" -- \
	    connect -X 5 -x 127.0.0.1:1080 127.0.0.1 80
	usage_error "cstream: connect: unknown option: -X" \
	    "hint: use --proxy socks5://127.0.0.1:1080" "$CU" -- \
	    connect -X 4 -x 127.0.0.1:1080 127.0.0.1 80
	usage_error "cstream: connect: unknown option: -X" \
	    "hint: use --proxy http://127.0.0.1:3128" "$CU" -- \
	    connect -X connect -x 127.0.0.1:3128 127.0.0.1 80
	usage_error "cstream: connect: unknown option: -X" \
	    "hint: use --proxy http://127.0.0.1:3128" "$CU" -- \
	    connect -x 127.0.0.1:3128 -Xconnect 127.0.0.1 80
	usage_error "cstream: connect: unknown option: -X" \
	    "hint: use --proxy http://HOST:PORT" "$CU" -- \
	    connect -X connect 127.0.0.1 80
}

# --- 10. the rest of nc's and ncat's daily flags ---------------------------------

@test "nc's -w, -q, -U, -u and ncat's -e, -c, --ssl, -m: one hint line each" {
	usage_error "cstream: connect: unknown option: -w" \
	    "hint: nc's -w SEC: use --connect-timeout SEC, or --idle-timeout SEC for a connection gone quiet" \
	    "$CU" -- connect -w 2 127.0.0.1 80
	usage_error "cstream: connect: too many arguments: 80" \
	    "hint: -q is --quiet; nc's -q SEC is not needed: the relay ends once stdin's EOF is sent and the peer closes" \
	    "$CU" -- connect -q 1 127.0.0.1 80
	usage_error "cstream: connect: unknown option: -U" \
	    "hint: use 'cstream unix-connect PATH'" "$CU" -- \
	    connect -U /tmp/x.sock
	usage_error "cstream: serve: unknown option: -U" \
	    "hint: use 'cstream unix-serve PATH'" "$SU" -- \
	    serve -U /tmp/x.sock
	# -u exists now (connect -u, serve -u; unix-connect -u is --dgram):
	# nc's "-u HOST PORT" before any command gets the whole line.
	usage_error "cstream: unknown option: -u" \
	    "hint: use 'cstream connect -u 127.0.0.1 53'" "$GENERIC_USAGE" -- \
	    -u 127.0.0.1 53
	usage_error "cstream: serve: unknown option: -e" \
	    "hint: use --exec \"CMD\" (ncat's -e)" "$SU" -- serve -e cat 8000
	usage_error "cstream: serve: unknown option: -c" \
	    "hint: use --sh-exec \"CMD\" (ncat's -c)" "$SU" -- serve -c cat 8000
	usage_error "cstream: connect: unknown option: -e" \
	    "hint: connect runs no program: 'cstream serve --exec \"CMD\" PORT' runs one per client" \
	    "$CU" -- connect -e /bin/sh 127.0.0.1 80
	usage_error "cstream: connect: unknown option: --ssl" \
	    "hint: use --tls (ncat's --ssl)" "$CU" -- connect --ssl 127.0.0.1 443
	usage_error "cstream: serve: unknown option: -m" \
	    "hint: use --max-conns N (ncat's -m)" "$SU" -- serve -m 5 8000
}

@test "cstream -z HOST PORT (nc's order): use 'cstream connect -z HOST PORT'" {
	usage_error "cstream: unknown option: -z" \
	    "hint: use 'cstream connect -z 127.0.0.1 80'" "$GENERIC_USAGE" -- \
	    -z 127.0.0.1 80
}

@test "connect -z HOST 80 443: ports as separate words are one list" {
	start_server A "$CSTREAM" serve --discard 127.0.0.1 0
	run --separate-stderr run_with_timeout 10 "$CSTREAM" connect -z -v \
	    127.0.0.1 "$A_PORT" 1
	[ "$status" -eq 0 ]
	[ "$output" = "127.0.0.1 $A_PORT open" ]
	[ "$stderr" = "127.0.0.1 1 closed" ]
	# Without -z a third word is still one too many.
	run --separate-stderr "$CSTREAM" connect 127.0.0.1 80 1
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: too many arguments: 1" ]
	[ "${stderr_lines[1]}" = "$CU" ]
}

# --- 14. brackets around an IPv6 literal wherever a host is -----------------------

@test "connect '[::1]' PORT, serve '[::1]' 0, -s '[::1]', -z '[::1]': brackets accepted" {
	require_ipv6
	start_server S "$CSTREAM" serve --echo '[::1]' 0
	[ "$S_ADDR" = "[::1]:$S_PORT" ]
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect '[::1]' \
	    "$S_PORT" --send hi --read-exactly 2
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    -s '[::1]' '[::1]' "$S_PORT" --send hi --read-exactly 2
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect -z \
	    '[::1]' "$S_PORT"
	[ "$status" -eq 0 ]
	[ "$output" = "::1 $S_PORT open" ]
}

# --- 16. the untrusted-certificate hint on every TLS command; completion ------

@test "connect --tls to an untrusted certificate gets the hint http-head gives" {
	start_server S "$CSTREAM" serve --tls --echo 127.0.0.1 0
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect --tls \
	    127.0.0.1 "$S_PORT" </dev/null
	[ "$status" -eq 7 ]
	[[ ${stderr_lines[0]} == "cstream: connect: tls handshake with 127.0.0.1"*"self-signed certificate" ]]
	[ "${stderr_lines[1]}" = "hint: use --cafile FILE to trust its issuer, or -k to skip verification" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
	run --separate-stderr run_with_timeout 5 "$CSTREAM" http-head \
	    "https://127.0.0.1:$S_PORT/"
	[ "$status" -eq 7 ]
	[ "${stderr_lines[1]}" = "hint: use --cafile FILE to trust its issuer, or -k to skip verification" ]
	[ "${#stderr_lines[@]}" -eq 2 ]
}

@test "bash completion after --exec offers programs from PATH, not shell builtins" {
	mkdir "$T/bin"
	printf '#!/bin/sh\n' >"$T/bin/cs-prog-xyz"
	chmod +x "$T/bin/cs-prog-xyz"
	"$CSTREAM" --completion bash >"$T/cstream.bash"
	comp() {
		PATH=$T/bin:/usr/bin:/bin bash -c 'source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_cstream && printf "%s\n" "${COMPREPLY[@]}"' \
		    _ "$T/cstream.bash" cstream "$@"
	}
	run comp serve --exec cs-prog
	[ "$output" = cs-prog-xyz ]
	run comp serve --exec compge
	[ "$output" = "" ]
	run comp serve --exec cd
	[ "$output" = "" ]
	run comp serve --exec ech
	[ "$output" = echo ]
}

# --- 15. one address format in messages ----------------------------------------------

@test "messages write every address HOST:PORT, [v6]:PORT, as 'Serving on' does" {
	local p

	p=$(free_port)
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 "$p"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: connect to 127.0.0.1:$p: Connection refused" ]
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    --resolve "x.test:$p:[::1],127.0.0.1" x.test "$p"
	[ "$status" -eq 1 ]
	[ "$stderr" = "cstream: connect: connect to [::1]:$p: Connection refused; 127.0.0.1:$p: Connection refused" ]
	start_server S "$CSTREAM" serve --echo 127.0.0.1 0
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect 127.0.0.1 \
	    "$S_PORT" --send 'ab' -N --read-line
	[ "$status" -eq 5 ]
	[ "$stderr" = "cstream: connect: 127.0.0.1:$S_PORT: EOF after 2 bytes (--read-line)" ]
	run --separate-stderr run_with_timeout 5 "$CSTREAM" serve 127.0.0.1 "$S_PORT"
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "cstream: serve: bind to 127.0.0.1:$S_PORT: Address already in use" ]
}

# --- 17. the man page's BUGS section is true: --max-conns bounds --exec -----------

@test "serve --exec --max-conns 1: a second client while the first's program runs is closed" {
	start_server S "$CSTREAM" serve --exec "sleep 3" --max-conns 1 \
	    127.0.0.1 0
	bg C1 "$CSTREAM" connect 127.0.0.1 "$S_PORT"
	sleep 0.5	# the first client's program is running
	run --separate-stderr run_with_timeout 5 "$CSTREAM" connect \
	    127.0.0.1 "$S_PORT" </dev/null
	[ "$status" -eq 0 ]
	wait_for_match "$S_ERR" 'max-conns'
	run sed 1d "$S_ERR"
	[[ $output == "cstream: serve: max-conns 1 reached: closed 127.0.0.1:"* ]]
	# The man page says no more that it does not.
	run grep -c "does not bound the number of children" \
	    "$BATS_TEST_DIRNAME/../../man/cstream.1"
	[ "$output" = 0 ]
}
