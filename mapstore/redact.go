package mapstore

import (
	"net/url"
	"regexp"
	"strings"
)

// Redacted replaces what a reader of logs, stats or status pages must not
// see: in config text, every "saslPassword" value; in URLs, the password
// of their user info. Config bytes keep the secrets (the proxy logs in
// with them); only what is shown goes through here.
const Redacted = "****"

// RedactConfig returns config text with every saslPassword's value, and
// any URL password in it, replaced by ****.
func RedactConfig(text string) string {
	text = saslPasswordRE().ReplaceAllString(text, `${1}"`+Redacted+`"`)
	text = authKeyRE().ReplaceAllString(text, "${1}"+Redacted)
	return userInfoRE().ReplaceAllString(text, "${1}"+Redacted+"@")
}

// RedactURL returns u with the password of its user info replaced by
// ****; text that is not a URL comes back through RedactConfig.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return RedactConfig(u)
	}
	if _, has := p.User.Password(); has {
		// Built by hand: url.UserPassword would escape the asterisks.
		return strings.Replace(u, p.User.String()+"@", url.User(p.User.Username()).String()+":"+Redacted+"@", 1)
	}
	return u
}

// saslPasswordRE matches "saslPassword": and its JSON string value
// (escapes included). A function, so no regexp is package state.
func saslPasswordRE() *regexp.Regexp {
	return regexp.MustCompile(`("saslPassword"\s*:\s*)"(?:[^"\\]|\\.)*"`)
}

// authKeyRE matches the password of a -z REST section's auth=USER%PASSWORD.
func authKeyRE() *regexp.Regexp {
	return regexp.MustCompile(`((?:^|[,;\s])auth\s*=\s*[^%,;\s]*%)[^,;\s]+`)
}

// MayHoldSecret reports, cheaply, whether text may hold something
// RedactConfig replaces, so that callers on busy paths (a logger) run the
// expressions only then.
func MayHoldSecret(text string) bool {
	return strings.Contains(text, "://") || strings.Contains(text, "saslPassword") || strings.Contains(text, "auth")
}

// userInfoRE matches scheme://user:password@ in free text.
func userInfoRE() *regexp.Regexp {
	return regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*:)[^@/\s]*@`)
}
