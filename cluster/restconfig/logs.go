package restconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

// The messages below keep moxi's wording (t/issue-MB-3575.sh greps them);
// moxi's "ERROR: "/"WARNING: " prefixes become the slog level.

// maxLoggedBody bounds the config text quoted in a log line: a rejected
// config can be megabytes.
const maxLoggedBody = 200

// logConnectError is moxi's "WARNING: curl error: <err> from: <url>". The
// *url.Error wrapper is dropped because the URL is already in the line.
func logConnectError(lg *slog.Logger, u string, err error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	lg.Warn(fmt.Sprintf("curl error: %v from: %s", err, u))
}

// logStatus reports a non-200, non-401 answer; moxi would have fed the
// error page to the JSON parser and logged "parse JSON failed".
func logStatus(lg *slog.Logger, u, status string) {
	lg.Warn(fmt.Sprintf("unexpected HTTP status %s from REST server: %s", status, u))
}

// logRejected reports a config the Handler refused. A JSON syntax error is
// moxi's "ERROR: parse JSON failed, from REST server: <url>, <body>"; any
// other reason is logged with the Handler's own text.
func logRejected(lg *slog.Logger, u string, body []byte, err error) {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		lg.Error(fmt.Sprintf("parse JSON failed, from REST server: %s, %s", u, truncate(body)), "err", err)
		return
	}
	lg.Error(fmt.Sprintf("bad config from REST server: %s: %v, %s", u, err, truncate(body)))
}

// logTooLarge reports a message that exceeded Config.MaxConfigSize.
func logTooLarge(lg *slog.Logger, u string, err error) {
	lg.Error(fmt.Sprintf("bad config from REST server: %s: %v", u, err))
}

// logEmpty is moxi's "ERROR: invalid, empty config from REST server <url>",
// logged at warn: it follows every normally closed stream and is harmless.
func logEmpty(lg *slog.Logger, u string) {
	lg.Warn("invalid, empty config from REST server " + u)
}

// logUnreachable is logged after a pass over the list that yielded no
// config. Before any config it is moxi's softer warning, since a starting
// cluster is normal; after one it is an error.
func logUnreachable(lg *slog.Logger, urls []string, everConfigured bool) {
	list := strings.Join(urls, "|")
	if everConfigured {
		lg.Error("could not contact REST server(s): " + list)
		return
	}
	lg.Warn("could not contact REST server(s): " + list +
		"; perhaps they are unavailable or still initializing")
}

// truncate shortens a body for a log line, marking the cut.
func truncate(body []byte) string {
	if len(body) <= maxLoggedBody {
		return string(body)
	}
	return string(body[:maxLoggedBody]) + "..."
}

// logReceived is moxi's "configuration received" (shown at -v).
func logReceived(lg *slog.Logger, u string, size int) {
	lg.Info("configuration received", "url", u, "bytes", size)
}
