package mapstore

import (
	"slices"
	"testing"
)

// TestArrayElems: element boundaries survive strings holding delimiters,
// escapes, nesting and whitespace.
func TestArrayElems(t *testing.T) {
	raw := []byte(` [ "a,]\"[", {"x":[1,2],"y":"}"}, [ ] ,-1.5e3 , true,null,[[0]] ] `)
	elems, ok := arrayElems(raw, nil)
	var got []string
	for _, e := range elems {
		got = append(got, string(e))
	}
	want := []string{`"a,]\"["`, `{"x":[1,2],"y":"}"}`, `[ ]`, `-1.5e3`, `true`, `null`, `[[0]]`}
	if !ok || !slices.Equal(got, want) {
		t.Errorf("arrayElems = %q (ok %v), want %q", got, ok, want)
	}
	if e, ok := arrayElems([]byte(" [ ] "), nil); !ok || len(e) != 0 {
		t.Errorf("empty array: %q %v", e, ok)
	}
	if _, ok := arrayElems([]byte(`{"a":1}`), nil); ok {
		t.Errorf("an object is not an array")
	}
}

// TestObjectFields: keys match case-insensitively, escaped keys decode,
// the first duplicate wins (cJSON), and the end index is past the object.
func TestObjectFields(t *testing.T) {
	raw := []byte(`{"Name":"a","n\u0061me":"b","x":{"name":"c"},"NAME":"d"} trailing`)
	var name []byte
	end, ok := objectFields(raw, func(k, v []byte) {
		if keyIs(k, "name") {
			setFirst(&name, v)
		}
	})
	if !ok || string(name) != `"a"` || string(raw[:end]) != `{"Name":"a","n\u0061me":"b","x":{"name":"c"},"NAME":"d"}` {
		t.Errorf("name %s, end %d (%q), ok %v", name, end, raw[:end], ok)
	}
	count := 0
	objectFields([]byte(`{"n\u0061me":1}`), func(k, v []byte) {
		if keyIs(k, "name") {
			count++
		}
	})
	if count != 1 {
		t.Errorf("escaped key matched %d times, want 1", count)
	}
	for _, bad := range []string{`{"a`, `{"a":`, `{"a":"\`, `{"a":[1,`, `[`, `"\`} {
		end, _ := objectFields([]byte(bad), func(k, v []byte) {})
		if end < 0 || end > len(bad) || skipValue([]byte(bad), 0) > len(bad) {
			t.Errorf("%q: end %d out of range", bad, end)
		}
	}
}

// TestParseInt: integral JSON numbers only.
func TestParseInt(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "-1": -1, "65535": 65535, "1e2": 100, "2.0": 2, "-0": 0, "2147483647": 2147483647} {
		if got, ok := parseInt([]byte(in)); !ok || got != want {
			t.Errorf("parseInt(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "-", "0.5", "1e40", "\"1\"", "true", "2147483648"} {
		if got, ok := parseInt([]byte(in)); ok {
			t.Errorf("parseInt(%q) = %d, want failure", in, got)
		}
	}
}
