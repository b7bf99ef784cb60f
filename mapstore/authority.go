package mapstore

import (
	"errors"
	"strings"
)

// parseAuthority parses a bucket config's "host:port" server string. The
// port is required and must be 1..65535 (moxi refuses a serverList entry
// without one); an IPv6 host must be bracketed and is stored without the
// brackets, as ParseServerList stores it.
func parseAuthority(s string) (Server, error) {
	var host, port string
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 || !strings.HasPrefix(s[end+1:], ":") {
			return Server{}, errors.New("want [ipv6]:port")
		}
		host, port = s[1:end], s[end+2:]
	} else {
		i := strings.LastIndexByte(s, ':')
		if i < 0 {
			return Server{}, errors.New("missing port")
		}
		host, port = s[:i], s[i+1:]
		if strings.Contains(host, ":") {
			return Server{}, errors.New("ipv6 address must be in brackets")
		}
	}
	if host == "" {
		return Server{}, errors.New("empty host")
	}
	p, err := parseUint(port, 65535)
	if err != nil {
		return Server{}, err
	}
	if p == 0 {
		return Server{}, errors.New("port 0")
	}
	return Server{Host: host, Port: p}, nil
}

// stripPort drops a ":restport" suffix from a node hostname, keeping the
// brackets of an IPv6 literal ("[::1]:8091" -> "[::1]").
func stripPort(hostname string) string {
	if strings.HasPrefix(hostname, "[") {
		if end := strings.IndexByte(hostname, ']'); end >= 0 {
			return hostname[:end+1]
		}
	}
	host, _, _ := strings.Cut(hostname, ":")
	return host
}

// joinAuthority is host + ":" + port, bracketing a bare IPv6 host.
func joinAuthority(host, port string) string {
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return host + ":" + port
}

// hostSub is the replacement for the "$HOST" marker that servers put in
// configs meaning "the host you fetched this from".
type hostSub string

// newHostSub returns the substitution for host; "" means "localhost"
// (libvbucket's default) and an IPv6 literal gets brackets so that
// "$HOST:11210" stays a valid authority.
func newHostSub(host string) hostSub {
	if host == "" {
		host = "localhost"
	}
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	return hostSub(host)
}

// apply replaces the first "$HOST" in s, as libvbucket does (one marker
// per string is all a server ever sends).
func (h hostSub) apply(s string) string {
	return strings.Replace(s, "$HOST", string(h), 1)
}
