// Package gid encodes ent's integer IDs as opaque Relay global IDs.
//
// A global ID is the unpadded base64url encoding of "Type:N", where N is the
// ent ID. Every ent type owns its own ID range (ent's sql/globalid feature),
// so the type is derived from N when encoding and checked when decoding: an
// ID edited to claim another type does not decode.
package gid

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/feedbackloop/feedbackloop/ent"
)

// maxEncodedLen bounds the input decoded: "Adjustment:" plus 20 digits fits easily.
const maxEncodedLen = 64

// ErrInvalid is wrapped by every decoding error. The API reports such IDs as
// NOT_FOUND: clients cannot tell an ID that was never issued from one that
// no longer exists, and should not try.
var ErrInvalid = errors.New("invalid ID")

var errNotIssued = fmt.Errorf("%w: not an ID issued by this API", ErrInvalid)

// Encode returns the global ID of an ent ID. IDs outside every type's range
// (which ent never issues) are encoded with the type "Unknown" and do not decode.
func Encode(id int) string {
	var buf [maxEncodedLen]byte
	return string(appendEncoded(buf[:0], id))
}

// appendEncoded appends the global ID of id to dst.
func appendEncoded(dst []byte, id int) []byte {
	typ, ok := ent.NodeTypeOfID(id)
	if !ok {
		typ = "Unknown"
	}
	var raw [maxEncodedLen]byte
	plain := strconv.AppendInt(append(append(raw[:0], typ...), ':'), int64(id), 10)
	return base64.RawURLEncoding.AppendEncode(dst, plain)
}

// Decode returns the ent ID inside a global ID.
func Decode(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: empty", ErrInvalid)
	}
	if len(s) > maxEncodedLen {
		return 0, fmt.Errorf("%w: longer than %d characters", ErrInvalid, maxEncodedLen)
	}
	// Accept padded input too: some clients re-encode IDs they were given.
	// Only the canonical encoding: the decoder would also skip newlines and
	// accept non-zero padding bits, giving one ID several spellings.
	s = strings.TrimRight(s, "=")
	if strings.IndexFunc(s, notBase64URL) >= 0 {
		return 0, errNotIssued
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return 0, errNotIssued
	}
	typ, num, ok := strings.Cut(string(raw), ":")
	if !ok {
		return 0, errNotIssued
	}
	id, err := strconv.Atoi(num)
	if err != nil || id <= 0 || num != strconv.Itoa(id) {
		return 0, errNotIssued
	}
	if want, ok := ent.NodeTypeOfID(id); !ok || want != typ {
		return 0, errNotIssued
	}
	return id, nil
}

// MarshalID is gqlgen's marshaler for the ID scalar (see gqlgen.yml).
func MarshalID(id int) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { writeID(w, id) })
}

func writeID(w io.Writer, id int) {
	// base64url needs no JSON escaping: quote it by hand, in one write (IDs
	// are a large part of every response), straight into the buffer the
	// executor writes a response to.
	if buf, ok := w.(*bytes.Buffer); ok {
		_, _ = buf.Write(appendQuoted(buf.AvailableBuffer(), id))
		return
	}
	_, _ = w.Write(appendQuoted(nil, id))
}

func appendQuoted(dst []byte, id int) []byte {
	return append(appendEncoded(append(dst, '"'), id), '"')
}

// UnmarshalID is gqlgen's unmarshaler for the ID scalar.
func UnmarshalID(v any) (int, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("%w: IDs are strings, got %T", ErrInvalid, v)
	}
	return Decode(s)
}

func notBase64URL(r rune) bool {
	return !('A' <= r && r <= 'Z' || 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_')
}
