#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The drop-in in Debian's stock nginx, as the README's nginx section says: nginx.conf,
# mime.types and sites-available/default as the nginx-common package ships them, laid out in a
# private prefix with only what a prefix needs rewritten (pid, logs, the include paths, the root,
# 127.0.0.1 and free high ports); factotum-server-limits.conf in its conf.d, and in the default
# server the README's lines: HTTPS with a self-signed certificate, basic authentication, the
# include of factotum-server.conf. Every one of those lines must be in the README. Then, with a
# responder started by hand (no --fcgi-socket-group) and a worker: the socket is 0660 in the
# group of nginx's workers (www-data as root, where it exists; else the process's own group)
# and nginx reaches it (as root, also: a responder started as nobody gives its socket
# nobody's group, and www-data when nobody is a member of it); a job submitted over https:// with credentials reaches SUCCEEDED through
# /check; without credentials nginx answers 401 with the JSON body; the stock location / still
# serves a file of the root for a path the API does not own, and its 404; a body over 64 KiB
# gets 413 with the project's JSON. Then doc/nginx.md's examples, taken from it as written (Debian
# paths put in the prefix, their port 443 a free one): the whole server with TLS and basic
# authentication (401 without credentials, a job submitted with them, JSON 404 and 400 for
# plain HTTP), and a copy of it with the read/write split and the path prefix (a reader gets
# /status and /factotum/status, and 401 on /submit, which a writer may use; that server's own
# client_max_body_size leaves the API's 413 as it is). Also: the drop-in
# has one exact-match location passing to the responder per route of fcgi/router.c, no more
# (the dashboard's = /ui redirect is not one of them). Exits 77 without nginx or
# openssl, or without a pristine copy of the stock files (changed in /etc/nginx and `apt-get
# download nginx-common` failing).

set -u

: "${FS_BUILDDIR:?run through make check}" "${FS_SRCDIR:?run through make check}"
# the drop-in's locations are the responder's routes (checked with nginx or without)
routes=$(sed -n 's/^	{ "\(\/[a-z/]*\)", "[A-Z]*", route_[a-z_]* },$/\1/p' "$FS_SRCDIR/fcgi/router.c" |
	sort)
# an exact-match location whose first line includes the location file
locations=$(sed -n '/^location = .* {$/{N;s/^location = \(.*\) {\n    include .*\/factotum-server-location\.conf;$/\1/p;}' \
	"$FS_SRCDIR/nginx/factotum-server.conf.in" | sort)
# shellcheck disable=SC2086 # each list on one line
if [ -z "$routes" ] || [ "$routes" != "$locations" ]; then
	echo "FAIL: fcgi/router.c's routes:" $routes
	echo "      the drop-in's exact-match locations:" $locations
	exit 1
fi
NGINX=${FS_NGINX:-/usr/sbin/nginx}
[ -x "$NGINX" ] || { echo "SKIP: no nginx at $NGINX"; exit 77; }
command -v openssl >/dev/null 2>&1 || { echo "SKIP: no openssl"; exit 77; }

. "$FS_SRCDIR/tests/integration/worker_lib.sh"

JSON='application/json; charset=UTF-8'
BODY_401='{"message":"Error: Authentication required"}'
BODY_413='{"message":"Error: Request body too large (limit 64 KiB)"}'
# what the README's nginx section adds to the default server (after `server_name _;`), with
# Debian's paths; the prefix's are put in below, as for every stock path
SERVER_LINES='	ssl_certificate /etc/ssl/factotum/server.crt;
	ssl_certificate_key /etc/ssl/factotum/server.key;
	auth_basic "factotum-server";
	auth_basic_user_file /etc/nginx/factotum.htpasswd;
	include /usr/share/factotum-server/nginx/factotum-server.conf;'

# ---- the stock files: /etc/nginx when dpkg says they are unmodified, else the package's ----
STOCK="nginx.conf mime.types sites-available/default"
pristine() {
	sums=$(dpkg-query -W -f='${Conffiles}\n' nginx-common 2>/dev/null) || return 1
	for f in $STOCK; do
		want=$(printf '%s\n' "$sums" | awk -v p="/etc/nginx/$f" '$1 == p { print $2 }')
		[ -n "$want" ] && [ -f "/etc/nginx/$f" ] || return 1
		[ "$(md5sum <"/etc/nginx/$f" | cut -d' ' -f1)" = "$want" ] || return 1
	done
}
if pristine; then
	src=/etc/nginx
else
	mkdir -p "$FS_TMP/deb"
	if (cd "$FS_TMP/deb" && apt-get download nginx-common >/dev/null 2>&1) &&
		dpkg-deb -x "$FS_TMP"/deb/nginx-common_*.deb "$FS_TMP/deb/x" 2>/dev/null; then
		src=$FS_TMP/deb/x/etc/nginx
	else
		echo "SKIP: /etc/nginx differs from nginx-common's conffiles (or is absent) and" \
			"apt-get download nginx-common failed"
		exit 77
	fi
fi
for f in $STOCK; do
	[ -f "$src/$f" ] || { echo "FAIL: no $f in $src"; exit 99; }
done

# ---- the prefix: etc/nginx as Debian's, share/ for the project's files ----
P=$FS_TMP/etc/nginx
S=$FS_TMP/share/factotum-server/nginx
mkdir -p "$P/sites-available" "$P/sites-enabled" "$P/conf.d" "$P/modules-enabled" "$P/log" \
	"$P/html" "$P/ssl" "$S"
# as root nginx's workers (www-data) read the password file and the root
chmod 0755 "$FS_TMP/etc" "$P" "$P/html"
for f in $STOCK; do
	cp "$src/$f" "$P/$f"
done
ln -s ../sites-available/default "$P/sites-enabled/default"
# shellcheck disable=SC2046 # four ports, one a line
set -- $(fs_free_ports 4)
HTTP_PORT=$1 TLS_PORT=$2 DOC_PORT=$3 SPLIT_PORT=$4
SOCK=$FS_TMP/run/fcgi.sock
# every stock path, and the README's Debian paths, in the prefix
PATHS="s|/etc/nginx/|$P/|g; s|/var/log/nginx/|$P/log/|g; s|/etc/ssl/factotum/|$P/ssl/|g"
PATHS="$PATHS; s|/usr/share/factotum-server/nginx/|$S/|g"
sed -i -e "$PATHS" -e "s|^pid /run/nginx.pid;\$|pid $P/nginx.pid;|" "$P/nginx.conf"
# the server: 127.0.0.1 and free ports (the stock [::]:80 line goes), the root, and the
# README's lines after server_name
printf '%s\n' "$SERVER_LINES" | sed -e "$PATHS" >"$FS_TMP/server.lines"
sed -i -e "s|^	listen 80 default_server;\$|	listen 127.0.0.1:$HTTP_PORT default_server;|" \
	-e '/^	listen \[::\]:80 default_server;$/d' \
	-e "s|^	# listen 443 ssl default_server;\$|	listen 127.0.0.1:$TLS_PORT ssl default_server;|" \
	-e "s|^	root /var/www/html;\$|	root $P/html;|" \
	-e "/^	server_name _;\$/r $FS_TMP/server.lines" "$P/sites-available/default"
# the temporary files nginx was built to keep in /var/lib/nginx, in the prefix too
cat >"$P/conf.d/prefix.conf" <<EOF
client_body_temp_path $P/tmp/body;
fastcgi_temp_path $P/tmp/fastcgi;
proxy_temp_path $P/tmp/proxy;
scgi_temp_path $P/tmp/scgi;
uwsgi_temp_path $P/tmp/uwsgi;
EOF
mkdir -p "$P/tmp"
# the project's files as `make install` lays them out, the location file passing to SOCK
cp "$FS_SRCDIR/nginx/factotum-server-limits.conf" "$P/conf.d/"
sed -e "s|^    include .*/factotum-server-location.conf;\$|    include $S/factotum-server-location.conf;|" \
	"$FS_BUILDDIR/nginx/factotum-server.conf" >"$S/factotum-server.conf"
sed -e "s|^fastcgi_pass unix:/run/factotum-server/fcgi.sock;\$|fastcgi_pass unix:$SOCK;|" \
	"$FS_SRCDIR/nginx/factotum-server-location.conf" >"$S/factotum-server-location.conf"

# each of those edits took (a stock file that changed would leave a line unedited)
for want in "pid $P/nginx.pid;" "error_log $P/log/error.log;" "include $P/conf.d/\*.conf;" \
	"include $P/sites-enabled/\*;" "include $P/mime.types;"; do
	grep -q "^[[:space:]]*$want\$" "$P/nginx.conf" || fs_fail "nginx.conf: no '$want'"
done
for want in "listen 127.0.0.1:$HTTP_PORT default_server;" "listen 127.0.0.1:$TLS_PORT ssl default_server;" \
	"root $P/html;" "include $S/factotum-server.conf;" "location / {" "try_files \$uri \$uri/ =404;"; do
	grep -q "^[[:space:]]*$want\$" "$P/sites-available/default" ||
		fs_fail "sites-available/default: no '$want'"
done
grep -q '^	listen \[::\]' "$P/sites-available/default" && fs_fail "sites-available/default: [::] left"
grep -q "^    include $S/factotum-server-location.conf;\$" "$S/factotum-server.conf" ||
	fs_fail "factotum-server.conf: the location file's include not rewritten"
grep -q "^fastcgi_pass unix:$SOCK;\$" "$S/factotum-server-location.conf" ||
	fs_fail "factotum-server-location.conf: fastcgi_pass not rewritten"
# the README says exactly this: each added line is in it
printf '%s\n' "$SERVER_LINES" | while IFS= read -r line; do
	line=${line#"	"}
	grep -qF -- "$line" "$FS_SRCDIR/README" || echo "$line"
done >"$FS_TMP/missing"
[ -s "$FS_TMP/missing" ] && fs_fail "not in the README: $(cat "$FS_TMP/missing")"

# ---- the certificate, the password file (alice / s3cret), a static file of the root ----
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=localhost \
	-keyout "$P/ssl/server.key" -out "$P/ssl/server.crt" >/dev/null 2>&1 ||
	{ echo "FAIL: openssl req"; exit 99; }
printf 'alice:%s\n' "$(openssl passwd -apr1 s3cret)" >"$P/factotum.htpasswd" || exit 99
# nginx's workers read it: as root they are www-data (the stock nginx.conf's user)
chmod 0640 "$P/factotum.htpasswd"
[ "$(id -u)" -ne 0 ] || chgrp www-data "$P/factotum.htpasswd" || exit 99
printf 'a static page\n' >"$P/html/static.txt"
chmod 0644 "$P/html/static.txt"
# every request of the helpers (fs_submit, fs_wait_state) goes over HTTPS with alice's
# credentials: curl reads them from $CURL_HOME/.curlrc; `curl -q` ignores that file
CURL_HOME=$FS_TMP/curl
export CURL_HOME
mkdir -p "$CURL_HOME"
cat >"$CURL_HOME/.curlrc" <<EOF
cacert = "$P/ssl/server.crt"
user = "alice:s3cret"
resolve = "localhost:$TLS_PORT:127.0.0.1"
EOF
FS_URL=https://localhost:$TLS_PORT

# ---- nginx -t, then nginx ----
if ! "$NGINX" -t -p "$P" -c "$P/nginx.conf" -e "$P/log/error.log" >"$FS_TMP/nginx-t.out" 2>&1; then
	echo "FAIL: nginx -t:"
	cat "$FS_TMP/nginx-t.out"
	exit 1
fi
"$NGINX" -p "$P" -c "$P/nginx.conf" -e "$P/log/error.log" -g 'daemon off;' \
	2>"$FS_TMP/nginx.stderr" &
FS_NGINX_PIDS="$FS_NGINX_PIDS $!"
fs_until "$!" 100 curl -s -o /dev/null "$FS_URL/static.txt" ||
	{ echo "FAIL: nginx did not start:"; cat "$FS_TMP/nginx.stderr" "$P/log/error.log"; exit 1; }

# ---- the responder by hand, no --fcgi-socket-group: the socket's group is nginx's workers' ----
"$FS_FCGI" --no-consul --spool "$FS_SPOOL" --fcgi-socket "$SOCK" $FS_AS_ROOT \
	--factotum-bin "$FS_RUNNER" 2>>"$FS_TMP/responder.log" &
FS_RESP_PIDS="$FS_RESP_PIDS $!"
fs_until "$!" 100 test -S "$SOCK" ||
	{ echo "FAIL: the responder did not start:"; cat "$FS_TMP/responder.log"; exit 1; }
group=$(id -gn)
[ "$(id -u)" -eq 0 ] && getent group www-data >/dev/null && group=www-data
[ "$(stat -c '%a %G' "$SOCK")" = "660 $group" ] ||
	fs_fail "socket: $(stat -c '%a %U:%G' "$SOCK"), expected 660 in group $group"
fs_start_worker
# started as another user: www-data where the responder is a member of it, else its own group
if [ "$(id -u)" -eq 0 ] && [ "$group" = www-data ] && command -v setpriv >/dev/null 2>&1; then
	mkdir -m 1777 "$FS_TMP/nobody"
	own=$(id -gn nobody)
	for groups in "--clear-groups $own" "--groups=www-data www-data"; do
		# shellcheck disable=SC2086 # the option, then the group expected
		set -- $groups
		setpriv --reuid=nobody --regid="$own" "$1" "$FS_FCGI" --no-consul \
			--spool "$FS_TMP/nobody/spool$2" --fcgi-socket "$FS_TMP/nobody/$2.sock" \
			--factotum-bin "$FS_RUNNER" 2>>"$FS_TMP/responder.log" &
		pid=$!
		if fs_until "$pid" 100 test -S "$FS_TMP/nobody/$2.sock"; then
			got=$(stat -c '%a %U:%G' "$FS_TMP/nobody/$2.sock")
			[ "$got" = "660 nobody:$2" ] || fs_fail "nobody $1: socket $got"
		else
			fs_fail "nobody $1: the responder did not start"
		fi
		kill -TERM "$pid"
		wait "$pid"
	done
fi

# succeeded WHAT: the job of the last fs_wait_state ran to SUCCEEDED, exit 0, submitted by alice
# (nginx's REMOTE_USER)
succeeded() {
	case $FS_BODY in
	'{"state":"DONE",'*'"lastOutcome":"SUCCEEDED",'*'"exitCode":0,"exitSignal":null,"reason":null,"submittedBy":"alice"}') ;;
	*) fs_fail "$1: $FS_BODY" ;;
	esac
}

# ---- a job over https:// with credentials ----
fs_factfile dropin 'echo through the drop-in'
fs_submit dropin "$FS_FF"
[ -n "$FS_ID" ] && fs_wait_state "$FS_ID" DONE 30 && succeeded "the job over https://"

# ---- without credentials: 401 with the JSON body, auth_basic's challenge kept ----
# noauth PATH [curl args...]: fs_req's answer (FS_STATUS, FS_BODY, FS_CTYPE) to a request without
# the credentials of .curlrc (`curl -q` skips that file)
noauth() {
	curl -q -s --cacert "$P/ssl/server.crt" --resolve "${FS_URL#https://}:127.0.0.1" \
		-D "$FS_TMP/headers" -o "$FS_TMP/body" -w '%{http_code}' "$@" >"$FS_TMP/status"
	FS_STATUS=$(cat "$FS_TMP/status")
	FS_BODY=$(cat "$FS_TMP/body")
	FS_CTYPE=$(sed -n 's/^[Cc]ontent-[Tt]ype: *\(.*\)\r$/\1/p' "$FS_TMP/headers")
}
printf '{"jobName":"dropin","factfilePath":"%s","factfileArgs":[]}' "$FS_FF" >"$FS_TMP/req"
noauth --data-binary "@$FS_TMP/req" "$FS_URL/submit"
fs_expect 401 "$BODY_401" "/submit without credentials"
grep -q '^WWW-Authenticate: Basic realm="factotum-server"' "$FS_TMP/headers" ||
	fs_fail "/submit without credentials: no WWW-Authenticate header"

# ---- the stock location / keeps every path the API does not own ----
fs_req GET /static.txt
[ "$FS_STATUS $FS_BODY" = "200 a static page
" ] || fs_fail "GET /static.txt (stock location /): $FS_STATUS $FS_BODY"
fs_req GET /no-such-file
[ "$FS_STATUS" = 404 ] && [ "$FS_CTYPE" = text/html ] ||
	fs_fail "GET /no-such-file: $FS_STATUS $FS_CTYPE (the stock 404 expected)"
# = / is the API's help
fs_req GET /
[ "$FS_STATUS" = 200 ] && [ "$FS_CTYPE" = "$JSON" ] || fs_fail "GET /: $FS_STATUS $FS_CTYPE"

# ---- a body over 64 KiB: 413 with the project's JSON ----
head -c 70000 /dev/zero | tr '\0' ' ' >"$FS_TMP/big"
fs_req POST /submit "$FS_TMP/big"
fs_expect 413 "$BODY_413" "POST /submit (70000 bytes)"

# ---- doc/nginx.md's examples as written ----
# doc_block N: the Nth ```nginx block of doc/nginx.md, with the prefix's paths
doc_block() {
	awk -v n="$1" '/^ *```nginx$/ { i++; on = (i == n); next } /^ *```$/ { on = 0 } on' \
		"$FS_SRCDIR/doc/nginx.md" | sed -e "$PATHS"
}
# 1: the whole server, 2: the read/write map, 3: the line that names it, 4: the prefix location
doc_block 1 | sed -e "s|^    listen 443 ssl;\$|    listen 127.0.0.1:$DOC_PORT ssl;|" \
	>"$P/sites-enabled/factotum-server"
doc_block 2 >"$P/conf.d/factotum-server-users.conf"
userfile=$(doc_block 3 | sed -e 's/^ *//')
doc_block 4 >"$FS_TMP/prefix.location"
# (that copy also sets the server's own body size: the API's locations keep theirs)
doc_block 1 | sed -e "s|^    listen 443 ssl;\$|    listen 127.0.0.1:$SPLIT_PORT ssl;\\
    client_max_body_size 10m;|" \
	-e "s|^    auth_basic_user_file $P/factotum.htpasswd;\$|    $userfile|" \
	-e "\\|^    include $S/factotum-server.conf;\$|r $FS_TMP/prefix.location" \
	>"$P/sites-enabled/factotum-server-split"
grep -q "^    listen 127.0.0.1:$DOC_PORT ssl;\$" "$P/sites-enabled/factotum-server" ||
	fs_fail "doc/nginx.md's server: no 'listen 443 ssl;' to rewrite"
grep -q '^    auth_basic_user_file \$factotum_htpasswd;$' "$P/sites-enabled/factotum-server-split" &&
	grep -q '^ *location ^~ /factotum/ {$' "$P/sites-enabled/factotum-server-split" &&
	grep -q '^    client_max_body_size 10m;$' "$P/sites-enabled/factotum-server-split" ||
	fs_fail "doc/nginx.md's split or prefix: not applied"
# alice writes and reads (she is in both files), bob only reads
cp "$P/factotum.htpasswd" "$P/factotum-writers.htpasswd"
cp "$P/factotum.htpasswd" "$P/factotum-readers.htpasswd"
printf 'bob:%s\n' "$(openssl passwd -apr1 r3ader)" >>"$P/factotum-readers.htpasswd"
chmod 0640 "$P/factotum-writers.htpasswd" "$P/factotum-readers.htpasswd"
[ "$(id -u)" -ne 0 ] ||
	chgrp www-data "$P/factotum-writers.htpasswd" "$P/factotum-readers.htpasswd" || exit 99
if "$NGINX" -t -p "$P" -c "$P/nginx.conf" -e "$P/log/error.log" >"$FS_TMP/nginx-t.out" 2>&1; then
	kill -HUP "${FS_NGINX_PIDS##* }"
	echo "resolve = \"localhost:$DOC_PORT:127.0.0.1\"" >>"$CURL_HOME/.curlrc"
	echo "resolve = \"localhost:$SPLIT_PORT:127.0.0.1\"" >>"$CURL_HOME/.curlrc"
	fs_until "${FS_NGINX_PIDS##* }" 100 curl -s -o /dev/null "https://localhost:$SPLIT_PORT/" ||
		fs_fail "nginx did not take doc/nginx.md's servers"
else
	fs_fail "nginx -t with doc/nginx.md's servers: $(cat "$FS_TMP/nginx-t.out")"
fi

# the whole server
FS_URL=https://localhost:$DOC_PORT
fs_factfile dropin-doc 'echo through the whole server'
fs_submit dropin-doc "$FS_FF"
[ -n "$FS_ID" ] && fs_wait_state "$FS_ID" DONE 30 && succeeded "doc/nginx.md's server"
fs_expect_get /no-such-path 404 "{\"message\":\"Error: No endpoint found for path '/no-such-path'\"}"
noauth "$FS_URL/status"
fs_expect 401 "$BODY_401" "doc/nginx.md's server, GET /status without credentials"
FS_URL=http://localhost:$DOC_PORT
fs_expect_get /status 400 '{"message":"Error: This port serves HTTPS, not plain HTTP"}'

# the read/write split and the prefix
FS_URL=https://localhost:$SPLIT_PORT
fs_req GET /status - -u bob:r3ader
[ "$FS_STATUS $FS_CTYPE" = "200 $JSON" ] || fs_fail "split: bob's GET /status: $FS_STATUS"
fs_req GET /factotum/status - -u bob:r3ader
[ "$FS_STATUS $FS_CTYPE" = "200 $JSON" ] || fs_fail "prefix: GET /factotum/status: $FS_STATUS"
fs_req POST /submit "$FS_TMP/req" -u bob:r3ader
fs_expect 401 "$BODY_401" "split: bob's POST /submit"
fs_req POST /submit "$FS_TMP/big"
fs_expect 413 "$BODY_413" "POST /submit (70000 bytes) in a server of 10m bodies"
fs_factfile dropin-split 'echo through the split'
fs_submit dropin-split "$FS_FF"
[ -n "$FS_ID" ] && fs_wait_state "$FS_ID" DONE 30 && succeeded "alice's job through the split"

fs_done
