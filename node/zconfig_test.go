package node

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/moxifleet/moxi/internal/fixtures"
	"github.com/moxifleet/moxi/mapstore"
)

func TestParseClusterConfigStatic(t *testing.T) {
	tests := []struct {
		name string
		z    string
		want []StaticSection
	}{
		{"one server", "11211=localhost:11311", []StaticSection{
			{Port: 11211, Servers: []mapstore.Server{{Host: "localhost", Port: 11311}}, Raw: "localhost:11311"},
		}},
		{"default port and weight", "11211=a,b:11212:3", []StaticSection{
			{Port: 11211, Servers: []mapstore.Server{{Host: "a", Port: 11211}, {Host: "b", Port: 11212, Weight: 3}}, Raw: "a,b:11212:3"},
		}},
		{"two sections, whitespace and newlines trimmed", " 11211 = a:1 ;\n11212=\n b:2\n", []StaticSection{
			{Port: 11211, Servers: []mapstore.Server{{Host: "a", Port: 1}}, Raw: "a:1"},
			{Port: 11212, Servers: []mapstore.Server{{Host: "b", Port: 2}}, Raw: "b:2"},
		}},
		{"trailing semicolon", "11211=a;", []StaticSection{
			{Port: 11211, Servers: []mapstore.Server{{Host: "a", Port: 11211}}, Raw: "a"},
		}},
		{"inline json", `11211={"hashAlgorithm":"CRC","serverList":["a:1"],"vBucketMap":[[0]]}`, []StaticSection{
			{Port: 11211, Kind: JSON, JSON: `{"hashAlgorithm":"CRC","serverList":["a:1"],"vBucketMap":[[0]]}`, Raw: `{"hashAlgorithm":"CRC","serverList":["a:1"],"vBucketMap":[[0]]}`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc, err := ParseClusterConfig(tt.z)
			if err != nil {
				t.Fatal(err)
			}
			if cc.REST != nil {
				t.Fatalf("got REST config %+v", cc.REST)
			}
			if !reflect.DeepEqual(cc.Static, tt.want) {
				t.Errorf("got %+v\nwant %+v", cc.Static, tt.want)
			}
		})
	}
}

func TestParseClusterConfigErrors(t *testing.T) {
	tests := []struct{ z, want string }{
		{"localhost:11211", "bad moxi config, missing ="},
		{"11211=a;localhost", "bad moxi config, missing ="},
		{"=a:1", "missing proxy port"},
		{"0=a:1", "missing proxy port"},
		{"-5=a:1", "missing proxy port"},
		{"abc=a:1", "missing proxy port"},
		{"70000=a:1", "proxy port 70000 out of range"},
		{"11211=", "proxy port 11211: mapstore: empty server list"},
		{"11211=a:notaport", "proxy port 11211: mapstore: bad server"},
		{"11211=a;11211=b", "proxy port 11211 is configured twice"},
		{"", "empty cluster configuration"},
		{" ; ", "empty cluster configuration"},
		{"https://h:8091/pools", "https:// config URLs are not supported"},
		{"/no/such/moxi.cfg", "could not read cfg file: /no/such/moxi.cfg: no such file or directory"},
	}
	for _, tt := range tests {
		_, err := ParseClusterConfig(tt.z)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseClusterConfig(%q) error = %v, want prefix %q", tt.z, err, tt.want)
		}
	}
}

func TestParseClusterConfigFiles(t *testing.T) {
	moxiCfgs := filepath.Join(fixtures.SharedTestdata(t, "node"), "moxi")
	for _, name := range []string{"vbucket1.cfg", "vbucket2.cfg", "moxi_mock.cfg"} {
		path := filepath.Join(moxiCfgs, name)
		cc, err := ParseClusterConfig(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(cc.Static) != 1 || cc.Static[0].Kind != JSON || !strings.HasPrefix(cc.Static[0].JSON, "{") {
			t.Errorf("%s: got %+v", name, cc)
		}
	}
	cc, err := ParseClusterConfig(filepath.Join(moxiCfgs, "moxi_mock.cfg"))
	if err == nil && cc.Static[0].Port != 11333 {
		t.Errorf("moxi_mock.cfg port = %d, want 11333", cc.Static[0].Port)
	}
}

func TestParseClusterConfigNestedFiles(t *testing.T) {
	dir := t.TempDir()
	inner := filepath.Join(dir, "inner.cfg")
	outer := filepath.Join(dir, "outer.cfg")
	loop := filepath.Join(dir, "loop.cfg")
	empty := filepath.Join(dir, "empty.cfg")
	mustWrite(t, inner, "11211=a:1,b:2\n")
	mustWrite(t, outer, inner)
	mustWrite(t, loop, loop)
	mustWrite(t, empty, "\n")

	cc, err := ParseClusterConfig(outer)
	if err != nil {
		t.Fatal(err)
	}
	if len(cc.Static) != 1 || len(cc.Static[0].Servers) != 2 {
		t.Errorf("got %+v", cc.Static)
	}
	if _, err := ParseClusterConfig(loop); err == nil || !strings.Contains(err.Error(), "too many nested") {
		t.Errorf("self-referencing file: got %v", err)
	}
	if _, err := ParseClusterConfig(empty); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("empty file: got %v", err)
	}
}

func TestParseClusterConfigREST(t *testing.T) {
	tests := []struct {
		name string
		z    string
		want []RESTSection
	}{
		{"bare url", "http://h:8091/pools/default/bucketsStreaming/default",
			[]RESTSection{{URLs: []string{"http://h:8091/pools/default/bucketsStreaming/default"}}}},
		{"bare urls, commas become failover list", "http://a:8091/p,http://b:8091/p",
			[]RESTSection{{URLs: []string{"http://a:8091/p", "http://b:8091/p"}}}},
		{"url= with | list", "url=http://a/p|http://b/p",
			[]RESTSection{{URLs: []string{"http://a/p", "http://b/p"}}}},
		{"auth and url", "auth=Administrator%password,url=http://a/p",
			[]RESTSection{{URLs: []string{"http://a/p"}, AuthSet: true, User: "Administrator", Password: "password"}}},
		{"empty auth", "auth=,url=http://a/p",
			[]RESTSection{{URLs: []string{"http://a/p"}, AuthSet: true}}},
		{"user:password@fqdn", "apikey=joe:pw@example.com,url=http://a/p",
			[]RESTSection{{URLs: []string{"http://a/p"}, AuthSet: true, User: "joe@example.com", Password: "pw"}}},
		{"host alias, dbpath, comments, CR/LF", "host=http://a/p\r\nconfig=/tmp/x\n#c=1",
			[]RESTSection{{URLs: []string{"http://a/p"}, DBPath: "/tmp/x"}}},
		{"two sections", "url=http://a/p;url=http://b/p;",
			[]RESTSection{{URLs: []string{"http://a/p"}}, {URLs: []string{"http://b/p"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc, err := ParseClusterConfig(tt.z)
			if err != nil {
				t.Fatal(err)
			}
			if cc.REST == nil || cc.Static != nil {
				t.Fatalf("got %+v, want REST", cc)
			}
			if !reflect.DeepEqual(cc.REST.Sections, tt.want) {
				t.Errorf("got %+v\nwant %+v", cc.REST.Sections, tt.want)
			}
		})
	}
}

func TestParseClusterConfigRESTErrors(t *testing.T) {
	tests := []struct{ z, want string }{
		{"auth=a%b", "missing -z configuration for url/host"},
		{"url=", "missing -z configuration for url/host"},
		{"url=http://a/p,bogus=1", "unknown configuration key: bogus"},
		{"user@host%pw", "missing = after configuration key: user@host%pw"},
	}
	for _, tt := range tests {
		_, err := ParseClusterConfig(tt.z)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("ParseClusterConfig(%q) error = %v, want prefix %q", tt.z, err, tt.want)
		}
	}
}

func TestRESTCredentials(t *testing.T) {
	beh, err := ParseBehavior("usr=u,pwd=p", nil)
	if err != nil {
		t.Fatal(err)
	}
	if u, p := (RESTSection{}).Credentials(beh); u != "u" || p != "p" {
		t.Errorf("fallback to -Z: got %q %q", u, p)
	}
	if u, p := (RESTSection{AuthSet: true}).Credentials(beh); u != "" || p != "" {
		t.Errorf("empty auth= wins: got %q %q", u, p)
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
