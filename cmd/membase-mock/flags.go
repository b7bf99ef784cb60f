package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// config is the command line, checked.
type config struct {
	restAddr       string
	nodes          int
	dataPortBase   int    // 0: every data node takes a free port
	host           string // data nodes listen on it and configs name them by it
	vbuckets       int
	replicas       int
	buckets        []bucketSpec
	adminUser      string
	adminPassword  string
	rebalanceStep  time.Duration
	rebalanceBatch int // vbuckets moved per step; 0: vbuckets/16
	publishLag     time.Duration
	statePath      string
	verbose        bool
}

// bucketSpec names a bucket and the password clients authenticate with;
// an empty password means no authentication, as for membase's "default".
type bucketSpec struct {
	name, password string
}

// errUsage marks a command line the flag package has already reported.
var errUsage = errors.New("usage")

// maxReplicas is libvbucket's limit on numReplicas.
const maxReplicas = 4

// parseFlags parses args (without the program name). Usage and errors go
// to stderr; -h returns flag.ErrHelp.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var cfg config
	var bucket, password, buckets string
	fs := flag.NewFlagSet("membase-mock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.restAddr, "rest", "127.0.0.1:8091", "REST `address` (ns_server's 8091)")
	fs.StringVar(&cfg.host, "host", "127.0.0.1", "`host` (IP or name) the data nodes listen on and the configs name them by: one other machines can reach, for clients off this host (containers)")
	fs.IntVar(&cfg.nodes, "nodes", 4, "number of data nodes in the cluster at start")
	fs.IntVar(&cfg.dataPortBase, "data-port-base", 0, "data node i listens on `port`+i (0: free ports)")
	fs.IntVar(&cfg.vbuckets, "vbuckets", 1024, "vbuckets per bucket (a power of two)")
	fs.IntVar(&cfg.replicas, "replicas", 0, "replicas per vbucket (numReplicas)")
	fs.StringVar(&bucket, "bucket", "default", "bucket `name`")
	fs.StringVar(&password, "sasl-password", "", "the bucket's SASL password (empty: no auth)")
	fs.StringVar(&buckets, "buckets", "", "several buckets, `name:password,...`, instead of -bucket")
	fs.StringVar(&cfg.adminUser, "admin-user", "Administrator", "REST admin user (saslBucketsStreaming)")
	fs.StringVar(&cfg.adminPassword, "admin-password", "password", "REST admin password")
	fs.DurationVar(&cfg.rebalanceStep, "rebalance-step", 50*time.Millisecond, "pause between vbucket batches of a rebalance")
	fs.IntVar(&cfg.rebalanceBatch, "rebalance-batch", 0, "vbuckets moved per rebalance step (0: vbuckets/16)")
	fs.DurationVar(&cfg.publishLag, "publish-lag", 0, "delay between moving a batch of vbuckets and publishing the map that says so")
	fs.StringVar(&cfg.statePath, "state", "", "`file` keeping node ports and maps across restarts (items are not kept)")
	fs.BoolVar(&cfg.verbose, "v", false, "debug logging")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, err
		}
		return cfg, fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if cfg.buckets, err = bucketList(fs, bucket, password, buckets); err != nil {
		return cfg, err
	}
	if cfg.rebalanceBatch <= 0 {
		cfg.rebalanceBatch = max(1, cfg.vbuckets/16)
	}
	return cfg, cfg.check()
}

// bucketList returns -buckets when given, else the one -bucket. Giving
// both is refused rather than guessing which wins.
func bucketList(fs *flag.FlagSet, bucket, password, list string) ([]bucketSpec, error) {
	if list == "" {
		return []bucketSpec{{name: bucket, password: password}}, nil
	}
	var conflict bool
	fs.Visit(func(f *flag.Flag) { conflict = conflict || f.Name == "bucket" || f.Name == "sasl-password" })
	if conflict {
		return nil, errors.New("-buckets replaces -bucket and -sasl-password; give one form")
	}
	return parseBuckets(list)
}

// parseBuckets parses "name:password,name,...". A name without ':' has no
// password.
func parseBuckets(list string) ([]bucketSpec, error) {
	var out []bucketSpec
	seen := map[string]bool{}
	for item := range strings.SplitSeq(list, ",") {
		name, pw, _ := strings.Cut(strings.TrimSpace(item), ":")
		if name == "" {
			return nil, fmt.Errorf("empty bucket name in -buckets %q", list)
		}
		if seen[name] {
			return nil, fmt.Errorf("bucket %q given twice", name)
		}
		seen[name] = true
		out = append(out, bucketSpec{name: name, password: pw})
	}
	return out, nil
}

// check validates what libvbucket would refuse or the mock cannot do.
func (c *config) check() error {
	switch {
	case c.nodes < 1:
		return errors.New("-nodes must be at least 1")
	case c.host == "" || strings.ContainsAny(c.host, ":[]") || net.ParseIP(c.host).IsUnspecified():
		// The serverList names nodes by this host: clients cannot dial
		// 0.0.0.0, and an IPv6 literal would need brackets moxi's
		// serverList rules refuse here.
		return fmt.Errorf("-host %q: must be an IPv4 address or a name clients can dial", c.host)
	case c.vbuckets < 1 || c.vbuckets > 65536 || c.vbuckets&(c.vbuckets-1) != 0:
		return fmt.Errorf("-vbuckets %d: must be a power of two from 1 to 65536", c.vbuckets)
	case c.replicas < 0 || c.replicas > maxReplicas:
		return fmt.Errorf("-replicas %d: must be 0 to %d", c.replicas, maxReplicas)
	case c.dataPortBase < 0 || c.dataPortBase > 65535:
		return fmt.Errorf("-data-port-base %d: not a port", c.dataPortBase)
	case c.publishLag < 0:
		return errors.New("-publish-lag must not be negative")
	case c.rebalanceStep < 0:
		return errors.New("-rebalance-step must not be negative")
	}
	for _, b := range c.buckets {
		if strings.ContainsAny(b.name, "/?#% ") {
			return fmt.Errorf("bucket name %q: must not contain / ? # %% or space", b.name)
		}
	}
	return nil
}
