package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/moxifleet/moxi/node"
	"github.com/moxifleet/moxi/proxycore"
)

// usageText follows the layout of the original moxi's usage(); the -Z
// keys and their live defaults are appended by printUsage.
const usageText = `moxi %s

Usage: moxi [flags] -z <cluster config> [-Z <behaviors>]
       moxi [flags] http://HOST:8091/pools/default/bucketsStreaming/default
       moxi join HOST[:PORT]... -Z cluster_bind=IP:PORT,cluster_data=DIR [flags]
       moxi status [-watch] [-ca F -cert F -key F] [HOST:PORT]
                                    print a fleet node's admin /status as tables
                                    (-watch: redraw every second, like top; -ca, -cert,
                                    -key: the fleet's CA and a certificate, with cluster TLS)
       moxi keygen                  print a new random gossip key for cluster_key
       moxi tls-init DIR NAME...    write a CA and a certificate per node name into DIR,
                                    to try cluster TLS out (not for production)

-z <cfg>      cluster configuration:
                PORT=HOST[:PORT[:WEIGHT]][,HOST...][;PORT=...]   static server list
                ./file or /path/file                            read the config from a file
                url=http://HOST:8091/pools/...[|http://...]      membase REST streaming
-Z <key=val,...>  proxy behaviors (see below), or ./file or /path/file
-p <num>      TCP port of the built-in memcached server (deprecated; 0 = any free port)
-U <num>      UDP port (not supported)
-s <file>     unix socket path (replaces the TCP listener)
-a <mask>     permissions of the unix socket, in octal (default: 0700)
-l <ip_addr>  interface to listen on (default: all addresses)
-B <proto>    client protocol: ascii, binary or auto (default: auto)
-t <num>      number of worker threads (default: 4)
-c <num>      max simultaneous connections (default: 1024)
-R <num>      max requests per event per connection (default: 20)
-b <num>      listen backlog (default: 1024)
-v            verbose (print errors/warnings, configuration changes)
-vv           very verbose (also print client commands/responses)
-vvv          extremely verbose (also print internal state transitions)
-O <file>     log file (default: stderr); SIGHUP reopens it
-P <file>     save the PID in <file>, removed on exit
-Y y|n        exit when stdin reaches EOF or an end of line (default: n)
-h            print this help and exit
-i            print license information and exit
-V            print the version and exit
-d            run as a daemon (no effect: use a service manager)
-u <user>     user to run as (no effect: start moxi as that user)
-r            maximize core file limit (no effect)
-X            mcmux compatibility mode (not supported yet)

Built-in memcached server (deprecated):
-m <num>      item memory in megabytes (default: 64)
-M            return an error when memory is exhausted instead of evicting
-I <size>     max item size, e.g. 1m, 1024k (default: 1m)
-k            lock down all paged memory (no effect)
-f <factor>   chunk size growth factor (stats only; default: 1.25)
-n <bytes>    minimum item space (stats only; default: 48)
-L            use large memory pages (no effect)
-D <char>     stats key prefix delimiter (stats only; default: ':')
-C            disable CAS (stats only)

Fleet mode (-Z keys of moxi's own, full names only):
  cluster_bind=IP:PORT      gossip (memberlist) address; raft listens on the same IP,
                            on PORT+1 unless cluster_raft_port=N says otherwise
  cluster_data=DIR          raft log, snapshots and the last applied maps
  cluster_join=A|B          members to join (as moxi join A B); default gossip port 7946
  cluster_name=NAME         separates fleets on one network (default: moxi)
  cluster_voters=N          raft voters, 1, 3 or 5 (default: 3); the rest are non-voters
  cluster_reap=DUR          remove a failed member after DUR (default: 72h)
  cluster_join_timeout=DUR  a node with no data gives up joining after DUR (default: 60s)
  admin_listen=IP:PORT      admin HTTP: /metrics, /health; in a fleet /status, / (default there: 127.0.0.1:8290)
  cluster_key=BASE64        encrypt gossip (AES-GCM) with this 16, 24 or 32-byte key (moxi keygen)
  cluster_key_file=FILE     gossip keys, one base64 key a line: the first encrypts, all decrypt
  cluster_tls_cert=FILE     raft and node-to-node HTTP over mutual TLS: this node's certificate,
  cluster_tls_key=FILE        its key, and the CA that must have signed every node's
  cluster_tls_ca=FILE         certificate (the admin HTTP then speaks HTTPS)
  cluster_insecure=1        run a fleet on a non-loopback cluster_bind without cluster_key and
                            cluster_tls_* (refused otherwise)

Environment: MOXI_SASL_PLAIN_USR and MOXI_SASL_PLAIN_PWD set the default
-Z usr and pwd; MEMCACHED_PORT_FILENAME receives the -p port; under
systemd (Type=notify) NOTIFY_SOCKET gets READY=1 once moxi serves with a map.

-Z behaviors (times in milliseconds, 0 = disabled), with their defaults:
`

// printUsage writes the help text with the live -Z defaults.
func printUsage(w io.Writer) {
	fmt.Fprintf(w, usageText, version)
	for _, kv := range node.BehaviorPairs(proxycore.DefaultBehavior()) {
		name := kv[0]
		if aliases := node.BehaviorAliases(name); len(aliases) > 0 {
			name += " (" + strings.Join(aliases, ", ") + ")"
		}
		val := kv[1]
		if val == "" {
			val = `""`
		}
		fmt.Fprintf(w, "  %-54s %s\n", name, val)
	}
	fmt.Fprintf(w, "\nExample: moxi -z 11211=mc1:11211,mc2:11211 -Z downstream_max=8,timeout=500\n")
}

const licenseText = `moxi (Go) is a re-implementation of moxi, the memcached proxy.
The original moxi and memcached are distributed under a BSD-style license.
See the LICENSE file distributed with this program for its own terms.
`
