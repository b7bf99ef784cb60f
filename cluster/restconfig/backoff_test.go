package restconfig

import (
	"testing"
	"time"
)

// The pause doubles from Retry up to MaxBackoff, and stays at Retry when
// no larger cap is set (moxi's fixed sleep).
func TestNextPause(t *testing.T) {
	const s = time.Second
	for _, tc := range []struct {
		cur, retry, max, want time.Duration
	}{
		{s, s, 0, s},
		{s, s, s, s},
		{s, s, 30 * s, 2 * s},
		{8 * s, s, 30 * s, 16 * s},
		{16 * s, s, 30 * s, 30 * s},
		{30 * s, s, 30 * s, 30 * s},
	} {
		if got := nextPause(tc.cur, tc.retry, tc.max); got != tc.want {
			t.Errorf("nextPause(%v, %v, %v) = %v, want %v", tc.cur, tc.retry, tc.max, got, tc.want)
		}
	}
}
