package mapstore

import (
	"fmt"
	"testing"
)

// benchKeys are realistic memcached keys, built once outside the timer.
func benchKeys() [][]byte {
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "user:session:%08d", i*7919)
	}
	return keys
}

func benchLocate(b *testing.B, dist Distribution, n int) {
	servers := make([]Server, n)
	for i := range servers {
		servers[i] = Server{Host: fmt.Sprintf("10.0.0.%d", i+1), Port: 11211, Weight: 1 + i%3}
	}
	m, err := NewServerListMap(servers, dist)
	if err != nil {
		b.Fatal(err)
	}
	keys := benchKeys()
	b.ReportAllocs()
	sink := 0
	for i := 0; b.Loop(); i++ {
		sink += m.Locate(keys[i&1023])
	}
	_ = sink
}

func BenchmarkLocateKetama(b *testing.B) {
	for _, n := range []int{3, 25, 100} {
		b.Run(fmt.Sprintf("weighted-%d", n), func(b *testing.B) { benchLocate(b, KetamaWeighted, n) })
	}
	b.Run("unweighted-25", func(b *testing.B) { benchLocate(b, Ketama, 25) })
}

func BenchmarkLocateModula(b *testing.B) {
	b.Run("25", func(b *testing.B) { benchLocate(b, Modula, 25) })
}

// TestLocateAllocs makes the zero-allocation promise a test, not just a
// benchmark number someone has to read.
func TestLocateAllocs(t *testing.T) {
	servers, err := ParseServerList("a:11211:3,b:11300,c:11211:1")
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("user:session:00001234")
	for _, d := range []Distribution{KetamaWeighted, Ketama, Modula} {
		m, err := NewServerListMap(servers, d)
		if err != nil {
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { m.Locate(key) }); n != 0 {
			t.Errorf("%s: Locate allocates %v times per call", d, n)
		}
	}
}
