# tests/lib/proxies.bash: real proxies for a whole .bats file (tinyproxy,
# microsocks), each on a free port of 127.0.0.1 and stopped by PID from
# $W/pids. W is the file's temporary directory (setup_file sets it).

# wait_port PORT PID: until 127.0.0.1:PORT accepts (5 s at most).
wait_port() {
	local i

	for ((i = 0; i < 250; i++)); do
		kill -0 "$2" 2>/dev/null || return 1
		(exec 5<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.02
	done
	return 1
}

# start_bg NAME PORT CMD...: a proxy for the whole file, stopped by PID.
start_bg() {
	local name=$1 port=$2 pid

	shift 2
	setsid "$@" </dev/null >"$W/$name.log" 2>&1 3>&- &
	pid=$!
	echo "$pid" >>"$W/pids"
	wait_port "$port" "$pid" || {
		echo "$name did not start:" >&2
		cat "$W/$name.log" >&2
		return 1
	}
}

# start_tinyproxy NAME [CONFIG LINES]: every port allowed unless the lines
# say ConnectPort; sets and exports $NAME to its port.
start_tinyproxy() {
	local name=$1 port

	port=$(free_port)
	cat >"$W/$name.conf" <<-EOF
	Port $port
	Listen 127.0.0.1
	Timeout 30
	Allow 127.0.0.1
	MaxClients 64
	$2
	EOF
	start_bg "$name" "$port" tinyproxy -d -c "$W/$name.conf"
	printf -v "$name" '%s' "$port"
	export "${name?}"
}

start_microsocks() {
	local name=$1 port

	shift
	port=$(free_port)
	start_bg "$name" "$port" microsocks -i 127.0.0.1 -p "$port" "$@"
	printf -v "$name" '%s' "$port"
	export "${name?}"
}
