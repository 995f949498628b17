#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
# Shell completion: 'cstream --completion bash|zsh|fish' writes
# the script from the option tables that --help prints. The bash function
# is run here as bash runs it (COMP_WORDS, COMP_CWORD, then COMPREPLY), and
# every option that --help lists must be completed: a new option in a table
# cannot be forgotten.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"

setup() {
	common_setup
	"$CSTREAM" --completion bash >"$T/cstream.bash"
}

# complete WORD...: what bash would offer for the last word, one a line.
complete_bash() {
	bash -c 'source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_cstream && printf "%s\n" "${COMPREPLY[@]}"' \
	    _ "$T/cstream.bash" cstream "$@"
}

# The commands that 'cstream --help' lists.
help_commands() {
	"$CSTREAM" --help | sed -n '/^commands:/,/^$/s/^  \([a-z-]*\) .*/\1/p'
}

# Every option of a --help text: "-k", "--insecure", "--send", ...
help_options() {
	sed -n 's/^  \(-[A-Za-z0-9]\), \(--[a-z0-9.-]*\).*/\1\n\2/p;
	    s/^      \(--[a-z0-9.-]*\).*/\1/p'
}

@test "--completion with no or an unknown shell exits 2" {
	run --separate-stderr "$CSTREAM" --completion
	[ "$status" -eq 2 ]
	[ "$stderr" = "cstream: --completion takes one argument: bash, zsh or fish" ]
	run --separate-stderr "$CSTREAM" --completion tcsh
	[ "$status" -eq 2 ]
	[ "$stderr" = "cstream: --completion tcsh: unknown shell (bash, zsh or fish)" ]
	[ -z "$output" ]
}

@test "--completion=bash is --completion bash, and is valid bash" {
	run "$CSTREAM" --completion=bash
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$T/cstream.bash")" ]
	bash -n "$T/cstream.bash"
	run bash -c 'source "$1" && complete -p cstream' _ "$T/cstream.bash"
	[ "$output" = "complete -F _cstream cstream" ]
}

@test "bash: commands, by prefix" {
	run complete_bash ""
	[ "$status" -eq 0 ]
	[ "$output" = "$(help_commands)" ]
	run complete_bash co
	[ "$output" = "connect" ]
	run complete_bash unix-
	[ "$output" = $'unix-connect\nunix-serve' ]
	run complete_bash -q -v h
	[ "$output" = $'http-head\nhelp' ]
}

@test "bash: a command's options, after global options and abbreviations" {
	run complete_bash connect --send-
	[ "$output" = "--send-file" ]
	run complete_bash -4 conn --re
	[ "$output" = $'--read-line\n--read-until\n--read-exactly\n--read\n--read-all\n--resolve' ]
	run complete_bash serve --e
	[ "$output" = $'--echo\n--exec' ]
	run complete_bash http-head -
	[[ "$output" == *$'\n-H\n--header\n'* ]]
	run complete_bash --c
	[ "$output" = $'--completion\n--connect-timeout' ]
}

@test "bash: option values: word lists, = forms, optional values" {
	run complete_bash --log-format ""
	[ "$output" = $'text\njson' ]
	run complete_bash connect --log-format = j
	[ "$output" = "json" ]
	run complete_bash connect --log-format=t
	[ "$output" = "text" ]
	run complete_bash connect --progress = ""
	[ "$output" = "always" ]
	run complete_bash --completion ""
	[ "$output" = $'bash\nzsh\nfish' ]
	# A value nothing can guess gets nothing, not file names.
	run complete_bash connect --send ""
	[ "$output" = "" ]
	run complete_bash serve --max-conns ""
	[ "$output" = "" ]
}

@test "bash: files for --send-file, --cafile, --cert, --key and unix paths" {
	mkdir "$T/d"
	: >"$T/d/ca.pem"
	: >"$T/d/cert.pem"
	: >"$T/d/key.pem"
	run complete_bash connect --send-file "$T/d/c"
	[ "$output" = "$(printf '%s\n' "$T/d/ca.pem" "$T/d/cert.pem")" ]
	run complete_bash http-head --cafile "$T/d/ca"
	[ "$output" = "$T/d/ca.pem" ]
	run complete_bash serve --tls --cert "$T/d/ce"
	[ "$output" = "$T/d/cert.pem" ]
	run complete_bash serve --key "$T/d/k"
	[ "$output" = "$T/d/key.pem" ]
	run complete_bash unix-connect "$T/d/k"
	[ "$output" = "$T/d/key.pem" ]
}

@test "bash: hosts then ports for connect, ports for serve, commands for help" {
	printf '127.0.0.1 alpha.test alpine.test\n' >"$T/hosts"
	HOSTFILE=$T/hosts run complete_bash connect --send x al
	[ "$output" = $'alpha.test\nalpine.test' ]
	# Ports are numbers (cstream takes no service names): those of
	# /etc/services, for TCP.
	[ -r /etc/services ] || skip "no /etc/services"
	expected=$(sed -n 's/^[^#[:space:]]*[[:space:]]\{1,\}\(44[0-9]*\)\/tcp.*/\1/p' \
	    /etc/services | sort -nu)
	[ -n "$expected" ]
	run complete_bash connect host 44
	[ "$output" = "$expected" ]
	run complete_bash serve 44
	[ "$output" = "$expected" ]
	run complete_bash serve -k 127.0.0.1 44
	[ "$output" = "$expected" ]
	run complete_bash help unix-s
	[ "$output" = "unix-serve" ]
}

@test "bash: no options after --" {
	run complete_bash connect -- -
	[ "$output" = "" ]
}

@test "bash: every option that --help lists is completed, for every command" {
	local cmd opt missing=

	for cmd in $(help_commands); do
		run complete_bash "$cmd" -
		[ "$status" -eq 0 ]
		for opt in $("$CSTREAM" help "$cmd" | help_options); do
			grep -qxe "$opt" <<<"$output" || missing="$missing $cmd:$opt"
		done
	done
	run complete_bash -
	for opt in $("$CSTREAM" --help | help_options); do
		grep -qxe "$opt" <<<"$output" || missing="$missing -:$opt"
	done
	[ -z "$missing" ] || { echo "not completed:$missing"; false; }
	# The parse above found options at all.
	[ "$("$CSTREAM" help connect | help_options | grep -c .)" -gt 20 ]
}

@test "zsh: the script loads under compinit and completes cstream" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	"$CSTREAM" --completion zsh >"$T/_cstream"
	zsh -n "$T/_cstream"
	run env HOME="$T" zsh -f -c 'autoload -U compinit; compinit -u -D
		source "$1" && print -r -- "$_comps[cstream]"' _ "$T/_cstream"
	[ "$status" -eq 0 ]
	[ "$output" = "_cstream" ]
}

@test "zsh and fish: every option that --help lists is in the script" {
	local cmd opt shell missing=

	for shell in zsh fish; do
		"$CSTREAM" --completion $shell >"$T/script"
		for cmd in $(help_commands); do
			for opt in $("$CSTREAM" help "$cmd" | help_options); do
				if [ $shell = zsh ]; then
					grep -qe "[{,'*]$opt[=+,}'[]" "$T/script"
				elif [[ $opt == --* ]]; then
					grep -qe " -l ${opt#--} " "$T/script"
				else
					grep -qe " -s ${opt#-} " "$T/script"
				fi || missing="$missing $shell:$cmd:$opt"
			done
		done
	done
	[ -z "$missing" ] || { echo "not in the script:$missing"; false; }
}

@test "fish: the script loads" {
	command -v fish >/dev/null || skip "fish is not installed"
	"$CSTREAM" --completion fish >"$T/cstream.fish"
	run fish -c "source $T/cstream.fish; complete -C 'cstream conn'"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == connect* ]]
}

@test "bash-completion's loader finds the script by the installed name" {
	[ -r /usr/share/bash-completion/bash_completion ] ||
	    skip "bash-completion is not installed"
	mkdir -p "$T/bc/completions"
	cp "$T/cstream.bash" "$T/bc/completions/cstream"
	run env BASH_COMPLETION_USER_DIR="$T/bc" bash -c '
		source /usr/share/bash-completion/bash_completion
		__load_completion cstream && complete -p cstream
		COMP_WORDS=(cstream conn --log-format ""); COMP_CWORD=3
		_cstream && echo "${COMPREPLY[*]}"'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "complete -F _cstream cstream" ]
	[ "${lines[1]}" = "text json" ]
}
