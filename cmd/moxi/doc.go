// Command moxi is the memcached/membase proxy. It keeps the original C
// moxi's command line: -z for the cluster configuration, -Z for proxy
// behaviors, and memcached's flags (-p, -t, -v, ...). Run "moxi -h" for
// the full list with the live -Z defaults.
//
// # Differences from the original command line
//
// Flags that are accepted but have no effect:
//
//   - -d (daemonize): a Go process cannot fork safely. moxi stays in the
//     foreground and logs a warning; run it under systemd or another
//     service manager instead (deploy/moxi.service: Type=notify, moxi
//     sends READY=1 to NOTIFY_SOCKET once it serves with a map).
//   - -u USER: moxi does not switch users. It logs a warning when run as
//     root with -u; start it as the target user (systemd User=).
//   - -r (raise the core limit), -k (mlockall), -L (large pages): no
//     effect; Go manages its own memory.
//   - -U PORT: UDP is not supported; logged as a warning, reported in
//     "stats proxy settings". -U alone (no -z, -p or -s) is an error.
//   - -c, -R, -b, -f, -n, -D, -C: only reported in "stats proxy settings"
//     (-D also turns on detail_enabled there). Go raises the file limit
//     itself and sizes the listen queue from the kernel.
//
// Behaviors that differ on purpose:
//
//   - A bad flag or -Z/-z value stops moxi with one line naming the
//     problem and exit code 1, where the original often logged and went
//     on. This covers unknown -Z keys (the original only logged them at
//     -vv), -Z items without '=', unparseable numbers, unknown REST -z
//     keys, and stray positional arguments (getopt ignored them).
//   - -P writes the pid file without -d as well, and removes it on exit.
//   - -z without -p does not start the built-in memcached server on an
//     OS-chosen port (the original did, by accident). -p 0 does, and
//     MEMCACHED_PORT_FILENAME then receives the port.
//   - -O FILE that cannot be opened is an error (the original fell back
//     to syslog). SIGHUP reopens the file, with or without -d.
//   - -X (mcmux mode) and REST or vBucket JSON -z configs are refused
//     with a "not supported yet" error.
//   - -I (item size) and -V (version) are added; --help and --version
//     are accepted as synonyms of -h and -V.
//   - -Z downstream_protocol values must be spelled out in full; the
//     original's prefix matching made e.g. "m" mean ascii. Keys keep the
//     prefix matching ("time=5" sets downstream_timeout).
//
// Exit codes: 0 on a clean stop (SIGINT, SIGTERM, or -Y y), 1 for a
// flag or configuration error, 71 (EX_OSERR) when a port cannot be bound.
package main
