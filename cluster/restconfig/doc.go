// Package restconfig is the membase/couchbase REST streaming config client
// that moxi's "-z http://..." form drives (moxi's conflate/rest.c).
//
// A Client GETs each URL of a fail-over list with HTTP basic auth and reads
// the response body as an endless stream. ns_server writes one JSON config,
// then a separate chunk holding "\n\n\n\n", and repeats whenever the bucket
// changes. The client splits the de-chunked stream on every delimiter,
// wherever read boundaries fall, and hands each whitespace-trimmed, non-empty
// message to a Handler. moxi checked only whether one curl read ended with
// the delimiter, so a delimiter straddling two reads or two configs in one
// read went wrong; this package does not depend on read boundaries.
//
// The package is transport only: it never parses JSON. The Handler parses
// and reports whether the config was good; a bad one makes the client fail
// over to the next URL, as moxi does for unparseable JSON.
//
// Fail-over follows moxi: URLs are tried in order, a connection error, a
// non-200 status or a rejected config moves to the next URL, a transfer that
// ends normally restarts from the first URL, and every pass over the list is
// followed by a pause. The client retries forever; only ctx ending or a 401
// (moxi's "ERROR: Authentication failure", exit 1) stops Run.
//
// The log messages keep moxi's wording (without its "ERROR: "/"WARNING: "
// prefixes, which become slog levels) so operators' greps keep working:
//
//	curl error: <err> from: <url>                                       (warn)
//	parse JSON failed, from REST server: <url>, <body>                  (error)
//	invalid, empty config from REST server <url>                        (warn)
//	could not contact REST server(s): <list>; perhaps they are
//	unavailable or still initializing                                   (warn, before any config)
//	could not contact REST server(s): <list>                            (error, after a config)
package restconfig
