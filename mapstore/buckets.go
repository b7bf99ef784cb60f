package mapstore

import (
	"errors"
	"fmt"
)

// BucketError is one bucket of a {"buckets":[...]} document that could not
// be used. moxi logs such a bucket and carries on with the others (one bad
// tenant must not take the rest down), so ParseBuckets reports it without
// failing the document.
type BucketError struct {
	Index int    // position in the buckets array
	Name  string // the bucket's name, "default" when it has none
	Err   error  // a ConfigError or a "mapstore: ..." error
}

func (e *BucketError) Error() string {
	return fmt.Sprintf("bucket %d %q: %v", e.Index, e.Name, e.Err)
}

func (e *BucketError) Unwrap() error { return e.Err }

// ParseBuckets parses a REST config document, replacing "$HOST" with
// "localhost". See ParseBucketsHost.
func ParseBuckets(data []byte) ([]*Map, error) { return ParseBucketsHost(data, "") }

// ParseBucketsHost parses a REST config document: either one bucket object
// (bucketsStreaming/<bucket>), returned as a one-element slice, or
// {"buckets":[...]} (saslBucketsStreaming), one map per bucket in array
// order, each with its own element's JSON text as Source. moxi creates the "default" bucket's proxy first; that ordering is
// the caller's business. {"buckets":[]} returns an empty slice and no
// error: it means "no buckets now", not a failure.
//
// Blank data (the empty remainder after a stream's last "\n\n\n\n")
// returns ErrEmptyConfig; a document that is not JSON returns
// ErrInvalidJSON. Either way no maps. In a buckets array each bad bucket
// yields a *BucketError; they are joined into the returned error while the
// good buckets are still returned, so a caller that follows moxi logs the
// error and uses the maps.
func ParseBucketsHost(data []byte, host string) ([]*Map, error) {
	rb, src, err := decodeDoc(data)
	if err != nil {
		return nil, err
	}
	sub := newHostSub(host)
	if jsonKind(rb.Buckets) != '[' {
		m, err := buildBucket(&rb, src, sub)
		if err != nil {
			return nil, err
		}
		return []*Map{m}, nil
	}
	elems, _ := arrayElems(rb.Buckets, nil)
	maps := make([]*Map, 0, len(elems))
	var errs []error
	for i, elem := range elems {
		m, name, err := parseBucketElem(elem, sub)
		if err != nil {
			errs = append(errs, &BucketError{Index: i, Name: name, Err: err})
			continue
		}
		maps = append(maps, m)
	}
	return maps, errors.Join(errs...)
}

// parseBucketElem parses one buckets[] element, also returning its name
// for error reports.
func parseBucketElem(elem []byte, sub hostSub) (*Map, string, error) {
	if jsonKind(elem) != '{' {
		// moxi skips such an element silently; we say why.
		return nil, "default", errors.New("mapstore: bucket is not a JSON object")
	}
	rb, _ := decodeBucket(elem)
	name := "default"
	if s, ok := jsonString(rb.Name); ok {
		name = s
	}
	m, err := buildBucket(&rb, elem, sub)
	return m, name, err
}
