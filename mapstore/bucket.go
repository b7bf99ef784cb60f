package mapstore

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// rawServerMap holds the vBucketServerMap fields, found either inside the
// "vBucketServerMap" envelope or at the top level (the flat form). Each is
// the raw JSON value, nil when absent.
type rawServerMap struct {
	NumReplicas, ServerList, VBucketMap, VBucketMapForward []byte
}

// set records one object member if it is a server-map field.
func (sm *rawServerMap) set(key, val []byte) {
	switch {
	case keyIs(key, "numReplicas"):
		setFirst(&sm.NumReplicas, val)
	case keyIs(key, "serverList"):
		setFirst(&sm.ServerList, val)
	case keyIs(key, "vBucketMap"):
		setFirst(&sm.VBucketMap, val)
	case keyIs(key, "vBucketMapForward"):
		setFirst(&sm.VBucketMapForward, val)
	}
}

// decodeServerMap returns the server-map fields of the object raw.
func decodeServerMap(raw []byte) rawServerMap {
	var sm rawServerMap
	_, _ = objectFields(raw, sm.set)
	return sm
}

// rawBucket is one bucket config with every field left raw, so that each
// is type-checked in libvbucket's order with libvbucket's message.
type rawBucket struct {
	Name, SaslPassword, NodeLocator, Nodes, ServerMap, Buckets []byte
	rawServerMap
}

// decodeBucket returns the fields of the JSON value at the start of raw
// and the index just past that value. A value that is not an object has
// no fields, which is how cJSON lookups see it.
func decodeBucket(raw []byte) (rb rawBucket, end int) {
	end, ok := objectFields(raw, func(key, val []byte) {
		switch {
		case keyIs(key, "name"):
			setFirst(&rb.Name, val)
		case keyIs(key, "saslPassword"):
			setFirst(&rb.SaslPassword, val)
		case keyIs(key, "nodeLocator"):
			setFirst(&rb.NodeLocator, val)
		case keyIs(key, "nodes"):
			setFirst(&rb.Nodes, val)
		case keyIs(key, "vBucketServerMap"):
			setFirst(&rb.ServerMap, val)
		case keyIs(key, "buckets"):
			setFirst(&rb.Buckets, val)
		default:
			rb.rawServerMap.set(key, val)
		}
	})
	if !ok {
		end = skipValue(raw, skipSpace(raw, 0))
	}
	return rb, end
}

// ParseBucket parses one bucket config, replacing "$HOST" with
// "localhost". See ParseBucketHost.
func ParseBucket(data []byte) (*Map, error) { return ParseBucketHost(data, "") }

// ParseBucketHost parses one bucket config as moxi reads it:
//
//   - the flat libvbucket form ({"numReplicas":..,"serverList":..,
//     "vBucketMap":..}) or a bucket object with the map in its
//     "vBucketServerMap" envelope: a VBucket map, servers in serverList
//     order;
//   - a memcached bucket ("nodeLocator":"ketama"): servers from
//     vBucketServerMap.serverList when that is an array, else from nodes[]
//     skipping nodes whose status is a string other than "healthy" (host =
//     hostname without its ":restport", port = ports.direct), routed like
//     moxi's libmemcached pool (KetamaWeighted over the list). The list is
//     sorted by "host:port" as libvbucket sorts it, so a reordered nodes[]
//     is the same map; with equal weights the order cannot move a key.
//
// The first "$HOST" in a server, hostname or couchApiBase becomes host (the
// REST server the config came from; "" means "localhost"). As with cJSON,
// bytes after the first JSON value are ignored (m.Source is that value's
// text), object keys match case-insensitively and the first of duplicate
// keys wins.
//
// Rejections are ConfigError values with libvbucket's exact text,
// ErrEmptyConfig for blank input, or "mapstore: ..." errors for what
// libvbucket would accept and moxi then refuses (a server without a port,
// an unknown nodeLocator).
func ParseBucketHost(data []byte, host string) (*Map, error) {
	rb, src, err := decodeDoc(data)
	if err != nil {
		return nil, err
	}
	return buildBucket(&rb, src, newHostSub(host))
}

// decodeDoc validates the first JSON value of data and decodes its fields.
func decodeDoc(data []byte) (rb rawBucket, src []byte, err error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return rb, nil, ErrEmptyConfig
	}
	// Walk first (that finds where the first value ends), then validate
	// what was walked; the fields are only used once it proved valid.
	rb, end := decodeBucket(data)
	src = data[:end]
	if !json.Valid(src) {
		return rawBucket{}, nil, ErrInvalidJSON
	}
	return rb, src, nil
}

// buildBucket turns one decoded bucket into a Map and stamps it with the
// bucket's identity.
func buildBucket(rb *rawBucket, src []byte, sub hostSub) (*Map, error) {
	var m *Map
	var err error
	switch jsonKind(rb.NodeLocator) {
	case 0:
		m, err = buildVBucket(rb, sub)
	case '"':
		loc, _ := jsonString(rb.NodeLocator)
		switch loc {
		case "vbucket":
			m, err = buildVBucket(rb, sub)
		case "ketama":
			m, err = buildKetama(rb, sub)
		default:
			return nil, fmt.Errorf("mapstore: unsupported nodeLocator %q", loc)
		}
	default:
		return nil, ErrNodeLocator
	}
	if err != nil {
		return nil, err
	}
	m.Name = "default"
	if name, ok := jsonString(rb.Name); ok {
		m.Name = name
	}
	if m.Name != "default" {
		m.User = m.Name
	}
	m.Password, m.HasPassword = jsonString(rb.SaslPassword)
	m.Source = string(src)
	return m, nil
}
