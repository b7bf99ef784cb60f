package mapstore

import (
	"fmt"
	"slices"
	"strings"
)

// ketamaEntry is one server of a memcached bucket with its node metadata.
type ketamaEntry struct {
	srv  Server
	info NodeInfo
}

// buildKetama builds the map of a memcached bucket the way moxi's
// cproxy_on_config_json_one_ketama does: a server list for libmemcached,
// taken from vBucketServerMap.serverList when that is an array, else from
// nodes[]. Any malformed entry rejects the whole bucket, as in moxi; nodes
// that are not healthy are left out.
func buildKetama(rb *rawBucket, sub hostSub) (*Map, error) {
	list := rb.Nodes
	if sm := decodeServerMap(rb.ServerMap); jsonKind(sm.ServerList) == '[' {
		list = sm.ServerList
	}
	elems, ok := arrayElems(list, nil)
	if !ok {
		return nil, ErrNodesType
	}
	entries := make([]ketamaEntry, 0, len(elems))
	for _, e := range elems {
		ent, use, err := ketamaServer(e, sub)
		if err != nil {
			return nil, err
		}
		if use {
			entries = append(entries, ent)
		}
	}
	if len(entries) == 0 {
		return nil, ErrEmptyServerList
	}
	// libvbucket's order (strcmp of "host:port"); see ParseBucketHost.
	slices.SortStableFunc(entries, func(a, b ketamaEntry) int {
		return strings.Compare(a.srv.String(), b.srv.String())
	})
	return ketamaMap(entries)
}

// ketamaServer reads one serverList string or nodes[] object. use is false
// for a node that is not healthy.
func ketamaServer(elem []byte, sub hostSub) (ent ketamaEntry, use bool, err error) {
	if s, ok := jsonString(elem); ok {
		s = sub.apply(s)
		if ent.srv, err = parseAuthority(s); err != nil {
			return ent, false, fmt.Errorf("mapstore: serverList entry %q: %w", s, err)
		}
		return ent, true, nil
	}
	n, err := decodeNode(elem, ErrKetamaNodeItem)
	if err != nil {
		return ent, false, err
	}
	if !n.healthy() {
		return ent, false, nil
	}
	_, host, port, err := n.authority(sub)
	if err != nil {
		return ent, false, err
	}
	if host == "" || port <= 0 || port > 65535 {
		return ent, false, fmt.Errorf("mapstore: node %q: bad host or direct port %d", host, port)
	}
	return ketamaEntry{srv: Server{Host: host, Port: port}, info: n.info(sub)}, true, nil
}

// ketamaMap builds the KetamaWeighted map over the sorted entries, keeping
// node metadata when any entry came from nodes[].
func ketamaMap(entries []ketamaEntry) (*Map, error) {
	servers := make([]Server, len(entries))
	var infos []NodeInfo
	for i, e := range entries {
		servers[i] = e.srv
		if e.info != (NodeInfo{}) {
			if infos == nil {
				infos = make([]NodeInfo, len(entries))
			}
			infos[i] = e.info
		}
	}
	m, err := newServerListMap(servers, KetamaWeighted)
	if err != nil {
		return nil, fmt.Errorf("mapstore: ketama bucket: %w", err)
	}
	m.nodes = infos
	return m, nil
}
