package cluster

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// libraryLog turns the lines raft and memberlist write into slog records.
// Their routine chatter (heartbeats, probes) goes to debug; warnings and
// errors keep their level, so an operator sees what matters and nothing
// per heartbeat.
type libraryLog struct {
	logger *slog.Logger
	lib    string
	// refusals, for memberlist, turns its lines about gossip this node's
	// keyring cannot read into one warning per peer now and then; the
	// library's own line stays at debug.
	refusals *refusalLog
}

func (l libraryLog) Write(p []byte) (int, error) {
	for line := range strings.SplitSeq(string(bytes.TrimRight(p, "\n")), "\n") {
		level, msg := classify(line)
		if l.refusals != nil {
			if reason, peer, ok := refusedGossip(line); ok {
				l.refusals.warn(gossipRefused, peer, reason)
				level = slog.LevelDebug
			}
		}
		l.logger.Log(context.Background(), level, msg, "lib", l.lib)
	}
	return len(p), nil
}

// classify finds the level tag ("[WARN]", "[ERR]", "[ERROR]") in a
// library line and strips the timestamp before it.
func classify(line string) (slog.Level, string) {
	for _, tag := range []struct {
		s     string
		level slog.Level
	}{{"[ERR]", slog.LevelError}, {"[ERROR]", slog.LevelError}, {"[WARN]", slog.LevelWarn}, {"[INFO]", slog.LevelDebug}, {"[DEBUG]", slog.LevelDebug - 4}, {"[TRACE]", slog.LevelDebug - 4}} {
		if i := strings.Index(line, tag.s); i >= 0 {
			return tag.level, strings.TrimSpace(line[i+len(tag.s):])
		}
	}
	return slog.LevelDebug, line
}

// memberlistLogger is the *log.Logger memberlist wants.
func memberlistLogger(lg *slog.Logger) *log.Logger {
	return log.New(libraryLog{logger: lg, lib: "memberlist", refusals: newRefusalLog(lg)}, "", 0)
}

// raftLogger is the hclog.Logger raft wants. Its info lines (elections,
// configuration changes) stay at debug: cluster logs its own one line per
// leadership change.
func raftLogger(lg *slog.Logger) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:   "raft",
		Output: libraryLog{logger: lg, lib: "raft"},
		Level:  hclog.Info,
	})
}

var _ io.Writer = libraryLog{}
