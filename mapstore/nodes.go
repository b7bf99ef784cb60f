package mapstore

import (
	"bytes"
	"strconv"
	"strings"
)

// NodeInfo is what a bucket config's nodes[] says about one server, beyond
// its memcached address. A REST client uses it to pick the next config
// server; nothing on the request path reads it.
type NodeInfo struct {
	RESTAuthority string // the node's "hostname" ("host:restport"), "" when no node matched
	CouchAPIBase  string // the node's couchApiBase, "" when absent
	ThisNode      bool   // the node served this config ("thisNode": true)
	Status        string // the node's health as membase reports it ("healthy", "unhealthy", ...), "" when absent
}

// Node returns what nodes[] said about m.Servers[i]; the zero NodeInfo when
// the config had no matching node or i is out of range.
func (m *Map) Node(i int) NodeInfo {
	if i < 0 || i >= len(m.nodes) {
		return NodeInfo{}
	}
	return m.nodes[i]
}

// rawNode is one element of a bucket's nodes[]. Fields stay raw so that
// each can be type-checked the way libvbucket does, with its messages.
type rawNode struct {
	Hostname, Ports, Status, CouchAPIBase, ThisNode []byte
}

// decodeNode decodes one nodes[] element; notObject is the error for an
// element that is not an object (libvbucket words it differently for
// vbucket and ketama configs).
func decodeNode(elem []byte, notObject ConfigError) (rawNode, error) {
	var n rawNode
	_, ok := objectFields(elem, func(key, val []byte) {
		switch {
		case keyIs(key, "hostname"):
			setFirst(&n.Hostname, val)
		case keyIs(key, "ports"):
			setFirst(&n.Ports, val)
		case keyIs(key, "status"):
			setFirst(&n.Status, val)
		case keyIs(key, "couchApiBase"):
			setFirst(&n.CouchAPIBase, val)
		case keyIs(key, "thisNode"):
			setFirst(&n.ThisNode, val)
		}
	})
	if !ok {
		return n, notObject
	}
	return n, nil
}

// directPort returns the raw ports.direct value of a node's ports object;
// ok is false when ports is not an object.
func directPort(ports []byte) (direct []byte, ok bool) {
	_, ok = objectFields(ports, func(key, val []byte) {
		if keyIs(key, "direct") {
			setFirst(&direct, val)
		}
	})
	return direct, ok
}

// authority returns the node's memcached address as libvbucket spells it:
// the hostname without its ":restport", then ":" and ports.direct. It also
// returns the host part and the port. An IPv6 hostname is bracketed.
func (n rawNode) authority(sub hostSub) (auth, host string, port int, err error) {
	hostname, ok := jsonString(n.Hostname)
	if !ok {
		return "", "", 0, ErrNodeHostname
	}
	rawDirect, ok := directPort(n.Ports)
	if !ok {
		return "", "", 0, ErrNodePorts
	}
	direct, ok := jsonInt(rawDirect)
	if !ok {
		return "", "", 0, ErrNodeDirectPort
	}
	host = sub.apply(stripPort(hostname))
	auth = joinAuthority(host, strconv.Itoa(direct))
	return auth, strings.Trim(host, "[]"), direct, nil
}

// info returns the metadata libvbucket attaches to a matched server.
func (n rawNode) info(sub hostSub) NodeInfo {
	var ni NodeInfo
	if s, ok := jsonString(n.Hostname); ok {
		ni.RESTAuthority = sub.apply(s)
	}
	if s, ok := jsonString(n.CouchAPIBase); ok {
		ni.CouchAPIBase = sub.apply(s)
	}
	ni.ThisNode = bytes.Equal(n.ThisNode, []byte("true"))
	ni.Status, _ = jsonString(n.Status)
	return ni
}

// healthy is moxi's ketama filter: a node is used unless it has a string
// status other than "healthy".
func (n rawNode) healthy() bool {
	s, ok := jsonString(n.Status)
	return !ok || s == "healthy"
}
