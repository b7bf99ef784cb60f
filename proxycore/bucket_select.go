package proxycore

import (
	"fmt"
	"strings"
)

// nullBucketName is the name moxi gave the NULL bucket.
const nullBucketName = "[ <NULL_BUCKET> ]"

// addBuckets creates the configured buckets. Several may share a port
// (one listener serving every bucket, chosen by SASL); the first on a port
// owns its listener. A name may appear only once per port.
func (s *Server) addBuckets(cfgs []Bucket) error {
	seen := make(map[string]bool)
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
		s.buckets = append(s.buckets, b)
		if _, ok := s.byPort[bc.Port]; !ok {
			s.byPort[bc.Port] = b
		}
	}
	s.null = newBucket(Bucket{Name: nullBucketName, Maps: StaticMap{}}, 0, s.logger)
	s.null.isNull = true
	return nil
}

// startBucket is the bucket a new client starts on (moxi's
// default_bucket_name): the listener's bucket by default; when a name is
// configured, the bucket with that user and no password, or else the NULL
// bucket, where every proxied command is refused until SASL auth.
func (s *Server) startBucket(listener *bucket) *bucket {
	if !s.cfg.NamedDefaultBucket {
		return listener
	}
	return s.findBucket(s.cfg.DefaultBucketName, "")
}

// findBucket returns the bucket whose SASL user and password are exactly
// usr and pwd, or the NULL bucket.
func (s *Server) findBucket(usr, pwd string) *bucket {
	for _, b := range s.buckets {
		if b.beh.Usr == usr && b.beh.Pwd == pwd {
			return b
		}
	}
	return s.null
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
