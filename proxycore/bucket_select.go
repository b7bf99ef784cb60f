package proxycore

import (
	"fmt"
	"strings"
)

// nullBucketName is the name moxi gave the NULL bucket.
const nullBucketName = "[ <NULL_BUCKET> ]"

// addBuckets creates the configured buckets and pools. Several buckets
// may share a port (one listener serving every bucket, chosen by SASL);
// the first on a port owns its listener. A name may appear only once per
// port, and a pool's port is its own.
func (s *Server) addBuckets(cfgs []Bucket, pools []Pool) error {
	seen := make(map[string]bool)
	var all []*bucket
	for _, bc := range cfgs {
		if bc.Maps == nil {
			return fmt.Errorf("proxycore: bucket %q on port %d has no map source", bc.Name, bc.Port)
		}
		id := fmt.Sprintf("%d/%s", bc.Port, bc.Name)
		if seen[id] {
			return fmt.Errorf("proxycore: bucket %q configured twice on port %d", bc.Name, bc.Port)
		}
		seen[id] = true
		b := newBucket(bc, s.cfg.Threads, s.logger.With("port", bc.Port, "bucket", bc.Name))
		s.shareDrops(b)
		all = append(all, b)
		if _, ok := s.byPort[bc.Port]; !ok {
			s.byPort[bc.Port] = b
		}
	}
	for i := range pools {
		p := &pools[i]
		if _, ok := s.byPort[p.Port]; ok || s.poolCfg[p.Port] != nil {
			return fmt.Errorf("proxycore: port %d has both a pool and other buckets", p.Port)
		}
		s.poolCfg[p.Port] = p
	}
	s.buckets.Store(&all)
	s.null = newBucket(Bucket{Name: nullBucketName, Maps: StaticMap{}}, 0, s.logger)
	s.null.isNull = true
	return nil
}

// allBuckets returns every bucket but the NULL one, in creation order.
// The slice is never modified; ApplyPool replaces it whole.
func (s *Server) allBuckets() []*bucket { return *s.buckets.Load() }

// anyActive reports whether some bucket has a map. moxi closes new
// clients at once while none has (MB-3113): before the first config from
// a REST server arrives, and after one that lists no buckets.
func (s *Server) anyActive() bool {
	for _, b := range s.allBuckets() {
		if b.active() {
			return true
		}
	}
	return false
}

// startBucket is the bucket a new client starts on (moxi's
// default_bucket_name): the listener's bucket by default, or on a pool's
// port its "default" bucket; when a name is configured, the bucket with
// that user and no password. Failing those it is the NULL bucket, where
// every proxied command is refused until SASL auth. Unlike the original,
// whose listener belonged to whichever bucket came first, a pool never
// seats an unauthenticated client on a bucket that has a password.
func (s *Server) startBucket(port int, listener *bucket) *bucket {
	if s.cfg.NamedDefaultBucket {
		return s.findBucket(s.cfg.DefaultBucketName, "")
	}
	if listener != nil {
		return listener
	}
	for _, b := range s.allBuckets() {
		if b.cfg.Port == port && b.cfg.Name == "default" {
			return b
		}
	}
	return s.null
}

// findBucket returns the bucket whose SASL user and password are exactly
// usr and pwd, or the NULL bucket.
func (s *Server) findBucket(usr, pwd string) *bucket {
	for _, b := range s.allBuckets() {
		if u, p, ok := b.identity(); ok && u == usr && p == pwd {
			return b
		}
	}
	return s.null
}

// identity is the SASL user and password that select b: its name and its
// map's saslPassword for buckets a REST server configures (none while it
// has no map), -Z usr and pwd otherwise.
func (b *bucket) identity() (usr, pwd string, ok bool) {
	if !b.cfg.REST {
		return b.beh.Usr, b.beh.Pwd, true
	}
	m := b.cfg.Maps.Current()
	if m == nil {
		return "", "", false
	}
	return b.cfg.Name, m.Password, true
}

// authBucket is findBucket for a SASL login: the NULL bucket never
// matches, so a failed login leaves the connection where it was.
func (s *Server) authBucket(usr, pwd string) (*bucket, bool) {
	b := s.findBucket(usr, pwd)
	return b, !b.isNull
}

// nullReplyASCII is what a text client on the NULL bucket gets for a
// proxied command: a get looks like a miss, the rest are refused.
func nullReplyASCII(line []byte) string {
	if strings.HasPrefix(string(line), "get") {
		return "END\r\n"
	}
	return "SERVER_ERROR unauthorized, null bucket\r\n"
}
