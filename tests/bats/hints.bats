#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Help that finds the user: -h everywhere, stray options named,
# and one "hint:" line after a usage error with the closest name from the
# command and option tables, or the cstream way to say an nc, ncat or curl
# habit. The error line and the usage line stay as they were; the hint is
# the line between them and never starts with "cstream:" (cli.md).

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"

GENERIC_USAGE="usage: cstream [GLOBAL OPTIONS] COMMAND ... (cstream help lists the commands)"

# usage_error EXPECTED_ERROR EXPECTED_HINT EXPECTED_USAGE -- ARGS...
usage_error() {
	local err=$1 hint=$2 usage=$3

	shift 4
	run --separate-stderr "$CSTREAM" "$@"
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "${stderr_lines[0]}" = "$err" ]
	if [ -n "$hint" ]; then
		[ "${stderr_lines[1]}" = "$hint" ]
		[ "${stderr_lines[2]}" = "$usage" ]
		[ "${#stderr_lines[@]}" -eq 3 ]
	else
		[ "${stderr_lines[1]}" = "$usage" ]
		[ "${#stderr_lines[@]}" -eq 2 ]
	fi
}

@test "-h alone lists the commands, as --help" {
	run --separate-stderr "$CSTREAM" -h
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	expected=$("$CSTREAM" --help)
	[ "$output" = "$expected" ]
	[[ "$output" == *"-h, --help"* ]]
}

@test "COMMAND -h is COMMAND --help" {
	local c

	for c in connect serve unix-connect unix-serve http-head help; do
		run --separate-stderr "$CSTREAM" "$c" -h
		[ "$status" -eq 0 ]
		[ -z "$stderr" ]
		[ "${lines[0]}" = "$("$CSTREAM" "$c" --help | head -n 1)" ]
		[ "$output" = "$("$CSTREAM" help "$c")" ]
	done
}

@test "help serve, serve --help and serve -h print the same" {
	run "$CSTREAM" help serve
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "usage: cstream serve [OPTIONS] [HOST] PORT" ]
	[ "$output" = "$("$CSTREAM" serve --help)" ]
	[ "$output" = "$("$CSTREAM" serve -h)" ]
}

@test "an unknown option before the command is named, not 'missing command'" {
	usage_error "cstream: unknown option: --bogus" "" "$GENERIC_USAGE" -- --bogus
	usage_error "cstream: unknown option: -Z" "" "$GENERIC_USAGE" -- -q -Z
}

@test "a global option missing its value before the command is named" {
	usage_error "cstream: option needs a value: --limit" "" "$GENERIC_USAGE" -- --limit
}

@test "an unknown option before a real command is reported by that command" {
	run --separate-stderr "$CSTREAM" --bogus help
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: help: unknown option: --bogus" ]
}

@test "a mistyped command gets one suggestion" {
	usage_error "cstream: unknown command: conect" \
	    "hint: did you mean 'connect'?" "$GENERIC_USAGE" -- conect
	usage_error "cstream: unknown command: srve" \
	    "hint: did you mean 'serve'?" "$GENERIC_USAGE" -- srve 9000
	usage_error "cstream: unknown command: htpp-head" \
	    "hint: did you mean 'http-head'?" "$GENERIC_USAGE" -- htpp-head http://x/
}

@test "a word far from every command gets no suggestion" {
	usage_error "cstream: unknown command: frobnicate" "" "$GENERIC_USAGE" -- frobnicate
}

@test "a mistyped option gets the closest one of that command" {
	usage_error "cstream: connect: unknown option: --sned" \
	    "hint: did you mean '--send'?" \
	    "usage: cstream connect [OPTIONS] HOST PORT" \
	    -- connect --sned x 127.0.0.1 1
	usage_error "cstream: serve: unknown option: --ecko" \
	    "hint: did you mean '--echo'?" \
	    "usage: cstream serve [OPTIONS] [HOST] PORT" -- serve --ecko 0
	usage_error "cstream: http-head: unknown option: --lcation" \
	    "hint: did you mean '--location'?" \
	    "usage: cstream http-head [OPTIONS] URL" -- http-head --lcation http://x/
}

@test "a global option's typo is found after any command" {
	usage_error "cstream: serve: unknown option: --verbsoe" \
	    "hint: did you mean '--verbose'?" \
	    "usage: cstream serve [OPTIONS] [HOST] PORT" -- serve --verbsoe 0
}

@test "an ambiguous abbreviation lists what it could be" {
	usage_error "cstream: connect: unknown option: --read-" \
	    "hint: did you mean one of '--read-line', '--read-until', '--read-exactly', '--read-all'?" \
	    "usage: cstream connect [OPTIONS] HOST PORT" -- connect --read- h 1
}

@test "nc HOST PORT: use connect" {
	usage_error "cstream: unknown command: 127.0.0.1" \
	    "hint: use 'cstream connect 127.0.0.1 80'" "$GENERIC_USAGE" -- 127.0.0.1 80
	usage_error "cstream: unknown command: example.com" \
	    "hint: use 'cstream connect -v example.com 443'" "$GENERIC_USAGE" \
	    -- -v example.com 443
}

@test "HOST:PORT and a URL as the command: use connect, http-head" {
	usage_error "cstream: unknown command: example.com:8080" \
	    "hint: use 'cstream connect example.com 8080'" "$GENERIC_USAGE" \
	    -- example.com:8080
	usage_error "cstream: unknown command: http://example.com/" \
	    "hint: use 'cstream http-head http://example.com/'" "$GENERIC_USAGE" \
	    -- http://example.com/
}

@test "nc -l PORT: use serve" {
	usage_error "cstream: unknown option: -l" \
	    "hint: use 'cstream serve 9000'" "$GENERIC_USAGE" -- -l 9000
	usage_error "cstream: unknown option: -l" \
	    "hint: use 'cstream serve 9000'" "$GENERIC_USAGE" -- -l -p 9000
	usage_error "cstream: unknown option: -n" \
	    "hint: use 'cstream serve -v 9000'" "$GENERIC_USAGE" -- -nlvp 9000
	usage_error "cstream: unknown option: -l" \
	    "hint: use 'cstream serve PORT'" "$GENERIC_USAGE" -- -l
}

@test "nc -u and nc -lu: use connect -u and serve -u" {
	usage_error "cstream: unknown option: -u" \
	    "hint: use 'cstream connect -u host 53'" "$GENERIC_USAGE" -- -u host 53
	usage_error "cstream: unknown option: -l" \
	    "hint: use 'cstream serve -u 9000'" "$GENERIC_USAGE" -- -lu 9000
	usage_error "cstream: connect: unknown option: -l" \
	    "hint: use 'cstream serve -u 9000'" \
	    "usage: cstream connect [OPTIONS] HOST PORT" -- connect -lu 9000
}

@test "serve -l PORT: drop the -l" {
	usage_error "cstream: serve: unknown option: -l" \
	    "hint: use 'cstream serve 9000'" \
	    "usage: cstream serve [OPTIONS] [HOST] PORT" -- serve -l 9000
	usage_error "cstream: serve: unknown option: -l" \
	    "hint: use 'cstream serve -k 127.0.0.1 9000 --echo'" \
	    "usage: cstream serve [OPTIONS] [HOST] PORT" -- serve -lk 127.0.0.1 9000 --echo
	usage_error "cstream: unix-serve: unknown option: -l" \
	    "hint: use 'cstream unix-serve /tmp/s'" \
	    "usage: cstream unix-serve [OPTIONS] PATH" -- unix-serve -l /tmp/s
}

@test "connect HOST:PORT: two words" {
	usage_error "cstream: connect: missing PORT" \
	    "hint: use 'cstream connect host 80'" \
	    "usage: cstream connect [OPTIONS] HOST PORT" -- connect host:80
	usage_error "cstream: connect: missing PORT" \
	    "hint: use 'cstream connect ::1 8080'" \
	    "usage: cstream connect [OPTIONS] HOST PORT" -- connect '[::1]:8080'
	# A bare IPv6 address has no port in it.
	usage_error "cstream: connect: missing PORT" "" \
	    "usage: cstream connect [OPTIONS] HOST PORT" -- connect ::1
}

@test "--progress always: the value goes after an =" {
	usage_error "cstream: connect: too many arguments: 80" \
	    "hint: use '--progress=always'" \
	    "usage: cstream connect [OPTIONS] HOST PORT" \
	    -- connect --progress always 127.0.0.1 80
	usage_error "cstream: connect: too many arguments: always" \
	    "hint: use '--progress=always'" \
	    "usage: cstream connect [OPTIONS] HOST PORT" \
	    -- connect 127.0.0.1 80 --progress always
}

@test "the errors without a hint keep their two lines" {
	usage_error "cstream: connect: missing HOST PORT" "" \
	    "usage: cstream connect [OPTIONS] HOST PORT" -- connect
	usage_error "cstream: help: unknown option: -Z" "" \
	    "usage: cstream help [COMMAND]" -- help -Z
}
