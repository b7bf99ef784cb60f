package mapstore

import (
	"bufio"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestLibmemcachedGolden replays server choices dumped from the real
// libmemcached 1.1.4 (see testdata/README.md) for all three distributions.
// The pool is read from the file's first line, in ParseServerList syntax.
func TestLibmemcachedGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "libmemcached-*.tsv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/libmemcached-*.tsv golden files (err %v)", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			servers := goldenServers(t, path)
			header, rows := readTSV(t, path)
			keyCol := column(t, header, "key_hex")
			for _, d := range []struct {
				col  string
				dist Distribution
			}{{"ketama_weighted", KetamaWeighted}, {"ketama_md5", Ketama}, {"modula", Modula}} {
				col := column(t, header, d.col)
				m, err := NewServerListMap(servers, d.dist)
				if err != nil {
					t.Fatal(err)
				}
				bad := 0
				for _, row := range rows {
					key, err := hex.DecodeString(row[keyCol])
					if err != nil {
						t.Fatalf("bad key_hex %q: %v", row[keyCol], err)
					}
					if got := strconv.Itoa(m.Locate(key)); got != row[col] {
						if bad++; bad <= 5 {
							t.Errorf("%s: Locate(%x) = %s, libmemcached says %s", d.dist, key, got, row[col])
						}
					}
				}
				if bad > 0 {
					t.Errorf("%s: %d of %d keys differ", d.dist, bad, len(rows))
				}
			}
		})
	}
}

// goldenServers parses the "# ... servers (host:port:weight): LIST" line.
func goldenServers(t *testing.T, path string) []Server {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		t.Fatalf("%s: read first line: %v", path, err)
	}
	const marker = "servers (host:port:weight): "
	_, list, ok := strings.Cut(strings.TrimSpace(line), marker)
	if !ok {
		t.Fatalf("%s: first line %q lacks %q", path, line, marker)
	}
	servers, err := ParseServerList(list)
	if err != nil {
		t.Fatal(err)
	}
	return servers
}
