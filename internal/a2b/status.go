package a2b

import "github.com/moxifleet/moxi/internal/binproto"

// Text replies for binary statuses. Where memcached's own text protocol
// has an answer for the situation a status reports, a2b sends exactly that
// (users compare moxi with memcached 1.6.18, observed on the server):
//
//	status        command              text
//	E2BIG         set/add/.../cas, ms  SERVER_ERROR object too large for cache
//	ENOMEM        set/add/.../cas, ms  SERVER_ERROR out of memory storing object
//	ENOMEM        incr/decr, ma        SERVER_ERROR out of memory
//	DELTA_BADVAL  incr/decr, ma        CLIENT_ERROR cannot increment or decrement non-numeric value
//
// (the per-command STORED/NOT_STORED/EXISTS/NOT_FOUND choices are in
// a2b_reply.go and a2b_reply_meta.go). A status memcached's text protocol
// has no counterpart for (a server error, or a Couchbase status) gets the
// string moxi's a2b_out_error used, a2bStatusText, whatever the command.
// This differs from moxi for delete, which masked every such status as
// NOT_FOUND, and for incr/decr, which said "SERVER_ERROR a2b arith error":
// hiding a server failure behind a miss is a lie memcached never tells.

// a2bStatusText is moxi's a2b_out_error text for status.
func a2bStatusText(st binproto.Status) string {
	switch st {
	case binproto.StatusNotStored:
		return "NOT_STORED\r\n"
	case binproto.StatusTooBig:
		return "SERVER_ERROR a2b e2big\r\n"
	case binproto.StatusInvalid:
		return "SERVER_ERROR a2b einval\r\n"
	case binproto.StatusDeltaBadValue:
		return "SERVER_ERROR a2b delta_badval\r\n"
	case binproto.StatusNotMyVBucket:
		return "SERVER_ERROR a2b not_my_vbucket\r\n"
	case binproto.StatusAuthError:
		return "SERVER_ERROR a2b auth_error\r\n"
	case binproto.StatusAuthContinue:
		return "SERVER_ERROR a2b auth_continue\r\n"
	case binproto.StatusUnknownCommand:
		return "SERVER_ERROR a2b unknown\r\n"
	case binproto.StatusNoMemory:
		return "SERVER_ERROR a2b out of memory\r\n"
	case binproto.StatusNotSupported:
		return "SERVER_ERROR a2b not supported\r\n"
	case binproto.StatusInternal:
		return "SERVER_ERROR a2b einternal\r\n"
	case binproto.StatusBusy:
		return "SERVER_ERROR a2b ebusy\r\n"
	case binproto.StatusTempFailure:
		return "SERVER_ERROR temporary failure\r\n"
	}
	return "SERVER_ERROR a2b error\r\n"
}

// Lines memcached's text protocol uses for the statuses above.
const (
	textTooLarge      = "SERVER_ERROR object too large for cache\r\n"
	textStoreNoMemory = "SERVER_ERROR out of memory storing object\r\n"
	textArithNoMemory = "SERVER_ERROR out of memory\r\n"
	textNonNumeric    = "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
)

// storeErrorText is the line for a storage command's failure that is not
// one of the four storage answers.
func storeErrorText(st binproto.Status) string {
	switch st {
	case binproto.StatusTooBig:
		return textTooLarge
	case binproto.StatusNoMemory:
		return textStoreNoMemory
	}
	return a2bStatusText(st)
}

// arithErrorText is the line for an incr/decr/ma failure that is not a
// miss or a CAS mismatch.
func arithErrorText(st binproto.Status) string {
	switch st {
	case binproto.StatusDeltaBadValue:
		return textNonNumeric
	case binproto.StatusNoMemory:
		return textArithNoMemory
	}
	return a2bStatusText(st)
}
