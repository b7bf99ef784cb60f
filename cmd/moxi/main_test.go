package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func runArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errOut, noEnv)
	return code, out.String(), errOut.String()
}

func TestRunRequestsAndErrors(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // substring
		stderrLine string // exact, without the newline
	}{
		{"help", []string{"-h"}, 0, "downstream_timeout (timeout, downstream_conn_timeout)", ""},
		{"help shows live defaults", []string{"-h"}, 0, "mcs_opts" + strings.Repeat(" ", 47) + `""`, ""},
		{"version", []string{"-V"}, 0, "moxi " + version, ""},
		{"license", []string{"-i"}, 0, "moxi (Go)", ""},
		{"no config", nil, 1, "", "ERROR: need cluster configuration. See usage (-h)."},
		{"unknown flag", []string{"-q"}, 1, "", "moxi: unknown flag -q"},
		{"bad threads", []string{"-p1", "-t", "0"}, 1, "", "moxi: -t must be >= 1"},
		{"bad -Z", []string{"-z", "11211=a", "-Z", "tmeout=5"}, 1, "", "moxi: -Z: unknown behavior key: tmeout"},
		{"bad -z", []string{"-z", "localhost:11211"}, 1, "", `moxi: -z: bad moxi config, missing =: "localhost:11211"`},
		{"missing cfg file", []string{"-z", "./no-such.cfg"}, 1, "", "moxi: -z: could not read cfg file: ./no-such.cfg: no such file or directory"},
		{"https rest", []string{"https://h:8091/pools/default/bucketsStreaming/default"}, 1, "",
			`moxi: unexpected argument "https://h:8091/pools/default/bucketsStreaming/default" (give the cluster configuration with -z)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tt.code, stderr)
			}
			if !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout %q does not contain %q", stdout, tt.stdout)
			}
			if tt.stderrLine != "" && stderr != tt.stderrLine+"\n" {
				t.Errorf("stderr = %q, want %q", stderr, tt.stderrLine+"\n")
			}
		})
	}
}

func TestRunListenFailureExitsOSErr(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	pidFile := filepath.Join(t.TempDir(), "moxi.pid")

	code, _, stderr := runArgs(t, "-l", "127.0.0.1", "-z", port+"=a:1", "-P", pidFile)
	if code != exitOSErr {
		t.Errorf("exit code %d, want %d", code, exitOSErr)
	}
	want := "moxi: could not listen on port " + port + ". Please use -Z port_listen=PORT_NUM to specify a different port number."
	if !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 {
		t.Errorf("stderr = %q, want one line starting %q", stderr, want)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
}

func TestLogWriterReopen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "moxi.log")
	lw, err := openLog(path, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer lw.Close()
	logger := newLogger(lw, new(slog.LevelVar), "text")
	logger.Info("first")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := lw.Reopen(); err != nil {
		t.Fatal(err)
	}
	logger.Info("second")
	for file, want := range map[string]string{path + ".1": "msg=first", path: "msg=second"} {
		data, err := os.ReadFile(file)
		if err != nil || !strings.Contains(string(data), want) {
			t.Errorf("%s = %q, %v; want %q", file, data, err, want)
		}
	}
	if _, err := openLog(filepath.Join(dir, "no", "dir", "x.log"), io.Discard); err == nil {
		t.Error("unwritable -O: want error")
	}
}

func TestTraceLevelName(t *testing.T) {
	var buf bytes.Buffer
	level := new(slog.LevelVar)
	level.Set(-8)
	newLogger(&buf, level, "text").Log(context.Background(), -8, "deep")
	if !strings.Contains(buf.String(), "level=TRACE") {
		t.Errorf("got %q", buf.String())
	}
}

// TestJSONLogger: log_format=json gives one JSON object per line, with
// the -vvv level still named TRACE.
func TestJSONLogger(t *testing.T) {
	var buf bytes.Buffer
	level := new(slog.LevelVar)
	level.Set(-8)
	newLogger(&buf, level, "json").Log(context.Background(), -8, "deep", "k", 1)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("not JSON: %q (%v)", buf.String(), err)
	}
	if rec["level"] != "TRACE" || rec["msg"] != "deep" || rec["k"] != float64(1) {
		t.Errorf("got %v", rec)
	}
}

func TestWatchStdin(t *testing.T) {
	for input, want := range map[string]string{"": "EOF on stdin.  Exiting", "abc\nrest": "EOL on stdin.  Exiting"} {
		var buf bytes.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		watchStdin(strings.NewReader(input), slog.New(slog.NewTextHandler(&buf, nil)), cancel)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
			t.Fatalf("input %q: not stopped", input)
		}
		if !strings.Contains(buf.String(), want) {
			t.Errorf("input %q: log %q, want %q", input, buf.String(), want)
		}
	}
}
