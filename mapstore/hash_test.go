package mapstore

import (
	"encoding/hex"
	"path/filepath"
	"strconv"
	"testing"
)

// hashFuncs are the implemented libhashkit hashes, by fixture column name.
// hsieh, jenkins and murmur3 are not implemented: Debian's libhashkit is
// built without hsieh, and moxi never configures the others.
var hashFuncs = []struct {
	column string
	fn     func([]byte) uint32
}{
	{"one_at_a_time", HashOneAtATime},
	{"md5", HashMD5},
	{"crc", HashCRC},
	{"fnv1_64", HashFNV1_64},
	{"fnv1a_64", HashFNV1a_64},
	{"fnv1_32", HashFNV1_32},
	{"fnv1a_32", HashFNV1a_32},
	{"murmur", HashMurmur},
}

// checkHashes runs every hash over rows; key decodes a row's key.
func checkHashes(t *testing.T, header []string, rows [][]string, key func(row []string) []byte) {
	for _, f := range hashFuncs {
		col := column(t, header, f.column)
		t.Run(f.column, func(t *testing.T) {
			for _, row := range rows {
				want, err := strconv.ParseUint(row[col], 10, 32)
				if err != nil {
					t.Fatalf("bad fixture value %q: %v", row[col], err)
				}
				k := key(row)
				if got := f.fn(k); got != uint32(want) {
					t.Errorf("%s(%q) = %d, want %d", f.column, k, got, want)
				}
			}
		})
	}
}

// TestHashesAgainstLibhashkit checks the upstream fixture
// (libmemcached test/fixtures/hashes.hpp): ASCII keys.
func TestHashesAgainstLibhashkit(t *testing.T) {
	header, rows := readTSV(t, filepath.Join(sharedTestdata(t), "libmemcached", "hashes.tsv"))
	keyCol := column(t, header, "key")
	checkHashes(t, header, rows, func(row []string) []byte { return []byte(row[keyCol]) })
}

// TestHashesHighBytes checks keys with bytes >= 0x80 against vectors
// dumped from Debian's libhashkit (testdata/README.md): that is where the
// x86 signed-char reads in one_at_a_time and FNV show.
func TestHashesHighBytes(t *testing.T) {
	header, rows := readTSV(t, filepath.Join("testdata", "libhashkit-highbytes.tsv"))
	keyCol := column(t, header, "key_hex")
	checkHashes(t, header, rows, func(row []string) []byte {
		k, err := hex.DecodeString(row[keyCol])
		if err != nil {
			t.Fatalf("bad key_hex %q: %v", row[keyCol], err)
		}
		return k
	})
}
