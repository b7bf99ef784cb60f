package mapstore

import (
	"errors"
	"reflect"
	"testing"
)

var (
	testSource = Source{Kind: "rest", Spec: "http://mb1:8091/pools/default/saslBucketsStreaming",
		Behavior: "downstream_max=4", FleetID: "f1e2d3"}
	testEntry = ConfigEntry{Section: 1, Origin: "http://mb1:8091/pools/default/saslBucketsStreaming",
		Body: []byte(`{"buckets":[]}`)}
)

// The entry format is what old logs hold: these bytes must decode forever.
func TestEncodeGolden(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"set source", EncodeSetSource(testSource),
			"\x01" + `{"kind":"rest","spec":"http://mb1:8091/pools/default/saslBucketsStreaming","behavior":"downstream_max=4","fleet_id":"f1e2d3"}`},
		{"set config", EncodeSetConfig(testEntry),
			"\x02" + `{"section":1,"origin":"http://mb1:8091/pools/default/saslBucketsStreaming","body":"eyJidWNrZXRzIjpbXX0="}`},
		{"set config empty", EncodeSetConfig(ConfigEntry{}),
			"\x02" + `{"section":0,"origin":"","body":null}`},
	}
	for _, tt := range tests {
		if string(tt.got) != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestEncodeCanonical(t *testing.T) {
	e := testEntry
	e.Body = []byte("a\x00\xff<&>\n")
	a, b := EncodeSetConfig(e), EncodeSetConfig(ConfigEntry{Section: e.Section, Origin: e.Origin, Body: append([]byte(nil), e.Body...)})
	if string(a) != string(b) {
		t.Fatalf("same entry encoded twice differently:\n%q\n%q", a, b)
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	binary := ConfigEntry{Section: 7, Origin: "/etc/moxi.cfg", Body: []byte("11211=a:1\x00\xff\n")}
	tests := []struct {
		name     string
		data     []byte
		wantType CommandType
		want     any
	}{
		{"source", EncodeSetSource(testSource), CmdSetSource, testSource},
		{"source zero", EncodeSetSource(Source{}), CmdSetSource, Source{}},
		{"config", EncodeSetConfig(testEntry), CmdSetConfig, testEntry},
		{"config binary body", EncodeSetConfig(binary), CmdSetConfig, binary},
		{"config empty body", EncodeSetConfig(ConfigEntry{Body: []byte{}}), CmdSetConfig, ConfigEntry{Body: []byte{}}},
	}
	for _, tt := range tests {
		typ, v, err := DecodeCommand(tt.data)
		if err != nil || typ != tt.wantType || !reflect.DeepEqual(v, tt.want) {
			t.Errorf("%s: DecodeCommand = %d, %#v, %v; want %d, %#v", tt.name, typ, v, err, tt.wantType, tt.want)
		}
	}
}

func TestDecodeCommand(t *testing.T) {
	tests := []struct {
		name     string
		data     string
		wantType CommandType
		want     any
		wantErr  error
	}{
		{"empty", "", 0, nil, ErrBadCommand},
		{"type only", "\x01", CmdSetSource, nil, ErrBadCommand},
		{"null payload", "\x02null", CmdSetConfig, nil, ErrBadCommand},
		{"array payload", "\x02[]", CmdSetConfig, nil, ErrBadCommand},
		{"bad json", "\x01{\"kind\":", CmdSetSource, nil, ErrBadCommand},
		{"trailing data", "\x01{}{}", CmdSetSource, nil, ErrBadCommand},
		{"wrong field type", "\x02{\"section\":\"1\"}", CmdSetConfig, nil, ErrBadCommand},
		{"bad base64", "\x02{\"body\":\"!!\"}", CmdSetConfig, nil, ErrBadCommand},
		{"unknown fields allowed", "\x01 {\"kind\":\"static\",\"new\":1}", CmdSetSource, Source{Kind: "static"}, nil},
		{"known type with flag", "\x82{\"section\":3}", CmdSetConfig, ConfigEntry{Section: 3}, nil},
		{"unknown type", "\x09{}", 9, nil, ErrUnknownCommand},
		{"zero type", "\x00{}", 0, nil, ErrUnknownCommand},
		{"unknown type with flag", "\x89anything", 9, nil, nil},
		{"flag alone", "\x80", 0, nil, nil},
	}
	for _, tt := range tests {
		typ, v, err := DecodeCommand([]byte(tt.data))
		if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.wantErr)
		}
		if typ != tt.wantType || !reflect.DeepEqual(v, tt.want) {
			t.Errorf("%s: DecodeCommand = %d, %#v; want %d, %#v", tt.name, typ, v, tt.wantType, tt.want)
		}
	}
}

func TestSourceSame(t *testing.T) {
	other := testSource
	other.FleetID, other.Behavior = "other", "other"
	if !testSource.Same(other) {
		t.Error("FleetID and Behavior must not matter")
	}
	for _, o := range []Source{
		{Kind: "static", Spec: testSource.Spec},
		{Kind: testSource.Kind, Spec: testSource.Spec + "x"},
	} {
		if testSource.Same(o) {
			t.Errorf("%+v is the same as %+v", o, testSource)
		}
	}
}
