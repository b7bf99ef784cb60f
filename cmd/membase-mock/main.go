// Command membase-mock is a pretend membase cluster for trying moxi
// without Couchbase and for end-to-end tests: data nodes speaking the
// memcached protocols with vbucket ownership (NOT_MY_VBUCKET), ns_server's
// REST config URLs with streaming, and an admin API (/mock/...) to
// rebalance, fail over, and kill or restart nodes. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK    = 0
	exitFail  = 1 // could not start, or the REST server failed
	exitUsage = 2 // bad command line
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process exit: it serves until ctx ends or
// SIGINT/SIGTERM.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.Is(err, errUsage):
		return exitUsage // the flag package has said why
	case err != nil:
		fmt.Fprintf(stderr, "membase-mock: %v\n", err)
		return exitUsage
	}
	level := slog.LevelInfo
	if cfg.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	m, err := newMock(cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "membase-mock: %v\n", err)
		return exitFail
	}
	m.announce(stdout)
	served := make(chan error, 1)
	go func() { served <- m.serve() }()
	code := exitOK
	select {
	case <-ctx.Done():
	case err := <-served:
		log.Error("stopped", "err", err)
		code = exitFail
	}
	m.close()
	return code
}
