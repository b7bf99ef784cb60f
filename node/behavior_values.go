package node

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/moxifleet/moxi/proxycore"
)

// behaviorValue is one settable -Z field, in the style of flag.Value.
type behaviorValue interface {
	Set(val string) error
	String() string
}

// uintValue is a non-negative integer key. The original used strtoul into
// 32-bit fields, so larger values are rejected rather than wrapped.
type uintValue struct{ p *int }

func (v uintValue) Set(val string) error {
	n, err := parseUint32(val)
	if err != nil {
		return err
	}
	*v.p = n
	return nil
}

func (v uintValue) String() string { return strconv.Itoa(*v.p) }

// msValue is a time in milliseconds on the command line; 0 means disabled.
type msValue struct{ p *time.Duration }

func (v msValue) Set(val string) error {
	n, err := parseUint32(val)
	if err != nil {
		return err
	}
	*v.p = time.Duration(n) * time.Millisecond
	return nil
}

func (v msValue) String() string { return strconv.FormatInt(v.p.Milliseconds(), 10) }

// boolValue is a 0/1 switch; the original stored any unsigned number and
// tested it for non-zero, so any non-negative number is accepted.
type boolValue struct{ p *bool }

func (v boolValue) Set(val string) error {
	n, err := parseUint32(val)
	if err != nil {
		return err
	}
	*v.p = n != 0
	return nil
}

func (v boolValue) String() string {
	if *v.p {
		return "1"
	}
	return "0"
}

// stringValue is a free-text key. max is the longest value the original's
// fixed-size buffer held (0: no limit known); a longer value was refused
// there, so it is refused here too instead of being silently truncated.
type stringValue struct {
	p   *string
	max int
}

func (v stringValue) Set(val string) error {
	if v.max > 0 && len(val) > v.max {
		return fmt.Errorf("value longer than %d characters", v.max)
	}
	*v.p = val
	return nil
}

func (v stringValue) String() string { return *v.p }

// protocolValue is downstream_protocol, normalised to "ascii" or "binary".
// Unlike the original, the value must be spelled out in full: its
// prefix-matching made "m" mean ascii.
type protocolValue struct{ p *proxycore.Protocol }

func (v protocolValue) Set(val string) error {
	switch val {
	case "ascii", "memcached-ascii", "membase-ascii":
		*v.p = proxycore.ProtocolText
	case "binary", "memcached-binary", "membase-binary":
		*v.p = proxycore.ProtocolBinary
	default:
		return errors.New("want ascii or binary")
	}
	return nil
}

func (v protocolValue) String() string { return string(*v.p) }

// parseUint32 parses a plain decimal in [0, MaxUint32]. An empty value is
// an error: the original's strtol read it as 0, which for a timeout means
// "disabled" — too big a change to make from a typo.
func parseUint32(s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, errors.New("want a non-negative number")
	}
	if n > math.MaxInt32 && strconv.IntSize == 32 {
		return 0, errors.New("number too large")
	}
	return int(n), nil
}
