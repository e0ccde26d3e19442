package wstransport_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql/handler/testserver"

	"github.com/feedbackloop/feedbackloop/graph/wstransport"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// FuzzReadPath drives frames of every length class (0, 1, 125, 126, 65535,
// 65536, 65537 bytes) and every opcode (text, binary, continuation, ping,
// pong, close with and without a code and reason, the reserved ones),
// masked or not, with or without RSV bits, through the transport's read
// path over a real TCP connection, from a client that writes raw bytes. It
// checks that the server never panics (the test process would crash), never
// hangs (every exchange ends within its deadline and the connection is
// released), writes only well-formed frames, and closes with the code the
// protocols call for:
//
//   - a frame RFC 6455 forbids a client to send (reserved opcode, RSV bit,
//     no mask, control frame longer than 125 bytes or fragmented, a
//     continuation without a message, a data frame inside a message, a
//     close code no endpoint may send, a close reason that is not UTF-8):
//     1002, written by gorilla;
//   - a message larger than the limit: 1009; a text message that is not
//     UTF-8: 1007;
//   - graphql-transport-ws: not JSON or no type 4400, subscribe before
//     connection_init 4401, a second connection_init 4429;
//   - the client's close: the same code back (none for none).
//
// Each input is a list of frames, three bytes each (decodeFrames). The
// client sends them up to the first one that ends the connection, so that
// the expected code does not depend on how far the server read ahead; if
// none does, it closes with 1000 itself.
//
// Run it with: go test -fuzz FuzzReadPath ./graph/wstransport/
func FuzzReadPath(f *testing.F) {
	for _, seed := range readPathSeeds() {
		f.Add(seed)
	}
	tr, url := fuzzServer(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		frames := decodeFrames(data)
		want := expect(frames, wstransport.DefaultMaxMessageBytes)
		got := exchange(t, url, frames[:want.sent], !want.byFrames)
		if got.code != want.code {
			t.Fatalf("closed with %d %q, want %d (%s)\nframes: %s", got.code, got.reason, want.code, want.why, describe(frames[:want.sent]))
		}
		if got.acks > 1 || got.acks == 1 && !want.initialised {
			t.Fatalf("%d connection_ack, initialised: %v\nframes: %s", got.acks, want.initialised, describe(frames[:want.sent]))
		}
		testutil.WaitFor(t, "the server to release the connection", func() bool { return tr.Connections() == 0 })
		// The server closes at once: only a client that does not answer
		// its close frame waits (closeWait), and this one answers.
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("the exchange took %v\nframes: %s", took, describe(frames[:want.sent]))
		}
	})
}

// The seeds: every length class in text, binary and fragmented messages,
// every control frame, close frames with and without code and reason,
// every reserved opcode, unmasked and RSV frames, and the protocol's
// messages before and after connection_init.
func readPathSeeds() [][]byte {
	// frame bytes: b0 = opcode | 0x10 (not FIN) | 0xE0 (RSV, with b1's
	// bits 2-3); b1 = length class << 3 | 0xC0 (unmasked); b2 = content.
	const (
		init     = 0 // contents, see messageContents
		ping     = 2
		sub      = 4
		notJSON  = 7
		badUTF8  = 10
		classes  = 8
		asIs     = 7 << 3 // the content's own length
		notFin   = 0x10
		unmasked = 0xC0
	)
	seeds := [][]byte{
		{}, // nothing: the client closes
		{1, asIs, init, 1, asIs, ping, 1, asIs, sub}, // init, ping, a query
		{1, asIs, sub},                 // subscribe first: 4401
		{1, asIs, init, 1, asIs, init}, // init twice: 4429
		{1, asIs, notJSON},             // 4400
		{1, asIs, badUTF8},             // 1007
		{2, asIs, badUTF8},             // binary: no UTF-8 check, 4400
		{1, asIs | unmasked, init},     // unmasked: 1002
		{1 | 0xE0, asIs, init},         // RSV1: 1002
		{1 | notFin, 2 << 3, init, 0, 3 << 3, 0, 9, asIs, 0, 0, 4 << 3, 0}, // fragmented, a ping inside
		{0, asIs, 0},                             // continuation first: 1002
		{1 | notFin, asIs, init, 1, asIs, init},  // text inside a message: 1002
		{9 | notFin, asIs, 0},                    // fragmented ping: 1002
		{9, 3 << 3, 0},                           // 126-byte ping: 1002
		{9, 2 << 3, 0, 10, 1 << 3, 0, 10, 0, 0},  // ping 125, pong 1 and 0
		{1 | notFin, 4 << 3, init, 0, 1 << 3, 0}, // 65535 + 1 bytes: 65536, at the limit
		{1 | notFin, 5 << 3, init, 0, 1 << 3, 0}, // 65536 + 1: 1009
		{1, 6 << 3, init},                        // 65537 in one frame: 1009
	}
	for class := range classes {
		for _, op := range []byte{1, 2} {
			seeds = append(seeds, []byte{op, byte(class << 3), init}, []byte{op, byte(class << 3), ping})
		}
		seeds = append(seeds, []byte{9, byte(class << 3), 0}, []byte{10, byte(class << 3), 0}, []byte{8, byte(class << 3), 0})
	}
	for v := range len(closeCodes)*2 + 2 {
		seeds = append(seeds, []byte{8, asIs, byte(v)}, []byte{8, asIs, byte(v) | 0x80})
	}
	for _, op := range []byte{3, 4, 5, 6, 7, 11, 12, 13, 14, 15} {
		seeds = append(seeds, []byte{op, asIs, 0})
	}
	for content := range len(messageContents) {
		seeds = append(seeds, []byte{1, asIs, byte(content)}, []byte{1, asIs, init, 1, asIs, byte(content)})
	}
	return seeds
}

// frame is one frame the client sends.
type frame struct {
	fin     bool
	rsv     byte // RSV1..3 as bits 2..0
	op      byte
	masked  bool
	payload []byte
}

func (f frame) String() string {
	p := f.payload
	if len(p) > 24 {
		p = p[:24]
	}
	return fmt.Sprintf("{op %d fin %v rsv %d masked %v %d bytes %q}", f.op, f.fin, f.rsv, f.masked, len(f.payload), p)
}

func describe(frames []frame) string {
	var b strings.Builder
	for _, f := range frames {
		b.WriteString(f.String())
	}
	return b.String()
}

// lengthClasses are a frame's payload lengths: each of the three length
// encodings at its edges, and the limit's; -1 is the content's own.
var lengthClasses = [8]int{0, 1, 125, 126, 65535, 65536, 65537, -1}

// messageContents start data messages: the protocol's messages, and ones
// that break it. A content is cut or padded with spaces to its frame's
// length. %d is the frame's index, so that IDs never collide.
var messageContents = []string{
	`{"type":"connection_init"}`,
	`{"type":"connection_init","payload":{"Authorization":"Bearer x"}}`,
	`{"type":"ping"}`,
	`{"type":"pong"}`,
	`{"id":"q%d","type":"subscribe","payload":{"query":"{ name }"}}`,
	`{"type":"subscribe","payload":{"query":"{ name }"}}`,
	`{"id":"q%d","type":"complete"}`,
	`{nope`,
	`{"type":"bogus"}`,
	`{"id":"1"}`,
	"{\"type\":\"ping\",\"payload\":\"\xff\xfe\"}",
	`{"type":"connection_init","payload":[]}`,
	`{"type":"ping","payload":"é"}`,
}

// closeCodes are the codes close frames carry: the RFC's, the registered
// ones after it, and out-of-range ones.
var closeCodes = []int{1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015, 999, 2999, 3000, 4000, 4999, 5000, 0}

// decodeFrames reads up to 8 frames of 3 bytes each: b0 is the opcode
// (low 4 bits), FIN unless 0x10, RSV bits when 0xE0 are all set; b1 the
// length class (bits 3-5), unmasked when 0xC0 are both set; b2 the
// content.
func decodeFrames(data []byte) []frame {
	var frames []frame
	for i := 0; i+3 <= len(data) && len(frames) < 8; i += 3 {
		b0, b1, b2 := data[i], data[i+1], data[i+2]
		f := frame{op: b0 & 0x0F, fin: b0&0x10 == 0, masked: b1&0xC0 != 0xC0}
		if b0&0xE0 == 0xE0 {
			f.rsv = 1 << ((b1 >> 1) % 3)
		}
		length := lengthClasses[(b1>>3)&7]
		switch f.op {
		case 1, 2: // text, binary: a message
			content := messageContents[int(b2)%len(messageContents)]
			if strings.Contains(content, "%d") {
				content = fmt.Sprintf(content, len(frames))
			}
			f.payload = sized([]byte(content), length, ' ')
		case 8: // close
			f.payload = sized(closePayload(b2), length, 'a')
		default: // continuation, ping, pong, reserved
			f.payload = sized([]byte("hi"), length, ' ')
		}
		frames = append(frames, f)
	}
	return frames
}

// closePayload is the payload of close frame variant v: a code with or
// without a reason, a reason that is not UTF-8 (v's high bit), nothing, or
// one byte.
func closePayload(v byte) []byte {
	i := int(v&0x7F) % (len(closeCodes)*2 + 2)
	switch {
	case i == len(closeCodes)*2:
		return nil
	case i == len(closeCodes)*2+1:
		return []byte{3}
	}
	p := binary.BigEndian.AppendUint16(nil, uint16(closeCodes[i/2]))
	if i%2 == 1 {
		p = append(p, "bye"...)
	}
	if v&0x80 != 0 {
		p = append(p, 0xFF)
	}
	return p
}

// sized cuts or pads b to n bytes (n < 0: b as it is); a payload of fewer
// than two bytes is not padded, so that close frames keep their kind.
func sized(b []byte, n int, pad byte) []byte {
	switch {
	case n < 0:
		return b
	case n <= len(b):
		return b[:n]
	case len(b) < 2:
		return b
	}
	return append(b, bytes.Repeat([]byte{pad}, n-len(b))...)
}

// expected is what the server must do with frames.
type expected struct {
	sent        int    // the frames to send: up to the one that ends the connection
	code        int    // the close code (1005: a close frame without one)
	why         string // which rule
	initialised bool   // connection_init succeeded before the end
	byFrames    bool   // a frame ends the connection (else the client's own close)
}

// expect works out, from RFC 6455 and graphql-transport-ws, how the server
// ends a connection the client sends frames on, reading messages of at
// most limit bytes.
func expect(frames []frame, limit int) expected {
	var (
		inMessage   bool
		text        bool
		message     []byte
		initialised bool
	)
	end := func(i, code int, why string) expected {
		return expected{sent: i + 1, code: code, why: why, initialised: initialised, byFrames: true}
	}
	for i, f := range frames {
		control := f.op >= 8
		switch {
		case f.rsv != 0:
			return end(i, 1002, "RSV bit without an extension")
		case f.op > 10 || f.op >= 3 && f.op <= 7:
			return end(i, 1002, "reserved opcode")
		case control && !f.fin:
			return end(i, 1002, "fragmented control frame")
		case control && len(f.payload) > 125:
			return end(i, 1002, "control frame over 125 bytes")
		case f.op == 0 && !inMessage:
			return end(i, 1002, "continuation without a message")
		case (f.op == 1 || f.op == 2) && inMessage:
			return end(i, 1002, "data frame inside a message")
		case !f.masked:
			return end(i, 1002, "unmasked client frame")
		}
		switch f.op {
		case 8:
			if len(f.payload) < 2 {
				// RFC 6455 5.5.1 makes a 1-byte body malformed; gorilla
				// reads it as no code, and so answers with none.
				return end(i, 1005, "close without a code")
			}
			code := int(binary.BigEndian.Uint16(f.payload))
			if !receivable(code) {
				return end(i, 1002, "close code no endpoint may send")
			}
			if !utf8.Valid(f.payload[2:]) {
				return end(i, 1002, "close reason not UTF-8")
			}
			return end(i, code, "the client's close, echoed")
		case 9, 10:
			continue
		case 1, 2:
			inMessage, text, message = true, f.op == 1, nil
		}
		message = append(message, f.payload...)
		if len(message) > limit {
			return end(i, 1009, "message over the limit")
		}
		if !f.fin {
			continue
		}
		inMessage = false
		if text && !utf8.Valid(message) {
			return end(i, 1007, "text not UTF-8")
		}
		var m struct {
			ID      *string
			Type    string
			Payload json.RawMessage
		}
		if json.Unmarshal(message, &m) != nil || m.Type == "" {
			return end(i, 4400, "not a JSON object with a type")
		}
		switch {
		case m.Type == "ping", m.Type == "pong":
		case m.Type == "connection_init" && initialised:
			return end(i, 4429, "second connection_init")
		case m.Type == "connection_init":
			var payload map[string]any
			if len(m.Payload) > 0 && json.Unmarshal(m.Payload, &payload) != nil {
				return end(i, 4400, "connection_init payload not an object")
			}
			initialised = true
		case m.Type == "subscribe" && !initialised:
			return end(i, 4401, "subscribe before connection_init")
		case m.Type == "subscribe" && (m.ID == nil || *m.ID == ""):
			return end(i, 4400, "subscribe without an id")
		case m.Type == "subscribe", m.Type == "complete" && initialised:
		default:
			return end(i, 4400, "unexpected message "+m.Type)
		}
	}
	return expected{sent: len(frames), code: 1000, why: "the client's own close, echoed", initialised: initialised}
}

// receivable reports whether an endpoint may receive close code c: RFC
// 6455's codes less the three never sent (1004, 1005, 1006), the
// registered 1012 and 1013 (gorilla refuses 1014 and 1015), and the
// application range 3000-4999.
func receivable(c int) bool {
	return c >= 1000 && c <= 1013 && c != 1004 && c != 1005 && c != 1006 || c >= 3000 && c <= 4999
}

// got is what the server did.
type got struct {
	code   int
	reason string
	acks   int
}

// exchange opens a websocket to url, writes frames (and a close of its own
// when closeAfter) while reading what the server writes, and returns how
// the server closed.
func exchange(t *testing.T, url string, frames []frame, closeAfter bool) got {
	t.Helper()
	nc, br := handshake(t, url)
	defer nc.Close()
	deadline := time.Now().Add(10 * time.Second)
	_ = nc.SetDeadline(deadline)
	go func() {
		for _, f := range frames {
			if _, err := nc.Write(f.encode()); err != nil {
				return // the server closed: what it said is read below
			}
		}
		if closeAfter {
			_, _ = nc.Write(frame{fin: true, op: 8, masked: true, payload: binary.BigEndian.AppendUint16(nil, 1000)}.encode())
		}
	}()
	var g got
	for {
		fin, op, payload, err := readServerFrame(br)
		if err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("no close from the server in 10 s (hung, or kept a connection it should have closed)\nframes: %s", describe(frames))
			}
			t.Fatalf("the connection ended without a close frame: %v\nframes: %s", err, describe(frames))
		}
		if !fin || op != 1 && op != 8 && op != 9 && op != 10 {
			t.Fatalf("the server wrote a frame with op %d, FIN %v", op, fin)
		}
		switch op {
		case 1:
			if bytes.Equal(payload, []byte(`{"type":"connection_ack"}`)) {
				g.acks++
			}
		case 8:
			g.code = 1005
			if len(payload) >= 2 {
				g.code, g.reason = int(binary.BigEndian.Uint16(payload)), string(payload[2:])
			}
			// Answer, then the server closes the socket.
			_, _ = nc.Write(frame{fin: true, op: 8, masked: true, payload: payload[:min(2, len(payload))]}.encode())
			_, _ = io.Copy(io.Discard, br)
			if time.Now().After(deadline) {
				t.Fatalf("hung: the server did not close the socket after its close frame\nframes: %s", describe(frames))
			}
			return g
		}
	}
}

// encode frames f as a client sends it (masked unless not f.masked).
func (f frame) encode() []byte {
	b0 := f.op&0x0F | f.rsv<<4
	if f.fin {
		b0 |= 0x80
	}
	var mask byte
	if f.masked {
		mask = 0x80
	}
	out := []byte{b0}
	switch n := len(f.payload); {
	case n < 126:
		out = append(out, mask|byte(n))
	case n <= 0xFFFF:
		out = binary.BigEndian.AppendUint16(append(out, mask|126), uint16(n))
	default:
		out = binary.BigEndian.AppendUint64(append(out, mask|127), uint64(n))
	}
	if !f.masked {
		return append(out, f.payload...)
	}
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	out = append(out, key[:]...)
	for i, b := range f.payload {
		out = append(out, b^key[i%4])
	}
	return out
}

// readServerFrame reads one frame as a server writes it (unmasked).
func readServerFrame(br *bufio.Reader) (fin bool, op byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return false, 0, nil, err
	}
	if h[0]&0x70 != 0 || h[1]&0x80 != 0 {
		return false, 0, nil, fmt.Errorf("server frame with RSV bits or a mask: % x", h)
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return false, 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return false, 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 1<<20 {
		return false, 0, nil, fmt.Errorf("server frame of %d bytes", n)
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(br, payload)
	return h[0]&0x80 != 0, h[0] & 0x0F, payload, err
}

// handshake opens a websocket speaking graphql-transport-ws by hand, so
// that the client can then write any bytes.
func handshake(t *testing.T, url string) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, url+"/", nil)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Protocol", "graphql-transport-ws")
	_ = nc.SetDeadline(time.Now().Add(5 * time.Second))
	if err := req.Write(nc); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, req)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	return nc, br
}

// fuzzServer is a transport in front of gqlgen's test schema, with
// timeouts the exchanges never reach.
func fuzzServer(tb testing.TB) (*wstransport.Transport, string) {
	tr := wstransport.New(wstransport.Config{
		Auth:   allowAll{},
		Logger: slog.New(slog.DiscardHandler),
		Limits: wstransport.Limits{InitTimeout: time.Minute, KeepAlive: time.Minute},
	})
	srv := testserver.New()
	srv.AddTransport(tr)
	hs := httptest.NewServer(srv)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tr.Shutdown(ctx); err != nil {
			tb.Error(err)
		}
		hs.Close()
	})
	return tr, hs.URL
}

// allowAll authenticates every credential as one person.
type allowAll struct{}

func (allowAll) Authenticate(context.Context, string) (*viewer.Viewer, error) {
	return &viewer.Viewer{Subject: "fuzz", UserID: 1}, nil
}
