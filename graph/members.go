package graph

import (
	"context"
	"sync"
	"time"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// membershipCache answers whether a person may still see a project after a
// membership event, once per (project, person, event): a person with twenty
// subscriptions to the project (across connections, shared or not) costs
// one query, not twenty. An answer holds until a later membership event of
// the same person in the same project invalidates it.
type membershipCache struct {
	client *ent.Client

	mu      sync.Mutex
	answers map[memberKey]*memberAnswer
}

type memberKey struct{ project, user int }

type memberAnswer struct {
	asOf    int           // the ID of the membership event it answers
	ready   chan struct{} // closed once visible and err are set
	visible bool
	err     error
}

// maxMemberAnswers bounds the cache; past it, answered entries are dropped
// (they are only reused for the event that asked).
const maxMemberAnswers = 10_000

const memberQueryTimeout = 10 * time.Second

func newMembershipCache(client *ent.Client) *membershipCache {
	return &membershipCache{client: client, answers: map[memberKey]*memberAnswer{}}
}

// visible reports whether v may see the project after membership event
// eventID. v must be a person (not an admin or a project-scoped key).
func (c *membershipCache) visible(ctx context.Context, v *viewer.Viewer, projectID, eventID int) (bool, error) {
	k := memberKey{projectID, v.UserID}
	c.mu.Lock()
	a := c.answers[k]
	if a != nil && a.asOf >= eventID {
		c.mu.Unlock()
		select {
		case <-a.ready:
			return a.visible, a.err
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	if len(c.answers) >= maxMemberAnswers {
		for k, old := range c.answers {
			select {
			case <-old.ready:
				delete(c.answers, k)
			default:
			}
		}
	}
	a = &memberAnswer{asOf: eventID, ready: make(chan struct{})}
	c.answers[k] = a
	c.mu.Unlock()

	// Others may wait for this answer: their wait ends with their context,
	// the query not with the first asker's.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), memberQueryTimeout)
	_, a.visible, a.err = access.RoleIn(qctx, c.client, v, projectID)
	cancel()
	close(a.ready)
	if a.err != nil {
		c.mu.Lock()
		if c.answers[k] == a {
			delete(c.answers, k) // the next asker tries again
		}
		c.mu.Unlock()
	}
	return a.visible, a.err
}
