package node

import (
	"strconv"
)

// settingsPairs computes the memcached:settings:* pairs of
// "stats proxy settings" in the original's order and formats
// (memcached.c process_stat_settings).
func settingsPairs(o Options) [][2]string {
	return [][2]string{
		{"maxbytes", strconv.FormatUint(uint64(uint32(o.MaxBytes)), 10)}, // printed as unsigned int
		{"maxconns", strconv.Itoa(o.MaxConns)},
		{"tcpport", strconv.Itoa(max(o.Port, 0))},
		{"udpport", strconv.Itoa(max(o.UDPPort, 0))},
		{"inter", orNULL(o.Listen)},
		{"verbosity", strconv.Itoa(o.Verbosity)},
		{"oldest", "0"},
		{"evictions", onOff(!o.NoEvict)},
		{"domain_socket", orNULL(o.Socket)},
		{"umask", strconv.FormatUint(uint64(o.SocketMode.Perm()), 8)},
		{"growth_factor", strconv.FormatFloat(o.GrowthFactor, 'f', 2, 64)},
		{"chunk_size", strconv.Itoa(o.ChunkSize)},
		{"num_threads", strconv.Itoa(o.Threads + 1)}, // the original counts its dispatch thread
		{"stat_key_prefix", string(o.PrefixDelimiter)},
		{"detail_enabled", yesNo(o.DetailEnabled)},
		{"reqs_per_event", strconv.Itoa(o.ReqsPerEvent)},
		{"cas_enabled", yesNo(!o.NoCAS)},
		{"tcp_backlog", strconv.Itoa(o.Backlog)},
		{"binding_protocol", protocolText(o.Protocol)},
	}
}

func orNULL(s string) string {
	if s == "" {
		return "NULL"
	}
	return s
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// protocolText is memcached's prot_text for the -B value.
func protocolText(p string) string {
	if p == "auto" {
		return "auto-negotiate"
	}
	return p
}
