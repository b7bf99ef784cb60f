package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestFlagsDefaults(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.restAddr != "127.0.0.1:8091" || cfg.nodes != 4 || cfg.vbuckets != 1024 || cfg.replicas != 0 ||
		len(cfg.buckets) != 1 || cfg.buckets[0] != (bucketSpec{name: "default"}) ||
		cfg.adminUser != "Administrator" || cfg.adminPassword != "password" ||
		cfg.rebalanceStep != 50*time.Millisecond || cfg.rebalanceBatch != 64 {
		t.Fatalf("defaults: %+v", cfg)
	}
}

func TestFlagsBuckets(t *testing.T) {
	cfg, err := parseFlags([]string{"-buckets", "default, a:pw,b:"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := []bucketSpec{{"default", ""}, {"a", "pw"}, {"b", ""}}
	if len(cfg.buckets) != 3 || cfg.buckets[0] != want[0] || cfg.buckets[1] != want[1] || cfg.buckets[2] != want[2] {
		t.Fatalf("buckets %+v, want %+v", cfg.buckets, want)
	}
}

func TestFlagsRefused(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-vbuckets", "1000"}, "power of two"},
		{[]string{"-nodes", "0"}, "-nodes"},
		{[]string{"-replicas", "5"}, "-replicas"},
		{[]string{"-buckets", "a,a"}, "twice"},
		{[]string{"-buckets", "a", "-bucket", "b"}, "replaces"},
		{[]string{"-bucket", "a/b"}, "must not contain"},
		{[]string{"-host", "0.0.0.0"}, "-host"},
		{[]string{"-host", "::1"}, "-host"},
		{[]string{"-host", ""}, "-host"},
		{[]string{"stray"}, "unexpected argument"},
		{[]string{"-no-such-flag"}, "usage"},
	} {
		_, err := parseFlags(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one mentioning %q", tc.args, err, tc.want)
		}
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}
