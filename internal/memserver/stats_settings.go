package memserver

import (
	"net"
	"runtime"
	"strconv"
)

// settingsStats writes "stats settings": memcached 1.6's names in its
// order. Settings this server has take their real values (-m, -c, -I,
// -M, -B, the listen address, verbosity, threads); the rest are
// memcached's defaults for mechanisms this server does not have, so that
// a tool comparing settings across a fleet sees the familiar shape.
func (s *Server) settingsStats(sw *statWriter) {
	host, port := s.listenAddr()
	threads := int64(runtime.GOMAXPROCS(0))
	sw.i("maxbytes", s.cfg.MaxBytes)
	sw.i("maxconns", int64(s.cfg.MaxConns))
	sw.s("tcpport", port)
	sw.i("udpport", 0)
	sw.s("inter", host)
	sw.u("verbosity", uint64(s.verbosity.Load()))
	sw.i("oldest", 0)
	sw.s("evictions", pick(s.cfg.NoEvict, "off", "on"))
	fixedSettings(sw, settingsBeforeThreads())
	sw.i("num_threads", threads)
	sw.i("num_threads_per_udp", threads)
	fixedSettings(sw, settingsBeforeProtocol())
	sw.s("binding_protocol", bindingProtocol(s.cfg.Protocol))
	sw.s("auth_enabled_sasl", "no")
	sw.s("auth_enabled_ascii", "no")
	sw.i("item_size_max", int64(s.cfg.MaxItemSize))
	fixedSettings(sw, settingsAfterItemSize())
}

// Fixed settings, in memcached's order between the ones set above
// (functions, so that no table is package-level mutable state).
func settingsBeforeThreads() [][2]string {
	return [][2]string{
		{"domain_socket", "NULL"}, {"umask", "700"}, {"shutdown_command", "no"},
		{"growth_factor", "1.25"}, {"chunk_size", "48"},
	}
}

func settingsBeforeProtocol() [][2]string {
	return [][2]string{
		{"stat_key_prefix", ":"}, {"detail_enabled", "no"}, {"reqs_per_event", "20"},
		{"cas_enabled", "yes"}, {"tcp_backlog", "1024"},
	}
}

func settingsAfterItemSize() [][2]string {
	return [][2]string{
		{"maxconns_fast", "yes"}, {"hashpower_init", "0"}, {"slab_reassign", "yes"},
		{"slab_automove", "1"}, {"slab_automove_ratio", "0.80"}, {"slab_automove_window", "30"},
		{"slab_chunk_max", "524288"}, {"lru_crawler", "yes"}, {"lru_crawler_sleep", "100"},
		{"lru_crawler_tocrawl", "0"}, {"tail_repair_time", "0"}, {"flush_enabled", "yes"},
		{"dump_enabled", "yes"}, {"hash_algorithm", "murmur3"}, {"lru_maintainer_thread", "yes"},
		{"lru_segmented", "yes"}, {"hot_lru_pct", "20"}, {"warm_lru_pct", "40"},
		{"hot_max_factor", "0.20"}, {"warm_max_factor", "2.00"}, {"temp_lru", "no"},
		{"temporary_ttl", "61"}, {"idle_timeout", "0"}, {"watcher_logbuf_size", "262144"},
		{"worker_logbuf_size", "65536"}, {"read_buf_mem_limit", "0"}, {"track_sizes", "no"},
		{"inline_ascii_response", "no"}, {"ext_item_size", "512"}, {"ext_item_age", "4294967295"},
		{"ext_low_ttl", "0"}, {"ext_recache_rate", "2000"}, {"ext_wbuf_size", "4194304"},
		{"ext_compact_under", "0"}, {"ext_drop_under", "0"}, {"ext_max_sleep", "1000000"},
		{"ext_max_frag", "0.80"}, {"slab_automove_freeratio", "0.010"}, {"ext_drop_unread", "no"},
		{"ssl_enabled", "no"}, {"ssl_chain_cert", "(null)"}, {"ssl_key", "(null)"},
		{"ssl_verify_mode", "0"}, {"ssl_keyformat", "1"}, {"ssl_ciphers", "NULL"},
		{"ssl_ca_cert", "NULL"}, {"ssl_wbuf_size", "16384"}, {"ssl_session_cache", "no"},
		{"ssl_kernel_tls", "no"}, {"ssl_min_version", "tlsv1.2"}, {"num_napi_ids", "(null)"},
		{"memory_file", "(null)"},
	}
}

func fixedSettings(sw *statWriter, pairs [][2]string) {
	for _, p := range pairs {
		sw.s(p[0], p[1])
	}
}

// bindingProtocol names -B as memcached does.
func bindingProtocol(p string) string {
	switch p {
	case "ascii", "binary":
		return p
	}
	return "auto-negotiate"
}

// listenAddr is the first listener's host ("NULL" for every interface,
// as memcached without -l) and port, "0" when there is none.
func (s *Server) listenAddr() (host, port string) {
	for _, ci := range s.conns.snapshot() {
		if !ci.listening {
			continue
		}
		h, p, err := net.SplitHostPort(ci.addr[len("tcp:"):])
		if err != nil {
			break
		}
		if ip := net.ParseIP(h); h == "" || (ip != nil && ip.IsUnspecified()) {
			h = "NULL"
		}
		return h, p
	}
	return "NULL", strconv.Itoa(0)
}
