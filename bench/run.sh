#!/usr/bin/env bash
# Benchmark moxi against twemproxy and against direct memcached access.
#
# Starts 4 memcached servers, twemproxy and moxi on 127.0.0.1, runs every
# workload against each system with bench/loadgen, and prints a markdown
# table (throughput, latency, proxy CPU per op and peak RSS, ratios).
# Everything it starts is killed on exit. See bench/README.md.
#
# Environment (defaults in brackets):
#   BENCH_DURATION       measured time per run [10s]
#   BENCH_KEYS           keyspace, prefilled through each system [100000]
#   BENCH_WORKLOADS      subset of "A B C D Abin Bbin Cbin"; the *bin ones are
#                        A, B and C with clients speaking the binary
#                        protocol (direct and moxi only) [all seven]
#   BENCH_REPEAT         runs per workload and system; the table shows the
#                        median run by throughput, with the range, and each
#                        latency percentile's median over the runs [1]
#   BENCH_PORT_BASE      first of 7 consecutive ports [31211]
#   BENCH_REQUIRE_MOXI   1: fail if moxi does not build/start; 0: report n/a [1]
#   BENCH_TWEM_SERVER_CONNS  twemproxy server_connections [1]
#   BENCH_OUT            directory for logs, configs and results [bench/.out]
#   BENCH_MOXI_ENV       extra environment for moxi, e.g. "GODEBUG=gctrace=1" []
#   BENCH_MOXI_Z         extra -Z settings, e.g. "downstream_conn_max=1" []
#   BENCH_MOXI_THREADS   moxi -t: threads running Go code (capped at the cores) [2]
#   BENCH_MOXI_PROTOCOL  protocol moxi speaks to the servers: binary or ascii
#                        (-Z downstream_protocol) [binary, moxi's default]
set -euo pipefail

duration=${BENCH_DURATION:-10s}
keys=${BENCH_KEYS:-100000}
workloads=${BENCH_WORKLOADS:-A B C D Abin Bbin Cbin}
repeat=${BENCH_REPEAT:-1}
port_base=${BENCH_PORT_BASE:-31211}
require_moxi=${BENCH_REQUIRE_MOXI:-1}
twem_server_conns=${BENCH_TWEM_SERVER_CONNS:-1}
read -r -a moxi_env <<<"${BENCH_MOXI_ENV:-}"
moxi_protocol=${BENCH_MOXI_PROTOCOL:-binary}
moxi_z=downstream_protocol=$moxi_protocol${BENCH_MOXI_Z:+,$BENCH_MOXI_Z}
moxi_threads=${BENCH_MOXI_THREADS:-2}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$root/bench/.bin
out=${BENCH_OUT:-$root/bench/.out}
results=$out/results.jsonl
clk_tck=$(getconf CLK_TCK)

mc_ports=("$port_base" $((port_base + 1)) $((port_base + 2)) $((port_base + 3)))
twem_port=$((port_base + 4))
twem_stats_port=$((port_base + 5))
moxi_port=$((port_base + 6))

declare -a started=() # pids of everything we started, killed on exit
proxy_pid=""          # the proxy being measured
moxi_ok=1             # cleared by preflight when moxi is broken but optional
moxi_bin_ok=1         # likewise, for binary clients only
failed=0              # set when a measured run reported errors or misses

log() { printf '%s\n' "$*" >&2; }
die() {
	log "run.sh: $*"
	exit 1
}

# running PID: the process exists and has not exited (an exited child
# stays a zombie until waited for, and kill -0 still succeeds on it).
running() {
	local stat
	# read, not $(<file): the file vanishes once bash has reaped the child,
	# and a failed $(<file) would end the whole script.
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	[[ ${stat:0:1} != Z ]]
}

# terminate PID: SIGTERM, then SIGKILL if it is still there after 3s, so
# a wedged process cannot hang the script.
terminate() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 30; i++)); do
		running "$pid" || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local pid
	for pid in "${started[@]}"; do
		terminate "$pid"
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM # turn signals into an exit so the EXIT trap runs

# --- small helpers -----------------------------------------------------

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# start NAME CMD...: run CMD in the background, logging to $out/NAME.log;
# the pid is left in $last_pid.
start() {
	local name=$1
	shift
	"$@" >"$out/$name.log" 2>&1 &
	last_pid=$!
	started+=("$last_pid")
}

# wait_ready NAME PID PORT: wait up to 5s for PID to listen on PORT.
wait_ready() {
	local name=$1 pid=$2 port=$3 i
	for ((i = 0; i < 50; i++)); do
		running "$pid" || {
			tail -n 20 "$out/$name.log" >&2
			log "$name exited during startup"
			return 1
		}
		port_open "$port" && return 0
		sleep 0.1
	done
	log "$name did not listen on port $port within 5s"
	return 1
}

# mc_cmd PORT CMD LINES: send one command, print up to LINES reply lines
# (CR stripped), stopping after a line equal to END or OK.
mc_cmd() {
	local port=$1 cmd=$2 lines=$3 line i
	exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
	printf '%b' "$cmd" >&3
	for ((i = 0; i < lines; i++)); do
		IFS= read -r -t 2 line <&3 || break
		line=${line%$'\r'}
		printf '%s\n' "$line"
		[[ $line == END || $line == OK ]] && break
	done
	exec 3<&-
}

# read_reply LINES: read up to LINES lines from fd 3 (CR stripped), joined
# with "|", stopping after END.
read_reply() {
	local line i reply=""
	for ((i = 0; i < $1; i++)); do
		IFS= read -r -t 2 line <&3 || break
		reply+="${line%$'\r'}|"
		[[ $line == END* ]] && break
	done
	printf '%s' "$reply"
}

# smoke PORT: a set, then (after its reply) a get of the same key work.
smoke() {
	local ok=0
	exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
	printf 'set bench:smoke 0 0 1\r\nx\r\n' >&3
	if [[ $(read_reply 1) == "STORED|" ]]; then
		printf 'get bench:smoke\r\n' >&3
		[[ $(read_reply 3) == "VALUE bench:smoke 0 1|x|END|" ]] && ok=1
	fi
	exec 3<&-
	((ok))
}

# order_check PORT: of 20 set+get pairs written in one go (as a pipelining
# client does), print how many gets missed the value set just before them.
# A proxy must keep one client's requests in order; this is reported, not
# fatal, since the benchmark's own verification does not depend on it.
order_check() {
	local i bad=0
	for ((i = 0; i < 20; i++)); do
		exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
		printf 'set bench:order%d 0 0 1\r\nx\r\nget bench:order%d\r\n' "$i" "$i" >&3
		[[ $(read_reply 4) == "STORED|VALUE bench:order$i 0 1|x|END|" ]] || ((++bad))
		exec 3<&-
	done
	echo "$bad"
}

# mc_stat PORT NAME: one counter from "stats".
mc_stat() {
	mc_cmd "$1" 'stats\r\n' 200 | awk -v n="$2" '$1 == "STAT" && $2 == n { print $3 }'
}

# cpu_ticks PID: utime+stime in clock ticks (fields 14 and 15 of stat;
# the command name may contain spaces, so split after its closing paren).
cpu_ticks() {
	local stat fields
	read -r stat <"/proc/$1/stat"
	read -r -a fields <<<"${stat##*) }"
	echo $((fields[11] + fields[12]))
}

peak_rss_kb() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

# reset_peak_rss PID: restart VmHWM, so each run reports its own peak
# rather than the largest since startup (Linux >= 4.0).
reset_peak_rss() {
	echo 5 2>/dev/null >"/proc/$1/clear_refs" || log "note: cannot reset VmHWM of $1; RSS is the peak since start"
}

# stop PID: end one process we started, wait for it, and forget it, so the
# exit trap cannot hit a reused pid.
stop() {
	local pid=$1 i
	[[ -n $pid ]] || return 0
	terminate "$pid"
	for i in "${!started[@]}"; do
		[[ ${started[i]} == "$pid" ]] && unset 'started[i]'
	done
	return 0
}

# --- setup --------------------------------------------------------------

build() {
	mkdir -p "$bin" "$out"
	rm -f "$out"/*.log
	: >"$results"
	(cd "$root" && go build -o "$bin/loadgen" ./bench/loadgen) || die "cannot build loadgen"
	if ! (cd "$root" && go build -o "$bin/moxi" ./cmd/moxi) 2>"$out/moxi-build.log"; then
		((require_moxi)) && die "cannot build moxi: $(head -n 5 "$out/moxi-build.log")"
		log "moxi does not build; its column will be n/a"
		rm -f "$bin/moxi"
	fi
}

check_ports() {
	local p
	for p in "${mc_ports[@]}" "$twem_port" "$twem_stats_port" "$moxi_port"; do
		port_open "$p" && die "port $p is in use; set BENCH_PORT_BASE"
	done
	return 0
}

start_memcached() {
	local p
	for p in "${mc_ports[@]}"; do
		# -c: direct runs open one connection per client per server.
		start "memcached-$p" memcached -u "$(id -un)" -l 127.0.0.1 -p "$p" -U 0 -t 1 -m 64 -c 4096
		wait_ready "memcached-$p" "$last_pid" "$p" || die "memcached on $p failed to start"
	done
}

# write_twemproxy_conf: ketama over md5, one pool of the four servers.
# server_connections is 1 by default: twemproxy then pipelines all clients'
# requests to a server over a single connection, its intended setup.
write_twemproxy_conf() {
	local conf=$out/twemproxy.yml p i=0
	{
		echo "bench:"
		echo "  listen: 127.0.0.1:$twem_port"
		echo "  hash: md5"
		echo "  distribution: ketama"
		echo "  timeout: 5000"
		echo "  backlog: 1024"
		echo "  preconnect: true"
		echo "  auto_eject_hosts: false"
		echo "  server_connections: $twem_server_conns"
		echo "  servers:"
		for p in "${mc_ports[@]}"; do
			echo "    - 127.0.0.1:$p:1 mc$((i++))"
		done
	} >"$conf"
	nutcracker -t -c "$conf" >"$out/twemproxy-check.log" 2>&1 || die "bad twemproxy config: $(cat "$out/twemproxy-check.log")"
}

# start_proxy SYSTEM LOGNAME: start twemproxy or moxi and check a set/get
# round trip through it; sets proxy_pid. Returns 1 (moxi only) when the
# proxy is not working and not required; dies otherwise.
start_proxy() {
	local sys=$1 name=$2 servers
	servers=$(printf '127.0.0.1:%s,' "${mc_ports[@]}")
	case $sys in
	twemproxy)
		start "$name" nutcracker -c "$out/twemproxy.yml" -a 127.0.0.1 -s "$twem_stats_port"
		;;
	moxi)
		if [[ ! -x $bin/moxi ]] || ! ((moxi_ok)); then
			proxy_pid=""
			return 1
		fi
		# -l: listen on loopback only, like everything else here.
		start "$name" env "${moxi_env[@]}" "$bin/moxi" -l 127.0.0.1 -z "$moxi_port=${servers%,}" -Z "$moxi_z" -t "$moxi_threads"
		;;
	esac
	proxy_pid=$last_pid
	if wait_ready "$name" "$proxy_pid" "$(proxy_port "$sys")" && smoke "$(proxy_port "$sys")"; then
		return 0
	fi
	stop "$proxy_pid"
	proxy_pid=""
	if [[ $sys == moxi ]] && ! ((require_moxi)); then
		log "moxi is not working (log: $out/$name.log); its column will be n/a"
		return 1
	fi
	die "$sys failed to start or fails a set/get round trip (log: $out/$name.log)"
}

# binary_check PORT: a short verified loadgen run with binary clients
# (single GETKs, then GETKQ+NOOP multi-gets, both with sets, pipelined):
# the binary counterpart of smoke, which speaks ascii. Output goes to
# $out/binary-check.log.
binary_check() {
	local mg
	for mg in 1 10; do
		"$bin/loadgen" -addr "127.0.0.1:$1" -proto binary -conns 2 -keys 100 -multiget "$mg" \
			-pipeline 3 -ops 300 -duration 5s -timeout 2s -key-prefix bench:binary-check: \
			>>"$out/binary-check.log" 2>&1 || return 1
	done
}

# has_binary_workloads: some selected workload has binary clients.
has_binary_workloads() {
	local wl
	for wl in $workloads; do
		binary_workload "$wl" && return 0
	done
	return 1
}

# preflight: start and smoke-test each proxy once before measuring
# anything, so a broken component fails the run in seconds.
preflight() {
	local sys
	: >"$out/order.txt"
	for sys in twemproxy moxi; do
		if start_proxy "$sys" "$sys-preflight"; then
			echo "$sys: $(order_check "$(proxy_port "$sys")") of 20 pipelined set+get pairs returned a miss" >>"$out/order.txt"
			if [[ $sys == moxi ]] && has_binary_workloads && ! binary_check "$moxi_port"; then
				tail -n 5 "$out/binary-check.log" >&2
				((require_moxi)) && die "moxi fails with binary clients (log: $out/binary-check.log, $out/moxi-preflight.log)"
				log "moxi fails with binary clients; its column will be n/a for the *bin workloads"
				moxi_bin_ok=0
			fi
			stop "$proxy_pid"
		else
			moxi_ok=0 # start_proxy dies unless it is moxi and moxi is optional
		fi
	done
}

proxy_port() {
	case $1 in
	twemproxy) echo "$twem_port" ;;
	moxi) echo "$moxi_port" ;;
	esac
}

# --- measuring ------------------------------------------------------------

# workload_args NAME: the loadgen flags of a workload. Call it once
# outside $(...) to validate a name: die only ends a subshell.
workload_args() {
	case $1 in
	A) echo "-conns 50 -get-ratio 0.9" ;;                 # single-key get/set mix
	B) echo "-conns 50 -get-ratio 0.9 -multiget 10" ;;    # 10-key multi-gets
	C) echo "-conns 200 -get-ratio 0.9 -pipeline 10" ;;   # many pipelining clients
	D) echo "-conns 50 -get-ratio 1 -multiget 100" ;;     # wide fan-out, gets only
	Abin | Bbin | Cbin) echo "$(workload_args "${1%bin}") -proto binary" ;; # binary clients
	*) die "unknown workload $1" ;;
	esac
}

# binary_workload NAME: its clients speak the binary protocol.
binary_workload() { [[ $1 == *bin ]]; }

# target_args SYSTEM: how loadgen reaches a system.
target_args() {
	case $1 in
	direct) echo "-servers $(printf '127.0.0.1:%s,' "${mc_ports[@]}" | sed 's/,$//')" ;;
	twemproxy) echo "-addr 127.0.0.1:$twem_port" ;;
	moxi) echo "-addr 127.0.0.1:$moxi_port" ;;
	esac
}

flush_servers() {
	local p
	for p in "${mc_ports[@]}"; do
		[[ $(mc_cmd "$p" 'flush_all\r\n' 1) == OK ]] || die "flush_all failed on $p"
	done
}

# placement: keys each server received, from the cmd_set deltas around a
# prefill. Placement differs between systems by design; this shows that
# each spreads the keyspace evenly, and prefilling through the measured
# system (plus zero misses) shows the placement is self-consistent.
declare -a sets_before=()
count_sets() {
	local p
	sets_before=()
	for p in "${mc_ports[@]}"; do
		sets_before+=("$(mc_stat "$p" cmd_set)")
	done
}
placement() {
	local i s=""
	for i in "${!mc_ports[@]}"; do
		s+="$(($(mc_stat "${mc_ports[$i]}" cmd_set) - sets_before[i])) "
	done
	echo "${s% }"
}

# total_stat NAME: a counter summed over the memcached servers.
total_stat() {
	local p n=0
	for p in "${mc_ports[@]}"; do
		n=$((n + $(mc_stat "$p" "$1")))
	done
	echo "$n"
}

# measure WORKLOAD SYSTEM REPETITION: prefill through SYSTEM, then one measured run;
# appends a JSON line to $results. A proxy is restarted between prefill and
# run, so that its CPU time and peak RSS belong to the measured workload
# alone (twemproxy, for one, keeps every buffer it ever allocated, and the
# prefill is deeply pipelined).
measure() {
	local wl=$1 sys=$2 rep=$3 pid="" t0=0 t1=0 rss=0 json rc=0
	local -a args
	if binary_workload "$wl" && [[ $sys == twemproxy ]]; then
		printf '{"workload":"%s","system":"%s","na":"no binary protocol"}\n' "$wl" "$sys" >>"$results"
		return 0
	fi
	if binary_workload "$wl" && [[ $sys == moxi ]] && ! ((moxi_bin_ok)); then
		printf '{"workload":"%s","system":"%s","na":"fails with binary clients"}\n' "$wl" "$sys" >>"$results"
		return 0
	fi
	read -r -a args <<<"$(target_args "$sys") $(workload_args "$wl") -keys $keys"
	flush_servers
	if [[ $sys != direct ]] && ! start_proxy "$sys" "$sys-$wl-prefill"; then
		printf '{"workload":"%s","system":"%s","na":"not running"}\n' "$wl" "$sys" >>"$results"
		return 0
	fi
	count_sets # after the proxy's smoke test, which sets a key too
	"$bin/loadgen" "${args[@]}" -prefill-only || die "$wl/$sys: prefill failed"
	((rep > 1)) || printf '%-12s %s\n' "$wl/$sys:" "$(placement)" >>"$out/placement.txt"
	if [[ $sys != direct ]]; then
		stop "$proxy_pid"
		start_proxy "$sys" "$sys-$wl" || die "$sys stopped working after the prefill"
		pid=$proxy_pid
		reset_peak_rss "$pid"
		t0=$(cpu_ticks "$pid")
	fi
	json=$("$bin/loadgen" "${args[@]}" -prefill=false -prefilled -duration "$duration" -label "$wl/$sys") || rc=$?
	if [[ -n $pid ]]; then
		running "$pid" || die "$sys died during workload $wl"
		t1=$(cpu_ticks "$pid")
		rss=$(peak_rss_kb "$pid")
		stop "$pid"
	fi
	[[ $json == \{* ]] || die "$wl/$sys: loadgen failed (exit $rc)"
	if ((rc != 0)); then
		log "$wl/$sys: loadgen reported errors or misses (exit $rc)"
		failed=1
	fi
	# Append run.sh's fields to loadgen's JSON object.
	printf '%s,"workload":"%s","system":"%s","proxy_cpu_s":%s,"proxy_rss_kb":%s}\n' \
		"${json%\}}" "$wl" "$sys" "$(awk -v t=$((t1 - t0)) -v hz="$clk_tck" 'BEGIN { print t / hz }')" "$rss" >>"$results"
}

# The memcached servers are shared by all runs and flushed before each.
# Systems alternate within a workload and repetitions are the outer loop,
# so slow drift in the machine's background load hits all systems alike.
run_workloads() {
	local rep wl sys
	for ((rep = 1; rep <= repeat; rep++)); do
		for wl in $workloads; do
			for sys in direct twemproxy moxi; do
				measure "$wl" "$sys" "$rep"
			done
		done
	done
}

print_header() {
	echo "## moxi benchmark"
	echo
	echo "- command: \`BENCH_DURATION=$duration BENCH_REPEAT=$repeat BENCH_KEYS=$keys BENCH_WORKLOADS=\"$workloads\" BENCH_MOXI_PROTOCOL=$moxi_protocol bench/run.sh\`"
	echo "- moxi speaks the **$moxi_protocol** protocol to the memcached servers (BENCH_MOXI_PROTOCOL); clients speak ascii, except in the \`*bin\` workloads, where they speak binary (twemproxy has no binary protocol: n/a there)"
	echo "- load average before the runs: $load_before (other work on the machine skews results; the bench's own processes raise it during the runs)"
	echo "- machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo), kernel $(uname -r)"
	echo "- $(go version | cut -d' ' -f3), $(memcached -V), $(nutcracker -V 2>&1 | head -n 1), moxi $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet HEAD -- . ':!bench' 2>/dev/null || echo '+dirty')"
	echo "- 4 memcached (-t 1 -m 64), 100-byte values, keyspace $keys prefilled through each system; twemproxy ketama/md5, server_connections $twem_server_conns; moxi -t $moxi_threads -Z $moxi_z -l 127.0.0.1"
	echo "- everything, including loadgen, shares the same $(nproc) cores"
	echo
}

main() {
	local wl
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
	[[ $moxi_protocol == ascii || $moxi_protocol == binary ]] || die "BENCH_MOXI_PROTOCOL must be ascii or binary, not $moxi_protocol"
	for wl in $workloads; do
		workload_args "$wl" >/dev/null
	done
	build
	check_ports
	start_memcached
	write_twemproxy_conf
	preflight
	: >"$out/placement.txt"
	run_workloads
	print_header
	"$bin/loadgen" -report "$results"
	echo
	echo "Keys per memcached server after each prefill (placement differs per system, which is fine: each system is prefilled through itself and misses must be 0):"
	echo
	sed 's/^/    /' "$out/placement.txt"
	echo
	echo "Request ordering (must be 0):"
	echo
	sed 's/^/    /' "$out/order.txt"
	echo
	echo "memcached evictions over all runs (must be 0, or misses may be the servers' doing): $(total_stat evictions)"
	if ((failed)); then
		die "some runs reported errors or misses (see $results)"
	fi
}

main "$@"
