package ascii

// Reply lines memcached 1.6.18 sends for bad input, verified against the
// real server (see differential_test.go).
const (
	replyError          = "ERROR"
	replyBadFormat      = "CLIENT_ERROR bad command line format"
	replyBadDataChunk   = "CLIENT_ERROR bad data chunk"
	replyTooLarge       = "SERVER_ERROR object too large for cache"
	replyBadExptime     = "CLIENT_ERROR invalid exptime argument"
	replyBadDelta       = "CLIENT_ERROR invalid numeric delta argument"
	replyDeleteUsage    = "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]"
	replyDuplicateFlag  = "CLIENT_ERROR duplicate flag"
	replyInvalidFlag    = "CLIENT_ERROR invalid flag"
	replyBadToken       = "CLIENT_ERROR bad token in command line format"
	replyDecodeKey      = "CLIENT_ERROR error decoding key"
	replyMLength        = "CLIENT_ERROR incorrect length for M token"
	replyBadInitial     = "CLIENT_ERROR invalid numeric initial value"
	replyBadDeltaValue  = "CLIENT_ERROR invalid numeric delta value"
	replyOpaqueTooLong  = "CLIENT_ERROR opaque token too long"
	replyMgFlagsTooLong = "CLIENT_ERROR options flags are too long" // mg only
	replyFlagsTooLong   = "CLIENT_ERROR options flags too long"     // ms, md, ma
	replyInvalidOrDup   = "CLIENT_ERROR invalid or duplicate flag"  // md, ma
	replyMsMode         = "CLIENT_ERROR invalid mode for ms M token"
	replyMaMode         = "CLIENT_ERROR invalid mode for ma M token"
)

// protoErr returns the error for reply. Classic commands that carried
// noreply get an empty Reply: memcached's out_string drops even error lines
// once noreply has been parsed.
func protoErr(req *Request, reply string) *Error {
	if req.NoReply {
		return &Error{}
	}
	return &Error{Reply: reply}
}

// metaErr returns the error for a meta command; memcached never suppresses
// meta errors, whatever the q flag says.
func metaErr(reply string) *Error { return &Error{Reply: reply} }

// closeErr reports input after which memcached closes the connection
// without a reply.
func closeErr() *Error { return &Error{Close: true} }
