package graph

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
)

// Batching for fields ent's eager loading does not cover: the suggestions
// of a list of feedback, filtered by a where argument, load in one query per
// distinct filter rather than one per feedback. dataloadgen (a small,
// well-kept generic dataloader) does the batching.

type loadersKey struct{}

// loaders are one operation's batch loaders.
type loaders struct {
	client  *ent.Client
	mu      sync.Mutex
	byWhere map[string]*dataloadgen.Loader[int, []*ent.Adjustment]
}

// withLoaders gives every operation its own loaders: their results are
// valid for that operation only.
func withLoaders(client *ent.Client) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(context.WithValue(ctx, loadersKey{}, &loaders{client: client, byWhere: map[string]*dataloadgen.Loader[int, []*ent.Adjustment]{}}))
	}
}

// adjustmentsWhere loads the suggestions of feedbackID matching where, in
// position order, batched with the same field of the other feedback of the
// operation.
func adjustmentsWhere(ctx context.Context, feedbackID int, where *ent.AdjustmentWhereInput) ([]*ent.Adjustment, error) {
	l, _ := ctx.Value(loadersKey{}).(*loaders)
	key, err := json.Marshal(where)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	loader, ok := l.byWhere[string(key)]
	if !ok {
		loader = dataloadgen.NewMappedLoader(func(ctx context.Context, ids []int) (map[int][]*ent.Adjustment, error) {
			pred, err := where.P()
			if err != nil {
				return nil, err
			}
			q := l.client.Adjustment.Query().Where(adjustment.FeedbackIDIn(ids...))
			if pred != nil {
				q.Where(pred)
			}
			found, err := q.Order(ent.Asc(adjustment.FieldFeedbackID), ent.Asc(adjustment.FieldPosition)).All(ctx)
			if err != nil {
				return nil, err
			}
			out := make(map[int][]*ent.Adjustment, len(ids))
			for _, id := range ids {
				out[id] = []*ent.Adjustment{}
			}
			for _, a := range found {
				out[a.FeedbackID] = append(out[a.FeedbackID], a)
			}
			return out, nil
		}, dataloadgen.WithWait(time.Millisecond))
		l.byWhere[string(key)] = loader
	}
	l.mu.Unlock()
	return loader.Load(ctx, feedbackID)
}
