package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/moxifleet/moxi/node"
)

// Requests to print something and exit 0 instead of running, in the
// spirit of flag.ErrHelp.
var (
	errHelp    = errors.New("help requested")
	errVersion = errors.New("version requested")
	errLicense = errors.New("license requested")
	// errNeedConfig is reported with the original's text, needConfigMsg.
	errNeedConfig = errors.New("need cluster configuration")
)

// The original's getopt string was "a:p:s:U:m:Mc:khirvdl:u:P:f:n:t:D:LR:Cb:z:Z:B:Y:O:X";
// -I (memcached 1.4's item size) and -V (version) are added.
const (
	boolFlags  = "MkhirvdLCXV"
	valueFlags = "apsUmclutPfnDRbzZBYOI"
)

// parseArgs parses moxi's command line (without the program name) in
// getopt style: "-p 11311" and "-p11311", clustered switches ("-vvv",
// "-vd"), and "--" to end the options. Unlike getopt, stray positional
// arguments are an error rather than silently ignored, except for the
// trailing config URL (see trailingConfig).
func parseArgs(args []string, getenv func(string) string) (node.Options, error) {
	opts := node.DefaultOptions()
	opts.Version = version
	opts.Getenv = getenv
	var positional []string
	if len(args) > 0 && args[0] == "join" {
		args = args[1:]
		for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
			opts.Join = append(opts.Join, args[0])
			args = args[1:]
		}
		if len(opts.Join) == 0 {
			return opts, errors.New("join: name at least one fleet member, HOST[:PORT]")
		}
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			positional = append(positional, args[i+1:]...)
			i = len(args)
			continue
		case a == "--help":
			return opts, errHelp
		case a == "--version":
			return opts, errVersion
		case strings.HasPrefix(a, "--"):
			return opts, fmt.Errorf("unknown flag %s", a)
		case len(a) < 2 || a[0] != '-':
			positional = append(positional, a)
			continue
		}
		consumed, err := parseCluster(&opts, a[1:], args[i+1:])
		if err != nil {
			return opts, err
		}
		i += consumed
	}
	if err := trailingConfig(&opts, args, positional); err != nil {
		return opts, err
	}
	if err := opts.Validate(); err != nil {
		return opts, err
	}
	if opts.ClusterConfig == "" && opts.Port == node.PortUnspecified &&
		opts.UDPPort == node.PortUnspecified && opts.Socket == "" && !fleetMode(opts) {
		return opts, errNeedConfig
	}
	return opts, nil
}

// parseCluster handles one argument of clustered short flags (without the
// leading '-'). A flag that takes a value uses the rest of the argument or,
// if that is empty, the next one; it reports how many following arguments
// it consumed.
func parseCluster(opts *node.Options, cluster string, rest []string) (int, error) {
	for j := 0; j < len(cluster); j++ {
		c := cluster[j]
		switch {
		case strings.IndexByte(boolFlags, c) >= 0:
			if err := setBool(opts, c); err != nil {
				return 0, err
			}
		case strings.IndexByte(valueFlags, c) >= 0:
			val, consumed := cluster[j+1:], 0
			if val == "" {
				if len(rest) == 0 {
					return 0, fmt.Errorf("flag -%c needs a value", c)
				}
				val, consumed = rest[0], 1
			}
			return consumed, setValue(opts, c, val)
		default:
			return 0, fmt.Errorf("unknown flag -%c", c)
		}
	}
	return 0, nil
}

// trailingConfig applies the original's rule for a config given without
// -z: the last argument, if it starts with "apikey=" or "http://" or
// contains '@'. ("url=" does not qualify there.)
func trailingConfig(opts *node.Options, args, positional []string) error {
	if len(positional) == 0 {
		return nil
	}
	last := positional[len(positional)-1]
	isLast := last == args[len(args)-1]
	looksLikeConfig := strings.HasPrefix(last, "apikey=") || strings.HasPrefix(last, "http://") ||
		strings.Contains(last, "@")
	if opts.ClusterConfig == "" && isLast && looksLikeConfig {
		opts.ClusterConfig = last
		positional = positional[:len(positional)-1]
	}
	if len(positional) > 0 {
		return fmt.Errorf("unexpected argument %q (give the cluster configuration with -z)", positional[0])
	}
	return nil
}

func setBool(opts *node.Options, c byte) error {
	switch c {
	case 'h':
		return errHelp
	case 'V':
		return errVersion
	case 'i':
		return errLicense
	case 'v':
		opts.Verbosity++
	case 'M':
		opts.NoEvict = true
	case 'k':
		opts.LockMemory = true
	case 'r':
		opts.CoreLimit = true
	case 'd':
		opts.Daemonize = true
	case 'L':
		opts.LargePages = true
	case 'C':
		opts.NoCAS = true
	case 'X':
		opts.Mcmux = true
	}
	return nil
}

// setValue sets the option of a flag that takes a value. Range checks
// that do not depend on the syntax are left to Options.Validate.
func setValue(opts *node.Options, c byte, val string) error {
	var err error
	switch c {
	case 'z':
		opts.ClusterConfig = val
	case 'Z':
		opts.Behavior = val
	case 'p':
		opts.Port, err = portArg(c, val)
	case 'U':
		opts.UDPPort, err = portArg(c, val)
	case 's':
		opts.Socket = val
	case 'a':
		opts.SocketMode, err = modeArg(val)
	case 'l':
		opts.Listen = val
	case 'B':
		opts.Protocol = val
	case 'b':
		opts.Backlog, err = intArg(c, val)
	case 't':
		opts.Threads, err = intArg(c, val)
	case 'c':
		opts.MaxConns, err = intArg(c, val)
	case 'R':
		opts.ReqsPerEvent, err = intArg(c, val)
	case 'n':
		opts.ChunkSize, err = intArg(c, val)
	default:
		return setMemcachedValue(opts, c, val)
	}
	return err
}

// setMemcachedValue handles the flags inherited from memcached's storage
// and process settings.
func setMemcachedValue(opts *node.Options, c byte, val string) error {
	var err error
	switch c {
	case 'm':
		var mb int
		if mb, err = intArg(c, val); err == nil {
			opts.MaxBytes = int64(mb) << 20
		}
	case 'I':
		opts.MaxItemSize, err = itemSizeArg(val)
	case 'f':
		opts.GrowthFactor, err = strconv.ParseFloat(val, 64)
		if err != nil {
			err = fmt.Errorf("-f needs a number, got %q", val)
		}
	case 'D':
		if val == "" {
			return errors.New("-D needs a delimiter character")
		}
		opts.PrefixDelimiter, opts.DetailEnabled = val[0], true
	case 'Y':
		opts.StdinCheck, err = yesNoArg(val)
	case 'O':
		opts.LogFile = val
	case 'P':
		opts.PIDFile = val
	case 'u':
		opts.User = val
	}
	return err
}

func intArg(c byte, val string) (int, error) {
	n, err := strconv.Atoi(val)
	if err != nil {
		return 0, fmt.Errorf("-%c needs a number, got %q", c, val)
	}
	return n, nil
}

func portArg(c byte, val string) (int, error) {
	n, err := strconv.Atoi(val)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("-%c needs a port number (0-65535), got %q", c, val)
	}
	return n, nil
}

func modeArg(val string) (fs.FileMode, error) {
	n, err := strconv.ParseUint(val, 8, 32)
	if err != nil || n > 0o777 {
		return 0, fmt.Errorf("-a needs an octal permission mask like 0700, got %q", val)
	}
	return fs.FileMode(n), nil
}

func yesNoArg(val string) (bool, error) {
	switch val {
	case "y", "Y":
		return true, nil
	case "n", "N":
		return false, nil
	}
	return false, fmt.Errorf("-Y must be y or n, got %q", val)
}

// itemSizeArg parses -I as memcached does: bytes, or a number with a k or
// m suffix (either case).
func itemSizeArg(val string) (int, error) {
	num, mult := val, 1
	if val != "" {
		switch val[len(val)-1] {
		case 'k', 'K':
			num, mult = val[:len(val)-1], 1<<10
		case 'm', 'M':
			num, mult = val[:len(val)-1], 1<<20
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 0 || n > (1<<31)/mult {
		return 0, fmt.Errorf("-I needs a size like 1048576, 1024k or 1m, got %q", val)
	}
	return n * mult, nil
}

// fleetMode reports whether the command line may be a fleet node, which
// needs no -z when it joins: node.New decides for sure.
func fleetMode(opts node.Options) bool {
	b := opts.Behavior
	return len(opts.Join) > 0 || strings.Contains(b, "cluster_bind") || strings.HasPrefix(b, ".") || strings.HasPrefix(b, "/")
}
