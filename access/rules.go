package access

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"entgo.io/ent/dialect/sql"

	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/adjustmentvote"
	"github.com/feedbackloop/feedbackloop/ent/apikey"
	"github.com/feedbackloop/feedbackloop/ent/comment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/ent/privacy"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/ent/projectmember"
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// The policies below are installed by the schemas' Policy methods. Every
// policy starts with the same two rules: no viewer is denied (the system
// never reaches them, its decision context short-circuits), and admins are
// allowed.

func requireViewer() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.FromContext(ctx) == nil {
			return ErrUnauthenticated
		}
		return privacy.Skip
	})
}

func allowAdmins() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if v := viewer.FromContext(ctx); v != nil && v.Admin {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// visibleProjects is the SQL set of the projects v may see.
func visibleProjects(v *viewer.Viewer) *sql.Selector {
	if v.Scope != nil {
		return sql.Select(project.FieldID).From(sql.Table(project.Table)).Where(sql.EQ(project.FieldID, v.Scope.ProjectID))
	}
	// The projects granting v a role, and those of the organisations v
	// administers (see orgs.go).
	return sql.Select(projectmember.FieldProjectID).
		From(sql.Table(projectmember.Table)).
		Where(sql.EQ(projectmember.FieldUserID, v.UserID)).
		UnionAll(orgAdministeredProjects(v))
}

// inVisibleProjects filters a query to rows whose column names a project v
// may see. It compiles into the query's own statement (an IN subquery on
// the memberships index), so nested pages and counts stay one statement.
func inVisibleProjects(v *viewer.Viewer, column string) func(*sql.Selector) {
	return func(s *sql.Selector) {
		if v.Scope != nil {
			s.Where(sql.EQ(s.C(column), v.Scope.ProjectID))
			return
		}
		s.Where(sql.In(s.C(column), visibleProjects(v)))
	}
}

// filter adds where to every query of a policy's type.
func filter(where func(v *viewer.Viewer) func(*sql.Selector)) privacy.QueryRule {
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		pf, ok := f.(ent.PredicateFilter)
		if !ok {
			return privacy.Denyf("access: %T takes no storage predicates", f)
		}
		pf.WhereP(where(viewer.FromContext(ctx)))
		return privacy.Skip
	})
}

func queryPolicy(where func(v *viewer.Viewer) func(*sql.Selector)) privacy.QueryPolicy {
	return privacy.QueryPolicy{requireViewer(), allowAdmins(), filter(where)}
}

// ProjectPolicy: members see their projects. Any person may create a
// project (and becomes its OWNER, see OwnerOnCreate); EDITOR updates it;
// OWNER deletes it.
func ProjectPolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(func(v *viewer.Viewer) func(*sql.Selector) { return inVisibleProjects(v, project.FieldID) }),
		Mutation: privacy.MutationPolicy{
			requireViewer(), allowAdmins(),
			privacy.ProjectMutationRuleFunc(func(ctx context.Context, m *ent.ProjectMutation) error {
				if m.Op().Is(ent.OpCreate) {
					if v := viewer.FromContext(ctx); v.Scope != nil {
						return &ForbiddenError{Action: "create projects with a project-scoped API key"}
					}
					if org, ok := m.OrganizationID(); ok {
						if err := RequireOrg(ctx, m.Client(), org, "create projects in the organisation", viewer.OrgOwner, viewer.OrgAdmin); err != nil {
							return err
						}
					}
					return privacy.Allow
				}
				ids, err := mutatedIDs(ctx, m)
				if err != nil {
					return err
				}
				need, action := viewer.Editor, "update the project"
				if _, ok := m.ViewersMayComment(); ok {
					need, action = viewer.Owner, "decide whether VIEWERs may comment"
				}
				if m.Op().Is(ent.OpDelete | ent.OpDeleteOne) {
					need, action = viewer.Owner, "delete the project"
				}
				return requireEach(ctx, m.Client(), ids, need, project.Label, action)
			}),
		},
	}
}

// TaskPolicy: members see tasks; EDITOR creates, changes and deletes them.
func TaskPolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(func(v *viewer.Viewer) func(*sql.Selector) { return inVisibleProjects(v, task.FieldProjectID) }),
		Mutation: privacy.MutationPolicy{
			requireViewer(), allowAdmins(),
			privacy.TaskMutationRuleFunc(func(ctx context.Context, m *ent.TaskMutation) error {
				projects, err := projectsOf(ctx, m, func(ctx context.Context, ids []int) ([]int, error) {
					return m.Client().Task.Query().Where(task.IDIn(ids...)).Unique(true).Select(task.FieldProjectID).Ints(ctx)
				})
				if err != nil {
					return err
				}
				return requireEach(ctx, m.Client(), projects, viewer.Editor, task.Label, "change tasks")
			}),
		},
	}
}

// FeedbackPolicy: members see feedback; any member (VIEWER) submits it, as
// themselves; EDITOR changes it (retries an analysis). Only the system
// deletes feedback directly (projects delete theirs by cascade).
func FeedbackPolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(func(v *viewer.Viewer) func(*sql.Selector) { return inVisibleProjects(v, feedback.FieldProjectID) }),
		Mutation: privacy.MutationPolicy{
			requireViewer(), allowAdmins(),
			privacy.FeedbackMutationRuleFunc(func(ctx context.Context, m *ent.FeedbackMutation) error {
				if m.Op().Is(ent.OpCreate) {
					pid, _ := m.ProjectID()
					if by, ok := m.SubmittedByID(); ok && by != viewer.FromContext(ctx).UserID {
						return &ForbiddenError{Action: "submit feedback in another user's name"}
					}
					return requireEach(ctx, m.Client(), []int{pid}, viewer.Reader, feedback.Label, "submit feedback")
				}
				if m.Op().Is(ent.OpDelete | ent.OpDeleteOne) {
					return &ForbiddenError{Action: "delete feedback"}
				}
				projects, err := projectsOf(ctx, m, func(ctx context.Context, ids []int) ([]int, error) {
					return m.Client().Feedback.Query().Where(feedback.IDIn(ids...)).Unique(true).Select(feedback.FieldProjectID).Ints(ctx)
				})
				if err != nil {
					return err
				}
				return requireEach(ctx, m.Client(), projects, viewer.Editor, feedback.Label, "change feedback")
			}),
		},
	}
}

// AdjustmentPolicy: members see the adjustments of their projects'
// feedback; EDITOR decides on them (applies, rejects, reverts); only the
// system (the worker) creates them.
func AdjustmentPolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(func(v *viewer.Viewer) func(*sql.Selector) {
			return func(s *sql.Selector) {
				s.Where(sql.In(s.C("feedback_id"), sql.Select(feedback.FieldID).From(sql.Table(feedback.Table)).
					Where(sql.In(feedback.FieldProjectID, projectSet(v)))))
			}
		}),
		Mutation: privacy.MutationPolicy{
			requireViewer(), allowAdmins(),
			privacy.AdjustmentMutationRuleFunc(func(ctx context.Context, m *ent.AdjustmentMutation) error {
				if !m.Op().Is(ent.OpUpdateOne | ent.OpUpdate) {
					return &ForbiddenError{Action: "create or delete suggestions"}
				}
				ids, err := mutatedIDs(ctx, m)
				if err != nil || len(ids) == 0 {
					return err
				}
				projects, err := m.Client().Feedback.Query().
					Where(feedback.HasAdjustmentsWith(adjustment.IDIn(ids...))).
					Unique(true).Select(feedback.FieldProjectID).Ints(SystemContext(ctx))
				if err != nil {
					return err
				}
				return requireEach(ctx, m.Client(), projects, viewer.Editor, adjustment.Label, "decide on suggestions")
			}),
		},
	}
}

// AnalysisPolicy: members see the analyses of their projects' feedback,
// comparison runs included; EDITOR asks for comparison runs (creates
// them, compareAnalyses); only the system (the worker) records their
// outcome or deletes them.
func AnalysisPolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(func(v *viewer.Viewer) func(*sql.Selector) { return inVisibleProjects(v, "project_id") }),
		Mutation: privacy.MutationPolicy{
			requireViewer(), allowAdmins(),
			privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
				// Generic: the typed rule would need the generated
				// package of the schema that installs this policy.
				pm, ok := m.(interface {
					projectIDMutation
					Client() *ent.Client
				})
				if !ok || !m.Op().Is(ent.OpCreate) {
					return &ForbiddenError{Action: "change or delete analyses"}
				}
				projects, err := projectsOf(ctx, pm, nil)
				if err != nil {
					return err
				}
				return requireEach(ctx, pm.Client(), projects, viewer.Editor, "analysis", "compare analyses")
			}),
		},
	}
}

// CommentPolicy: members see the comments of their projects. Any member
// writes them, as themselves, except a VIEWER when the project's OWNERs
// turned viewersMayComment off; only the author edits a comment (and only
// while they may comment); the author or an OWNER deletes it.
func CommentPolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(func(v *viewer.Viewer) func(*sql.Selector) { return inVisibleProjects(v, comment.FieldProjectID) }),
		Mutation: privacy.MutationPolicy{
			requireViewer(), allowAdmins(),
			privacy.CommentMutationRuleFunc(func(ctx context.Context, m *ent.CommentMutation) error {
				v := viewer.FromContext(ctx)
				if m.Op().Is(ent.OpCreate) {
					pid, _ := m.ProjectID()
					if by, ok := m.AuthorID(); !ok || by != v.UserID {
						return &ForbiddenError{Action: "comment in another user's name"}
					}
					if err := MayComment(ctx, m.Client(), pid); err != nil {
						return err
					}
					return privacy.Allow
				}
				ids, err := mutatedIDs(ctx, m)
				if err != nil || len(ids) == 0 {
					return err
				}
				rows, err := m.Client().Comment.Query().Where(comment.IDIn(ids...)).
					Select(comment.FieldProjectID, comment.FieldAuthorID).All(SystemContext(ctx))
				if err != nil {
					return err
				}
				for _, c := range rows {
					own := c.AuthorID != nil && *c.AuthorID == v.UserID
					switch {
					case m.Op().Is(ent.OpUpdate | ent.OpUpdateOne):
						if err := Require(ctx, m.Client(), c.ProjectID, viewer.Reader, comment.Label, "edit comments"); err != nil {
							return err
						}
						if !own {
							return &ForbiddenError{Action: "edit another member's comment; only its author may"}
						}
						if err := MayComment(ctx, m.Client(), c.ProjectID); err != nil {
							return err
						}
					case own:
						if err := Require(ctx, m.Client(), c.ProjectID, viewer.Reader, comment.Label, "delete comments"); err != nil {
							return err
						}
					default:
						if err := Require(ctx, m.Client(), c.ProjectID, viewer.Owner, comment.Label, "delete another member's comment"); err != nil {
							return err
						}
					}
				}
				return privacy.Allow
			}),
		},
	}
}

// MayComment returns nil when the viewer of ctx may write comments in
// project: any member, but a VIEWER only while the project's
// viewersMayComment is on (a ForbiddenError naming EDITOR otherwise).
func MayComment(ctx context.Context, client *ent.Client, projectID int) error {
	err := Require(ctx, client, projectID, viewer.Editor, comment.Label, "comment on this project (its OWNERs turned viewersMayComment off)")
	if !IsForbidden(err) {
		return err
	}
	// A VIEWER: only while the project lets them.
	open, qerr := client.Project.Query().Where(project.ID(projectID)).Select(project.FieldViewersMayComment).Bool(SystemContext(ctx))
	switch {
	case qerr != nil:
		return qerr
	case open:
		return nil
	}
	return err
}

// VotePolicy: members see the votes of their projects; any member (VIEWER
// and above) votes, as themselves, and changes or withdraws only their own
// vote.
func VotePolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(func(v *viewer.Viewer) func(*sql.Selector) {
			return inVisibleProjects(v, adjustmentvote.FieldProjectID)
		}),
		Mutation: privacy.MutationPolicy{
			requireViewer(), allowAdmins(),
			privacy.AdjustmentVoteMutationRuleFunc(func(ctx context.Context, m *ent.AdjustmentVoteMutation) error {
				v := viewer.FromContext(ctx)
				if m.Op().Is(ent.OpCreate) {
					pid, _ := m.ProjectID()
					if by, ok := m.UserID(); !ok || by != v.UserID {
						return &ForbiddenError{Action: "vote in another user's name"}
					}
					return requireEach(ctx, m.Client(), []int{pid}, viewer.Reader, adjustment.Label, "vote on suggestions")
				}
				ids, err := mutatedIDs(ctx, m)
				if err != nil || len(ids) == 0 {
					return err
				}
				rows, err := m.Client().AdjustmentVote.Query().Where(adjustmentvote.IDIn(ids...)).All(SystemContext(ctx))
				if err != nil {
					return err
				}
				for _, r := range rows {
					if r.UserID != v.UserID {
						return &ForbiddenError{Action: "change another user's vote"}
					}
					if err := Require(ctx, m.Client(), r.ProjectID, viewer.Reader, adjustment.Label, "vote on suggestions"); err != nil {
						return err
					}
				}
				return privacy.Allow
			}),
		},
	}
}

// projectSet is the visible projects as a subquery or a single value.
func projectSet(v *viewer.Viewer) any {
	if v.Scope != nil {
		return v.Scope.ProjectID
	}
	return visibleProjects(v)
}

// ProjectMemberPolicy: members see who else is in their projects; OWNER
// adds, changes and removes members. A member's digest (its frequency and
// address) is that member's own choice: a person changes their own, in any
// role, and nobody else's, not even an OWNER; API keys change none.
func ProjectMemberPolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(func(v *viewer.Viewer) func(*sql.Selector) {
			return inVisibleProjects(v, projectmember.FieldProjectID)
		}),
		Mutation: privacy.MutationPolicy{
			requireViewer(), allowAdmins(),
			privacy.ProjectMemberMutationRuleFunc(ownDigestOnly),
			privacy.ProjectMemberMutationRuleFunc(func(ctx context.Context, m *ent.ProjectMemberMutation) error {
				projects, err := projectsOf(ctx, m, func(ctx context.Context, ids []int) ([]int, error) {
					return m.Client().ProjectMember.Query().Where(projectmember.IDIn(ids...)).Unique(true).Select(projectmember.FieldProjectID).Ints(ctx)
				})
				if err != nil {
					return err
				}
				return requireEach(ctx, m.Client(), projects, viewer.Owner, projectmember.Label, "manage members")
			}),
		},
	}
}

// digestFields are a membership's fields that only its member sets.
var digestFields = []string{projectmember.FieldDigest, projectmember.FieldDigestEmail, projectmember.FieldDigestSentAt}

// ownDigestOnly denies a change of digest fields of anyone's membership but
// the caller's own (person, not API key), and allows a change of nothing
// else (updated_at aside) to one's own membership; other changes go on to
// the OWNER rule.
func ownDigestOnly(ctx context.Context, m *ent.ProjectMemberMutation) error {
	if m.Op().Is(ent.OpCreate) {
		// A new membership starts without a digest (the default, NONE).
		d, _ := m.Digest()
		_, email := m.DigestEmail()
		_, sent := m.DigestSentAt()
		if (d != "" && d != projectmember.DigestNone) || email || sent {
			return &ForbiddenError{Action: "choose a digest for someone else: each member chooses their own"}
		}
		return privacy.Skip
	}
	touched, others := false, false
	for _, f := range append(m.Fields(), m.ClearedFields()...) {
		switch {
		case slices.Contains(digestFields, f):
			touched = true
		case f != projectmember.FieldUpdatedAt:
			others = true
		}
	}
	if !touched {
		return privacy.Skip
	}
	v := viewer.FromContext(ctx)
	if v.Scope != nil || v.Kind == viewer.APIKey {
		return &ForbiddenError{Action: "change digests with an API key: members choose their own with their own credentials"}
	}
	if !m.Op().Is(ent.OpUpdateOne) {
		return &ForbiddenError{Action: "set digests other than by changing one's own membership"}
	}
	id, ok := m.ID()
	if !ok {
		return &ForbiddenError{Action: "change a digest of no membership"}
	}
	mine, err := m.Client().ProjectMember.Query().
		Where(projectmember.ID(id), projectmember.UserID(v.UserID)).Exist(SystemContext(ctx))
	if err != nil {
		return err
	}
	if !mine {
		return &ForbiddenError{Action: "change another member's digest: each member chooses their own"}
	}
	if others {
		return privacy.Skip
	}
	return privacy.Allow
}

// UserPolicy: people see themselves and the members of their projects;
// users are written by the system only (on first sight of a subject).
func UserPolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(func(v *viewer.Viewer) func(*sql.Selector) {
			return func(s *sql.Selector) {
				coMembers := sql.Select(projectmember.FieldUserID).From(sql.Table(projectmember.Table)).
					Where(sql.In(projectmember.FieldProjectID, projectSet(v)))
				s.Where(sql.Or(sql.EQ(s.C("id"), v.UserID), sql.In(s.C("id"), coMembers)))
			}
		}),
		Mutation: privacy.MutationPolicy{requireViewer(), allowAdmins(), denyAll("change users")},
	}
}

// APIKeyPolicy: people see and revoke their own keys; a key sees only
// itself. A person creates keys for themselves, and a project-scoped key
// only with a role they have on that project. API keys cannot create keys.
func APIKeyPolicy() ent.Policy {
	return privacy.Policy{
		Query: queryPolicy(func(v *viewer.Viewer) func(*sql.Selector) {
			return func(s *sql.Selector) {
				if v.Kind == viewer.APIKey {
					s.Where(sql.EQ(s.C(apikey.FieldID), v.APIKeyID))
					return
				}
				s.Where(sql.EQ(s.C(apikey.FieldUserID), v.UserID))
			}
		}),
		Mutation: privacy.MutationPolicy{
			requireViewer(), allowAdmins(),
			privacy.APIKeyMutationRuleFunc(func(ctx context.Context, m *ent.APIKeyMutation) error {
				v := viewer.FromContext(ctx)
				if v.Kind == viewer.APIKey {
					return &ForbiddenError{Action: "manage API keys with an API key; sign in as a person"}
				}
				switch {
				case m.Op().Is(ent.OpCreate):
					if owner, _ := m.UserID(); owner != v.UserID {
						return &ForbiddenError{Action: "create API keys for another user"}
					}
					if pid, ok := m.ProjectID(); ok {
						role, _ := m.Role()
						return requireEach(ctx, m.Client(), []int{pid}, role, project.Label, "create a key with the "+string(role)+" role")
					}
					return privacy.Allow
				case m.Op().Is(ent.OpUpdate | ent.OpUpdateOne):
					ids, err := mutatedIDs(ctx, m)
					if err != nil {
						return err
					}
					n, err := m.Client().APIKey.Query().Where(apikey.IDIn(ids...), apikey.UserIDNEQ(v.UserID)).Count(SystemContext(ctx))
					if err != nil {
						return err
					}
					if n > 0 {
						return &NotFoundError{Label: apikey.Label}
					}
					return privacy.Allow
				}
				return &ForbiddenError{Action: "delete API keys; revoke them instead"}
			}),
		},
	}
}

func denyAll(action string) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(context.Context, ent.Mutation) error {
		return &ForbiddenError{Action: action}
	})
}

// idMutation is what every generated mutation offers to find its rows.
type idMutation interface {
	ent.Mutation
	IDs(ctx context.Context) ([]int, error)
}

// mutatedIDs returns the rows an update or delete touches, looked up as the
// system so that the lookup itself is not filtered.
func mutatedIDs(ctx context.Context, m idMutation) ([]int, error) {
	ids, err := m.IDs(SystemContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("access: find the rows to change: %w", err)
	}
	return ids, nil
}

type projectIDMutation interface {
	idMutation
	ProjectID() (int, bool)
}

// projectsOf returns the projects a mutation touches: the one a created row
// names, or those of the rows an update or delete changes.
func projectsOf(ctx context.Context, m projectIDMutation, lookup func(ctx context.Context, ids []int) ([]int, error)) ([]int, error) {
	if m.Op().Is(ent.OpCreate) {
		pid, ok := m.ProjectID()
		if !ok {
			return nil, errors.New("access: a new row needs its project")
		}
		return []int{pid}, nil
	}
	ids, err := mutatedIDs(ctx, m)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	return lookup(SystemContext(ctx), ids)
}

// requireEach checks the role in each project and allows the mutation when
// every check passes.
func requireEach(ctx context.Context, client *ent.Client, projects []int, need viewer.Role, label, action string) error {
	for _, pid := range projects {
		if err := Require(ctx, client, pid, need, label, action); err != nil {
			return err
		}
	}
	return privacy.Allow
}

// SystemOnlyPolicy: only the system reads and writes these rows.
func SystemOnlyPolicy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{privacy.AlwaysDenyRule()},
		Mutation: privacy.MutationPolicy{privacy.AlwaysDenyRule()},
	}
}
