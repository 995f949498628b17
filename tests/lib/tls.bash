# tls.bash: a throw-away certificate authority for the TLS tests.
#
#	load "${TESTS_LIB:-$BATS_TEST_DIRNAME/../lib}/tls"
#
#	tls_make_ca DIR [NAME]		CA key and certificate: DIR/NAME.{key,crt}
#	tls_make_cert DIR CA NAME SAN [START END]
#					a server certificate DIR/NAME.{key,crt}
#					signed by CA (made by tls_make_ca in DIR),
#					SAN as openssl writes it
#					("DNS:localhost,IP:127.0.0.1"), valid from
#					START to END (YYYYMMDDHHMMSSZ; default:
#					yesterday to 30 days from now)
#	tls_make_client_cert DIR CA NAME
#					a client certificate DIR/NAME.{key,crt}
#					(extendedKeyUsage clientAuth, subject
#					"/O=cstream tests/CN=NAME") signed by CA
#	tls_make_intermediate DIR CA NAME
#					an intermediate CA DIR/NAME.{key,crt},
#					signed by CA, usable as a CA by
#					tls_make_cert [START END as there]
#	tls_make_test_pki DIR		the set the http-head and connect tests
#					use: ca, otherca, and the certificates
#					good, dnsonly, wronghost, untrusted,
#					expired (see below)
#
# Keys are EC P-256: generating them takes milliseconds, where RSA keys
# would slow every setup_file down. Everything is made with the openssl
# command, so the files are what a user would make too.

# tls_make_ca DIR [NAME]
tls_make_ca() {
	local dir=$1 name=${2:-ca}

	mkdir -p "$dir" || return 1
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$dir/$name.key" -out "$dir/$name.crt" \
	    -days 30 -subj "/O=cstream tests/CN=cstream test $name" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign \
	    2>"$dir/$name.openssl.err" || {
		cat "$dir/$name.openssl.err" >&2
		return 1
	}
	# `openssl ca` keeps a database of what it signed.
	mkdir -p "$dir/$name.db/new"
	: >"$dir/$name.db/index.txt"
	echo 1000 >"$dir/$name.db/serial"
	cat >"$dir/$name.cnf" <<-EOF
	[ ca ]
	default_ca = the_ca
	[ the_ca ]
	database = $dir/$name.db/index.txt
	new_certs_dir = $dir/$name.db/new
	certificate = $dir/$name.crt
	private_key = $dir/$name.key
	serial = $dir/$name.db/serial
	default_md = sha256
	default_days = 30
	policy = any_policy
	unique_subject = no
	email_in_dn = no
	copy_extensions = none
	[ any_policy ]
	commonName = supplied
	organizationName = optional
	EOF
}

# tls_make_cert DIR CA NAME SAN [START END]
tls_make_cert() {
	local dir=$1 ca=$2 name=$3 san=$4 start=${5:-} end=${6:-}
	local dates=() eku=${TLS_EKU:-serverAuth} ca_ext=${TLS_CA_EXT:-}

	if [ -n "$start" ]; then
		dates=(-startdate "$start" -enddate "$end")
	else
		# Yesterday, so a clock a little behind does not matter.
		dates=(-startdate "$(date -u -d yesterday +%Y%m%d%H%M%SZ)"
		    -days 30)
	fi
	if [ -n "$ca_ext" ]; then
		cat >"$dir/$name.ext" <<-EOF
		basicConstraints = critical,CA:TRUE
		keyUsage = critical,keyCertSign,cRLSign
		EOF
	else
		cat >"$dir/$name.ext" <<-EOF
		basicConstraints = critical,CA:FALSE
		keyUsage = critical,digitalSignature
		extendedKeyUsage = $eku
		subjectAltName = $san
		EOF
	fi
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$dir/$name.key" -out "$dir/$name.csr" \
	    -subj "/O=cstream tests/CN=$name" 2>"$dir/$name.openssl.err" &&
	openssl ca -batch -notext -config "$dir/$ca.cnf" \
	    -in "$dir/$name.csr" -out "$dir/$name.crt" \
	    -extfile "$dir/$name.ext" "${dates[@]}" \
	    2>>"$dir/$name.openssl.err" || {
		cat "$dir/$name.openssl.err" >&2
		return 1
	}
}

# tls_make_client_cert DIR CA NAME
tls_make_client_cert() {
	TLS_EKU=clientAuth tls_make_cert "$1" "$2" "$3" "email:$3@example.com"
}

# tls_make_intermediate DIR CA NAME [START END]: a CA signed by CA, with
# the openssl ca set-up tls_make_ca writes, so it signs certificates too.
tls_make_intermediate() {
	local dir=$1 ca=$2 name=$3

	TLS_CA_EXT=1 tls_make_cert "$dir" "$ca" "$name" "" "${@:4}" || return 1
	mkdir -p "$dir/$name.db/new"
	: >"$dir/$name.db/index.txt"
	echo 2000 >"$dir/$name.db/serial"
	sed -e "s|$dir/$ca\.|$dir/$name.|g" "$dir/$ca.cnf" >"$dir/$name.cnf"
}

# tls_make_test_pki DIR:
#   ca.crt         the CA the tests trust (--cafile)
#   good           localhost, 127.0.0.1 and ::1, signed by ca
#   dnsonly        localhost only (no IP SAN), signed by ca
#   wronghost      wrong.example only, signed by ca
#   untrusted      localhost and 127.0.0.1, signed by otherca (not trusted)
#   expired        localhost and 127.0.0.1, signed by ca, valid in 2020 only
#   mismatch.key   a key that belongs to no certificate
tls_make_test_pki() {
	local dir=$1

	tls_make_ca "$dir" ca &&
	tls_make_ca "$dir" otherca &&
	tls_make_cert "$dir" ca good "DNS:localhost,IP:127.0.0.1,IP:::1" &&
	tls_make_cert "$dir" ca dnsonly "DNS:localhost" &&
	tls_make_cert "$dir" ca wronghost "DNS:wrong.example" &&
	tls_make_cert "$dir" otherca untrusted "DNS:localhost,IP:127.0.0.1" &&
	tls_make_cert "$dir" ca expired "DNS:localhost,IP:127.0.0.1" \
	    20200101000000Z 20200201000000Z &&
	openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$dir/mismatch.key" 2>/dev/null
}

# tls_file_pki: for a .bats file's setup_file: PKI (exported) in the file's
# temporary directory with ca and good (localhost, 127.0.0.1), as most
# TLS suites need. Nothing when openssl is missing (their tests say so).
tls_file_pki() {
	export PKI=$BATS_FILE_TMPDIR/pki
	command -v openssl >/dev/null 2>&1 || return 0
	tls_make_ca "$PKI" ca &&
	tls_make_cert "$PKI" ca good "DNS:localhost,IP:127.0.0.1"
}

# serve_tls PREFIX ARGS...: serve --tls on 127.0.0.1 port 0 with the test
# certificate ($PKI/good.*, from tls_file_pki or tls_make_test_pki), as
# start_server PREFIX.
serve_tls() {
	local prefix=$1

	shift
	start_server "$prefix" "$CSTREAM" serve --tls --cert "$PKI/good.crt" \
	    --key "$PKI/good.key" "$@" 127.0.0.1 0
}
