package proxycore

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moxifleet/moxi/mapstore"
)

// statsProxy answers "stats proxy [sub]" from the proxy's own state: info,
// settings, behaviors, stats, config, timings, reset, or all sections.
func (s *Server) statsProxy(dst []byte, args [][]byte) []byte {
	sub := "all"
	if len(args) > 1 {
		sub = string(args[1])
	}
	if sub == "reset" {
		for _, b := range s.allBuckets() {
			b.stats.reset()
		}
		return append(dst, "OK\r\n"...)
	}
	w := statWriter{dst: dst}
	all := sub == "all"
	if all || sub == "info" {
		s.statsInfo(&w)
	}
	if all || sub == "settings" {
		for _, kv := range s.cfg.Settings {
			w.stat("memcached:settings:"+kv[0], kv[1])
		}
	}
	if all || sub == "behaviors" {
		s.eachBucket(func(b *bucket) { b.beh.writeStats(&w, b.prefix()+"behavior:") })
	}
	if all || sub == "stats" {
		s.statsStats(&w)
	}
	if all || sub == "keystats" {
		s.eachBucket(func(b *bucket) {
			if b.ks != nil {
				b.ks.write(&w, b.prefix())
			}
		})
	}
	if all || sub == "timings" {
		s.eachBucket(func(b *bucket) {
			b.stats.connect.write(&w, b.prefix()+"connect")
			b.stats.reserved.write(&w, b.prefix()+"reserved")
		})
	}
	if sub == "config" {
		s.eachBucket(func(b *bucket) {
			if rt := b.routing(); rt != nil {
				// One line: a multi-line JSON config would end the
				// STAT line early.
				w.stat(b.prefix()+"config", strings.Join(strings.Fields(mapstore.RedactConfig(rt.m.Source)), " "))
				w.statUint(b.prefix()+"config_version", rt.m.Version)
			}
		})
	}
	return append(w.dst, lineEND...)
}

// statWriter appends "STAT name value" lines.
type statWriter struct{ dst []byte }

func (w *statWriter) stat(name, value string) {
	w.dst = append(w.dst, "STAT "...)
	w.dst = append(w.dst, name...)
	w.dst = append(w.dst, ' ')
	w.dst = append(w.dst, value...)
	w.dst = append(w.dst, "\r\n"...)
}

func (w *statWriter) statUint(name string, v uint64) { w.stat(name, strconv.FormatUint(v, 10)) }

// eachBucket visits buckets in port order, then name order, so output is
// stable. The NULL bucket is never shown.
func (s *Server) eachBucket(f func(*bucket)) {
	sorted := slices.Clone(s.allBuckets())
	slices.SortStableFunc(sorted, func(a, b *bucket) int {
		if a.cfg.Port != b.cfg.Port {
			return a.cfg.Port - b.cfg.Port
		}
		return strings.Compare(a.cfg.Name, b.cfg.Name)
	})
	for _, b := range sorted {
		f(b)
	}
}

func (b *bucket) prefix() string {
	return strconv.Itoa(b.cfg.Port) + ":" + b.cfg.Name + ":"
}

func (s *Server) statsInfo(w *statWriter) {
	host, _ := os.Hostname()
	w.stat("basic:version", s.cfg.Version)
	w.stat("basic:nthreads", strconv.Itoa(s.cfg.Threads+1))
	w.stat("basic:hostname", host)
	w.stat("proxy_main:conf_type", s.cfg.ConfType)
	s.eachBucket(func(b *bucket) {
		p := b.prefix() + "info:"
		w.stat(p+"port", strconv.Itoa(b.cfg.Port))
		w.stat(p+"name", b.cfg.Name)
		if rt := b.routing(); rt != nil {
			w.stat(p+"config", oneLine(mapstore.RedactConfig(rt.m.Source)))
			w.statUint(p+"config_ver", rt.m.Version)
			w.stat(p+"behaviors_num", strconv.Itoa(len(rt.servers)))
		}
	})
}

// oneLine removes newlines, as moxi does for the info section.
func oneLine(s string) string {
	return strings.NewReplacer("\r", "", "\n", "").Replace(s)
}

func (s *Server) statsStats(w *statWriter) {
	w.stat("memcached:stats:pid", strconv.Itoa(os.Getpid()))
	w.statUint("memcached:stats:uptime", uint64(time.Since(s.started)/time.Second))
	w.statUint("memcached:stats:time", uint64(time.Now().Unix()))
	w.stat("memcached:stats:version", s.cfg.Version)
	w.statUint("memcached:stats:curr_connections", uint64(s.net.NumConns()))
	w.statUint("memcached:stats:rejected_connections", s.net.Rejected())
	w.stat("memcached:stats:threads", strconv.Itoa(s.cfg.Threads))
	names := counterNames()
	s.eachBucket(func(b *bucket) {
		p := b.prefix() + "pstd_stats:"
		for k := counter(0); k < numCounters; k++ {
			w.statUint(p+names[k], b.stats.get(k))
		}
	})
}

// writeStats writes the behavior as moxi's "behavior:<key>" stats. The
// password is never shown.
func (b *Behavior) writeStats(w *statWriter, p string) {
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	w.stat(p+"cycle", ms(b.Cycle))
	w.stat(p+"downstream_max", strconv.Itoa(b.DownstreamMax))
	w.stat(p+"downstream_conn_max", strconv.Itoa(b.DownstreamConnMax))
	w.stat(p+"downstream_weight", strconv.Itoa(b.DownstreamWeight))
	w.stat(p+"downstream_retry", strconv.Itoa(b.DownstreamRetry))
	w.stat(p+"downstream_protocol", string(b.DownstreamProtocol))
	w.stat(p+"downstream_timeout", ms(b.DownstreamTimeout))
	w.stat(p+"downstream_conn_queue_timeout", ms(b.DownstreamConnQueueTimeout))
	w.stat(p+"wait_queue_timeout", ms(b.WaitQueueTimeout))
	w.stat(p+"connect_timeout", ms(b.ConnectTimeout))
	w.stat(p+"auth_timeout", ms(b.AuthTimeout))
	w.stat(p+"time_stats", strconv.FormatBool(b.TimeStats))
	w.stat(p+"mcs_opts", b.McsOpts)
	w.stat(p+"connect_max_errors", strconv.Itoa(b.ConnectMaxErrors))
	w.stat(p+"connect_retry_interval", ms(b.ConnectRetryInterval))
	w.stat(p+"front_cache_max", strconv.Itoa(b.FrontCacheMax))
	w.stat(p+"front_cache_lifespan", ms(b.FrontCacheLifespan))
	w.stat(p+"front_cache_spec", b.FrontCacheSpec)
	w.stat(p+"front_cache_unspec", b.FrontCacheUnspec)
	w.stat(p+"front_cache_bytes", strconv.Itoa(b.FrontCacheBytes))
	w.stat(p+"key_stats_max", strconv.Itoa(b.KeyStatsMax))
	w.stat(p+"key_stats_lifespan", ms(b.KeyStatsLifespan))
	w.stat(p+"key_stats_spec", b.KeyStatsSpec)
	w.stat(p+"key_stats_unspec", b.KeyStatsUnspec)
	w.stat(p+"optimize_set", b.OptimizeSet)
	w.stat(p+"usr", b.Usr)
	w.stat(p+"bucket", b.Bucket)
	w.stat(p+"port_listen", strconv.Itoa(b.PortListen))
	w.stat(p+"default_bucket_name", b.DefaultBucketName)
	w.stat(p+"client_idle_timeout", ms(b.ClientIdleTimeout))
	w.stat(p+"client_max_pending_bytes", strconv.Itoa(b.ClientMaxPendingBytes))
}
