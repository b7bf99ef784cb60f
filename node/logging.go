package node

import "log/slog"

// LevelTrace is the level of -vvv output: proxy internals and state
// transitions, below slog's Debug.
const LevelTrace = slog.LevelDebug - 4

// VerbosityLevel maps moxi's -v count (and the "verbosity N" command) to
// a log level: 0 warnings and errors, 1 info, 2 debug (every command),
// 3 or more trace.
func VerbosityLevel(v int) slog.Level {
	switch {
	case v <= 0:
		return slog.LevelWarn
	case v == 1:
		return slog.LevelInfo
	case v == 2:
		return slog.LevelDebug
	default:
		return LevelTrace
	}
}
