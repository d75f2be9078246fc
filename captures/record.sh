#!/bin/bash
# Re-record the captures in this folder from real peers on loopback and in a network namespace.
# Needs root (tcpdump, ip netns, iptables), openssl, nginx, curl and python3 with `websockets`.
# Usage: sudo captures/record.sh [scenario ...]   (default: all). See README.md for what each shows.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
NS=jnlpdiag-capture-$$
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=jenkins.example.test/O=jnlpdiag capture" \
  -addext "subjectAltName=DNS:jenkins.example.test" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

# start_capture FILE FILTER [netns]; stop_capture
start_capture() {
  if [ -n "${3:-}" ]; then ip netns exec "$3" tcpdump -i lo -U -s 0 -w "$1" "$2" 2>/dev/null & else
    tcpdump -i lo -U -s 0 -w "$1" "$2" 2>/dev/null & fi
  CAP=$!; sleep 0.7
}
stop_capture() { sleep 0.5; kill -INT "$CAP"; wait "$CAP" || true; }
server() { "$@" >/dev/null 2>&1 & PIDS+=($!); SRV=$!; sleep 0.5; }
stop_server() { kill "$SRV" 2>/dev/null || true; wait "$SRV" 2>/dev/null || true; }

tls13_ok() {
  server openssl s_server -accept 127.0.0.1:14431 -cert "$WORK/cert.pem" -key "$WORK/key.pem" -tls1_3 -naccept 1 -www
  start_capture "$HERE/tls13-ok.pcap" "tcp port 14431"
  openssl s_client -connect 127.0.0.1:14431 -servername jenkins.example.test -tls1_3 </dev/null >/dev/null 2>&1 || true
  stop_capture; stop_server
}

tls12_unknown_ca() {
  server openssl s_server -accept 127.0.0.1:14432 -cert "$WORK/cert.pem" -key "$WORK/key.pem" -tls1_2 -naccept 1 -www
  start_capture "$HERE/tls12-alert-unknown-ca.pcap" "tcp port 14432"
  openssl s_client -connect 127.0.0.1:14432 -servername jenkins.example.test -tls1_2 -verify_return_error \
    -CAfile /etc/ssl/certs/ca-certificates.crt </dev/null >/dev/null 2>&1 || true
  stop_capture; stop_server
}

tls_protocol_version() {
  server openssl s_server -accept 127.0.0.1:14433 -cert "$WORK/cert.pem" -key "$WORK/key.pem" -tls1_3 -naccept 1 -www
  start_capture "$HERE/tls-alert-protocol-version.pcap" "tcp port 14433"
  openssl s_client -connect 127.0.0.1:14433 -servername jenkins.example.test -tls1_2 </dev/null >/dev/null 2>&1 || true
  stop_capture; stop_server
}

tcp_refused() {
  start_capture "$HERE/tcp-refused.pcap" "tcp port 14434"
  curl -s --max-time 3 http://127.0.0.1:14434/tcpSlaveAgentListener/ >/dev/null || true
  stop_capture
}

nginx_ws() {  # nginx_ws FILE "extra proxy directives"
  local conf="$WORK/nginx-$RANDOM"; mkdir -p "$conf/logs"
  cat >"$conf/nginx.conf" <<NGX
daemon off; master_process off; worker_processes 1; pid $conf/nginx.pid; error_log $conf/logs/error.log;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $conf/b; proxy_temp_path $conf/p; fastcgi_temp_path $conf/f;
  uwsgi_temp_path $conf/u; scgi_temp_path $conf/s;
  server { listen 127.0.0.1:18080; location / { proxy_pass http://127.0.0.1:18081; $2 } } }
NGX
  python3 "$HERE/ws_backend.py" 18081 8 & PIDS+=($!); local backend=$!
  nginx -p "$conf" -c "$conf/nginx.conf" & PIDS+=($!); local ngx=$!
  sleep 0.8
  start_capture "$HERE/$1" "tcp port 18080 or tcp port 18081"
  curl -s --max-time 2 -H 'Connection: Upgrade' -H 'Upgrade: websocket' -H 'Sec-WebSocket-Version: 13' \
    -H 'Sec-WebSocket-Key: amVua2lucy1jYXB0dXJlMQ==' -H 'Node-Name: capture-agent' \
    http://127.0.0.1:18080/wsagents/ >/dev/null || true
  stop_capture
  kill "$ngx" "$backend" 2>/dev/null || true; wait "$ngx" "$backend" 2>/dev/null || true
}

ws_upgrade_ok() {
  nginx_ws ws-upgrade-101-close-1008.pcap \
    'proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade";'
}
ws_upgrade_stripped() { nginx_ws ws-upgrade-headers-stripped.pcap ''; }

jnlp4_http() {  # the agent's JNLP4-connect preamble sent to an HTTP port (nginx)
  local conf="$WORK/nginx-jnlp"; mkdir -p "$conf/logs"
  cat >"$conf/nginx.conf" <<NGX
daemon off; master_process off; worker_processes 1; pid $conf/nginx.pid; error_log $conf/logs/error.log;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $conf/b; proxy_temp_path $conf/p; fastcgi_temp_path $conf/f;
  uwsgi_temp_path $conf/u; scgi_temp_path $conf/s; server { listen 127.0.0.1:18082; return 200 "ok\n"; } }
NGX
  nginx -p "$conf" -c "$conf/nginx.conf" & PIDS+=($!); local ngx=$!
  sleep 0.5
  start_capture "$HERE/jnlp4-answered-by-http.pcap" "tcp port 18082"
  python3 - <<'PY'
import socket
s = socket.create_connection(("127.0.0.1", 18082), timeout=3)
s.sendall(b"\x00\x16Protocol:JNLP4-connect\x00\x03ACK")  # remoting's preamble then ACK
try:
    s.recv(4096)
except OSError:
    pass
s.close()
PY
  stop_capture
  kill "$ngx" 2>/dev/null || true; wait "$ngx" 2>/dev/null || true
}

netns_up() { ip netns add "$NS"; ip netns exec "$NS" ip link set lo up; }

tls_reset_after_hello() {  # a firewall that resets TLS by SNI, in a namespace of our own
  netns_up
  ip netns exec "$NS" iptables -A INPUT -p tcp --dport 4443 -m string --algo bm \
    --string "blocked.example.test" -j REJECT --reject-with tcp-reset
  ip netns exec "$NS" openssl s_server -accept 127.0.0.1:4443 -cert "$WORK/cert.pem" -key "$WORK/key.pem" \
    -naccept 1 -www >/dev/null 2>&1 & PIDS+=($!); local srv=$!
  sleep 0.5
  start_capture "$HERE/tls-reset-after-clienthello.pcap" "tcp port 4443" "$NS"
  ip netns exec "$NS" openssl s_client -connect 127.0.0.1:4443 -servername blocked.example.test \
    </dev/null >/dev/null 2>&1 || true
  stop_capture
  kill "$srv" 2>/dev/null || true; wait "$srv" 2>/dev/null || true
  ip netns del "$NS"
}

syn_unanswered() {  # a firewall that drops the SYNs, in a namespace of our own
  netns_up
  ip netns exec "$NS" iptables -A INPUT -p tcp --dport 50000 --syn -j DROP
  start_capture "$HERE/tcp-syn-unanswered.pcap" "tcp port 50000" "$NS"
  ip netns exec "$NS" curl -s --max-time 2 http://127.0.0.1:50000/ >/dev/null || true
  stop_capture
  ip netns del "$NS"
}

ALL=(tls13_ok tls12_unknown_ca tls_protocol_version tcp_refused ws_upgrade_ok ws_upgrade_stripped jnlp4_http
     tls_reset_after_hello syn_unanswered)
for s in "${@:-${ALL[@]}}"; do echo "recording $s"; "$s"; done
