package mapstore

import "errors"

// ParseServerList parses a libmemcached server list:
// "host[:port[:weight]],host..." (also "host:port weight"); a missing or
// zero port means 11211.
func ParseServerList(s string) ([]Server, error) {
	return nil, errors.New("mapstore: not implemented yet")
}

func newServerListMap(servers []Server, dist Distribution) (*Map, error) {
	return nil, errors.New("mapstore: not implemented yet")
}
