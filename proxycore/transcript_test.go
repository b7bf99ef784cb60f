package proxycore

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// A transcript is a file of steps run over one client connection through
// a proxy in front of two real memcached servers:
//
//	> text      send text + "\r\n"
//	>q "..."    send a Go-quoted string as is (no "\r\n" added)
//	< text      expect the line text + "\r\n"
//	<~ regexp   expect a line matching the regexp (anchored)
//	# ...       comment
//
// Each file starts from empty servers.
func TestTranscripts(t *testing.T) {
	files, _ := filepath.Glob("testdata/transcripts/*.txt")
	if len(files) == 0 {
		t.Fatal("no transcripts in testdata/transcripts")
	}
	bothProtocols(t, func(t *testing.T, proto func(*Behavior)) { runTranscripts(t, files, proto) })
}

func runTranscripts(t *testing.T, files []string, proto func(*Behavior)) {
	addrs := servers(t, 2)
	p := startProxy(t, addrs, proto)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			c := dial(t, p.addr)
			c.send("flush_all\r\n")
			c.expect("OK\r\n")
			runTranscript(t, c, f)
		})
	}
}

func runTranscript(t *testing.T, c *client, path string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, ">q "):
			s, err := strconv.Unquote(line[3:])
			if err != nil {
				t.Fatalf("%s:%d: bad quoted string: %v", path, n, err)
			}
			c.send(s)
		case strings.HasPrefix(line, "> "):
			c.send(line[2:] + "\r\n")
		case strings.HasPrefix(line, "<~ "):
			got := c.line()
			re := regexp.MustCompile("^" + line[3:] + "\r\n$")
			if !re.MatchString(got) {
				t.Fatalf("%s:%d: got %q, want match for %q", path, n, got, line[3:])
			}
		case strings.HasPrefix(line, "< "):
			if got := c.line(); got != line[2:]+"\r\n" {
				t.Fatalf("%s:%d: got %q, want %q", path, n, got, line[2:]+"\r\n")
			}
		default:
			t.Fatalf("%s:%d: unknown step %q", path, n, line)
		}
	}
}
