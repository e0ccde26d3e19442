package graph

import (
	"context"
	"reflect"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/graph/generated"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/graph/wstransport"
)

// Shared subscriptions. A board of a project is watched by many clients
// sending the same subscription document with the same variables; executing
// it once per subscriber per event (resolve, marshal) is what made delivery
// to 10,000 subscribers take seconds. So a live project subscription whose
// selection is answered from the event's snapshot alone runs once per
// instance: one execution (one resolver, one stream, one bus subscription)
// per distinct (document, variables), whose marshalled result wstransport
// writes to every member's connection. This file says which subscriptions
// those are.
//
// What may differ between members is decided per member: each is admitted
// by the same access check the resolver makes (with its own viewer), and a
// membership event re-checks the members it concerns (membershipCache) and
// completes those who lost access. The result itself cannot differ: the
// selection reads only the snapshot, which does not depend on who reads it.
// Subscriptions that read more (an edge the snapshot lacks), resume from a
// cursor or start with a first event (feedbackStatusChanged) run on their
// own, as before.

// sharedRoots are the subscription fields that can be shared: live streams
// of a project's events, with no per-subscriber first event.
var sharedRoots = map[string]bool{"projectFeedbackEvents": true, "projectEvents": true}

// snapshotTypes are the types an event's snapshot holds whole, with their
// Go types: their leaf fields are read from memory, unless code resolves
// them (resolvedByCode).
var snapshotTypes = map[string]reflect.Type{
	"FeedbackStatusEvent": reflect.TypeFor[*model.FeedbackStatusEvent](),
	"TaskEvent":           reflect.TypeFor[*model.TaskEvent](),
	"AdjustmentEvent":     reflect.TypeFor[*model.AdjustmentEvent](),
	"CommentEvent":        reflect.TypeFor[*model.CommentEvent](),
	"VoteEvent":           reflect.TypeFor[*model.VoteEvent](),
	"Comment":             reflect.TypeFor[*ent.Comment](),
	"Feedback":            reflect.TypeFor[*ent.Feedback](),
	"Task":                reflect.TypeFor[*ent.Task](),
	"Adjustment":          reflect.TypeFor[*ent.Adjustment](),
	"User":                reflect.TypeFor[*ent.User](),
}

// snapshotEdges are the object fields the snapshot holds; every other edge
// (feedback.project, adjustment.decidedBy, ...) loads from the database as
// the viewer, so a subscription selecting one runs on its own.
var snapshotEdges = map[string]bool{
	"FeedbackStatusEvent.feedback": true, "FeedbackStatusEvent.by": true,
	"TaskEvent.task": true, "TaskEvent.by": true,
	"AdjustmentEvent.adjustment": true, "AdjustmentEvent.by": true,
	"CommentEvent.comment": true, "CommentEvent.by": true,
	"VoteEvent.adjustment": true, "VoteEvent.by": true,
}

// resolvedByCode lists, as "type.field" in lower case, the fields of the
// snapshot types that code resolves and so may read beyond the snapshot,
// as the viewer: our resolvers (the generated ResolverRoot) and methods of
// the Go types that take a context (ent's edges). Derived from the code, so
// that a field added later cannot be shared by mistake.
func resolvedByCode() map[string]bool {
	out := map[string]bool{}
	root := reflect.TypeFor[generated.ResolverRoot]()
	for i := range root.NumMethod() {
		typ := root.Method(i) // e.g. Feedback() FeedbackResolver
		resolvers := typ.Type.Out(0)
		for j := range resolvers.NumMethod() {
			out[strings.ToLower(typ.Name+"."+resolvers.Method(j).Name)] = true
		}
	}
	ctxType := reflect.TypeFor[context.Context]()
	for name, goType := range snapshotTypes {
		for i := range goType.NumMethod() {
			m := goType.Method(i)
			if m.Type.NumIn() > 1 && m.Type.In(1).Implements(ctxType) {
				out[strings.ToLower(name+"."+m.Name)] = true
			}
		}
	}
	return out
}

// sharing is the API's policy for wstransport's shared subscriptions.
type sharing struct {
	resolver *Resolver
	schema   *ast.Schema
	resolved map[string]bool // resolvedByCode
}

func newSharing(r *Resolver, schema *ast.Schema) *sharing {
	return &sharing{resolver: r, schema: schema, resolved: resolvedByCode()}
}

// share says whether rc can share an execution (wstransport.Config.Share):
// one live project stream whose selection reads only the snapshot. Each
// subscriber is admitted by the access check the resolver makes, as its
// own viewer; the shared stream re-checks members on membership events
// (stream, in subscriptions.go).
func (s *sharing) share(rc *graphql.OperationContext) (wstransport.Share, bool) {
	field, projectID, ok := s.plan(rc)
	if !ok {
		return wstransport.Share{}, false
	}
	r := s.resolver
	return wstransport.Share{
		Key: field,
		Admit: func(ctx context.Context) bool {
			if r.mustSeeProject(ctx, projectID, "projectID") != nil {
				return false
			}
			r.beforeStream()
			return true
		},
		Readmit: func(ctx context.Context) bool {
			return r.mustSeeProject(ctx, projectID, "projectID") == nil
		},
	}, true
}

// plan says whether rc can be shared: one live project stream whose
// selection reads only the snapshot. It returns the root field and the
// project.
func (s *sharing) plan(rc *graphql.OperationContext) (string, int, bool) {
	fields := graphql.CollectFields(rc, rc.Operation.SelectionSet, []string{"Subscription"})
	if len(fields) != 1 || !sharedRoots[fields[0].Name] {
		return "", 0, false
	}
	f := fields[0]
	args := f.ArgumentMap(rc.Variables)
	if args["after"] != nil {
		return "", 0, false // a replay of its own first
	}
	raw, _ := args["projectID"].(string)
	projectID, err := gid.Decode(raw)
	if err != nil {
		return "", 0, false
	}
	if !s.snapshotOnly(f.Selections) {
		return "", 0, false
	}
	return f.Name, projectID, true
}

// snapshotOnly reports whether every field of set is read from an event's
// snapshot.
func (s *sharing) snapshotOnly(set ast.SelectionSet) bool {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Name == "__typename" {
				continue
			}
			if sel.ObjectDefinition == nil || sel.Definition == nil || snapshotTypes[sel.ObjectDefinition.Name] == nil {
				return false
			}
			name := sel.ObjectDefinition.Name + "." + sel.Name
			def := s.schema.Types[sel.Definition.Type.Name()]
			switch {
			case def == nil:
				return false
			case def.Kind == ast.Scalar || def.Kind == ast.Enum:
				if s.resolved[strings.ToLower(name)] {
					return false
				}
			case !snapshotEdges[name] || !s.snapshotOnly(sel.SelectionSet):
				return false
			}
		case *ast.InlineFragment:
			if !s.snapshotOnly(sel.SelectionSet) {
				return false
			}
		case *ast.FragmentSpread:
			if sel.Definition == nil || !s.snapshotOnly(sel.Definition.SelectionSet) {
				return false
			}
		default:
			return false
		}
	}
	return true
}
