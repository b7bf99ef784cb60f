#!/usr/bin/env bash
# Hot-key benchmark of the front cache: 99% gets on 100 keys, 50 clients,
# against direct memcached (4 servers, client-side routing), moxi without
# a front cache and moxi with one (-Z front_cache_*), in alternating runs.
# Prints one line per run and the medians. Everything it starts is killed
# on exit. See bench/README.md.
#
# Environment (defaults in brackets):
#   BENCH_DURATION   measured time per run [6s]
#   BENCH_REPEAT     runs per system [3]
#   BENCH_PORT_BASE  first of 6 consecutive ports [32211]
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${BENCH_DURATION:-6s}
repeat=${BENCH_REPEAT:-3}
base=${BENCH_PORT_BASE:-32211}
bin=bench/.bin
mkdir -p "$bin"
go build -o "$bin/moxi" ./cmd/moxi
go build -o "$bin/loadgen" ./bench/loadgen

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
servers=()
for i in 0 1 2 3; do
	port=$((base + i))
	args=(-p "$port" -U 0 -l 127.0.0.1 -t 2 -m 64)
	[[ $(id -u) == 0 ]] && args+=(-u root)
	memcached "${args[@]}" &
	pids+=($!)
	servers+=("127.0.0.1:$port")
done
list=$(IFS=,; echo "${servers[*]}")
plain=$((base + 4)) cached=$((base + 5))
"$bin/moxi" -t 2 -l 127.0.0.1 -z "$plain=$list" &
pids+=($!)
"$bin/moxi" -t 2 -l 127.0.0.1 -z "$cached=$list" -Z front_cache_max=1000,front_cache_spec=lg:,front_cache_lifespan=60000 &
pids+=($!)
for port in $plain $cached $base; do
	for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
done

# run TARGET-FLAGS...: one measured run; prints ops/s and p99 µs.
run() {
	"$bin/loadgen" "$@" -conns 50 -keys 100 -get-ratio 0.99 -duration "$duration" 2>/dev/null |
		tail -1 | python3 -c 'import json,sys; d=json.load(sys.stdin); print(round(d["ops_per_sec"]), d["p99_us"], d["errors"], d["misses"])'
}
declare -A ops
for ((i = 1; i <= repeat; i++)); do
	for sys in direct moxi moxi+cache; do
		case $sys in
		direct) out=$(run -servers "$list") ;;
		moxi) out=$(run -addr "127.0.0.1:$plain") ;;
		moxi+cache) out=$(run -addr "127.0.0.1:$cached") ;;
		esac
		echo "run $i $sys: ops/s p99_us errors misses = $out"
		ops[$sys]+="${out%% *} "
	done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
d=$(median "${ops[direct]}") m=$(median "${ops[moxi]}") c=$(median "${ops[moxi+cache]}")
echo "median ops/s: direct $d, moxi $m, moxi+cache $c"
python3 -c "print('moxi+cache / moxi %.2f, moxi+cache / direct %.2f' % ($c/$m, $c/$d))"
