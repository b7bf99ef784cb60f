package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moxifleet/moxi/internal/netserve"
	"github.com/moxifleet/moxi/mapstore"
	"github.com/moxifleet/moxi/proxycore"
)

func testLogger() (*slog.Logger, *slog.LevelVar) {
	level := new(slog.LevelVar)
	return slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: level})), level
}

func mustNew(t *testing.T, opts Options) *Node {
	t.Helper()
	logger, level := testLogger()
	n, err := New(opts, logger, level)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return n
}

func TestNewStatic(t *testing.T) {
	opts := DefaultOptions()
	opts.ClusterConfig = "11311=127.0.0.1:11211,127.0.0.1:11212;11312=h:1"
	opts.Behavior = "mcs_opts=distribution:modula,downstream_max=8"
	n := mustNew(t, opts)

	cfg := n.ProxyConfig()
	if len(cfg.Buckets) != 2 {
		t.Fatalf("got %d buckets, want 2", len(cfg.Buckets))
	}
	b := cfg.Buckets[0]
	if b.Port != 11311 || b.Name != "default" || b.Behavior.DownstreamMax != 8 {
		t.Errorf("bucket = %+v", b)
	}
	m := b.Maps.Current()
	if m.Dist != mapstore.Modula || len(m.Servers) != 2 || m.Source != "127.0.0.1:11211,127.0.0.1:11212" {
		t.Errorf("map = %+v", m)
	}
	if cfg.ConfType != "static" || cfg.Threads != 4 || cfg.Protocol != "auto" || cfg.MaxItemSize != 1<<20 {
		t.Errorf("config = %+v", cfg)
	}
	if n.proxy == nil || n.mem != nil {
		t.Errorf("proxy=%v mem=%v: want proxy only (no ephemeral memcached port)", n.proxy, n.mem)
	}
}

func TestNewDistributionDefault(t *testing.T) {
	opts := DefaultOptions()
	opts.ClusterConfig = "11311=a:1,b:2"
	for z, want := range map[string]mapstore.Distribution{
		"":                                      mapstore.KetamaWeighted,
		"mcs_opts=distribution:ketama":          mapstore.Ketama,
		"mcs_opts=distribution:ketama-weighted": mapstore.KetamaWeighted,
	} {
		opts.Behavior = z
		if got := mustNew(t, opts).ProxyConfig().Buckets[0].Maps.Current().Dist; got != want {
			t.Errorf("-Z %q: dist %v, want %v", z, got, want)
		}
	}
}

func TestNewServers(t *testing.T) {
	opts := DefaultOptions()
	opts.Port = 0
	n := mustNew(t, opts)
	if n.proxy != nil || n.mem == nil {
		t.Errorf("-p alone: proxy=%v mem=%v, want memcached only", n.proxy, n.mem)
	}
	opts.ClusterConfig = "11311=a"
	n = mustNew(t, opts)
	if n.proxy == nil || n.mem == nil {
		t.Errorf("-p with -z: want both servers")
	}
	opts = DefaultOptions()
	opts.Socket = filepath.Join(t.TempDir(), "sock")
	if n = mustNew(t, opts); n.mem == nil {
		t.Errorf("-s alone: want memcached on the socket")
	}
	opts.ClusterConfig = "11311=a"
	if n = mustNew(t, opts); n.mem != nil || n.proxy == nil {
		t.Errorf("-s with -z: want the proxy on the socket and no memcached")
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(o *Options)
		want   string
	}{
		{"no config", func(o *Options) {}, "need cluster configuration"},
		{"udp only", func(o *Options) { o.UDPPort = 11211 }, "-U: UDP is not supported"},
		{"json", func(o *Options) { o.ClusterConfig = `11211={"numReplicas":0,"serverList":[],"vBucketMap":[[0]]}` },
			"-z: proxy port 11211: Empty serverList"},
		{"bad -z", func(o *Options) { o.ClusterConfig = "11211" }, "-z: bad moxi config, missing ="},
		{"bad -Z", func(o *Options) { o.ClusterConfig = "11211=a"; o.Behavior = "nope=1" }, "-Z: unknown behavior key: nope"},
		{"mcmux", func(o *Options) { o.Port = 11211; o.Mcmux = true }, "mcmux mode (-X) is not supported yet"},
		{"socket with two proxies", func(o *Options) { o.Socket = "/tmp/x"; o.ClusterConfig = "1=a;2=b" }, "-s: the unix socket can serve one proxy"},
		{"threads", func(o *Options) { o.Port = 1; o.Threads = 0 }, "-t must be >= 1"},
		{"protocol", func(o *Options) { o.Port = 1; o.Protocol = "x" }, "-B must be ascii, binary or auto"},
		{"item size", func(o *Options) { o.Port = 1; o.MaxItemSize = 10 }, "-I must be at least 1024 bytes"},
		{"factor", func(o *Options) { o.Port = 1; o.GrowthFactor = 1 }, "-f must be greater than 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := DefaultOptions()
			tt.modify(&opts)
			logger, level := testLogger()
			_, err := New(opts, logger, level)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %v, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestSettingsPairs(t *testing.T) {
	opts := DefaultOptions()
	got := map[string]string{}
	pairs := settingsPairs(opts)
	for _, p := range pairs {
		got[p[0]] = p[1]
	}
	want := map[string]string{
		"maxbytes": "67108864", "maxconns": "1024", "tcpport": "0", "udpport": "0",
		"inter": "NULL", "verbosity": "0", "oldest": "0", "evictions": "on",
		"domain_socket": "NULL", "umask": "700", "growth_factor": "1.25",
		"chunk_size": "48", "num_threads": "5", "stat_key_prefix": ":",
		"detail_enabled": "no", "reqs_per_event": "20", "cas_enabled": "yes",
		"tcp_backlog": "1024", "binding_protocol": "auto-negotiate",
	}
	if len(pairs) != len(want) || pairs[0][0] != "maxbytes" || pairs[len(pairs)-1][0] != "binding_protocol" {
		t.Errorf("pairs = %v", pairs)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestVerbosityLevel(t *testing.T) {
	for v, want := range map[int]slog.Level{0: slog.LevelWarn, 1: slog.LevelInfo, 2: slog.LevelDebug, 3: LevelTrace, 9: LevelTrace} {
		if got := VerbosityLevel(v); got != want {
			t.Errorf("VerbosityLevel(%d) = %v, want %v", v, got, want)
		}
	}
}

// fakeServer stands in for proxycore.Server and memserver.Server: Serve
// blocks until Shutdown closes its listeners.
type fakeServer struct {
	mu    sync.Mutex
	lns   []net.Listener
	ports []int
	shut  bool
}

func (f *fakeServer) Serve(ln net.Listener) error { return f.ServePort(0, ln) }

func (f *fakeServer) ServePort(port int, ln net.Listener) error {
	f.mu.Lock()
	f.lns, f.ports = append(f.lns, ln), append(f.ports, port)
	f.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			return netserve.ErrServerClosed
		}
		_ = c.Close()
	}
}

func (f *fakeServer) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shut = true
	for _, ln := range f.lns {
		_ = ln.Close()
	}
	return nil
}

type fakeProxy struct{ *fakeServer }

func (f fakeProxy) Serve(port int, ln net.Listener) error { return f.ServePort(port, ln) }

func (fakeProxy) EachCounter(func(proxycore.CounterSample))       {}
func (fakeProxy) EachMap(func(proxycore.MapSample))               {}
func (fakeProxy) DropShared(int, string, []byte)                  {}
func (fakeProxy) EachCommand(func(proxycore.CommandSample))       {}
func (fakeProxy) EachLatency(func(proxycore.LatencySample))       {}
func (fakeProxy) EachServer(func(proxycore.ServerSample))         {}
func (fakeProxy) EachFrontCache(func(proxycore.FrontCacheSample)) {}
func (fakeProxy) EachKeyStat(int, func(proxycore.KeyStatSample))  {}
func (fakeProxy) RejectedConns() uint64                           { return 0 }

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestRunServesAndStops(t *testing.T) {
	proxyPort := freePort(t)
	portFile := filepath.Join(t.TempDir(), "ports")
	opts := DefaultOptions()
	opts.Listen = "127.0.0.1"
	opts.Port = 0
	opts.ClusterConfig = strconv.Itoa(proxyPort) + "=a:1"
	opts.Getenv = func(k string) string {
		if k == EnvPortFile {
			return portFile
		}
		return ""
	}
	n := mustNew(t, opts)
	mem, proxy := &fakeServer{}, &fakeServer{}
	n.mem, n.proxy = mem, fakeProxy{proxy}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()

	waitFor(t, func() bool { _, err := os.Stat(portFile); return err == nil })
	data, err := os.ReadFile(portFile)
	if err != nil || !strings.HasPrefix(string(data), "TCP INET: ") {
		t.Fatalf("port file = %q, %v", data, err)
	}
	memPort := strings.TrimSpace(strings.TrimPrefix(string(data), "TCP INET: "))
	for _, port := range []string{memPort, strconv.Itoa(proxyPort)} {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err != nil {
			t.Fatalf("dial %s: %v", port, err)
		}
		_ = c.Close()
	}
	waitFor(t, func() bool { proxy.mu.Lock(); defer proxy.mu.Unlock(); return len(proxy.ports) == 1 })
	if proxy.ports[0] != proxyPort {
		t.Errorf("proxy served port %d, want %d", proxy.ports[0], proxyPort)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if !mem.shut || !proxy.shut {
		t.Errorf("shutdown called: mem=%v proxy=%v", mem.shut, proxy.shut)
	}
}

func TestRunListenErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := busy.Addr().(*net.TCPAddr).Port

	tests := []struct {
		name   string
		modify func(o *Options)
		want   string
	}{
		{"proxy", func(o *Options) { o.ClusterConfig = strconv.Itoa(port) + "=a" },
			"could not listen on port " + strconv.Itoa(port) + ". Please use -Z port_listen=PORT_NUM to specify a different port number."},
		{"memcached", func(o *Options) { o.Port = port }, "failed to listen on TCP port " + strconv.Itoa(port)},
		{"memcached ok, proxy busy", func(o *Options) { o.Port = 0; o.ClusterConfig = strconv.Itoa(port) + "=a" }, "could not listen on port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.Listen = "127.0.0.1"
			tt.modify(&opts)
			n := mustNew(t, opts)
			err := n.Run(context.Background())
			var le *ListenError
			if !errors.As(err, &le) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Run = %v, want *ListenError with prefix %q", err, tt.want)
			}
		})
	}
}

func TestListenUnixReplacesStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "moxi.sock")
	ln, err := listenUnix(path, 0o700)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	_ = ln.Close() // leaves the socket file behind, like a crash
	ln, err = listenUnix(path, 0o770)
	if err != nil {
		t.Fatalf("rebind over stale socket: %v", err)
	}
	defer ln.Close()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o770 {
		t.Errorf("mode = %v, %v; want 0770", fi.Mode().Perm(), err)
	}

	regular := filepath.Join(t.TempDir(), "file")
	mustWrite(t, regular, "x")
	if _, err := listenUnix(regular, 0o700); err == nil {
		t.Error("bound over a regular file")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRESTConfigBuildsFeeds: a REST -z makes one dynamic bucket per
// section on port_listen, named by its URL, fed by a streaming client.
func TestRESTConfigBuildsFeeds(t *testing.T) {
	opts := DefaultOptions()
	opts.ClusterConfig = "http://a:8091/pools/default/bucketsStreamingConfig/b1,http://b:8091/pools/default/bucketsStreamingConfig/b1"
	logger, level := testLogger()
	n, err := New(opts, logger, level)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.feeds) != 1 || n.proxyCfg.ConfType != "dynamic" || len(n.proxyCfg.Buckets) != 1 {
		t.Fatalf("feeds %d, conf type %q, buckets %d", len(n.feeds), n.proxyCfg.ConfType, len(n.proxyCfg.Buckets))
	}
	if b := n.proxyCfg.Buckets[0]; b.Name != "b1" || b.Port != 11211 || b.Maps.Current() != nil {
		t.Fatalf("bucket %q on %d, map %v before any config", b.Name, b.Port, b.Maps.Current())
	}
}
