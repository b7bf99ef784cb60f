package node

import (
	"log/slog"

	"github.com/moxifleet/moxi/mapstore"
)

// RedactAttr is the process logger's last word on every attribute (the
// message included): a string or error that may hold a password (a URL
// with user info, a REST section's auth=, a bucket config's
// saslPassword) is logged with it replaced by ****, whichever code
// logged it. Most lines hold none of these, and pay a few substring
// checks.
func RedactAttr(a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); mapstore.MayHoldSecret(s) {
			a.Value = slog.StringValue(mapstore.RedactConfig(s))
		}
	case slog.KindAny:
		if err, ok := a.Value.Any().(error); ok {
			if s := err.Error(); mapstore.MayHoldSecret(s) {
				a.Value = slog.StringValue(mapstore.RedactConfig(s))
			}
		}
	}
	return a
}
