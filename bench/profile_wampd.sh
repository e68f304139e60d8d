#!/usr/bin/env bash
# Where wampd's time goes, in instructions (callgrind counts instructions, which a shared
# machine does not skew): runs the Release wampd of build-bench/ under callgrind, opens
# 1,000 subscribers, zeroes the counters once they are set up, profiles fan-out for a few
# seconds and prints user-space instructions per delivery and the heaviest call paths.
#
#   bench/profile_wampd.sh [one|burst] [extra wampd options...]
#
# Needs build-bench/ (scripts/bench builds it) and valgrind. Output in build-bench/profile/.
# Environment: PROFILE_TLS=1 profiles fan-out over TLS (a self-signed certificate made with
# the openssl command; the loadgen's --tls); PROFILE_SUBSCRIBERS (default 1000; TLS
# handshakes under callgrind take ~0.1 s each, so 100 there); PROFILE_BUILD another tree.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${PROFILE_BUILD:-$root/build-bench}"
tls="${PROFILE_TLS:-}"
subscribers="${PROFILE_SUBSCRIBERS:-1000}"
mode="${1:-one}"
shift || true
out="$build/profile"
mkdir -p "$out"
port=$((19900 + RANDOM % 90))
ulimit -n "$(ulimit -Hn)"

config="$out/wampd-profile.yml"
server="{ host: 127.0.0.1, port: $port }"
loadgen_tls=()
if [[ -n $tls ]]; then
  [[ -f $out/tls.crt ]] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -nodes -keyout "$out/tls.key" -out "$out/tls.crt" -days 30 -subj /CN=localhost 2>/dev/null
  server="{ host: 127.0.0.1, port: $port, tls: { certificate: '$out/tls.crt', private_key: '$out/tls.key' } }"
  loadgen_tls=(--tls)
  mode_suffix=-tls
fi
cat >"$config" <<EOF
server: $server
log_level: warn
plugins: { directories: ['$build/plugins', '$build/bench/plugins'] }
routing: ['$root/plugins/broadcast/routing.yml', '$root/bench/plugin/routing.yml']
auth: { trusted_addresses: ['127.0.0.1'] }
EOF

mode="$mode${mode_suffix:-}"
rm -f "$out/callgrind.$mode".*
taskset -c 1 valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.$mode.%p" \
  "$build/bin/wampd" --config "$config" "$@" >"$out/wampd.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
  sleep 0.2
done

taskset -c 0 "$build/bench/wampd_loadgen" fanout --port "$port" --server-pid "$server" \
  --subscribers "$subscribers" --sizes 64 --modes "${mode%-tls}" --warmup 8 --duration 8 \
  --concurrency "${PROFILE_CONCURRENCY:-50}" ${loadgen_tls[@]+"${loadgen_tls[@]}"} \
  --label wampd-callgrind >"$out/loadgen.$mode.out" &
client=$!
until grep -q '"setup"' "$out/loadgen.$mode.out" 2>/dev/null; do sleep 0.5; done
sleep 6  # subscriptions and the first events under way
callgrind_control -z "$server" >/dev/null 2>&1
sleep 6
callgrind_control -d "$server" >/dev/null 2>&1
wait "$client"
kill "$server"
wait "$server" 2>/dev/null || true
trap - EXIT

profile=$(ls "$out/callgrind.$mode".*.1)
annotated="$out/annotate.$mode.txt"
callgrind_annotate --inclusive=yes --tree=caller --threshold=100 "$profile" >"$annotated" 2>/dev/null
/usr/bin/python3 - "$annotated" "$mode" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
total = int(re.search(r"([\d,]+) \(100\.0%\)\s+PROGRAM TOTALS", text).group(1).replace(",", ""))
def calls(name):
    """Calls of the function whose name contains `name`: the sum over its callers."""
    count = 0
    for block in text.split("\n\n"):
        lines = block.strip("\n").splitlines()
        if any(re.search(r"\*\s+.*" + re.escape(name), l) for l in lines):
            count += sum(int(m.group(1).replace(",", "")) for l in lines
                         for m in [re.search(r"<.*\(([\d,]+)x\)", l)] if m)
    return count
deliveries = calls("ws::Connection::send(")
# One frame goes out with send(), several with sendmsg().
writes = calls("linux/sendmsg.c:sendmsg") + calls("linux/send.c:send")
print(f"mode {sys.argv[2]}: {total:,} instructions in user space for {deliveries:,} deliveries "
      f"({total // max(1, deliveries):,} per delivery); {writes:,} socket writes "
      f"({deliveries / max(1, writes):.1f} deliveries per socket write)")
PY
echo "heaviest inclusive costs (see $annotated):"
callgrind_annotate --inclusive=yes "$profile" 2>/dev/null | sed -n '/file:function/,$p' | sed -n '3,60p' | grep -v -E '\((99|100)\.[0-9]+%\)' | head -25 | cut -c1-170
