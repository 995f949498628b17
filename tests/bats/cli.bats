#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# The command layer: --version, help, unknown commands and options, and the
# validation of global option values (doc/cli.md: usage errors exit 2).

@test "--version prints the version and exits 0" {
	run --separate-stderr "$CSTREAM" --version
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 3 ]
	[[ "${lines[0]}" =~ ^cstream\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "--version names the libevent and the OpenSSL it runs with, as curl -V" {
	local libevent openssl

	run --separate-stderr "$CSTREAM" --version
	[ "$status" -eq 0 ]
	# The libraries' own words: event_get_version(), OpenSSL_version().
	libevent=$(python3 -c 'import ctypes
l = ctypes.CDLL("libevent-2.1.so.7")
l.event_get_version.restype = ctypes.c_char_p
print(l.event_get_version().decode())')
	openssl=$(openssl version)
	[ "${lines[1]}" = "libevent $libevent" ]
	[[ "${lines[1]}" =~ ^libevent\ 2\.[0-9]+\.[0-9]+ ]]
	[[ "${lines[2]}" =~ ^OpenSSL\ 3\.[0-9]+\.[0-9]+ ]]
	# Dynamic (the default): exactly the system's libcrypto, as openssl(1).
	if [ "$CSTREAM_STATIC_DEPS" != yes ]; then
		[ "${lines[2]}" = "${openssl%% (Library*}" ]
	fi
}

@test "the default build links libevent and OpenSSL dynamically (NEEDED)" {
	local needed

	needed=$(readelf -d "$CSTREAM" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
	if [ "$CSTREAM_STATIC_DEPS" = yes ]; then
		# --enable-static-deps: the archives are inside, nothing to see.
		! grep -E '^lib(ssl|crypto|event)' <<<"$needed"
		return
	fi
	grep -qx 'libssl\.so\.3' <<<"$needed"
	grep -qx 'libcrypto\.so\.3' <<<"$needed"
	grep -qE '^libevent(_core)?-2\.1\.so\.[0-9]+$' <<<"$needed"
	grep -qE '^libevent_openssl-2\.1\.so\.[0-9]+$' <<<"$needed"
	# ldd agrees: each resolves to a file of the system.
	run ldd "$CSTREAM"
	[ "$status" -eq 0 ]
	[[ "$output" == *"libssl.so.3 => /"* ]]
	[[ "$output" == *"libcrypto.so.3 => /"* ]]
	[[ "$output" == *"libevent_openssl-2.1.so."*" => /"* ]]
}

@test "--help lists the commands on stdout" {
	run --separate-stderr "$CSTREAM" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"commands:"* ]]
	[[ "$output" == *"help"* ]]
	[ -z "$stderr" ]
}

@test "no command is a usage error" {
	run --separate-stderr "$CSTREAM"
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: missing command" ]
}

@test "unknown command exits 2 with one cstream: line" {
	run --separate-stderr "$CSTREAM" frobnicate
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "${stderr_lines[0]}" = "cstream: unknown command: frobnicate" ]
	[[ "${stderr_lines[1]}" != cstream:* ]]
}

@test "help COMMAND shows that command's usage" {
	run "$CSTREAM" help help
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "usage: cstream help [COMMAND]" ]
}

@test "help with an unknown command exits 2" {
	run --separate-stderr "$CSTREAM" help nosuch
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: help: unknown command: nosuch" ]
}

@test "unknown long option exits 2" {
	run --separate-stderr "$CSTREAM" help --nosuch
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: help: unknown option: --nosuch" ]
}

@test "unknown short option exits 2" {
	run --separate-stderr "$CSTREAM" help -Z
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: help: unknown option: -Z" ]
}

@test "an option missing its value exits 2" {
	run --separate-stderr "$CSTREAM" help --limit
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: help: option needs a value: --limit" ]
}

@test "bad --limit exits 2 naming the value" {
	run --separate-stderr "$CSTREAM" help --limit 12q
	[ "$status" -eq 2 ]
	[[ "${stderr_lines[0]}" == "cstream: help: --limit 12q: not a size"* ]]
}

@test "bad --connect-timeout exits 2" {
	run --separate-stderr "$CSTREAM" --connect-timeout -1 help
	[ "$status" -eq 2 ]
}

@test "bad --log-format exits 2" {
	run --separate-stderr "$CSTREAM" help --log-format xml
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: help: --log-format xml: must be text or json" ]
}

@test "global options may come before the command" {
	run "$CSTREAM" -q --limit 64k help help
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "usage: cstream help [COMMAND]" ]
}

@test "too many arguments exits 2" {
	run --separate-stderr "$CSTREAM" help help extra
	[ "$status" -eq 2 ]
	[ "${stderr_lines[0]}" = "cstream: help: too many arguments: extra" ]
}

@test "a unique prefix finds the command" {
	run "$CSTREAM" hel help
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "usage: cstream help [COMMAND]" ]
}

@test "COMMAND --help prints the command's help on stdout" {
	run "$CSTREAM" help --help
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "usage: cstream help [COMMAND]" ]
	[[ "$output" == *"global options:"* ]]
}
