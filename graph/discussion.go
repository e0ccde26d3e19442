package graph

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/discussion"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/comment"
	"github.com/feedbackloop/feedbackloop/events"
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/outbox"
)

// Comments and votes (the discussion package): the resolvers' halves that
// check inputs, charge the comment budget and name the argument an error
// is about.

// addComment comments on the Feedback or Adjustment targetID names. The
// target is looked up (as the caller) before the budget is charged, so a
// target the caller cannot see costs nothing.
func (r *Resolver) addComment(ctx context.Context, input model.AddCommentInput) (*ent.Comment, error) {
	if err := commentProblem("input.body", input.Body); err != nil {
		return nil, err
	}
	var (
		target    discussion.Target
		projectID int
	)
	switch typ, _ := ent.NodeTypeOfID(input.TargetID); typ {
	case ent.TypeFeedback:
		fb, err := r.client.Feedback.Get(ctx, input.TargetID)
		if err != nil {
			return nil, targetError(err, "input.targetID", "Feedback")
		}
		target.FeedbackID, projectID = &input.TargetID, fb.ProjectID
	case ent.TypeAdjustment:
		a, err := r.client.Adjustment.Query().Where(adjustment.ID(input.TargetID)).WithFeedback().Only(ctx)
		if err != nil {
			return nil, targetError(err, "input.targetID", "Adjustment")
		}
		target.AdjustmentID, projectID = &input.TargetID, a.Edges.Feedback.ProjectID
	default:
		return nil, &InputError{Field: "input.targetID", Problem: "must be the ID of a Feedback or of an Adjustment (suggestion): only those take comments"}
	}
	// A comment the caller may not write costs nothing either.
	if err := access.MayComment(ctx, r.client, projectID); err != nil {
		return nil, err
	}
	if err := r.spendComment(ctx); err != nil {
		return nil, err
	}
	c, err := r.discussion.Add(ctx, target, input.Body)
	if errors.Is(err, discussion.ErrNotFound) {
		return nil, &NotFoundError{Field: "input.targetID", Type: "Feedback or Adjustment"}
	}
	return c, err
}

// editComment replaces the body of one of the caller's comments.
func (r *Resolver) editComment(ctx context.Context, id int, body string) (*ent.Comment, error) {
	if err := commentProblem("body", body); err != nil {
		return nil, err
	}
	if _, err := r.client.Comment.Get(ctx, id); err != nil {
		return nil, targetError(err, "id", "Comment")
	}
	if err := r.spendComment(ctx); err != nil {
		return nil, err
	}
	c, err := r.discussion.Edit(ctx, id, body)
	if errors.Is(err, discussion.ErrNotFound) {
		return nil, &NotFoundError{Field: "id", Type: "Comment"}
	}
	return c, err
}

// deleteComment deletes a comment and returns its ID.
func (r *Resolver) deleteComment(ctx context.Context, id int) (int, error) {
	_, err := r.discussion.Delete(ctx, id)
	switch {
	case errors.Is(err, discussion.ErrNotFound):
		return 0, &NotFoundError{Field: "id", Type: "Comment"}
	case err != nil:
		return 0, err
	}
	return id, nil
}

// voteAdjustment sets the caller's vote on a suggestion.
func (r *Resolver) voteAdjustment(ctx context.Context, id int, value model.Vote) (*ent.Adjustment, error) {
	n := 0
	switch value {
	case model.VoteUp:
		n = 1
	case model.VoteDown:
		n = -1
	}
	a, err := r.discussion.Vote(ctx, id, n)
	if errors.Is(err, discussion.ErrNotFound) {
		return nil, &NotFoundError{Field: "id", Type: "Adjustment"}
	}
	return a, err
}

// viewerVote is the caller's vote on a suggestion, nil for none. In a
// list (a page of Project.adjustments, Feedback.adjustments) the votes of
// the whole list are read at once, for the first of them.
func (r *Resolver) viewerVote(ctx context.Context, a *ent.Adjustment) (*model.Vote, error) {
	value, err := r.voteOf(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	var v model.Vote
	switch value {
	case 1:
		v = model.VoteUp
	case -1:
		v = model.VoteDown
	default:
		return nil, nil
	}
	return &v, nil
}

func (r *Resolver) voteOf(ctx context.Context, id int) (int, error) {
	cache, _ := ctx.Value(voteCacheKey{}).(*voteCache)
	list, ids := adjustmentList(graphql.GetFieldContext(ctx))
	if cache == nil || list == nil || !slices.Contains(ids, id) {
		votes, err := r.discussion.ViewerVote(ctx, []int{id})
		return votes[id], err
	}
	cache.mu.Lock()
	defer cache.mu.Unlock()
	votes, ok := cache.lists[list]
	if !ok {
		var err error
		if votes, err = r.discussion.ViewerVote(ctx, ids); err != nil {
			return 0, err
		}
		cache.lists[list] = votes
	}
	return votes[id], nil
}

// adjustmentList finds the list of suggestions a field is read under: the
// nearest enclosing field whose result is a page or a list of them. It
// returns that field (which identifies the list) and the suggestions' IDs.
func adjustmentList(fc *graphql.FieldContext) (*graphql.FieldContext, []int) {
	for p := fc; p != nil; p = p.Parent {
		switch res := p.Result.(type) {
		case *ent.AdjustmentConnection:
			ids := make([]int, 0, len(res.Edges))
			for _, e := range res.Edges {
				if e != nil && e.Node != nil {
					ids = append(ids, e.Node.ID)
				}
			}
			return p, ids
		case []*ent.Adjustment:
			ids := make([]int, 0, len(res))
			for _, a := range res {
				ids = append(ids, a.ID)
			}
			return p, ids
		}
	}
	return nil, nil
}

// voteCache holds, for one query or mutation, the caller's votes on each
// list of suggestions it read. Subscriptions have none: each event must
// read the vote as it is then.
type voteCache struct {
	mu    sync.Mutex
	lists map[*graphql.FieldContext]map[int]int
}

type voteCacheKey struct{}

// withVoteCache gives each query and mutation its voteCache.
func withVoteCache(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation == ast.Subscription {
		return next(ctx)
	}
	return next(context.WithValue(ctx, voteCacheKey{}, &voteCache{lists: map[*graphql.FieldContext]map[int]int{}}))
}

// spendComment charges one comment to the caller's budget (nil: no
// budgets).
func (r *Resolver) spendComment(ctx context.Context) error {
	if r.limiter == nil {
		return nil
	}
	return r.limiter.SpendComment(ctx)
}

func commentProblem(field, body string) error {
	var ps []error
	check(&ps, field, comment.BodyValidator, trimmed(&body))
	if len(ps) > 0 {
		return ps[0]
	}
	return nil
}

// targetError is what a look-up of the object the argument field names
// turns into: NOT_FOUND naming the argument, or the error itself.
func targetError(err error, field, typ string) error {
	if ent.IsNotFound(err) {
		return &NotFoundError{Field: field, Type: typ}
	}
	return err
}

// commentEvent is the event of a comment's change, decoded once per event.
func (r *Resolver) commentEvent(m *events.Message) (*model.CommentEvent, error) {
	p, err := snapshot(m, "comment", func(p *outbox.CommentPayload) bool {
		if p.Comment == nil {
			return false
		}
		p.Comment.Attach(r.client)
		r.attachActor(p.Actor)
		return true
	})
	if err != nil {
		return nil, err
	}
	return &model.CommentEvent{Comment: p.Comment, Change: model.CommentChange(p.Change), Version: m.Version, By: p.Actor, At: m.At, Cursor: outbox.Cursor(m.ID)}, nil
}

// voteEvent is the event of a suggestion's new score.
func (r *Resolver) voteEvent(m *events.Message) (*model.VoteEvent, error) {
	p, err := r.adjustmentSnapshot(m, "vote")
	if err != nil {
		return nil, err
	}
	return &model.VoteEvent{Adjustment: p.Adjustment, Score: p.Adjustment.Score, By: p.Actor, At: m.At, Cursor: outbox.Cursor(m.ID)}, nil
}
