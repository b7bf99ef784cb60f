package ascii

import (
	"fmt"
	"strings"
)

// flagList returns n distinct opaque-style flags "O0".."O<n-1>".
func flagList(n int) string {
	fs := make([]string, n)
	for i := range fs {
		fs[i] = fmt.Sprintf("O%d", i)
	}
	return strings.Join(fs, " ")
}

func metaCases() []errorCase {
	cl := func(s string) string { return "CLIENT_ERROR " + s + "\r\n" }
	long := "O" + strings.Repeat("a", 32)
	return []errorCase{
		{"mg arity", "mg\r\nmg \r\nmd\r\nma\r\n" + mn, strings.Repeat(errLine, 4) + mnReply, false},
		{"mg key too long", "mg " + key251 + " v\r\n" + mn, badFmt + mnReply, false},
		{"mg duplicate flag", "mg k v v\r\nmg k \xff\r\n" + mn, cl("duplicate flag") + cl("duplicate flag") + mnReply, false},
		{"mg invalid flag", "mg k !\r\nmg k E1\r\nmg k x\r\nmg k \t\r\n" + mn, strings.Repeat(cl("invalid flag"), 4) + mnReply, false},
		{"mg bad token", "mg k Ttt\r\nmg k T\r\nmg k N-\r\nmg k R1x\r\nmg k C-1\r\n" + mn,
			strings.Repeat(cl("bad token in command line format"), 5) + mnReply, false},
		{"mg bad F", "mg k Fx\r\n" + mn, badFmt + mnReply, false},
		{"mg M length", "mg k MXX\r\n" + mn, cl("incorrect length for M token") + mnReply, false},
		{"mg bad J D", "mg k Jx\r\nmg k D-1\r\n" + mn, cl("invalid numeric initial value") + cl("invalid numeric delta value") + mnReply, false},
		{"mg last flag error wins", "mg k Tx b\r\nmg k b Tx\r\n" + mn, cl("error decoding key") + cl("bad token in command line format") + mnReply, false},
		{"mg invalid flag stops scan", "mg k Tx !\r\n" + mn, cl("invalid flag") + mnReply, false},
		{"mg opaque too long", "mg k " + long + "\r\nmg k q " + long + "\r\n" + mn, cl("opaque token too long") + cl("opaque token too long") + mnReply, false},
		{"mg too many flags", "mg k " + flagList(18) + "\r\n" + mn, cl("options flags are too long") + mnReply, false},
		{"mg bad base64", "mg !!!! b\r\nmg a2V b\r\nmg a2V5= b\r\nmg ==== b\r\nmg k b\r\n" + mn,
			strings.Repeat(cl("error decoding key"), 5) + mnReply, false},
		{"md errors", "md " + key251 + "\r\nmd k !\r\nmd k q q\r\nmd !!!! b\r\nmd k Tx\r\nmd k " + long + "\r\nmd k " + flagList(18) + "\r\n" + mn,
			badFmt + strings.Repeat(cl("invalid or duplicate flag"), 4) + cl("opaque token too long") + cl("options flags too long") + mnReply, false},
		{"ma errors", "ma " + key251 + "\r\nma k Dx\r\nma k MXX\r\nma k MX\r\nma k " + long + " MX\r\nma k " + long + "\r\n" + mn,
			badFmt + strings.Repeat(cl("invalid or duplicate flag"), 2) + cl("invalid mode for ma M token") +
				cl("invalid mode for ma M token") + cl("opaque token too long") + mnReply, false},
		{"me errors", "me\r\nme " + key251 + "\r\nme !!!! b\r\n" + mn, badFmt + badFmt + badFmt + mnReply, false},
	}
}

func metaSetCases() []errorCase {
	cl := func(s string) string { return "CLIENT_ERROR " + s + "\r\n" }
	big := strings.Repeat("a", 1048517)
	return []errorCase{
		{"ms no datalen", "ms k\r\n" + mn, badFmt + mnReply, false},
		{"ms bad datalen, data read as command", "ms k x\r\nab\r\nms k -1\r\nms k 2147483646\r\n" + mn,
			badFmt + errLine + badFmt + badFmt + mnReply, false},
		{"ms key too long not swallowed", "ms " + key251 + " 1\r\nX\r\n" + mn, badFmt + errLine + mnReply, false},
		{"ms too many flags not swallowed", "ms k 1 " + flagList(17) + "\r\nX\r\n" + mn, cl("options flags too long") + errLine + mnReply, false},
		{"ms flag errors swallow", "ms k 1 Tx\r\nX\r\nms k 1 !\r\nX\r\nms k 1 T1 T2\r\nX\r\nms k 1 Fx\r\nX\r\nms k 1 b\r\nX\r\n" + mn,
			cl("bad token in command line format") + cl("invalid flag") + cl("duplicate flag") + badFmt + cl("error decoding key") + mnReply, false},
		{"ms swallow counts bytes", "ms k 1 Tx\r\n" + mn, cl("bad token in command line format") + errLine, false},
		{"ms mode", "ms k 1 MX\r\nX\r\nms k 1 MXX\r\nX\r\n" + mn, cl("invalid mode for ms M token") + cl("incorrect length for M token") + mnReply, false},
		{"ms mode before opaque", "ms k 1 O" + strings.Repeat("a", 40) + " MX\r\nX\r\nms k 1 O" + strings.Repeat("a", 40) + "\r\nX\r\n" + mn,
			cl("invalid mode for ms M token") + cl("opaque token too long") + mnReply, false},
		{"ms bad data chunk", "ms k 1\r\nXYZ\r\nms k 1 q\r\nXYZ\r\n" + mn, badChunk + errLine + badChunk + errLine + mnReply, false},
		{"ms too large", "ms k 1048517\r\n" + big + "\r\nms k 1048513 F1\r\n" + big[:1048513] + "\r\n" + mn,
			"SERVER_ERROR object too large for cache\r\nSERVER_ERROR object too large for cache\r\n" + mnReply, false},
		{"ms too large quiet", "ms k 1048517 q\r\n" + big + "\r\n" + mn, "SERVER_ERROR object too large for cache\r\n" + mnReply, false},
		{"mn ignores arguments", "mn k v\r\n", mnReply, false},
	}
}
