# nginx.bash: a private nginx on loopback for the HTTP tests.
#
#	load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/nginx"
#
#	nginx_start DIR NAME... -- SERVERS
#		Pick a free port for each NAME (NGINX_PORT_NAME is set, and
#		the string @NAME@ in SERVERS is replaced by it), write
#		DIR/nginx.conf with the server blocks SERVERS, and run nginx
#		in the foreground (daemon off) with its pid file, logs and
#		temp directories in DIR. Returns when every port accepts
#		connections. nginx cannot listen on port 0, so the ports are
#		found by binding port 0 and closing, which races with other
#		programs: when nginx then fails with "Address already in use",
#		new ports are picked (5 tries).
#		Sets NGINX_PID. Runs with `master_process off`: one process,
#		so stopping it by PID stops everything.
#		With NGINX_STREAM set, its text (@NAME@ replaced too) is a
#		stream { } block, and the stream module is loaded
#		(libnginx-mod-stream; NGINX_STREAM_MODULE is its path).
#	nginx_stop
#		SIGTERM, wait (bounded), SIGKILL if need be.
#
# Usable from setup_file/teardown_file: nothing here depends on the
# per-test $T of helpers.bash. NGINX_PID is exported so that teardown_file
# (a separate shell in some bats versions) finds it; it is also written to
# DIR/nginx.ours.

: "${NGINX:=$(command -v nginx || echo /usr/sbin/nginx)}"

_nginx_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# _nginx_running PID: true while PID runs (a zombie does not count).
_nginx_running() {
	local stat

	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# _nginx_wait_port PORT PID SECS: true once 127.0.0.1:PORT accepts.
_nginx_wait_port() {
	local port=$1 pid=$2 i

	for ((i = 0; i < $3 * 50; i++)); do
		if (exec 5<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		_nginx_running "$pid" || return 1
		sleep 0.02
	done
	return 1
}

_nginx_write_conf() {
	local dir=$1 servers=$2 stream=${3:-} top=

	mkdir -p "$dir/tmp" "$dir/logs"
	if [ -n "$stream" ]; then
		top="load_module ${NGINX_STREAM_MODULE:-/usr/lib/nginx/modules/ngx_stream_module.so};"
		stream="stream { $stream }"
	fi
	cat >"$dir/nginx.conf" <<-EOF
	# Written by tests/lib/nginx.bash; everything lives in $dir.
	$top
	daemon off;
	master_process off;
	worker_processes 1;
	pid $dir/nginx.pid;
	error_log $dir/logs/error.log warn;
	events {
		worker_connections 256;
	}
	http {
		access_log $dir/logs/access.log;
		client_body_temp_path $dir/tmp/body;
		proxy_temp_path $dir/tmp/proxy;
		fastcgi_temp_path $dir/tmp/fastcgi;
		uwsgi_temp_path $dir/tmp/uwsgi;
		scgi_temp_path $dir/tmp/scgi;
		default_type application/octet-stream;
		server_tokens off;
	$servers
	}
	$stream
	EOF
}

nginx_start() {
	local dir=$1 names=() servers conf sconf name port try var ok

	shift
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		names+=("$1")
		shift
	done
	shift
	servers=$1
	for ((try = 0; try < 5; try++)); do
		conf=$servers
		sconf=${NGINX_STREAM:-}
		for name in "${names[@]}"; do
			port=$(_nginx_free_port) || return 1
			printf -v "NGINX_PORT_$name" '%s' "$port"
			export "NGINX_PORT_$name"
			conf=${conf//@$name@/$port}
			sconf=${sconf//@$name@/$port}
		done
		_nginx_write_conf "$dir" "$conf" "$sconf"
		: >"$dir/logs/error.log"
		setsid "$NGINX" -p "$dir" -c "$dir/nginx.conf" \
		    </dev/null >"$dir/logs/stdout" 2>&1 3>&- &
		NGINX_PID=$!
		export NGINX_PID
		echo "$NGINX_PID" >"$dir/nginx.ours"
		ok=1
		for name in "${names[@]}"; do
			var=NGINX_PORT_$name
			if ! _nginx_wait_port "${!var}" "$NGINX_PID" 5; then
				ok=0
				break
			fi
		done
		[ "$ok" = 1 ] && return 0
		nginx_stop
		if ! grep -q "Address already in use" "$dir/logs/error.log" \
		    "$dir/logs/stdout" 2>/dev/null; then
			echo "nginx_start: nginx did not start:" >&2
			cat "$dir/logs/stdout" "$dir/logs/error.log" >&2
			return 1
		fi
	done
	echo "nginx_start: no free ports after $try tries" >&2
	return 1
}

nginx_stop() {
	local i

	[ -n "${NGINX_PID:-}" ] || return 0
	kill -TERM "$NGINX_PID" 2>/dev/null || true
	for ((i = 0; i < 250; i++)); do
		_nginx_running "$NGINX_PID" || break
		sleep 0.02
	done
	if _nginx_running "$NGINX_PID"; then
		echo "nginx_stop: pid $NGINX_PID ignored SIGTERM; killed" >&2
		kill -KILL "$NGINX_PID" 2>/dev/null || true
	fi
	wait "$NGINX_PID" 2>/dev/null || true
	NGINX_PID=
}
