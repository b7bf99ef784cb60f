package node

import (
	"errors"
	"fmt"
	"strings"

	"github.com/moxifleet/moxi/proxycore"
)

// RESTConfig is the agent/REST form of -z: one section per ';', each
// streaming its config from a list of failover URLs.
type RESTConfig struct {
	Sections []RESTSection
}

// RESTSection is one ';'-separated part of a REST -z value.
type RESTSection struct {
	URLs []string // from url= or host=, '|'-separated in the config
	// AuthSet is true when auth= (or apikey=) was given; otherwise the
	// credentials come from -Z usr/pwd (see Credentials).
	AuthSet  bool
	User     string
	Password string
	DBPath   string // config= or dbpath=; a no-op kept for compatibility
}

// Credentials returns the HTTP basic-auth user and password: auth= when
// given, else the -Z usr/pwd (which the environment may have seeded). An
// empty user means no HTTP auth.
func (s RESTSection) Credentials(b proxycore.Behavior) (user, password string) {
	if s.AuthSet {
		return s.User, s.Password
	}
	return b.Usr, b.Pwd
}

// parseRESTConfig parses the agent/REST form as the original's
// cproxy_init_agent does. A bare "http://..." becomes "url=..." with every
// comma turned into '|', so "http://a,http://b" lists failover URLs; after
// an explicit url=, a comma starts a new key instead.
func parseRESTConfig(z string) (*RESTConfig, error) {
	t := strings.TrimSpace(z)
	if strings.HasPrefix(t, "http://") {
		t = "url=" + strings.ReplaceAll(t, ",", "|")
	}
	rc := &RESTConfig{}
	for sect := range strings.SplitSeq(t, ";") {
		if strings.TrimSpace(sect) == "" {
			continue // the original started a URL-less proxy and died
		}
		s, err := parseRESTSection(sect)
		if err != nil {
			return nil, err
		}
		rc.Sections = append(rc.Sections, s)
	}
	if len(rc.Sections) == 0 {
		return nil, errors.New("missing -z configuration for url/host")
	}
	return rc, nil
}

// parseRESTSection parses the key=val pairs of one section, separated by
// ',', CR or LF.
func parseRESTSection(sect string) (RESTSection, error) {
	var s RESTSection
	items := strings.FieldsFunc(sect, func(r rune) bool { return r == ',' || r == '\r' || r == '\n' })
	for _, item := range items {
		key, val, ok := strings.Cut(strings.TrimSpace(item), "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if key == "" || key[0] == '#' {
			continue
		}
		if !ok {
			return s, fmt.Errorf("missing = after configuration key: %s", key)
		}
		switch restKey(key) {
		case "auth":
			s.AuthSet = true
			s.User, s.Password = splitAuth(val)
		case "dbpath":
			s.DBPath = val
		case "url":
			s.URLs = splitURLs(val)
		default:
			// The original only warned at -v; a typo here would silently
			// drop the URL or the credentials.
			return s, fmt.Errorf("unknown configuration key: %s", key)
		}
	}
	if len(s.URLs) == 0 {
		return s, errors.New("missing -z configuration for url/host")
	}
	return s, nil
}

// restKey maps a key to "auth", "dbpath" or "url" with the same prefix
// matching (wordeq) the original used, tested in its order.
func restKey(key string) string {
	for _, k := range [][2]string{
		{"apikey", "auth"}, {"auth", "auth"},
		{"config", "dbpath"}, {"dbpath", "dbpath"},
		{"host", "url"}, {"url", "url"},
	} {
		if strings.HasPrefix(k[0], key) {
			return k[1]
		}
	}
	return ""
}

// splitAuth splits "USER%PASSWORD". Without a '%', the
// "user:password@fqdn" form is rewritten to user "user@fqdn" with that
// password, as the original did for its XMPP ids.
func splitAuth(val string) (user, password string) {
	if u, p, ok := strings.Cut(val, "%"); ok {
		return u, p
	}
	colon, at := strings.IndexByte(val, ':'), strings.IndexByte(val, '@')
	if colon >= 0 && at > colon {
		return val[:colon] + val[at:], val[colon+1 : at]
	}
	return val, ""
}

// splitURLs splits a '|'-separated URL list, dropping empty entries.
func splitURLs(val string) []string {
	var out []string
	for u := range strings.SplitSeq(val, "|") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}
