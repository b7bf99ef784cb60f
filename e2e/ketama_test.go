package e2e

import (
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"math"
	"net"
	"sort"
	"testing"
)

// ketama is an independent model of libmemcached's weighted ketama
// (MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA with weights, moxi's default),
// used to predict which server moxi must pick for a key. It is written from
// protocol-spec.md (d), not shared with the proxy.
type ketama struct {
	points []ketamaPoint
}

type ketamaPoint struct {
	value  uint32
	server int
}

// newKetama builds the continuum for "host:port" servers with weights
// (a weight <= 0 counts as 1).
func newKetama(servers []string, weights []int) (*ketama, error) {
	total := 0
	for i := range servers {
		total += max(weights[i], 1)
	}
	k := &ketama{}
	for i, s := range servers {
		host, port, err := net.SplitHostPort(s)
		if err != nil {
			return nil, err
		}
		pct := float32(max(weights[i], 1)) / float32(total)
		n := int(math.Floor(float64(pct*160/4*float32(len(servers)))+1e-10)) * 4
		for j := range n / 4 {
			name := fmt.Sprintf("%s:%s-%d", host, port, j)
			if port == "11211" {
				name = fmt.Sprintf("%s-%d", host, j)
			}
			d := md5.Sum([]byte(name))
			for x := range 4 {
				k.points = append(k.points, ketamaPoint{binary.LittleEndian.Uint32(d[x*4:]), i})
			}
		}
	}
	sort.SliceStable(k.points, func(a, b int) bool { return k.points[a].value < k.points[b].value })
	return k, nil
}

// locate returns the index of the server owning key.
func (k *ketama) locate(key string) int {
	d := md5.Sum([]byte(key))
	h := binary.LittleEndian.Uint32(d[:4])
	i := sort.Search(len(k.points), func(i int) bool { return k.points[i].value >= h })
	if i == len(k.points) {
		i = 0
	}
	return k.points[i].server
}

// TestKetamaModel checks the model against libmemcached's own fixtures
// (testdata: libmemcached ketama.hpp and the libvbucket eight-node ring).
func TestKetamaModel(t *testing.T) {
	t.Run("weighted-11211", func(t *testing.T) {
		servers := []string{"10.0.1.1:11211", "10.0.1.2:11211", "10.0.1.3:11211", "10.0.1.4:11211",
			"10.0.1.5:11211", "10.0.1.6:11211", "10.0.1.7:11211", "10.0.1.8:11211"}
		weights := []int{600, 300, 200, 350, 1000, 800, 950, 100}
		vectors := map[string]string{
			"SVa_]_V41)": "10.0.1.7", `*/Z;?V(.\8`: "10.0.1.1", "30C1*Z*S/_": "10.0.1.2",
			"1I=cTMNTKF": "10.0.1.5", "P1[Ma3=K1/": "10.0.1.8", "D[HE+cFXDK": "10.0.1.3",
			"EM75N0+[X1": "10.0.1.4", "6,cEI`F_P>": "10.0.1.6",
		}
		checkKetamaVectors(t, servers, weights, vectors)
	})
	t.Run("equal-weights-other-port", func(t *testing.T) {
		var servers []string
		for p := 12000; p <= 12014; p += 2 {
			servers = append(servers, fmt.Sprintf("172.16.16.76:%d", p))
		}
		vectors := map[string]string{
			"0": "172.16.16.76:12010", "1": "172.16.16.76:12012", "2": "172.16.16.76:12008",
			"4": "172.16.16.76:12014", "5": "172.16.16.76:12006", "9": "172.16.16.76:12002",
			"11": "172.16.16.76:12000", "15": "172.16.16.76:12004",
		}
		checkKetamaVectors(t, servers, make([]int, len(servers)), vectors)
	})
}

func checkKetamaVectors(t *testing.T, servers []string, weights []int, vectors map[string]string) {
	t.Helper()
	k, err := newKetama(servers, weights)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range vectors {
		got := servers[k.locate(key)]
		if got != want && got != want+":11211" {
			t.Errorf("key %q -> %s, want %s", key, got, want)
		}
	}
}
