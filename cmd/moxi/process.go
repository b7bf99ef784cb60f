package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"

	"github.com/moxifleet/moxi/node"
)

// logWriter is the log destination: stderr, or the -O file, which SIGHUP
// reopens so logrotate can move it away.
type logWriter struct {
	mu   sync.Mutex
	path string    // "" for stderr
	w    io.Writer // current destination
	f    *os.File  // open -O file, nil for stderr
}

// openLog opens the -O destination. "" and "stderr" mean stderr. The
// original fell back to syslog when the file could not be opened; here
// that is a startup error.
func openLog(path string, stderr io.Writer) (*logWriter, error) {
	if path == "" || path == "stderr" {
		return &logWriter{w: stderr}, nil
	}
	l := &logWriter{path: path}
	if err := l.Reopen(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Reopen reopens the -O file; it does nothing when logging to stderr.
func (l *logWriter) Reopen() error {
	if l.path == "" {
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("-O: could not open log file: %w", err)
	}
	l.mu.Lock()
	old := l.f
	l.f, l.w = f, f
	l.mu.Unlock()
	if old != nil {
		return old.Close()
	}
	return nil
}

// Close closes the -O file.
func (l *logWriter) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

// newLogger builds the process's logger: key=value text, or one JSON
// object per line for log shippers (-Z log_format=json). The -vvv level
// prints as TRACE instead of slog's "DEBUG-4".
func newLogger(w io.Writer, level *slog.LevelVar, format string) *slog.Logger {
	opts := &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.LevelKey && len(groups) == 0 {
				if lv, ok := a.Value.Any().(slog.Level); ok && lv <= node.LevelTrace {
					a.Value = slog.StringValue("TRACE")
				}
			}
			return node.RedactAttr(a)
		},
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// writePIDFile writes the process id. Unlike the original it does so
// without -d too, since -d has no effect.
func writePIDFile(path string) error {
	if err := os.WriteFile(path, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("-P: could not write pid file: %w", err)
	}
	return nil
}

func removePIDFile(path string, logger *slog.Logger) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		logger.Warn("could not remove pid file", "path", path, "err", err)
	}
}

// watchStdin implements -Y y: stop when stdin reaches EOF or a line end,
// so moxi does not outlive a wrapper process that started it.
func watchStdin(r io.Reader, logger *slog.Logger, stop context.CancelFunc) {
	br := bufio.NewReader(r)
	for {
		b, err := br.ReadByte()
		if err != nil {
			logger.Warn("EOF on stdin.  Exiting")
			stop()
			return
		}
		if b == '\n' || b == '\r' {
			logger.Warn("EOL on stdin.  Exiting")
			stop()
			return
		}
	}
}
