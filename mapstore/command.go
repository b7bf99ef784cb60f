package mapstore

import (
	"encoding/json"
	"errors"
	"fmt"
)

// CommandType is the first byte of every fleet log entry; the rest of the
// entry is the command's JSON payload. Numbers are never reused: a retired
// command keeps its constant (marked Deprecated) so that old logs and
// snapshots still decode.
type CommandType uint8

const (
	// CmdSetSource records the fleet's config source. The first node
	// proposes it at bootstrap; later proposals must name the same source.
	CmdSetSource CommandType = 1
	// CmdSetConfig replaces one -z section's config with the source's bytes.
	CmdSetConfig CommandType = 2

	// IgnoreUnknown is a flag bit, not a command. A newer leader sets it on
	// commands that older nodes may safely skip, so a rolling upgrade does
	// not stop the fleet; an unknown type without it is fatal, because
	// skipping it could make the nodes' states diverge.
	IgnoreUnknown CommandType = 0x80
)

// Errors about log entries. A cluster layer treats both as fatal (the
// entry was committed, so every node would fail the same way).
var (
	ErrUnknownCommand = errors.New("mapstore: unknown command type")
	ErrBadCommand     = errors.New("mapstore: malformed command")
)

// Source is where the fleet's configs come from: the first node's -z value
// (and -Z, for information). Only the raft leader contacts it.
type Source struct {
	Kind     string `json:"kind"`     // "rest" or "static"
	Spec     string `json:"spec"`     // the -z value as the first node was given it: URL list, inline host list, or a file path
	Behavior string `json:"behavior"` // the first node's -Z text; informational
	FleetID  string `json:"fleet_id"` // random id chosen at bootstrap
}

// Same reports whether s and o name the same source. FleetID and Behavior
// are ignored: a node restarted with the same -z must be accepted even
// though it proposes with a fresh id or a tuned -Z.
func (s Source) Same(o Source) bool { return s.Kind == o.Kind && s.Spec == o.Spec }

// ConfigEntry is one config delivered by the source, as raw bytes: every
// node parses them itself, so the log stays independent of the parser's
// version and a node upgrade can re-read old entries.
type ConfigEntry struct {
	Section int    `json:"section"` // which -z section (';'-separated), from 0
	Origin  string `json:"origin"`  // the URL or file path the bytes came from
	Body    []byte `json:"body"`    // the source's exact bytes (base64 in JSON)
	// ProposedAt is the leader's wall clock, in Unix nanoseconds, when it
	// proposed the entry: each node subtracts it from its own clock when it
	// applies the map, which is the fleet's propagation lag. It is for
	// metrics only and never compared, so Apply stays deterministic. 0 (an
	// entry from a moxi before the stamp) means unknown; omitempty keeps
	// such entries' bytes exactly as that moxi wrote them.
	ProposedAt int64 `json:"proposed_at,omitempty"`
}

// EncodeSetSource returns the log entry for CmdSetSource. The encoding is
// canonical: the same Source always yields the same bytes.
func EncodeSetSource(s Source) []byte { return encodeCommand(CmdSetSource, s) }

// EncodeSetConfig returns the log entry for CmdSetConfig; canonical like
// EncodeSetSource.
func EncodeSetConfig(e ConfigEntry) []byte { return encodeCommand(CmdSetConfig, e) }

// encodeCommand is the type byte followed by encoding/json's output, which
// is deterministic for structs (fields in declaration order).
func encodeCommand(t CommandType, v any) []byte {
	payload, err := json.Marshal(v)
	if err != nil {
		// Strings, ints and []byte always marshal; failing here is a bug.
		panic(fmt.Sprintf("mapstore: encode command %d: %v", t, err))
	}
	return append([]byte{byte(t)}, payload...)
}

// DecodeCommand splits a log entry into its type, with IgnoreUnknown
// cleared, and its payload: a Source for CmdSetSource, a ConfigEntry for
// CmdSetConfig. An unknown type carrying IgnoreUnknown returns a nil value
// and no error (the caller skips it); an unknown type without the flag
// returns an error wrapping ErrUnknownCommand. An empty entry or a payload
// that is not a JSON object of the right shape wraps ErrBadCommand.
func DecodeCommand(data []byte) (CommandType, any, error) {
	if len(data) == 0 {
		return 0, nil, fmt.Errorf("decode command: empty entry: %w", ErrBadCommand)
	}
	t := CommandType(data[0]) &^ IgnoreUnknown
	payload := data[1:]
	switch t {
	case CmdSetSource:
		var s Source
		if err := decodePayload(payload, &s); err != nil {
			return t, nil, badCommand("set source", err)
		}
		return t, s, nil
	case CmdSetConfig:
		var e ConfigEntry
		if err := decodePayload(payload, &e); err != nil {
			return t, nil, badCommand("set config", err)
		}
		return t, e, nil
	}
	if CommandType(data[0])&IgnoreUnknown != 0 {
		return t, nil, nil
	}
	return t, nil, fmt.Errorf("decode command: type %d: %w", t, ErrUnknownCommand)
}

// decodePayload requires a JSON object: json.Unmarshal accepts "null" as a
// no-op, which would turn a damaged entry into a zero command. Unknown
// fields are allowed so a newer leader may add some.
func decodePayload(payload []byte, v any) error {
	if jsonKind(payload) != '{' {
		return errors.New("payload is not a JSON object")
	}
	return json.Unmarshal(payload, v)
}

func badCommand(what string, err error) error {
	return fmt.Errorf("decode %s: %w: %w", what, ErrBadCommand, err)
}
