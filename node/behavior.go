package node

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/moxifleet/moxi/proxycore"
)

// Environment variables that seed the downstream SASL credentials before
// -Z is parsed, so -Z usr=/pwd= override them.
const (
	EnvSASLUser     = "MOXI_SASL_PLAIN_USR"
	EnvSASLPassword = "MOXI_SASL_PLAIN_PWD"
)

// behaviorKey is one -Z key: its names (the canonical one first, then its
// aliases) and the Behavior field it sets.
type behaviorKey struct {
	names []string
	field func(b *proxycore.Behavior) behaviorValue
}

// behaviorKeys lists the -Z keys in the order the original's
// cproxy_parse_behavior_key_val tests them. The order matters: a key given
// on the command line matches the first entry it is a prefix of (see
// lookupBehaviorKey), so "time" is downstream_timeout, not time_stats.
func behaviorKeys() []behaviorKey {
	type B = proxycore.Behavior
	return []behaviorKey{
		{[]string{"cycle"}, func(b *B) behaviorValue { return msValue{&b.Cycle} }},
		{[]string{"downstream_max", "concurrency"}, func(b *B) behaviorValue { return uintValue{&b.DownstreamMax} }},
		{[]string{"downstream_conn_max"}, func(b *B) behaviorValue { return uintValue{&b.DownstreamConnMax} }},
		{[]string{"downstream_weight", "weight"}, func(b *B) behaviorValue { return uintValue{&b.DownstreamWeight} }},
		{[]string{"downstream_retry", "retry"}, func(b *B) behaviorValue { return uintValue{&b.DownstreamRetry} }},
		{[]string{"downstream_protocol", "protocol"}, func(b *B) behaviorValue { return protocolValue{&b.DownstreamProtocol} }},
		{[]string{"downstream_timeout", "timeout", "downstream_conn_timeout"}, func(b *B) behaviorValue { return msValue{&b.DownstreamTimeout} }},
		{[]string{"downstream_conn_queue_timeout"}, func(b *B) behaviorValue { return msValue{&b.DownstreamConnQueueTimeout} }},
		{[]string{"wait_queue_timeout"}, func(b *B) behaviorValue { return msValue{&b.WaitQueueTimeout} }},
		{[]string{"connect_timeout"}, func(b *B) behaviorValue { return msValue{&b.ConnectTimeout} }},
		{[]string{"auth_timeout"}, func(b *B) behaviorValue { return msValue{&b.AuthTimeout} }},
		{[]string{"time_stats"}, func(b *B) behaviorValue { return boolValue{&b.TimeStats} }},
		{[]string{"mcs_opts"}, func(b *B) behaviorValue { return stringValue{p: &b.McsOpts} }},
		{[]string{"connect_max_errors"}, func(b *B) behaviorValue { return uintValue{&b.ConnectMaxErrors} }},
		{[]string{"connect_retry_interval"}, func(b *B) behaviorValue { return msValue{&b.ConnectRetryInterval} }},
		{[]string{"front_cache_max"}, func(b *B) behaviorValue { return uintValue{&b.FrontCacheMax} }},
		{[]string{"front_cache_lifespan"}, func(b *B) behaviorValue { return msValue{&b.FrontCacheLifespan} }},
		{[]string{"front_cache_spec"}, func(b *B) behaviorValue { return stringValue{&b.FrontCacheSpec, 299} }},
		{[]string{"front_cache_unspec"}, func(b *B) behaviorValue { return stringValue{&b.FrontCacheUnspec, 99} }},
		{[]string{"front_cache_bytes"}, func(b *B) behaviorValue { return uintValue{&b.FrontCacheBytes} }},
		{[]string{"key_stats_max"}, func(b *B) behaviorValue { return uintValue{&b.KeyStatsMax} }},
		{[]string{"key_stats_lifespan"}, func(b *B) behaviorValue { return msValue{&b.KeyStatsLifespan} }},
		{[]string{"key_stats_spec"}, func(b *B) behaviorValue { return stringValue{p: &b.KeyStatsSpec} }},
		{[]string{"key_stats_unspec"}, func(b *B) behaviorValue { return stringValue{p: &b.KeyStatsUnspec} }},
		{[]string{"optimize_set"}, func(b *B) behaviorValue { return stringValue{p: &b.OptimizeSet} }},
		{[]string{"usr"}, func(b *B) behaviorValue { return stringValue{&b.Usr, 249} }},
		{[]string{"pwd"}, func(b *B) behaviorValue { return stringValue{&b.Pwd, 899} }},
		{[]string{"host"}, func(b *B) behaviorValue { return stringValue{p: &b.Host} }},
		{[]string{"port"}, func(b *B) behaviorValue { return uintValue{&b.Port} }},
		{[]string{"bucket"}, func(b *B) behaviorValue { return stringValue{p: &b.Bucket} }},
		{[]string{"port_listen"}, func(b *B) behaviorValue { return uintValue{&b.PortListen} }},
		{[]string{"default_bucket_name"}, func(b *B) behaviorValue { return stringValue{p: &b.DefaultBucketName} }},
		{[]string{"client_max_pending_bytes"}, func(b *B) behaviorValue { return uintValue{&b.ClientMaxPendingBytes} }},
		{[]string{"client_idle_timeout"}, func(b *B) behaviorValue { return msValue{&b.ClientIdleTimeout} }},
	}
}

// lookupBehaviorKey reproduces the original's wordeq matching: a key
// matches a name when it is a prefix of that name, and the first match in
// source order wins ("down" is downstream_max, "time" downstream_timeout).
// Documented moxi configs rely on this, so it is kept.
func lookupBehaviorKey(key string) (behaviorKey, bool) {
	if key == "" {
		return behaviorKey{}, false
	}
	for _, k := range behaviorKeys() {
		for _, name := range k.names {
			if strings.HasPrefix(name, key) {
				return k, true
			}
		}
	}
	return behaviorKey{}, false
}

// ParseBehavior parses a -Z value on top of proxycore.DefaultBehavior.
//
// Before -Z, the MOXI_SASL_PLAIN_USR and MOXI_SASL_PLAIN_PWD variables
// (looked up with getenv, which may be nil) seed usr and pwd. A value
// starting with '.' or '/' names a file whose content is the -Z string.
//
// Where the original logged a bad value or an unknown key and carried on,
// ParseBehavior returns an error: a typo in a tunable must not pass
// silently.
func ParseBehavior(z string, getenv func(string) string) (proxycore.Behavior, error) {
	b := proxycore.DefaultBehavior()
	if getenv != nil {
		if u := getenv(EnvSASLUser); u != "" {
			b.Usr = u
		}
		if p := getenv(EnvSASLPassword); p != "" {
			b.Pwd = p
		}
	}
	if strings.HasPrefix(z, ".") || strings.HasPrefix(z, "/") {
		data, err := os.ReadFile(z)
		if err != nil {
			return b, fmt.Errorf("-Z: could not read behavior file: %s: %w", z, pathCause(err))
		}
		z = string(data)
	}
	for item := range strings.SplitSeq(z, ",") {
		if err := applyBehaviorItem(&b, item); err != nil {
			return b, err
		}
	}
	return b, nil
}

// applyBehaviorItem applies one "key=value" item of a -Z string.
func applyBehaviorItem(b *proxycore.Behavior, item string) error {
	item = strings.TrimSpace(item)
	if item == "" || item[0] == '#' {
		return nil // empty items (a trailing comma) and comments
	}
	key, val, ok := strings.Cut(item, "=")
	key, val = strings.TrimSpace(key), strings.TrimSpace(val)
	if !ok {
		// The original skipped an item without '='; that hides typos.
		return fmt.Errorf("-Z: missing = after key: %s", key)
	}
	k, found := lookupBehaviorKey(key)
	if !found {
		return fmt.Errorf("-Z: unknown behavior key: %s", key)
	}
	if err := k.field(b).Set(val); err != nil {
		return fmt.Errorf("-Z: config error in key: %s value: %s (%w)", key, val, err)
	}
	return nil
}

// BehaviorPairs returns every -Z key (canonical names, source order) with
// its value in b, formatted as on the command line. The usage text uses it
// to show the live defaults.
func BehaviorPairs(b proxycore.Behavior) [][2]string {
	keys := behaviorKeys()
	out := make([][2]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, [2]string{k.names[0], k.field(&b).String()})
	}
	return out
}

// BehaviorAliases returns the alias names of the canonical key name.
func BehaviorAliases(name string) []string {
	for _, k := range behaviorKeys() {
		if k.names[0] == name {
			return k.names[1:]
		}
	}
	return nil
}

// pathCause strips the path from an *fs.PathError so messages that
// already name the file do not repeat it.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
