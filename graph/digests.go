package graph

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/bounds"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/projectmember"
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// setDigest records the caller's digest of a project. The privacy layer
// (access.ProjectMemberPolicy) holds that it is the caller's own
// membership, changed with the caller's own credentials.
func (r *Resolver) setDigest(ctx context.Context, projectID int, frequency projectmember.Digest, email *string) (*model.DigestSetting, error) {
	if email != nil {
		if problem := emailProblem(*email); problem != "" {
			return nil, &InputError{Field: "email", Problem: problem}
		}
	}
	if err := r.mustSeeProject(ctx, projectID, "projectID"); err != nil {
		return nil, err
	}
	v := viewer.FromContext(ctx)
	m, err := store.InTx(ctx, r.client, func(tx *ent.Tx) (*ent.ProjectMember, error) {
		m, err := tx.ProjectMember.Query().
			Where(projectmember.ProjectID(projectID), projectmember.UserID(v.UserID)).
			ForUpdate().Only(access.SystemContext(ctx))
		if ent.IsNotFound(err) {
			return nil, &InputError{Field: "projectID", Problem: "is a project you are not a member of: digests go to members (an OWNER adds you with addProjectMember)"}
		}
		if err != nil {
			return nil, err
		}
		up := tx.ProjectMember.UpdateOne(m).SetDigest(frequency)
		if frequency != projectmember.DigestNone && (m.Digest == projectmember.DigestNone || m.DigestSentAt == nil) {
			// The first digest covers the time from the choice on.
			up.SetDigestSentAt(time.Now())
		}
		switch {
		case email == nil:
		case *email == "":
			up.ClearDigestEmail()
		default:
			up.SetDigestEmail(*email)
		}
		return up.Save(ctx)
	})
	if err != nil {
		return nil, err
	}
	return &model.DigestSetting{Member: m, Frequency: m.Digest, Email: m.DigestEmail, Sending: r.digestsSending}, nil
}

// emailProblem says what is wrong with a digest address ("" for nothing,
// and for "", which forgets the address).
func emailProblem(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > bounds.EmailBytes {
		return "is longer than 254 bytes: give a shorter address"
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || strings.ContainsAny(s, "\r\n<>") {
		return "is not an email address: give a bare address such as ada@example.com (no display name), or \"\" to forget it"
	}
	return ""
}
