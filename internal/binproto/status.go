package binproto

// Status is the status field of a response.
type Status uint16

// Status codes. Auth errors are 0x20/0x21 as every real server sends them.
const (
	StatusOK             Status = 0x0000
	StatusKeyNotFound    Status = 0x0001
	StatusKeyExists      Status = 0x0002
	StatusTooBig         Status = 0x0003
	StatusInvalid        Status = 0x0004
	StatusNotStored      Status = 0x0005
	StatusDeltaBadValue  Status = 0x0006
	StatusNotMyVBucket   Status = 0x0007
	StatusAuthError      Status = 0x0020
	StatusAuthContinue   Status = 0x0021
	StatusUnknownCommand Status = 0x0081
	StatusNoMemory       Status = 0x0082
	StatusNotSupported   Status = 0x0083
	StatusInternal       Status = 0x0084
	StatusBusy           Status = 0x0085
	StatusTempFailure    Status = 0x0086
)

// Message is the text memcached 1.6 puts in the body of an error reply
// with this status (write_bin_error). moxi's own errors use the texts of
// ProxyMessage instead.
func (s Status) Message() string {
	switch s {
	case StatusNoMemory:
		return "Out of memory"
	case StatusUnknownCommand:
		return "Unknown command"
	case StatusKeyNotFound:
		return "Not found"
	case StatusInvalid:
		return "Invalid arguments"
	case StatusKeyExists:
		return "Data exists for key."
	case StatusTooBig:
		return "Too large."
	case StatusDeltaBadValue:
		return "Non-numeric server-side value for incr or decr"
	case StatusNotStored:
		return "Not stored."
	case StatusAuthError:
		return "Auth failure."
	}
	return "UNHANDLED ERROR"
}

// ProxyMessage is the body moxi puts in error replies it makes itself
// (downstream failures, the NULL bucket), as the original moxi did.
func (s Status) ProxyMessage() string {
	switch s {
	case StatusBusy:
		return "System is busy"
	case StatusAuthError:
		return "Auth failure"
	case StatusNotSupported:
		return "Not supported"
	}
	return "Internal error"
}
