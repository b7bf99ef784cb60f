package a2b

import (
	"strings"

	"github.com/moxifleet/moxi/internal/ascii"
)

// Meta flags over binary. For each meta command a flag is translated
// (binary carries its whole effect), ignored (memcached 1.6.18 accepts it
// on that command and does nothing with it, checked against the server, so
// dropping it keeps the reply identical) or refused (memcached acts on it
// and binary cannot, so the client gets a CLIENT_ERROR naming the flag
// rather than a reply that silently differs from memcached's):
//
//	cmd  translated             ignored                            refused
//	mg   b c f k O q s v T      C D F I J L M P                    h l N R t u
//	ms   b c C F k M O q T      D f h J l L N P R s t u v          I
//	md   b C k O q              c D f F h J l L M N P R s t T u v  I
//	ma   b c C D J k M N O q v  f F h I l L P R s u                t T
//
// ma also refuses N together with q (see errQuietVivify). md ignores T
// because memcached applies it only together with I. Flags unknown to
// memcached 1.6.18 (E, x, ...) never get here, the parser refuses them;
// should one come through it is refused too.
//
// One difference remains with k on mg and ms: memcached echoes the key
// base64-encoded when the stored item was written with a b key, whoever
// asks; over binary the server does not record that, so the echo follows
// the b flag of the request itself.

// a2bPolicy is one command's translated and ignored flags; the rest are
// refused.
type a2bPolicy struct{ translated, ignored string }

func metaPolicy(op ascii.Op) a2bPolicy {
	switch op {
	case ascii.OpMetaGet:
		return a2bPolicy{"bcfkOqsvT", "CDFIJLMP"}
	case ascii.OpMetaSet:
		return a2bPolicy{"bcCFkMOqT", "DfhJlLNPRstuv"}
	case ascii.OpMetaDelete:
		return a2bPolicy{"bCkOq", "cDfFhJlLMNPRstTuv"}
	case ascii.OpMetaArith:
		return a2bPolicy{"bcCDJkMNOqv", "fFhIlLPRsu"}
	}
	return a2bPolicy{}
}

// checkA2BMeta applies cmd's meta policy: errLine is the reply for a
// flag binary cannot carry. The arguments of the flags it translates are
// the protocol reader's (cmd.Meta), read once.
func checkA2BMeta(cmd *ascii.Request) (errLine string) {
	pol := metaPolicy(cmd.Op)
	for _, f := range cmd.MetaFlags {
		c := f[0]
		if strings.IndexByte(pol.translated, c) < 0 && strings.IndexByte(pol.ignored, c) < 0 {
			return refusedFlag(c)
		}
	}
	return ""
}

// refusedFlag is the reply for a flag binary cannot express. It allocates,
// which is fine: it is an error path a client hits once and fixes.
func refusedFlag(c byte) string {
	return "CLIENT_ERROR meta flag " + string([]byte{c}) +
		" needs -Z downstream_protocol=ascii\r\n"
}
