package graph

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/feedbackloop/feedbackloop/internal/replicas"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// The headers of read-your-writes (docs/api.md): a mutation's response
// carries the primary's WAL position after it, and a query may send a
// position back so that it reads nothing older.
const (
	WritePositionHeader = "X-Write-Position"
	ReadAfterHeader     = "X-Read-After"
)

// A query that cannot learn the caller's last write position within
// lookupTimeout reads from the primary (a Redis that hangs costs each
// query that much at most); after a mutation, the position is read and
// recorded within recordTimeout.
const (
	lookupTimeout = 250 * time.Millisecond
	recordTimeout = time.Second
)

// readRouting sends query operations to a replica that has replayed the
// caller's last write (read-your-writes on every instance, through
// Positions in Redis, with no help from the client), and records the
// primary's position after every mutation. Everything else (mutations,
// subscriptions and the events they resolve, anything in a transaction)
// is unmarked and reads from the primary.
func readRouting(set *replicas.Set, positions *replicas.Positions, logger *slog.Logger) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		oc := graphql.GetOperationContext(ctx)
		if oc.Operation == nil {
			return next(ctx)
		}
		caller := positionOwner(viewer.FromContext(ctx))
		switch oc.Operation.Operation {
		case ast.Query:
			var after replicas.LSN
			if h := oc.Headers.Get(ReadAfterHeader); h != "" {
				pos, err := replicas.ParseLSN(h)
				if err != nil {
					return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{withCode(&gqlerror.Error{}, CodeBadRequest,
						fmt.Sprintf("the %s header must be a WAL position such as 0/3000148, as a mutation's %s header gives it; got %q",
							ReadAfterHeader, WritePositionHeader, h))}})
				}
				after = pos
			}
			if caller != "" {
				lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
				last, err := positions.Last(lctx, caller)
				cancel()
				if err != nil {
					logger.WarnContext(ctx, "read-your-writes: the caller's last write position is unknown (Redis); reading from the primary", "err", err)
					return next(set.ReadFromPrimary(ctx, replicas.ReasonPositionUnknown))
				}
				after = max(after, last)
			}
			return next(set.ForRead(ctx, after))
		case ast.Mutation:
			respond := next(ctx)
			return func(ctx context.Context) *graphql.Response {
				resp := respond(ctx)
				if resp != nil {
					rememberWrite(ctx, set, positions, caller, changesAccess(oc), logger)
				}
				return resp
			}
		}
		return next(ctx)
	}
}

// rememberWrite records the primary's position after a mutation, whose
// changes are committed once its resolvers return: in Redis for the
// caller's next reads on any instance, and in the response's header.
func rememberWrite(ctx context.Context, set *replicas.Set, positions *replicas.Positions, caller string, access bool, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	pos, err := set.PrimaryPosition(ctx)
	if err != nil {
		logger.WarnContext(ctx, "read-your-writes: cannot read the primary's WAL position after a mutation", "err", err)
		return
	}
	if req, _ := ctx.Value(plainHTTPKey{}).(*plainRequest); req != nil {
		req.writePosition = pos.String()
	}
	if access {
		if err := positions.RememberAccessChange(ctx, pos); err != nil {
			set.UnrecordedWrite()
			logger.WarnContext(ctx, "read-your-writes: cannot record an access change's position in Redis; this instance reads from the primary meanwhile", "err", err)
		}
	}
	if caller == "" {
		return
	}
	if err := positions.Remember(ctx, caller, pos); err != nil {
		// This instance reads from the primary meanwhile; on another one
		// the caller's next query may read from a replica that has not
		// replayed this write yet, for up to DATABASE_REPLICA_MAX_LAG,
		// unless it sends the position back (X-Read-After).
		set.UnrecordedWrite()
		logger.WarnContext(ctx, "read-your-writes: cannot record the caller's write position in Redis; this instance reads from the primary meanwhile", "err", err)
	}
}

// accessFields are the mutations that take access away from someone (not
// the caller): after one, every caller's reads wait for it, so that no
// replica shows a project to a member removed from it or to a revoked key.
var accessFields = []string{"removeProjectMember", "updateProjectMember", "revokeApiKey"}

func changesAccess(oc *graphql.OperationContext) bool {
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, nil) {
		if slices.Contains(accessFields, f.Name) {
			return true
		}
	}
	return false
}

// positionOwner names the caller whose writes a position belongs to: an API
// key, or a person (by token), or the admin.
func positionOwner(v *viewer.Viewer) string {
	switch {
	case v == nil:
		return ""
	case v.APIKeyID != 0:
		return fmt.Sprintf("key:%d", v.APIKeyID)
	case v.UserID != 0:
		return fmt.Sprintf("user:%d", v.UserID)
	case v.Admin:
		return "admin"
	}
	return ""
}
