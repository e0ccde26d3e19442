package wstransport

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/feedbackloop/feedbackloop/viewer"
)

// Stream is the transport's end of one subscription's stream of events,
// for the resolver that produces them. gqlgen carries a subscription's
// values over the channel its resolver returns, and the transport would
// need a goroutine blocked on that channel to learn that a value is there;
// the resolver says so instead (Ready), so that an idle subscription keeps
// no goroutine of the transport's. A shared execution (share.go) also
// learns through it when its stream is in place (Positioned), and lets its
// members' access be checked one by one (Recheck).
//
// The transport attaches a Stream to each subscription it dispatches, in
// the operation's Stats as gqlgen's handler extensions keep their
// per-operation data; a resolver gets it with StreamOf. All methods are
// safe to call from the resolver's goroutines.
type Stream struct {
	pump   *pump          // an operation of its own
	group  *group         // or a shared execution
	sse    *sseStream     // or an event stream (sse.go)
	viewer *viewer.Viewer // or none (not a subscription of this transport): whom it runs for
}

// streamKey is the Stream's name among the operation's Stats extensions.
const streamKey = "WebsocketStream"

func attachStream(rc *graphql.OperationContext, s *Stream) {
	rc.Stats.SetExtension(streamKey, s)
}

// StreamOf returns the Stream of the subscription running in ctx. For an
// operation this transport did not dispatch it returns a Stream whose
// notices go nowhere and whose Recheck asks about ctx's viewer, so a
// resolver needs no second path.
func StreamOf(ctx context.Context) *Stream {
	if graphql.HasOperationContext(ctx) {
		if s, ok := graphql.GetOperationContext(ctx).Stats.GetExtension(streamKey).(*Stream); ok {
			return s
		}
	}
	return &Stream{viewer: viewer.FromContext(ctx)}
}

// Started says that the resolver returned its channel and will call Ready
// before each value it sends on it and once more when it closes it.
func (s *Stream) Started() {
	if s.pump != nil {
		s.pump.streaming.Store(true)
	}
}

// Ready says that a value, or the channel's end, is about to be handed
// over.
func (s *Stream) Ready() {
	if s.pump != nil {
		s.pump.wake()
	}
}

// Positioned says that the stream gets every event from now on: a shared
// execution's joiners wait for it before their access is checked again.
func (s *Stream) Positioned() {
	switch {
	case s.group != nil:
		s.group.positioned()
		s.group.gs.t.positioned.Add(1)
	case s.pump != nil:
		s.pump.c.t.positioned.Add(1)
	case s.sse != nil:
		s.sse.t.positioned.Add(1)
	}
}

// Recheck is for a change of access (a membership event, in the stream's
// order): allowed says whether a viewer may still have the stream. For a
// shared execution, the members it refuses are completed, and the stream
// goes on; otherwise the stream's own viewer is asked (an event stream that
// may not go on ends with a FORBIDDEN error). It reports whether the
// stream goes on.
func (s *Stream) Recheck(allowed func(*viewer.Viewer) bool) bool {
	switch {
	case s.group != nil:
		s.group.recheck(allowed)
		return true
	case s.pump != nil:
		return allowed(s.pump.op.viewer)
	case s.sse != nil:
		if !allowed(s.sse.current()) {
			s.sse.forbid("Forbidden: a change of membership in this project took this stream from you; subscribe again to go on with your current rights")
			return false
		}
		return true
	}
	return allowed(s.viewer)
}
