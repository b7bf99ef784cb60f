// Command loadgen is a closed-loop load generator for the memcached text
// protocol or (-proto binary) the binary protocol, used by bench/run.sh to compare moxi with twemproxy and with
// talking to the memcached servers directly.
//
// Against a proxy it is given -addr. With -servers it routes keys itself
// (md5 of the key modulo the server count) and each client connection holds
// one connection per server, so a multi-get is split into per-server
// sub-gets that are all written before any reply is read: the best case a
// proxy-less client can reach, which is the baseline the proxies are
// compared against. Key placement differs between the modes and proxies;
// it does not matter because each run prefills through the very route it
// then measures, and every get verifies the value it receives.
//
// It prints one JSON object on stdout and exits 1 if any request failed
// (error reply, wrong or unrequested value, broken connection) or a get
// missed a prefilled key, 2 on bad usage or when it cannot connect.
package main

import (
	"crypto/md5"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"
)

type config struct {
	servers  []string
	conns    int
	duration time.Duration
	ops      uint64
	keys     uint32
	getRatio float64
	multiget int
	pipeline int
	seed     uint64
	timeout  time.Duration
	binary   bool        // speak the binary protocol (-proto binary)
	tls      *tls.Config // -tls-ca: speak TLS, trusting that CA
	ks       *keyspace
	route    []uint8 // server index of every key id
	stride   uint32  // step between the keys of a multi-get
}

type options struct {
	config
	addr, serverList, label, prefix, report string
	proto                                   string
	cpuProfile                              string
	tlsCA                                   string
	valueSize                               int
	prefill, prefillOnly, allowMisses       bool
	prefilled                               bool
}

func parseFlags() (*options, error) {
	o := &options{}
	flag.StringVar(&o.addr, "addr", "", "target host:port (a proxy or one server)")
	flag.StringVar(&o.serverList, "servers", "", "comma-separated host:port list; route keys client-side instead of -addr")
	flag.StringVar(&o.proto, "proto", "ascii", "protocol: ascii (text) or binary (GETK, GETKQ+NOOP multi-gets, SET)")
	flag.IntVar(&o.conns, "conns", 50, "client connections (one goroutine each)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured run length (upper bound when -ops is set)")
	flag.Uint64Var(&o.ops, "ops", 0, "stop after this many requests in total (0: run for -duration)")
	keys := flag.Uint("keys", 100000, "keyspace size; all keys are prefilled before the run")
	flag.IntVar(&o.valueSize, "value", 100, "value size in bytes")
	flag.Float64Var(&o.getRatio, "get-ratio", 0.9, "fraction of requests that are gets; the rest are sets")
	flag.IntVar(&o.multiget, "multiget", 1, "keys per get request")
	flag.IntVar(&o.pipeline, "pipeline", 1, "requests written per batch before reading the replies")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed (connection i uses stream i)")
	flag.DurationVar(&o.timeout, "timeout", 5*time.Second, "dial timeout, and how long after -duration a reply may still take")
	flag.StringVar(&o.prefix, "key-prefix", "lg:", "key prefix")
	flag.StringVar(&o.label, "label", "", "free text copied into the JSON output")
	flag.BoolVar(&o.prefill, "prefill", true, "set every key before the measured run")
	flag.BoolVar(&o.prefillOnly, "prefill-only", false, "prefill, then exit without a measured run")
	flag.BoolVar(&o.prefilled, "prefilled", false, "with -prefill=false: the keys hold exactly what a -prefill-only run wrote (version 0), so reads of them can be checked from the start")
	flag.BoolVar(&o.allowMisses, "allow-misses", false, "do not fail when a get misses a key (needed when the keys were not prefilled)")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured run to this file")
	flag.StringVar(&o.report, "report", "", "print a markdown table from a file of JSON result lines (see run.sh) and exit")
	flag.StringVar(&o.tlsCA, "tls-ca", "", "speak TLS to the target, trusting the CA certificates in this PEM file")
	flag.Parse()
	if o.tlsCA != "" {
		pem, err := os.ReadFile(o.tlsCA)
		if err != nil {
			return nil, fmt.Errorf("-tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-tls-ca: no PEM certificate in %s", o.tlsCA)
		}
		o.tls = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	o.keys = uint32(min(*keys, 1<<31))
	return o, o.validate()
}

func (o *options) validate() error {
	if o.report != "" {
		return nil
	}
	switch {
	case (o.addr == "") == (o.serverList == ""):
		return errors.New("exactly one of -addr and -servers is required")
	case o.conns < 1 || o.pipeline < 1 || o.multiget < 1:
		return errors.New("-conns, -pipeline and -multiget must be >= 1")
	case o.valueSize < verDigits:
		return fmt.Errorf("-value must be >= %d: values start with a version number", verDigits)
	case o.keys < 1 || uint32(o.multiget) > o.keys:
		return errors.New("-keys must be >= 1 and >= -multiget")
	case o.getRatio < 0 || o.getRatio > 1:
		return errors.New("-get-ratio must be in [0,1]")
	case o.duration <= 0:
		// Even with -ops the run needs a time bound.
		return errors.New("-duration must be > 0")
	case o.proto != "ascii" && o.proto != "binary":
		return errors.New("-proto must be ascii or binary")
	}
	o.binary = o.proto == "binary"
	o.servers = []string{o.addr}
	if o.serverList != "" {
		o.servers = strings.Split(o.serverList, ",")
	}
	if len(o.servers) > 256 {
		return errors.New("at most 256 servers")
	}
	return nil
}

// buildRoutes precomputes the server of every key, so routing costs one
// table lookup on the request path.
func buildRoutes(ks *keyspace, n uint32, servers int) []uint8 {
	route := make([]uint8, n)
	if servers == 1 {
		return route
	}
	// md5 rather than a cheap hash: FNV's low bits follow the last digits
	// of sequential keys, which correlates with the multi-get key pattern.
	var buf []byte
	for id := range n {
		buf = ks.appendKey(buf[:0], id)
		sum := md5.Sum(buf)
		route[id] = uint8(binary.LittleEndian.Uint32(sum[:4]) % uint32(servers))
	}
	return route
}

// pickStride returns a step near n/golden-ratio that is coprime with n, so
// that start+i*step (mod n) visits distinct, well spread keys.
func pickStride(n uint32) uint32 {
	if n <= 2 {
		return 1
	}
	s := uint32(float64(n) * 0.6180339887)
	for gcd(s, n) != 1 {
		s++
	}
	return s
}

func gcd(a, b uint32) uint32 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func main() {
	o, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	if o.report != "" {
		if err := printReport(os.Stdout, o.report); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(2)
		}
		return
	}
	o.ks = newKeyspace(o.prefix, o.valueSize)
	o.route = buildRoutes(o.ks, o.keys, len(o.servers))
	o.stride = pickStride(o.keys)
	os.Exit(runAll(o))
}

func runAll(o *options) int {
	workers, err := dialAll(&o.config)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen: connect:", err)
		return 2
	}
	defer func() {
		for _, w := range workers {
			w.close()
		}
	}()
	if o.prefill || o.prefillOnly {
		if err := prefillAll(workers, &o.config); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen: prefill:", err)
			return 1
		}
	} else if o.prefilled {
		for _, w := range workers {
			clear(w.own) // version 0, as the prefill writes
		}
	}
	if o.prefillOnly {
		return 0
	}
	stop, err := startProfile(o.cpuProfile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return 2
	}
	res := measure(workers, o)
	stop()
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		return 2
	}
	if res.Errors > 0 {
		fmt.Fprintln(os.Stderr, "loadgen: errors:", res.Errors, "first:", res.FirstError)
		return 1
	}
	// Normally every key was prefilled and none is deleted, so a miss means
	// the target lost or misrouted data: a fast but wrong proxy must not pass.
	if res.Misses > 0 && !o.allowMisses {
		fmt.Fprintln(os.Stderr, "loadgen: misses:", res.Misses, "of", res.KeysRequested, "keys requested")
		return 1
	}
	return 0
}

// dialAll connects every worker up front, so connection setup is neither
// measured nor spread over the run.
func dialAll(cfg *config) ([]*worker, error) {
	ws := make([]*worker, 0, cfg.conns)
	for i := range cfg.conns {
		w, err := newWorker(cfg, i)
		if err != nil {
			for _, w := range ws {
				w.close()
			}
			return nil, err
		}
		ws = append(ws, w)
	}
	return ws, nil
}

func prefillAll(ws []*worker, cfg *config) error {
	const limit = 2 * time.Minute // far above what a sane keyspace needs
	errs := make([]error, len(ws))
	var wg sync.WaitGroup
	for i, w := range ws {
		w.setDeadline(time.Now().Add(limit))
		wg.Go(func() { errs[i] = w.prefill() })
	}
	wg.Wait()
	for _, w := range ws {
		w.st = stats{}
	}
	return errors.Join(errs...)
}

type result struct {
	Label         string  `json:"label,omitempty"`
	Target        string  `json:"target"`
	Proto         string  `json:"proto"`
	Conns         int     `json:"conns"`
	Pipeline      int     `json:"pipeline"`
	Multiget      int     `json:"multiget"`
	Value         int     `json:"value"`
	Keys          uint32  `json:"keys"`
	GetRatio      float64 `json:"get_ratio"`
	Seconds       float64 `json:"duration_s"`
	Ops           uint64  `json:"ops"`
	Gets          uint64  `json:"gets"`
	Sets          uint64  `json:"sets"`
	OpsPerSec     float64 `json:"ops_per_sec"`
	KeysPerSec    float64 `json:"keys_per_sec"` // keys requested by gets
	KeysRequested uint64  `json:"keys_requested"`
	Misses        uint64  `json:"misses"` // requested keys not returned
	// VersionChecks counts reads of the reader's own keys, whose exact
	// version was known: each one checks routing and ordering of sets.
	VersionChecks uint64  `json:"version_checks"`
	Errors        uint64  `json:"errors"`
	FirstError    string  `json:"first_error,omitempty"`
	P50           uint64  `json:"p50_us"`
	P90           uint64  `json:"p90_us"`
	P99           uint64  `json:"p99_us"`
	P999          uint64  `json:"p999_us"`
	Max           uint64  `json:"max_us"`
	Mean          float64 `json:"mean_us"`
	ClientCPU     float64 `json:"client_cpu_s"` // this process, for spotting a client bottleneck
}

// measure runs all workers concurrently for the configured duration and
// merges their statistics.
func measure(ws []*worker, o *options) *result {
	cpu0 := cpuSeconds()
	start := time.Now()
	end := start.Add(o.duration)
	var wg sync.WaitGroup
	for i, w := range ws {
		quota := quotaOf(o.ops, len(ws), i)
		if quota == 0 {
			continue // -ops smaller than -conns
		}
		w.setDeadline(end.Add(o.timeout))
		wg.Go(func() { w.run(end, quota) })
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	var h histogram
	var st stats
	for _, w := range ws {
		h.merge(&w.hist)
		st.add(&w.st)
	}
	target := o.addr
	if o.serverList != "" {
		target = "direct:" + o.serverList
	}
	return &result{
		Label:         o.label,
		Target:        target,
		Proto:         o.proto,
		Conns:         o.conns,
		Pipeline:      o.pipeline,
		Multiget:      o.multiget,
		Value:         o.valueSize,
		Keys:          o.keys,
		GetRatio:      o.getRatio,
		Seconds:       elapsed,
		Ops:           st.ops,
		Gets:          st.gets,
		Sets:          st.sets,
		OpsPerSec:     float64(st.ops) / elapsed,
		KeysPerSec:    float64(st.keys) / elapsed,
		KeysRequested: st.keys,
		Misses:        st.keys - st.hits,
		VersionChecks: st.owned,
		Errors:        st.errors,
		FirstError:    st.firstErr,
		P50:           h.quantile(0.50),
		P90:           h.quantile(0.90),
		P99:           h.quantile(0.99),
		P999:          h.quantile(0.999),
		Max:           h.max,
		Mean:          h.mean(),
		ClientCPU:     cpuSeconds() - cpu0,
	}
}

// quotaOf is worker i's share of a total request count over n workers;
// a total of 0 means no limit.
func quotaOf(total uint64, n, i int) uint64 {
	if total == 0 {
		return math.MaxUint64
	}
	q := total / uint64(n)
	if uint64(i) < total%uint64(n) {
		q++
	}
	return q
}

// startProfile starts CPU profiling into path, if set; the loadgen's own
// cost matters on small machines, where it shares cores with the proxy.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// cpuSeconds is the user+system CPU time of this process.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}
