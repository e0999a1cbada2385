package mqtt

import (
	"math"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	const min, max = 100 * time.Millisecond, 2 * time.Second
	tests := []struct {
		failures int
		ceiling  time.Duration
	}{
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{5, 1600 * time.Millisecond},
		{6, 2 * time.Second},
		{50, 2 * time.Second},
		{math.MaxInt, 2 * time.Second},
	}
	for _, tt := range tests {
		lo := backoff(tt.failures, min, max, 0)
		hi := backoff(tt.failures, min, max, 0.999999999)
		if lo != tt.ceiling/2 {
			t.Errorf("failures=%d r=0: %v, want %v", tt.failures, lo, tt.ceiling/2)
		}
		if hi >= tt.ceiling || hi < tt.ceiling*99/100 {
			t.Errorf("failures=%d r→1: %v, want just under %v", tt.failures, hi, tt.ceiling)
		}
		if mid := backoff(tt.failures, min, max, 0.5); mid <= lo || mid >= hi {
			t.Errorf("failures=%d r=0.5: %v not inside (%v, %v)", tt.failures, mid, lo, hi)
		}
	}
	// Out-of-range jitter is clamped, and a huge MaxBackoff does not overflow.
	if d := backoff(3, min, max, -1); d != 200*time.Millisecond {
		t.Errorf("r=-1: %v", d)
	}
	if d := backoff(3, min, max, 7); d >= 400*time.Millisecond {
		t.Errorf("r=7: %v", d)
	}
	if d := backoff(100, time.Second, time.Duration(math.MaxInt64), 0); d <= 0 {
		t.Errorf("huge MaxBackoff: %v overflowed", d)
	}
}
