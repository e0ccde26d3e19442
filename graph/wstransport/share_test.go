package wstransport

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// Each member gets a group's events in the order they were broadcast, even
// when a worker stalls (here: a member's first event is held between the
// worker taking the member and placing the event, well past stallAfter, so
// that another worker takes the rest): broadcast returns only once every
// member's event is placed, so the next event is queued behind it.
func TestBroadcastKeepsEachMembersOrder(t *testing.T) {
	tr := New(Config{})
	g := &group{gs: &groups{t: tr}, members: map[*operation]struct{}{}}
	var clients []func() ([]byte, error)
	var stalled *operation
	for i := range 2 {
		c, client := dialConn(t, tr)
		op := &operation{id: fmt.Sprint(i), conn: c, head: []byte(fmt.Sprintf(`{"id":"%d","type":"next","payload":`, i))}
		g.members[op] = struct{}{}
		stalled = op
		clients = append(clients, func() ([]byte, error) {
			_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, b, err := client.ReadMessage()
			return b, err
		})
	}
	var held atomic.Bool
	g.beforePlace = func(op *operation) {
		if op == stalled && held.CompareAndSwap(false, true) {
			time.Sleep(50 * stallAfter)
		}
	}

	g.broadcast([]byte(`{"n":1}`))
	g.broadcast([]byte(`{"n":2}`))
	for i, read := range clients {
		for n := 1; n <= 2; n++ {
			want := fmt.Sprintf(`{"id":"%d","type":"next","payload":{"n":%d}}`, i, n)
			if got, err := read(); err != nil || string(got) != want {
				t.Fatalf("client %d, message %d: got %s (%v), want %s", i, n, got, err, want)
			}
		}
	}
}
