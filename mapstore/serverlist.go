package mapstore

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ParseServerList parses a libmemcached server list:
// "host[:port[:weight]],host..." (also "host:port weight"); a missing or
// zero port means 11211. An IPv6 host must be bracketed ("[::1]:11211");
// it is stored without the brackets. Each entry is trimmed of whitespace.
// Weight is 0 when not given.
//
// It is stricter than libmemcached's memcached_servers_parse, which
// silently reads garbage as port 0: a typo in a proxy config should fail
// loudly rather than route keys to a server nobody meant.
func ParseServerList(s string) ([]Server, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("mapstore: empty server list")
	}
	entries := strings.Split(s, ",")
	out := make([]Server, 0, len(entries))
	for i, e := range entries {
		e = strings.TrimSpace(e)
		if e == "" {
			return nil, fmt.Errorf("mapstore: empty server entry %d in %q", i+1, s)
		}
		srv, err := parseServer(e)
		if err != nil {
			return nil, fmt.Errorf("mapstore: bad server %q: %w", e, err)
		}
		out = append(out, srv)
	}
	return out, nil
}

// parseServer parses one trimmed, non-empty entry.
func parseServer(e string) (Server, error) {
	var host, rest string
	bracketed := strings.HasPrefix(e, "[")
	if bracketed {
		end := strings.IndexByte(e, ']')
		if end < 0 {
			return Server{}, errors.New("missing ']' after ipv6 address")
		}
		host, rest = e[1:end], e[end+1:]
		if rest != "" && rest[0] != ':' {
			return Server{}, fmt.Errorf("unexpected %q after ']'", rest)
		}
	} else {
		// host:port:weight has at most two colons; a bare IPv6 address
		// would be split at a random colon.
		if strings.Count(e, ":") > 2 || (strings.Contains(e, ":") && net.ParseIP(e) != nil) {
			return Server{}, errors.New("ipv6 address must be in brackets")
		}
		end := strings.IndexAny(e, ": \t")
		if end < 0 {
			end = len(e)
		}
		host, rest = e[:end], e[end:]
		if rest != "" && rest[0] != ':' {
			return Server{}, errors.New("weight needs a port (host:port weight)")
		}
	}
	if host == "" {
		return Server{}, errors.New("empty host")
	}
	if bracketed {
		// Brackets only make sense around an IPv6 literal (zones allowed).
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return Server{}, fmt.Errorf("bad ipv6 address %q", host)
		}
	}
	srv := Server{Host: host, Port: defaultPort}
	if rest == "" {
		return srv, nil
	}
	rest = rest[1:] // the ':' before the port
	// "port", "port:weight" or "port<whitespace>weight".
	portStr, weightStr, hasWeight := rest, "", false
	if i := strings.IndexAny(rest, ": \t"); i >= 0 {
		portStr = rest[:i]
		weightStr = strings.TrimLeft(rest[i+1:], " \t")
		hasWeight = true
	}
	port, err := parseUint(portStr, 65535)
	if err != nil {
		return Server{}, fmt.Errorf("port: %w", err)
	}
	if port != 0 {
		srv.Port = port
	}
	if hasWeight {
		w, err := parseUint(weightStr, 1<<31-1)
		if err != nil {
			return Server{}, fmt.Errorf("weight: %w", err)
		}
		srv.Weight = w
	}
	return srv, nil
}

// parseUint parses a plain decimal in [0, limit]; no sign, no spaces.
func parseUint(s string, limit uint64) (int, error) {
	if s == "" {
		return 0, errors.New("missing number")
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, err
	}
	if v > limit {
		return 0, fmt.Errorf("%d out of range (max %d)", v, limit)
	}
	return int(v), nil
}

// String returns the server's authority, "host:port" ("[v6]:port"), the form
// used in logs and stats.
func (s Server) String() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

// ParseDistribution picks the distribution from moxi's -Z mcs_opts text the
// way moxi's mcs.c does: substring matches, checked most specific first
// ("distribution:ketama" is a prefix of "distribution:ketama-weighted").
// Anything else, including no option at all, is KetamaWeighted, moxi's real
// default (its help text wrongly claims ketama).
func ParseDistribution(mcsOpts string) Distribution {
	switch {
	case strings.Contains(mcsOpts, "distribution:ketama-weighted"):
		return KetamaWeighted
	case strings.Contains(mcsOpts, "distribution:ketama"):
		return Ketama
	case strings.Contains(mcsOpts, "distribution:modula"):
		return Modula
	default:
		return KetamaWeighted
	}
}

// newServerListMap validates and copies servers (port 0 becomes 11211, as
// in libmemcached) and precomputes the routing structure so Locate does no
// work beyond hashing and a search.
func newServerListMap(servers []Server, dist Distribution) (*Map, error) {
	if len(servers) == 0 {
		return nil, errors.New("mapstore: empty server list")
	}
	if dist == VBucket {
		return nil, errors.New("mapstore: a vbucket map needs a bucket config (ParseBucket), not a server list")
	}
	if dist > VBucket {
		return nil, fmt.Errorf("mapstore: unknown distribution %d", dist)
	}
	own := make([]Server, len(servers))
	for i, s := range servers {
		if s.Host == "" {
			return nil, fmt.Errorf("mapstore: server %d: empty host", i)
		}
		if s.Port < 0 || s.Port > 65535 {
			return nil, fmt.Errorf("mapstore: server %q: port %d out of range", s.Host, s.Port)
		}
		if s.Weight < 0 {
			return nil, fmt.Errorf("mapstore: server %q: negative weight %d", s.Host, s.Weight)
		}
		if s.Port == 0 {
			s.Port = defaultPort
		}
		own[i] = s
	}
	m := &Map{Servers: own, Dist: dist}
	switch {
	case len(own) == 1:
		// libmemcached's memcached_generate_hash returns 0 without hashing
		// when the pool has one server; so do we, for every distribution.
		m.locate = locateOnly
	case dist == Modula:
		m.locate = modula{n: uint32(len(own))}.locate
	default:
		m.ring = newKetamaRing(own, dist == KetamaWeighted)
		m.locate = m.ring.locate
	}
	return m, nil
}

func locateOnly([]byte) int { return 0 }
