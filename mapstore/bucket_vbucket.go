package mapstore

import (
	"fmt"
	"slices"
)

const (
	maxReplicas = 4     // libvbucket's MAX_REPLICAS
	maxVBuckets = 65536 // libvbucket's MAX_VBUCKETS
)

// buildVBucket builds a VBucket map, checking fields in libvbucket's order
// so that a config with several faults is rejected with the same message
// moxi would log. The host:port check of each server comes last: that is
// moxi's, made after libvbucket accepted the config.
func buildVBucket(rb *rawBucket, sub hostSub) (*Map, error) {
	sm := &rb.rawServerMap
	if jsonKind(rb.ServerMap) == '{' {
		inner := decodeServerMap(rb.ServerMap)
		sm = &inner
	}
	replicas, ok := jsonInt(sm.NumReplicas)
	if !ok || replicas < 0 || replicas > maxReplicas {
		return nil, ErrNumReplicas
	}
	auths, err := serverListStrings(sm.ServerList, sub)
	if err != nil {
		return nil, err
	}
	nodes, err := matchNodes(rb.Nodes, auths, sub)
	if err != nil {
		return nil, err
	}
	t, err := parseVBucketMaps(sm, replicas+1, len(auths))
	if err != nil {
		return nil, err
	}
	servers := make([]Server, len(auths))
	for i, a := range auths {
		if servers[i], err = parseAuthority(a); err != nil {
			return nil, fmt.Errorf("mapstore: serverList entry %d %q: %w", i, a, err)
		}
	}
	return &Map{Servers: servers, Dist: VBucket, locate: t.locate, vb: t, nodes: nodes}, nil
}

// serverListStrings returns serverList's entries with $HOST replaced.
func serverListStrings(raw []byte, sub hostSub) ([]string, error) {
	elems, ok := arrayElems(raw, nil)
	if !ok {
		return nil, ErrServerListType
	}
	if len(elems) == 0 {
		return nil, ErrEmptyServerList
	}
	auths := make([]string, len(elems))
	for i, e := range elems {
		s, ok := jsonString(e)
		if !ok {
			return nil, ErrServerListStrings
		}
		auths[i] = sub.apply(s)
	}
	return auths, nil
}

// matchNodes attaches nodes[] metadata to the servers it describes: a node
// matches the serverList entry equal to its host + ":" + ports.direct.
// Nodes matching nothing (not yet active, say) are ignored, but every node
// must be well formed, as libvbucket insists.
func matchNodes(raw []byte, auths []string, sub hostSub) ([]NodeInfo, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	elems, ok := arrayElems(raw, nil)
	if !ok {
		return nil, ErrNodesType
	}
	var infos []NodeInfo
	for _, e := range elems {
		n, err := decodeNode(e, ErrNodeItem)
		if err != nil {
			return nil, err
		}
		auth, _, _, err := n.authority(sub)
		if err != nil {
			return nil, err
		}
		if i := slices.Index(auths, auth); i >= 0 {
			if infos == nil {
				infos = make([]NodeInfo, len(auths))
			}
			infos[i] = n.info(sub)
		}
	}
	return infos, nil
}

// parseVBucketMaps parses vBucketMap and the optional vBucketMapForward.
func parseVBucketMaps(sm *rawServerMap, stride, nservers int) (*vbTable, error) {
	elems, ok := arrayElems(sm.VBucketMap, nil)
	switch n := len(elems); {
	case !ok:
		return nil, ErrVBucketMapType
	case n == 0:
		return nil, ErrNoVBuckets
	case n&(n-1) != 0 || n > maxVBuckets:
		return nil, ErrNumVBuckets
	}
	t := &vbTable{mask: uint32(len(elems) - 1), stride: stride}
	var err error
	if t.rows, err = parseRows(elems, stride, nservers); err != nil {
		return nil, err
	}
	if len(sm.VBucketMapForward) == 0 {
		return t, nil
	}
	fwd, ok := arrayElems(sm.VBucketMapForward, elems[:0])
	if !ok {
		return nil, ErrForwardMapType
	}
	// libvbucket reads as many forward rows as there are vBuckets: a
	// shorter forward map is malformed, extra rows are ignored.
	if len(fwd) < len(t.rows)/stride {
		return nil, ErrVBucketRow
	}
	if t.forward, err = parseRows(fwd[:len(t.rows)/stride], stride, nservers); err != nil {
		return nil, err
	}
	return t, nil
}

// parseRows parses vBucket rows into the flat layout of vbTable: each row
// an array of exactly stride integers in [-1, nservers).
func parseRows(elems [][]byte, stride, nservers int) ([]int32, error) {
	rows := make([]int32, len(elems)*stride)
	cells := make([][]byte, 0, maxReplicas+1)
	for i, e := range elems {
		var ok bool
		cells, ok = arrayElems(e, cells[:0])
		if !ok || len(cells) != stride {
			return nil, ErrVBucketRow
		}
		for j, c := range cells {
			v, ok := parseInt(c)
			if !ok || v < -1 || v >= nservers {
				return nil, ErrServerID
			}
			rows[i*stride+j] = int32(v)
		}
	}
	return rows, nil
}
