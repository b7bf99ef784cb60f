#!/usr/bin/env bash
# TLS cost: the same load through moxi with plain client ports and with
# TLS ones (-Z tls_cert, a moxi tls-init certificate), one memcached
# behind both, in alternating runs. Prints ops/s and moxi's CPU per op
# (user+system from /proc, in µs) for each, and their ratios. Everything
# it starts is killed on exit. See bench/README.md.
#
# Environment (defaults in brackets):
#   BENCH_DURATION   measured time per run [6s]
#   BENCH_REPEAT     runs per system [3]
#   BENCH_PORT_BASE  first of 3 consecutive ports [33211]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${BENCH_DURATION:-6s}
repeat=${BENCH_REPEAT:-3}
base=${BENCH_PORT_BASE:-33211}
bin=bench/.bin
mkdir -p "$bin"
go build -o "$bin/moxi" ./cmd/moxi
go build -o "$bin/loadgen" ./bench/loadgen
certs=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$certs"
}
trap cleanup EXIT
"$bin/moxi" tls-init "$certs" localhost >/dev/null 2>&1

args=(-p "$base" -U 0 -l 127.0.0.1 -t 2 -m 256)
[[ $(id -u) == 0 ]] && args+=(-u root)
memcached "${args[@]}" &
pids+=($!)
plain=$((base + 1)) secure=$((base + 2))
"$bin/moxi" -t 2 -l 127.0.0.1 -z "$plain=127.0.0.1:$base" &
pids+=($!)
plain_pid=$!
"$bin/moxi" -t 2 -l 127.0.0.1 -z "$secure=127.0.0.1:$base" \
	-Z "tls_cert=$certs/localhost.pem,tls_key=$certs/localhost-key.pem" &
pids+=($!)
secure_pid=$!
for port in $base $plain $secure; do
	for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
done

# cpu_ticks PID: the process's user+system time in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# run PID FLAGS...: one measured run; prints ops/s and CPU µs per op.
run() {
	local pid=$1
	shift
	local before after out ops n
	before=$(cpu_ticks "$pid")
	out=$("$bin/loadgen" "$@" -conns 50 -keys 10000 -get-ratio 0.9 -duration "$duration" 2>/dev/null | tail -1)
	after=$(cpu_ticks "$pid")
	read -r ops n < <(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(round(d["ops_per_sec"]), d["ops"])' "$out")
	python3 -c "print($ops, round(($after - $before) / $hz * 1e6 / $n, 2))"
}
declare -A ops cpu
for ((i = 1; i <= repeat; i++)); do
	for sys in plain tls; do
		case $sys in
		plain) out=$(run "$plain_pid" -addr "127.0.0.1:$plain") ;;
		tls) out=$(run "$secure_pid" -addr "127.0.0.1:$secure" -tls-ca "$certs/ca.pem") ;;
		esac
		echo "run $i $sys: ops/s cpu_us_per_op = $out"
		ops[$sys]+="${out%% *} "
		cpu[$sys]+="${out##* } "
	done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
po=$(median "${ops[plain]}") to=$(median "${ops[tls]}") pc=$(median "${cpu[plain]}") tc=$(median "${cpu[tls]}")
echo "median: plain $po ops/s, $pc µs CPU/op; TLS $to ops/s, $tc µs CPU/op"
python3 -c "print('TLS / plain: throughput %.2fx, CPU per op %.2fx' % ($to/$po, $tc/$pc))"
