package gid_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/graph/gid"
)

// IDs as ent's sql/globalid ranges issue them (see ent/internal/globalid.go).
const (
	firstAdjustment = 1
	firstFeedback   = 1 << 32
	firstProject    = 2 << 32
	firstTask       = 3 << 32
)

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		id   int
		want string
	}{
		{firstAdjustment, "Adjustment:1"},
		{firstFeedback + 41, "Feedback:4294967337"},
		{firstProject, "Project:8589934592"},
		{firstTask + 7, "Task:12884901895"},
	} {
		enc := gid.Encode(tc.id)
		raw, err := base64.RawURLEncoding.DecodeString(enc)
		if err != nil || string(raw) != tc.want {
			t.Errorf("Encode(%d) = %q (%q), want base64url of %q", tc.id, enc, raw, tc.want)
		}
		got, err := gid.Decode(enc)
		if err != nil || got != tc.id {
			t.Errorf("Decode(Encode(%d)) = %d, %v", tc.id, got, err)
		}
		// Padded base64 is accepted as well.
		if got, err := gid.Decode(base64.URLEncoding.EncodeToString(raw)); err != nil || got != tc.id {
			t.Errorf("Decode(padded) = %d, %v", got, err)
		}
		// In a response the ID is a JSON string, whatever it is written to
		// (the executor writes to a bytes.Buffer).
		var b strings.Builder
		gid.MarshalID(tc.id).MarshalGQL(&b)
		var fromJSON string
		if err := json.Unmarshal([]byte(b.String()), &fromJSON); err != nil || fromJSON != enc {
			t.Errorf("MarshalID(%d) wrote %s, want the JSON string %q (%v)", tc.id, b.String(), enc, err)
		}
		buf := bytes.NewBufferString(`{"id":`)
		gid.MarshalID(tc.id).MarshalGQL(buf)
		if buf.String() != `{"id":`+b.String() {
			t.Errorf("MarshalID(%d) into a buffer holding {\"id\": left %s", tc.id, buf.String())
		}
	}
}

func TestEncodeOutsideEveryRange(t *testing.T) {
	const id = -5
	enc := gid.Encode(id)
	if raw, _ := base64.RawURLEncoding.DecodeString(enc); string(raw) != "Unknown:-5" {
		t.Errorf("Encode(%d) = %q (%q), want base64url of Unknown:-5", id, enc, raw)
	}
	if _, err := gid.Decode(enc); !errors.Is(err, gid.ErrInvalid) {
		t.Errorf("Decode(%q) = %v, want ErrInvalid", enc, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, in := range map[string]string{
		"empty":             "",
		"not base64":        "%%%",
		"no colon":          enc("Project8589934592"),
		"wrong type":        enc("Task:8589934592"),
		"unknown type":      enc("User:8589934592"),
		"outside all range": enc("Project:" + "99999999999999"),
		"zero":              enc("Adjustment:0"),
		"negative":          enc("Adjustment:-1"),
		"leading zero":      enc("Project:08589934592"),
		"plus sign":         enc("Project:+8589934592"),
		"not a number":      enc("Project:abc"),
		"overflow":          enc("Project:99999999999999999999999"),
		"too long":          enc("Project:8589934592" + string(make([]byte, 60))),
		"bare integer":      "8589934592",
	} {
		if id, err := gid.Decode(in); err == nil || !errors.Is(err, gid.ErrInvalid) {
			t.Errorf("%s: Decode(%q) = %d, %v; want ErrInvalid", name, in, id, err)
		}
	}
}

func TestUnmarshalIDRejectsNonStrings(t *testing.T) {
	for _, v := range []any{8589934592, 1.5, nil, true, []string{"x"}} {
		if _, err := gid.UnmarshalID(v); !errors.Is(err, gid.ErrInvalid) {
			t.Errorf("UnmarshalID(%#v) err = %v", v, err)
		}
	}
}

// FuzzDecode: no input panics, and every accepted ID is one Encode issues.
func FuzzDecode(f *testing.F) {
	f.Add(gid.Encode(1 << 32))
	f.Add(gid.Encode(3<<32 + 7))
	f.Add("UHJvamVjdDox")
	f.Add("")
	f.Add("====")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := gid.Decode(s)
		if err != nil {
			if !errors.Is(err, gid.ErrInvalid) {
				t.Fatalf("Decode(%q) error %v is not ErrInvalid", s, err)
			}
			return
		}
		if id <= 0 || strings.TrimRight(s, "=") != gid.Encode(id) {
			t.Fatalf("Decode(%q) = %d, which encodes as %q", s, id, gid.Encode(id))
		}
	})
}
