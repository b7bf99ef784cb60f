package memserver

import (
	"testing"

	"github.com/moxifleet/moxi/internal/ascii"
)

// Expected replies below were captured from memcached 1.6.18.

func mg(line string) *ascii.Request { return rqMeta(ascii.OpMetaGet, line, "") }
func md(line string) *ascii.Request { return rqMeta(ascii.OpMetaDelete, line, "") }
func ma(line string) *ascii.Request { return rqMeta(ascii.OpMetaArith, line, "") }
func me(line string) *ascii.Request { return rqMeta(ascii.OpMetaDebug, line, "") }
func ms(line, data string) *ascii.Request {
	return rqMeta(ascii.OpMetaSet, line, data)
}

func TestExecMetaGetSet(t *testing.T) {
	s, _ := newTestServer(Config{})
	runSteps(t, s, []step{
		{rqStore(ascii.OpSet, "a", 5, 0, "1", false), "STORED\r\n"},
		{mg("mg a v f t s c k O123 q h l"), "VA 1 f5 t-1 s1 c1 ka O123 h0 l0\r\n1\r\n"},
		{mg("mg a h"), "HD h1\r\n"},
		{mg("mg zz v q"), ""},
		{mg("mg zz k O1"), "EN kzz O1\r\n"},
		{mg("mg a zz"), "CLIENT_ERROR invalid flag\r\n"},
		{mg("mg a v v"), "CLIENT_ERROR duplicate flag\r\n"},
		{mg("mg a Tx"), "CLIENT_ERROR bad token in command line format\r\n"},
		{mg("mg a O123456789012345678901234567890123"), "CLIENT_ERROR opaque token too long\r\n"},
		{mg("mg a t T30"), "HD t-1\r\n"},
		{mg("mg a t"), "HD t30\r\n"},
		{ms("ms b 2 c k O1 T0 F3", "hi"), "HD c2 kb O1\r\n"},
		{ms("ms b 2 q", "hi"), ""},
		{ms("ms b 2 ME q", "hi"), "NS\r\n"},
		{ms("ms zz 2 MA", "hi"), "NS\r\n"},
		{ms("ms zz 2 MR c", "hi"), "NS c0\r\n"},
		{ms("ms b 2 MX", "hi"), "CLIENT_ERROR invalid mode for ms M token\r\n"},
		{ms("ms b 2 C999", "hi"), "EX\r\n"},
		{ms("ms b 2 C3", "hi"), "HD\r\n"},
		{ms("ms b 1 MA", "!"), "HD\r\n"},
		{mg("mg b v"), "VA 3\r\nhi!\r\n"},
		{ms("ms Zm9v 2 b k c", "hi"), "HD kZm9v b c6\r\n"},
	})
}

func TestExecMetaBase64Key(t *testing.T) {
	s, _ := newTestServer(Config{})
	req := ms("ms Zm9v 2 b k", "hi")
	req.Key = []byte("foo") // the parser hands over the decoded key
	runSteps(t, s, []step{
		{req, "HD kZm9v b\r\n"},
		{mg("mg foo k v"), "VA 2 kZm9v b\r\nhi\r\n"},
		{me("me foo"), "ME Zm9v exp=-1 la=0 cas=1 fetch=yes cls=1 size=64\r\n"},
		{me("me zz"), "EN\r\n"},
	})
}

func TestExecMetaDeleteArith(t *testing.T) {
	s, _ := newTestServer(Config{})
	runSteps(t, s, []step{
		{rqStore(ascii.OpSet, "n", 0, 0, "10", false), "STORED\r\n"},
		{ma("ma n q"), ""},
		{ma("ma n v"), "VA 2\r\n12\r\n"},
		{ma("ma zz q"), "NF\r\n"},
		{ma("ma n v c t k O9 D5 MD"), "VA 1 c4 t-1 kn O9\r\n7\r\n"},
		{ma("ma new N0 J7 v"), "VA 1\r\n7\r\n"},
		{ma("ma new N100 J7 v t"), "VA 1 t-1\r\n8\r\n"},
		{ma("ma n MX"), "CLIENT_ERROR invalid mode for ma M token\r\n"},
		{ma("ma n Dx"), "CLIENT_ERROR invalid or duplicate flag\r\n"},
		{ma("ma n C1"), "EX\r\n"},
		{ma("ma n v T30 t"), "VA 1 t30\r\n8\r\n"},
		{md("md zz q"), "NF\r\n"},
		{md("md n x"), "CLIENT_ERROR invalid or duplicate flag\r\n"},
		{md("md n C1 k"), "EX kn\r\n"},
		{md("md n q"), ""},
		{md("md n O1"), "NF O1\r\n"},
		{rqMeta(ascii.OpMetaNoop, "mn", ""), "MN\r\n"},
	})
}

func TestExecMetaStale(t *testing.T) {
	s, _ := newTestServer(Config{})
	runSteps(t, s, []step{
		{ms("ms a 2", "hi"), "HD\r\n"},
		{md("md a I T30"), "HD\r\n"},
		{mg("mg a v c t"), "VA 2 c2 t30 X W\r\nhi\r\n"},
		{mg("mg a v c"), "VA 2 c2 Z X\r\nhi\r\n"},
		{ms("ms a 3 C999 I", "new"), "EX\r\n"},
		{ms("ms a 3 C1 I", "old"), "HD\r\n"},
		{mg("mg a v t"), "VA 3 t30 Z X\r\nold\r\n"},
		{mg("mg zz N30 v c t s"), "VA 0 c4 t30 s0 W\r\n\r\n"},
		{mg("mg zz N30 v c t s"), "VA 0 c4 t30 s0 Z\r\n\r\n"},
	})
}
