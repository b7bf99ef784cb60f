package mapstore

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// expectations is the part of libvbucket/testapp-expectations.json (the
// transcribed assertions of libvbucket's testapp.c) the tests replay.
type expectations struct {
	KeyToVBucket  map[string]json.RawMessage `json:"key_to_vbucket"`
	ServersFirst3 []string                   `json:"servers_first_three"`
	NumServersIn  []int                      `json:"num_servers_in"`
	NumReplicas   int                        `json:"num_replicas"`
	VBucketMap    []struct {
		VBucket, Master int
		Replicas        []int
	} `json:"vbucket_map"`
	UserIsNull      bool                                  `json:"user_is_null"`
	PasswordIsNull  bool                                  `json:"password_is_null"`
	IncorrectMaster struct{ Steps []incorrectMasterStep } `json:"found_incorrect_master_sequence"`
	ForwardMap      struct {
		ExpectedNewMasters []int `json:"expected_new_masters_from_forward_map"`
	} `json:"found_incorrect_master_with_forward_map"`
	Errors       map[string]string                          `json:"errors"`
	Diffs        []expectedDiff                             `json:"diffs"`
	UserPassword map[string]struct{ User, Password string } `json:"user_password"`
	CouchAPIBase struct {
		Config       string   `json:"_config"`
		Servers      []string `json:"servers"`
		CouchAPIBase []string `json:"couch_api_base"`
		RESTServer   []string `json:"rest_api_server"`
	} `json:"couch_api_base"`
	KetamaChecksum map[string]string `json:"ketama_checksum"`
	Bug2112        struct {
		Key      string `json:"key"`
		CRC      int    `json:"crc"`
		VBucket  int    `json:"vbucket"`
		Master   string `json:"master"`
		Replicas []int  `json:"replicas"`
	} `json:"regression_bug2112"`
}

type incorrectMasterStep struct {
	VBucket     int `json:"vbucket"`
	WrongServer int `json:"wrong_server"`
	Returns     int `json:"returns"`
	MasterAfter int `json:"master_after"`
}

type expectedDiff struct {
	From, To        string
	SequenceChanged bool     `json:"sequence_changed"`
	NVBChanges      int      `json:"n_vb_changes"`
	ServersAdded    []string `json:"servers_added"`
	ServersRemoved  []string `json:"servers_removed"`
}

// loadExpectations reads testapp-expectations.json.
func loadExpectations(t *testing.T) *expectations {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(sharedTestdata(t), "libvbucket", "testapp-expectations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expectations
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("parse testapp-expectations.json: %v", err)
	}
	return &e
}

// libvbucketConfig parses the named libvbucket test config.
func libvbucketConfig(t *testing.T, name string) *Map {
	t.Helper()
	m, err := ParseBucket(readLibvbucket(t, name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func readLibvbucket(t *testing.T, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(sharedTestdata(t), "libvbucket", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestLibvbucketEveryConfig: every file in testdata/libvbucket that is a
// config either parses or fails exactly as testapp says.
func TestLibvbucketEveryConfig(t *testing.T) {
	exp := loadExpectations(t)
	files, err := filepath.Glob(filepath.Join(sharedTestdata(t), "libvbucket", "*"))
	if err != nil {
		t.Fatal(err)
	}
	seen := 0
	for _, path := range files {
		name := filepath.Base(path)
		if filepath.Ext(name) != "" { // .json, .tsv, .md5sum: not configs
			continue
		}
		seen++
		m, err := ParseBucket(readLibvbucket(t, name))
		want, bad := exp.Errors[name]
		switch {
		case bad && err == nil:
			t.Errorf("%s: parsed, want error %q", name, want)
		case bad && err.Error() != want:
			t.Errorf("%s: error %q, want %q", name, err, want)
		case bad && !errors.Is(err, ConfigError(want)):
			t.Errorf("%s: error %v is not ConfigError(%q)", name, err, want)
		case !bad && err != nil:
			t.Errorf("%s: %v", name, err)
		case !bad && (m.Source == "" || m.Source[0] != '{'):
			t.Errorf("%s: Source %.20q does not hold the config", name, m.Source)
		}
	}
	if seen < 17 || len(exp.Errors) != 2 {
		t.Errorf("saw %d configs and %d expected errors; fixture set changed?", seen, len(exp.Errors))
	}
}

// TestLibvbucketKeyToVBucket replays testapp's key -> vbucket table over
// the five configs that share its 4-vbucket map.
func TestLibvbucketKeyToVBucket(t *testing.T) {
	exp := loadExpectations(t)
	var configs []string
	if err := json.Unmarshal(exp.KeyToVBucket["_configs"], &configs); err != nil || len(configs) != 5 {
		t.Fatalf("bad _configs %s: %v", exp.KeyToVBucket["_configs"], err)
	}
	for _, name := range configs {
		m := libvbucketConfig(t, name)
		if !m.IsVBucket() || m.Dist != VBucket || m.NumVBuckets() != 4 {
			t.Errorf("%s: IsVBucket %v Dist %s NumVBuckets %d, want a 4-vbucket map", name, m.IsVBucket(), m.Dist, m.NumVBuckets())
		}
		keys := 0
		for key, raw := range exp.KeyToVBucket {
			if key[0] == '_' {
				continue
			}
			keys++
			var want uint16
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			if got := m.VBucketOf([]byte(key)); got != want {
				t.Errorf("%s: VBucketOf(%q) = %d, want %d", name, key, got, want)
			}
			if got, want := m.Locate([]byte(key)), m.Master(want); got != want {
				t.Errorf("%s: Locate(%q) = %d, want master %d", name, key, got, want)
			}
		}
		if keys != 7 {
			t.Errorf("expectations hold %d keys, want 7", keys)
		}
	}
}

// TestLibvbucketMapRows checks servers, replicas count and every row
// (master, replicas) of testapp-config, and that the fft config keeps the
// same current map while adding a server.
func TestLibvbucketMapRows(t *testing.T) {
	exp := loadExpectations(t)
	for i, name := range []string{"testapp-config", "testapp-config-in-envelope-fft"} {
		m := libvbucketConfig(t, name)
		if len(m.Servers) != exp.NumServersIn[i] {
			t.Errorf("%s: %d servers, want %d", name, len(m.Servers), exp.NumServersIn[i])
		}
		for j, want := range exp.ServersFirst3 {
			if got := m.Servers[j].String(); got != want {
				t.Errorf("%s: server %d = %s, want %s", name, j, got, want)
			}
		}
		if m.NumReplicas() != exp.NumReplicas {
			t.Errorf("%s: NumReplicas %d, want %d", name, m.NumReplicas(), exp.NumReplicas)
		}
		for _, row := range exp.VBucketMap {
			vb := uint16(row.VBucket)
			if got := m.Master(vb); got != row.Master {
				t.Errorf("%s: Master(%d) = %d, want %d", name, vb, got, row.Master)
			}
			for r, want := range row.Replicas {
				if got := m.Replica(vb, r); got != want {
					t.Errorf("%s: Replica(%d, %d) = %d, want %d", name, vb, r, got, want)
				}
			}
		}
		if m.User != "" || m.Password != "" || m.HasPassword {
			t.Errorf("%s: user %q password %q (set %v), want none (user_is_null %v)", name, m.User, m.Password, m.HasPassword, exp.UserIsNull)
		}
	}
}

// TestLibvbucketIncorrectMaster replays testapp's found_incorrect_master
// sequence: NextMaster is the pure step, the test keeps the state.
func TestLibvbucketIncorrectMaster(t *testing.T) {
	exp := loadExpectations(t)
	m := libvbucketConfig(t, "testapp-config")
	if m.HasForwardMap() || m.ForwardMaster(0) != -1 {
		t.Fatalf("testapp-config has no forward map; HasForwardMap %v ForwardMaster %d", m.HasForwardMap(), m.ForwardMaster(0))
	}
	cur := map[uint16]int{}
	for i, s := range exp.IncorrectMaster.Steps {
		vb := uint16(s.VBucket)
		c, ok := cur[vb]
		if !ok {
			c = m.Master(vb)
		}
		got := m.NextMaster(vb, c, s.WrongServer)
		if got != s.Returns || got != s.MasterAfter {
			t.Errorf("step %d: NextMaster(%d, %d, wrong %d) = %d, want %d", i, vb, c, s.WrongServer, got, s.Returns)
		}
		cur[vb] = got
	}
	if len(exp.IncorrectMaster.Steps) != 4 || m.Master(0) != 0 {
		t.Errorf("steps %d, Master(0) after = %d: the map must not change", len(exp.IncorrectMaster.Steps), m.Master(0))
	}
}

// TestLibvbucketForwardMap: with a forward map, the next master is the
// forward one whatever server failed, and differs from the current master
// for every vbucket (testWrongServerFFT).
func TestLibvbucketForwardMap(t *testing.T) {
	exp := loadExpectations(t)
	m := libvbucketConfig(t, "testapp-config-in-envelope-fft")
	want := exp.ForwardMap.ExpectedNewMasters
	if !m.HasForwardMap() || m.NumVBuckets() != len(want) {
		t.Fatalf("HasForwardMap %v, %d vbuckets; want a forward map over %d", m.HasForwardMap(), m.NumVBuckets(), len(want))
	}
	fwdRows := [][]int{{3, 0, 0}, {2, 1, 3}, {1, 2, 2}, {0, 3, 1}} // the file's vBucketMapForward
	for vb := range uint16(len(want)) {
		master := m.Master(vb)
		got := m.NextMaster(vb, master, master)
		if got != want[vb] || got == master || m.ForwardMaster(vb) != want[vb] {
			t.Errorf("vb %d: NextMaster %d ForwardMaster %d (current %d), want %d", vb, got, m.ForwardMaster(vb), master, want[vb])
		}
		if other := m.NextMaster(vb, master, (master+1)%4); other != want[vb] {
			t.Errorf("vb %d: NextMaster with another wrong server = %d, want forward %d", vb, other, want[vb])
		}
		for r := range 2 {
			if got := m.ForwardReplica(vb, r); got != fwdRows[vb][r+1] {
				t.Errorf("vb %d: ForwardReplica(%d) = %d, want %d", vb, r, got, fwdRows[vb][r+1])
			}
		}
	}
}

// TestLibvbucketUserPassword: "name" is the user unless it is "default";
// saslPassword is the password.
func TestLibvbucketUserPassword(t *testing.T) {
	exp := loadExpectations(t)
	if len(exp.UserPassword) != 2 {
		t.Fatalf("want 2 user_password entries, have %d", len(exp.UserPassword))
	}
	for name, want := range exp.UserPassword {
		m := libvbucketConfig(t, name)
		if m.User != want.User || m.Password != want.Password || !m.HasPassword || m.Name != want.User {
			t.Errorf("%s: name %q user %q password %q (set %v), want %q/%q", name, m.Name, m.User, m.Password, m.HasPassword, want.User, want.Password)
		}
	}
	for _, name := range []string{"testapp-config-in-envelope2", "vbucket-eight-nodes", "ketama-eight-nodes"} {
		m := libvbucketConfig(t, name)
		if m.Name != "default" || m.User != "" {
			t.Errorf("%s: name %q user %q, want bucket default with no user", name, m.Name, m.User)
		}
	}
}

// TestLibvbucketCouchAPIBase: nodes[] are matched to serverList by host
// and ports.direct, whatever their order.
func TestLibvbucketCouchAPIBase(t *testing.T) {
	exp := loadExpectations(t).CouchAPIBase
	m := libvbucketConfig(t, exp.Config)
	if len(m.Servers) != len(exp.Servers) || m.NumVBuckets() != 16 {
		t.Fatalf("%d servers, %d vbuckets; want %d and 16", len(m.Servers), m.NumVBuckets(), len(exp.Servers))
	}
	for i := range exp.Servers {
		n := m.Node(i)
		if m.Servers[i].String() != exp.Servers[i] || n.CouchAPIBase != exp.CouchAPIBase[i] || n.RESTAuthority != exp.RESTServer[i] {
			t.Errorf("server %d: %s %+v, want %s couch %s rest %s", i, m.Servers[i], n, exp.Servers[i], exp.CouchAPIBase[i], exp.RESTServer[i])
		}
	}
	if (m.Node(-1) != NodeInfo{}) || (m.Node(len(exp.Servers)) != NodeInfo{}) {
		t.Errorf("Node out of range is not zero")
	}
}

// TestVBucketEightNodes checks the real Couchbase 1.7 config: thisNode and
// a replica of vb 15.
func TestVBucketEightNodes(t *testing.T) {
	m := libvbucketConfig(t, "vbucket-eight-nodes")
	if len(m.Servers) != 8 || m.NumVBuckets() != 16 || m.NumReplicas() != 2 {
		t.Fatalf("%d servers %d vbuckets %d replicas, want 8/16/2", len(m.Servers), m.NumVBuckets(), m.NumReplicas())
	}
	var this []int
	for i := range m.Servers {
		if m.Node(i).ThisNode {
			this = append(this, i)
		}
	}
	if !slices.Equal(this, []int{0}) || m.Node(0).RESTAuthority != "172.16.16.76:9000" {
		t.Errorf("thisNode servers %v (node 0 %+v), want [0] at 172.16.16.76:9000", this, m.Node(0))
	}
	if m.Master(15) != 7 || m.Replica(15, 0) != 6 || m.Replica(15, 1) != 5 || m.Replica(15, 2) != -1 {
		t.Errorf("vb 15: %d %d %d %d, want 7 6 5 -1", m.Master(15), m.Replica(15, 0), m.Replica(15, 1), m.Replica(15, 2))
	}
}

// TestRegressionBug2112: the membase 1.6 one-line config, 1024 vbuckets.
func TestRegressionBug2112(t *testing.T) {
	exp := loadExpectations(t).Bug2112
	m := libvbucketConfig(t, "regression-bug2112")
	if m.NumVBuckets() != 1024 || len(m.Servers) != 2 || m.NumReplicas() != 1 {
		t.Fatalf("%d vbuckets, %d servers, %d replicas; want 1024/2/1", m.NumVBuckets(), len(m.Servers), m.NumReplicas())
	}
	key := []byte(exp.Key)
	if got := HashCRC(key); got != uint32(exp.CRC) {
		t.Errorf("crc(%q) = %d, want %d", key, got, exp.CRC)
	}
	vb := m.VBucketOf(key)
	if int(vb) != exp.VBucket {
		t.Errorf("VBucketOf(%q) = %d, want %d", key, vb, exp.VBucket)
	}
	if got := m.Servers[m.Locate(key)].String(); got != exp.Master {
		t.Errorf("Locate(%q) -> %s, want %s", key, got, exp.Master)
	}
	for i, want := range exp.Replicas {
		if got := m.Replica(vb, i); got != want {
			t.Errorf("Replica(%d, %d) = %d, want %d", vb, i, got, want)
		}
	}
	if m.User != "" || !m.HasPassword || m.Password != "" {
		t.Errorf("user %q password %q set %v; vBucketServerMap's user/password must be ignored", m.User, m.Password, m.HasPassword)
	}
}
