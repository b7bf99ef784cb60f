package memserver

import (
	"fmt"
	"testing"

	"github.com/moxifleet/moxi/internal/binproto"
)

// TestVBucketFilter checks the membase data-node hook: keyed binary
// requests for a vbucket the filter rejects get NOT_MY_VBUCKET with their
// opcode and opaque, quiet ones included; owned vbuckets, keyless
// commands and text requests are served.
func TestVBucketFilter(t *testing.T) {
	addr, _ := startMemserver(t, Config{VBucketFilter: func(vb uint16) bool { return vb == 3 }})
	bin := newBinSide(t, addr)
	req := func(op binproto.Opcode, vb uint16, opaque uint32, extras []byte, key, value string) []byte {
		return binproto.AppendRequest(nil, op, vb, opaque, 0, extras, []byte(key), []byte(value))
	}
	got, _, err := bin.exchange(&binChunk{pkts: [][]byte{
		req(binproto.OpSet, 3, 10, setExtras(5, 0), "k", "v"),
		req(binproto.OpGetK, 3, 11, nil, "k", ""),
		req(binproto.OpGetK, 5, 12, nil, "k", ""),
		req(binproto.OpSetQ, 4, 13, setExtras(0, 0), "k", "x"),
		req(binproto.OpGetKQ, 700, 14, nil, "k", ""),
		req(binproto.OpDelete, 0, 15, nil, "k", ""),
		req(binproto.OpVersion, 9, 16, nil, "", ""),
	}})
	nmvb := ` status=0x0007 opaque=%d cas=0 dt=0 extras= key="" value="I'm not responsible for this vbucket"`
	want := []string{
		`op=0x01 status=0x0000 opaque=10 cas=#1 dt=0 extras= key="" value=""`,
		`op=0x0c status=0x0000 opaque=11 cas=#1 dt=0 extras=00000005 key="k" value="v"`,
		`op=0x0c` + fmt.Sprintf(nmvb, 12),
		`op=0x11` + fmt.Sprintf(nmvb, 13),
		`op=0x0d` + fmt.Sprintf(nmvb, 14),
		`op=0x04` + fmt.Sprintf(nmvb, 15),
		`op=0x0b status=0x0000 opaque=16 cas=0 dt=0 extras= key="" value="1.6.18"`,
	}
	if err != nil || len(got) != len(want) {
		t.Fatalf("got %d replies %q, err %v; want %q", len(got), got, err, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("reply %d: got %s\nwant %s", i, got[i], want[i])
		}
	}
	// The refused set and delete did not touch the item; text has no
	// vbucket and is served.
	if out, err := dial(t, addr).exchange("get k\r\n"); err != nil || out != "VALUE k 5 1\r\nv\r\nEND\r\n" {
		t.Fatalf("text get: %q %v", out, err)
	}
}
