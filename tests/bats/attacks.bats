#!/usr/bin/env bats
#
# What an attacker found (hostile proxies, TLS and HTTP peers, faults in
# every serve mode): secrets kept out of messages, every phase before the
# relay bounded, truncated TLS records reported, write failures of the
# dump, JSON and text logs that stay well formed, one rule for NUL bytes.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"

setup() {
	common_setup
	unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy \
	    ALL_PROXY no_proxy NO_PROXY
}

cs() {
	run --separate-stderr run_with_timeout 10 "$CSTREAM" "$@"
}

# --- 1. no credentials in messages -------------------------------------------

@test "a bad proxy URL's password never reaches a message (--proxy and the environment)" {
	https_proxy='http://alice:s3cretPW@127.0.0.1:bad' \
	    cs http-head https://127.0.0.1:1/
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: http-head: proxy from the environment http://alice:***@127.0.0.1:bad: bad port" ]
	cs connect --proxy 'http://alice:s3cretPW@127.0.0.1:bad' 127.0.0.1 1
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --proxy http://alice:***@127.0.0.1:bad: bad port" ]
	cs connect --proxy 'ftp://alice:pw@h:1080' 127.0.0.1 1
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --proxy ftp://alice:***@h:1080: unsupported scheme (http://, socks5://, socks5h://)" ]
	cs connect --proxy 'http://alice:s3cr%zz@127.0.0.1:1' 127.0.0.1 1
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --proxy http://alice:***@127.0.0.1:1: bad percent-encoding in the user information" ]
	# A lone user name is often a token: masked whole.
	cs connect --proxy 'http://T0KEN%zz@127.0.0.1:1' 127.0.0.1 1
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: connect: --proxy http://***@127.0.0.1:1: bad percent-encoding in the user information" ]
	[[ $stderr != *s3cr* ]] && [[ $stderr != *T0KEN* ]]
}
