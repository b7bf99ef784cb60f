package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/moxifleet/moxi/node"
)

// version is the reply to "version" and -V; release builds set it with
// -ldflags "-X main.version=...".
var version = "2.0.0-dev"

// Exit codes.
const (
	exitOK     = 0
	exitConfig = 1  // bad flag or configuration
	exitOSErr  = 71 // EX_OSERR: a port could not be bound
)

// needConfigMsg is the original's text for a command line with nothing
// to serve.
const needConfigMsg = "ERROR: need cluster configuration. See usage (-h)."

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

// run is main without the process exit, so it can be tested.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 && args[0] == "status" {
		return runStatus(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "keygen" {
		return runKeygen(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "tls-init" {
		return runTLSInit(args[1:], stdout, stderr)
	}
	opts, err := parseArgs(args, getenv)
	if code, done := reportParse(err, stdout, stderr); done {
		return code
	}
	format, err := node.LogFormat(opts.Behavior)
	if err != nil {
		fmt.Fprintf(stderr, "moxi: %v\n", err)
		return exitConfig
	}
	logOut, err := openLog(opts.LogFile, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "moxi: %v\n", err)
		return exitConfig
	}
	defer logOut.Close()
	level := new(slog.LevelVar)
	level.Set(node.VerbosityLevel(opts.Verbosity))
	logger := newLogger(logOut, level, format)
	warnNoEffect(logger, opts)
	setThreads(opts.Threads, getenv)

	n, err := node.New(opts, logger, level)
	if err != nil {
		fmt.Fprintf(stderr, "moxi: %v\n", err)
		return exitConfig
	}
	if opts.PIDFile != "" {
		if err := writePIDFile(opts.PIDFile); err != nil {
			fmt.Fprintf(stderr, "moxi: %v\n", err)
			return exitConfig
		}
		defer removePIDFile(opts.PIDFile, logger)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sd := newNotifier(getenv("NOTIFY_SOCKET"), logger)
	if sd.enabled() {
		go func() {
			if n.WaitServing(ctx) == nil {
				sd.Ready()
			}
		}()
	}
	// A graceful stop (a signal, -Y) says STOPPING=1 before it starts, in
	// the stopping goroutine: sent from anywhere later it could lose the
	// race with the process's exit. An exit on an error sends none.
	stop := func() {
		sd.Stopping()
		cancel()
	}
	reload := func() {
		sd.Reloading(func() {
			if err := logOut.Reopen(); err != nil {
				logger.Error("could not reopen log file", "err", err)
			}
			n.Reload()
		})
	}
	stopSignals := handleSignals(stop, logger, reload)
	defer stopSignals()
	if opts.StdinCheck {
		go watchStdin(stdin, logger, stop)
	}
	return runNode(ctx, n, stderr)
}

// reportParse prints the outcome of parseArgs when it means "do not run".
func reportParse(err error, stdout, stderr io.Writer) (code int, done bool) {
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, errHelp):
		printUsage(stdout)
	case errors.Is(err, errVersion):
		fmt.Fprintf(stdout, "moxi %s\n", version)
	case errors.Is(err, errLicense):
		fmt.Fprint(stdout, licenseText)
	case errors.Is(err, errNeedConfig):
		fmt.Fprintln(stderr, needConfigMsg)
		return exitConfig, true
	default:
		fmt.Fprintf(stderr, "moxi: %v\n", err)
		return exitConfig, true
	}
	return exitOK, true
}

// runNode runs the node until ctx ends and maps its error to an exit code.
func runNode(ctx context.Context, n *node.Node, stderr io.Writer) int {
	err := n.Run(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "moxi: %v\n", err)
	if _, ok := errors.AsType[*node.ListenError](err); ok {
		return exitOSErr
	}
	return exitConfig
}

// handleSignals stops the node on SIGINT or SIGTERM and reloads on
// SIGHUP (reopens the log file, rereads a fleet's file source). It uses
// signal.Notify rather than signal.NotifyContext because SIGINT gets its
// own log line and SIGHUP must not stop moxi.
// SIGPIPE needs nothing: Go ignores it for sockets.
func handleSignals(cancel context.CancelFunc, logger *slog.Logger, reload func()) (stop func()) {
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-sigc:
				handleSignal(sig, cancel, logger, reload)
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigc)
		close(done)
	}
}

func handleSignal(sig os.Signal, cancel context.CancelFunc, logger *slog.Logger, reload func()) {
	switch sig {
	case syscall.SIGHUP:
		reload()
	case syscall.SIGINT:
		logger.Info("SIGINT handled.")
		cancel()
	default:
		logger.Info("shutting down", "signal", sig.String())
		cancel()
	}
}

// warnNoEffect tells the user about flags that are accepted for
// compatibility but do nothing here (see doc.go).
func warnNoEffect(logger *slog.Logger, opts node.Options) {
	if opts.Daemonize {
		logger.Warn("-d has no effect: moxi stays in the foreground; run it under a service manager such as systemd")
	}
	if opts.User != "" && os.Geteuid() == 0 {
		logger.Warn("-u has no effect: moxi does not switch users; start it as the target user", "user", opts.User)
	}
	if opts.LockMemory || opts.LargePages || opts.CoreLimit {
		logger.Info("-k, -L and -r have no effect")
	}
}

// setThreads makes -t what it was in moxi, the number of threads serving
// clients: Go runs at most that many at once (never more than the cores).
// Fewer threads than cores matters on a box shared with memcached and the
// clients: each extra thread adds wakeups and context switches for no
// throughput. An explicit GOMAXPROCS in the environment wins.
func setThreads(threads int, getenv func(string) string) {
	if getenv("GOMAXPROCS") != "" || threads < 1 {
		return
	}
	runtime.GOMAXPROCS(min(threads, runtime.NumCPU()))
}
