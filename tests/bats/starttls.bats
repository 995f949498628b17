#!/usr/bin/env bats
bats_require_minimum_version 1.5.0
#
# connect --starttls: the plain phase of SMTP (aiosmtpd), IMAP
# (dovecot), PostgreSQL (postgres with ssl=on) checked, then TLS verified
# as --tls, with --show-cert and the one-shot steps inside TLS. POP3 and
# FTP are spoken by tests/peers/starttls_server.py: Debian's
# dovecot-imapd has no POP3 and no FTP server is in the test set.

load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/helpers"
load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/tls"

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)

setup_file() {
	export W=$BATS_FILE_TMPDIR
	export PKI=$W/pki
	command -v openssl >/dev/null || return 0
	tls_file_pki || return 1
	tls_make_ca "$PKI" otherca
}

need_openssl() {
	command -v openssl >/dev/null || skip "openssl is not installed"
}

c() {
	run --separate-stderr run_with_timeout 15 "$CSTREAM" "$@"
}

json() {
	python3 -c 'import json, sys
o = json.loads(sys.stdin.read())
for k in sys.argv[1:]:
    o = o[k]
print(o)' "$@"
}

# --- SMTP: aiosmtpd ------------------------------------------------------

# The python3 that has aiosmtpd (Debian's, not a pyenv one first in PATH).
aiosmtpd_python() {
	local p

	for p in python3 /usr/bin/python3; do
		if "$p" -c 'import aiosmtpd' 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# start_smtp [TLS ARGS...]: aiosmtpd on a free port (it cannot report a
# port 0), ready when it listens. Sets SMTP_PORT.
start_smtp() {
	local py

	py=$(aiosmtpd_python) || skip "aiosmtpd is not installed"
	SMTP_PORT=$(free_port)
	bg SMTP "$py" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" "$@"
	wait_for tcp_listening "$SMTP_PORT"
}

@test "smtp: aiosmtpd STARTTLS, the certificate shown and checked" {
	need_openssl
	start_smtp --tlscert "$PKI/good.crt" --tlskey "$PKI/good.key"
	c -v connect localhost "$SMTP_PORT" --starttls smtp --cafile "$PKI/ca.crt" \
	    --show-cert --json
	[ "$status" -eq 0 ]
	[ "$(json cn <<<"$output")" = good ]
	[ "$(json verified <<<"$output")" = True ]
	[[ $stderr == *$'\ncstream: starttls protocol=smtp\ncstream: tls version=TLSv1.3 '* ]]
	c connect localhost "$SMTP_PORT" --starttls smtp --cafile "$PKI/ca.crt" \
	    --expire-warn 60
	[ "$status" -eq 11 ]
	[[ $stderr == "cstream: connect: certificate 'good' expires in "* ]]
	# Verified as --tls: not with the wrong trust.
	c connect localhost "$SMTP_PORT" --starttls smtp --send 'QUIT\r\n' --read-line
	[ "$status" -eq 7 ]
	[ "$stderr" = "cstream: connect: tls handshake with localhost:$SMTP_PORT: certificate verify failed: unable to get local issuer certificate
hint: use --cafile FILE to trust its issuer, or -k to skip verification" ]
}

@test "smtp: the steps and the relay run inside TLS (EHLO again is the caller's)" {
	need_openssl
	start_smtp --tlscert "$PKI/good.crt" --tlskey "$PKI/good.key"
	c connect localhost "$SMTP_PORT" --starttls smtp --cafile "$PKI/ca.crt" \
	    --send 'EHLO client.example\r\n' --read-line --send 'QUIT\r\n' \
	    --read-until 'Bye\r\n'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = $'250-localhost\r' ] || [[ ${lines[0]} == 250-* ]]
	[ "${lines[-1]}" = $'221 Bye\r' ]
	# aiosmtpd refuses mail before TLS, so an answer means TLS is up.
	run --separate-stderr bash -c 'printf "EHLO x\r\nMAIL FROM:<a@b>\r\nQUIT\r\n" |
	    timeout 10 "$1" connect localhost "$2" --starttls smtp --cafile "$3" \
	    --no-shutdown' _ "$CSTREAM" "$SMTP_PORT" "$PKI/ca.crt"
	[ "$status" -eq 0 ]
	[[ $output == *$'250 OK\r\n221 Bye\r' ]]
}

@test "smtp: a server without STARTTLS is exit 8 with its reply quoted" {
	start_smtp
	c connect localhost "$SMTP_PORT" --starttls smtp --cafile "$PKI/ca.crt" \
	    --show-cert
	[ "$status" -eq 8 ]
	[ "$output" = "" ]
	[[ $stderr =~ ^"cstream: connect: localhost:$SMTP_PORT: smtp server does not offer STARTTLS: '250-"[^\']*"\x0a250 HELP'"$ ]]
}

@test "smtp: a refusal is exit 8 with the reply escaped and bounded" {
	need_openssl
	py_server "$BATS_TEST_DIRNAME/../peers/send_server.py" \
	    "554-no\x1b[31m $(printf 'x%.0s' {1..300})\r\n554 go away\r\n" hold
	c connect 127.0.0.1 "$PY_PORT" --starttls smtp --cafile "$PKI/ca.crt"
	[ "$status" -eq 8 ]
	[[ $stderr =~ ^"cstream: connect: 127.0.0.1:$PY_PORT: smtp server refused the session: '554-no\x1b[31m x"+"...'"$ ]]
	[ "${#stderr}" -lt 260 ]
	py_server_as P2 "$BATS_TEST_DIRNAME/../peers/send_server.py" "" close
	c connect 127.0.0.1 "$P2_PORT" --starttls smtp --cafile "$PKI/ca.crt"
	[ "$status" -eq 8 ]
	[ "$stderr" = "cstream: connect: 127.0.0.1:$P2_PORT: smtp server closed the connection: ''" ]
}

# --- IMAP: dovecot --------------------------------------------------------

# start_dovecot yes|no: dovecot's imap on a free port, with the TLS of
# ssl = yes|no. Sets IMAP_PORT.
start_dovecot() {
	local d=$T/dovecot

	[ -x /usr/sbin/dovecot ] || skip "dovecot is not installed"
	id dovenull >/dev/null 2>&1 || skip "dovecot's users are missing"
	[ "$(id -u)" -eq 0 ] || skip "dovecot needs root to start"
	IMAP_PORT=$(free_port)
	mkdir -p "$d"
	cat >"$d/dovecot.conf" <<-EOF
	base_dir = $d/run
	state_dir = $d/state
	log_path = $d/dovecot.log
	protocols = imap
	listen = 127.0.0.1
	ssl = $1
	ssl_cert = <$PKI/good.crt
	ssl_key = <$PKI/good.key
	passdb {
	  driver = static
	  args = password=secret
	}
	userdb {
	  driver = static
	  args = uid=$(id -u) gid=$(id -g) home=$d/home
	}
	mail_location = maildir:$d/mail
	service imap-login {
	  chroot =
	  inet_listener imap {
	    port = $IMAP_PORT
	  }
	  inet_listener imaps {
	    port = 0
	  }
	}
	service anvil {
	  chroot =
	}
	EOF
	bg DOVECOT /usr/sbin/dovecot -F -c "$d/dovecot.conf"
	wait_for tcp_listening "$IMAP_PORT"
}

@test "imap: dovecot STARTTLS, the certificate shown, the steps inside TLS" {
	need_openssl
	start_dovecot yes
	c -v connect localhost "$IMAP_PORT" --starttls imap --cafile "$PKI/ca.crt" \
	    --show-cert
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "  subject:    CN = good, O = cstream tests" ]
	[[ $stderr == *$'\ncstream: starttls protocol=imap\n'* ]]
	c connect localhost "$IMAP_PORT" --starttls imap --cafile "$PKI/ca.crt" \
	    --send 'a3 LOGIN user secret\r\n' --read-until 'a3 OK' \
	    --send 'a4 LOGOUT\r\n' --read-all
	[ "$status" -eq 0 ]
	[[ $output == *"a3 OK"*"* BYE"* ]]
}

@test "imap: dovecot without TLS does not offer STARTTLS: exit 8, its capabilities quoted" {
	start_dovecot no
	c connect localhost "$IMAP_PORT" --starttls imap --cafile "$PKI/ca.crt"
	[ "$status" -eq 8 ]
	[[ $stderr =~ ^"cstream: connect: localhost:$IMAP_PORT: imap server does not offer STARTTLS: '* CAPABILITY IMAP4rev1 ".*"\x0aa1 OK ".*"'"$ ]]
}

# --- PostgreSQL -----------------------------------------------------------

# start_postgres on|off: a cluster made in $T (as the postgres user when
# run as root), started on a free port with ssl=on|off. Sets PG_PORT.
start_postgres() {
	local d run=()

	[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] ||
	    skip "postgresql is not installed"
	d=$(mktemp -d "${TMPDIR:-/tmp}/cstream-pg.XXXXXX")
	PG_DIR=$d
	chmod 755 "$d"
	cp "$PKI/good.crt" "$PKI/good.key" "$d/"
	chmod 600 "$d/good.key"
	if [ "$(id -u)" -eq 0 ]; then
		id postgres >/dev/null 2>&1 || skip "no postgres user"
		chown -R postgres "$d"
		# setpriv execs: the PID bg records is the server's own.
		run=(setpriv --reuid=postgres --regid=postgres --clear-groups)
	fi
	"${run[@]}" "$PG_BIN/initdb" -D "$d/data" -A trust -U postgres \
	    >"$d/initdb.log" 2>&1 || { cat "$d/initdb.log" >&2; return 1; }
	PG_PORT=$(free_port)
	bg PG "${run[@]}" "$PG_BIN/postgres" -D "$d/data" -p "$PG_PORT" -k "$d" \
	    -c listen_addresses=127.0.0.1 -c "ssl=$1" \
	    -c "ssl_cert_file=$d/good.crt" -c "ssl_key_file=$d/good.key"
	wait_for -t 20 tcp_listening "$PG_PORT"
}

teardown() {
	common_teardown
	[ -z "${PG_DIR:-}" ] || rm -rf "$PG_DIR"
}

@test "postgres: SSLRequest, then TLS verified, the certificate as JSON; ssl=off is exit 8" {
	need_openssl
	start_postgres on
	c -v connect localhost "$PG_PORT" --starttls postgres \
	    --cafile "$PKI/ca.crt" --show-cert --json
	[ "$status" -eq 0 ]
	[ "$(json cn <<<"$output")" = good ]
	[ "$(json version <<<"$output")" = TLSv1.3 ]
	[[ $stderr == *$'\ncstream: starttls protocol=postgres\n'* ]]
	c connect 127.0.0.1 "$PG_PORT" --starttls postgres --cafile "$PKI/ca.crt" \
	    --servername localhost --expire-warn 1
	[ "$status" -eq 0 ]
	stop_pid "$PG_PID"
	rm -rf "$PG_DIR"
	start_postgres off
	c connect localhost "$PG_PORT" --starttls postgres --cafile "$PKI/ca.crt"
	[ "$status" -eq 8 ]
	[ "$stderr" = "cstream: connect: localhost:$PG_PORT: postgres server refused SSL: 'N'" ]
}

# --- POP3 and FTP: tests/peers/starttls_server.py ----------------------------

@test "pop3 and ftp: STLS and AUTH TLS, then the steps inside TLS; a refusal is exit 8" {
	need_openssl
	local p
	for p in pop3 ftp; do
		py_server_as S "$BATS_TEST_DIRNAME/../peers/starttls_server.py" \
		    "$p" "$PKI/good.crt" "$PKI/good.key" ok
		c connect localhost "$S_PORT" --starttls "$p" \
		    --cafile "$PKI/ca.crt" --send 'NOOP\r\n' --read-line
		[ "$status" -eq 0 ]
		[ "$output" = "$p-OK NOOP"$'\r' ]
		c connect localhost "$S_PORT" --starttls "$p" \
		    --cafile "$PKI/ca.crt" --show-cert --json
		[ "$(json cn <<<"$output")" = good ]
		py_server_as R "$BATS_TEST_DIRNAME/../peers/starttls_server.py" \
		    "$p" "$PKI/good.crt" "$PKI/good.key" refuse
		c connect localhost "$R_PORT" --starttls "$p" --cafile "$PKI/ca.crt"
		[ "$status" -eq 8 ]
		case $p in
		pop3)	[ "$stderr" = "cstream: connect: localhost:$R_PORT: pop3 server refused STLS: '-ERR not now'" ] ;;
		ftp)	[ "$stderr" = "cstream: connect: localhost:$R_PORT: ftp server refused the upgrade: '502 Not implemented'" ] ;;
		esac
	done
}

@test "--starttls: a server that never answers is bounded by --connect-timeout (exit 4)" {
	py_server "$BATS_TEST_DIRNAME/../peers/send_server.py" "" hold
	c --connect-timeout 0.5 connect 127.0.0.1 "$PY_PORT" --starttls imap \
	    --cafile "$PKI/ca.crt"
	[ "$status" -eq 4 ]
	[ "$stderr" = "cstream: connect: 127.0.0.1:$PY_PORT: imap: no answer before the upgrade to TLS within the connect timeout" ]
}

@test "--starttls: an unknown protocol, or with -z, is exit 2" {
	c connect localhost 25 --starttls xmpp
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: --starttls xmpp: must be smtp, imap, pop3, ftp or postgres" ]
	c connect -z localhost 25 --starttls smtp
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "cstream: connect: --starttls cannot be used with -z" ]
}
