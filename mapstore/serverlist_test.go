package mapstore

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseServerList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Server
	}{
		{"localhost", []Server{{"localhost", 11211, 0}}},
		{"127.0.0.1:11311", []Server{{"127.0.0.1", 11311, 0}}},
		{"127.0.0.1:0", []Server{{"127.0.0.1", 11211, 0}}},
		{"a:11211:5,b:11212:0,c", []Server{{"a", 11211, 5}, {"b", 11212, 0}, {"c", 11211, 0}}},
		{"a:11211 600, b:11212  300 ", []Server{{"a", 11211, 600}, {"b", 11212, 300}}},
		{" a:1 ,\tb:2\t", []Server{{"a", 1, 0}, {"b", 2, 0}}},
		{"[::1]:11211", []Server{{"::1", 11211, 0}}},
		{"[::1]", []Server{{"::1", 11211, 0}}},
		{"[fe80::1]:11300:3,host.example:11400 7", []Server{{"fe80::1", 11300, 3}, {"host.example", 11400, 7}}},
		{"a:65535", []Server{{"a", 65535, 0}}},
	} {
		got, err := ParseServerList(tc.in)
		if err != nil {
			t.Errorf("ParseServerList(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseServerList(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseServerListErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // substring of the error
	}{
		{"", "mapstore: empty server list"},
		{"  \t ", "mapstore: empty server list"},
		{"a,,b", `mapstore: empty server entry 2 in "a,,b"`},
		{"a,", `mapstore: empty server entry 2`},
		{",a", `mapstore: empty server entry 1`},
		{"x:y", `mapstore: bad server "x:y": port: `},
		{"x:", `mapstore: bad server "x:": port: missing number`},
		{":11211", `mapstore: bad server ":11211": empty host`},
		{"x:-1", `mapstore: bad server "x:-1": port: `},
		{"x:65536", `mapstore: bad server "x:65536": port: 65536 out of range`},
		{"x:11211:w", `mapstore: bad server "x:11211:w": weight: `},
		{"x:11211:", `mapstore: bad server "x:11211:": weight: missing number`},
		{"x:11211 1 2", `mapstore: bad server "x:11211 1 2": weight: `},
		{"x:11211:99999999999", `mapstore: bad server "x:11211:99999999999": weight: `},
		{"x 5", `mapstore: bad server "x 5": weight needs a port`},
		{"::1", `mapstore: bad server "::1": ipv6 address must be in brackets`},
		{"fe80::1:11211", `ipv6 address must be in brackets`},
		{"[::1", `mapstore: bad server "[::1": missing ']'`},
		{"[::1]x", `unexpected "x" after ']'`},
		{"[]:11211", `empty host`},
		{"[nothost]:1", `bad ipv6 address "nothost"`},
	} {
		got, err := ParseServerList(tc.in)
		if err == nil {
			t.Errorf("ParseServerList(%q) = %+v, want error containing %q", tc.in, got, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseServerList(%q) error %q, want it to contain %q", tc.in, err, tc.want)
		}
	}
}

func TestParseDistribution(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Distribution
	}{
		{"", KetamaWeighted},
		{"distribution:ketama-weighted", KetamaWeighted},
		{"distribution:ketama", Ketama},
		{"downstream_max=8,distribution:ketama,port_listen=11211", Ketama},
		{"distribution:modula", Modula},
		{"x=1,distribution:modula", Modula},
		{"distribution:consistent", KetamaWeighted},
		{"ketama", KetamaWeighted},
	} {
		if got := ParseDistribution(tc.in); got != tc.want {
			t.Errorf("ParseDistribution(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestServerString(t *testing.T) {
	for _, tc := range []struct {
		s    Server
		want string
	}{
		{Server{Host: "10.0.0.1", Port: 11211}, "10.0.0.1:11211"},
		{Server{Host: "::1", Port: 11400, Weight: 3}, "[::1]:11400"},
	} {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.s, got, tc.want)
		}
	}
}

func TestNewServerListMapErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		servers []Server
		dist    Distribution
		want    string
	}{
		{"empty", nil, KetamaWeighted, "mapstore: empty server list"},
		{"no host", []Server{{Port: 1}}, Modula, "mapstore: server 0: empty host"},
		{"bad port", []Server{{Host: "a", Port: 70000}}, Ketama, `mapstore: server "a": port 70000 out of range`},
		{"negative weight", []Server{{Host: "a", Port: 1, Weight: -1}}, KetamaWeighted, `mapstore: server "a": negative weight -1`},
		{"bad distribution", []Server{{Host: "a"}}, Distribution(9), "mapstore: unknown distribution 9"},
	} {
		_, err := NewServerListMap(tc.servers, tc.dist)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestNewServerListMap covers what the golden vectors do not: the copy,
// port normalisation, and the one-server shortcut.
func TestNewServerListMap(t *testing.T) {
	in := []Server{{Host: "a"}, {Host: "b", Port: 11300, Weight: 2}}
	m, err := NewServerListMap(in, Modula)
	if err != nil {
		t.Fatal(err)
	}
	in[0].Host = "changed"
	if m.Servers[0].Host != "a" || m.Servers[0].Port != 11211 || m.Dist != Modula {
		t.Errorf("map servers %+v dist %s: want an own copy with port 11211", m.Servers, m.Dist)
	}

	// libmemcached returns server 0 for any key when the pool has one server.
	for _, d := range []Distribution{KetamaWeighted, Ketama, Modula} {
		m, err := NewServerListMap([]Server{{Host: "only", Port: 11211}}, d)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"", "a", "VDEAAAAA", "\xff\xfe"} {
			if got := m.Locate([]byte(k)); got != 0 {
				t.Errorf("%s one server: Locate(%q) = %d, want 0", d, k, got)
			}
		}
	}
}

// TestLocateEmptyKey: an empty key must not panic in any distribution.
func TestLocateEmptyKey(t *testing.T) {
	servers, err := ParseServerList("a,b,c")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []Distribution{KetamaWeighted, Ketama, Modula} {
		m, err := NewServerListMap(servers, d)
		if err != nil {
			t.Fatal(err)
		}
		if i := m.Locate(nil); i < 0 || i >= len(servers) {
			t.Errorf("%s: Locate(nil) = %d", d, i)
		}
	}
}
