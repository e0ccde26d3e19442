package graph_test

import (
	"context"
	"errors"
	"testing"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/ent/privacy"
	"github.com/feedbackloop/feedbackloop/ent/projectmember"
	"github.com/feedbackloop/feedbackloop/graph"
	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/viewer"
)

const setDigest = `mutation($p: ID!, $f: DigestFrequency!, $e: String) {
  setDigest(projectID: $p, frequency: $f, email: $e) { frequency email sending member { id digest } } }`

type digestSetting struct {
	SetDigest struct {
		Frequency string
		Email     *string
		Sending   bool
		Member    struct{ ID, Digest string }
	}
}

// A member's choice is kept with its address: omitted keeps the address,
// "" forgets it; a bad address is refused saying what to give; the server
// without SMTP says it sends none.
func TestSetDigest(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "digest")
	var out digestSetting
	e.as(t, w.reader, setDigest, map[string]any{"p": w.own, "f": "WEEKLY", "e": "reader@example.com"}, &out)
	got := out.SetDigest
	if got.Frequency != "WEEKLY" || got.Email == nil || *got.Email != "reader@example.com" || got.Sending ||
		got.Member.ID != w.readerMember || got.Member.Digest != "WEEKLY" {
		t.Fatalf("setDigest = %+v", got)
	}
	m := e.client.ProjectMember.GetX(accesstest.System(), dbID(t, w.readerMember))
	if m.DigestSentAt == nil {
		t.Error("choosing a digest did not start its period")
	}
	e.as(t, w.reader, setDigest, map[string]any{"p": w.own, "f": "DAILY"}, &out)
	if out.SetDigest.Email == nil || *out.SetDigest.Email != "reader@example.com" || out.SetDigest.Frequency != "DAILY" {
		t.Errorf("without email: %+v, want the stored address kept", out.SetDigest)
	}
	e.as(t, w.reader, setDigest, map[string]any{"p": w.own, "f": "DAILY", "e": ""}, &out)
	if out.SetDigest.Email != nil {
		t.Errorf(`email "" kept %q`, *out.SetDigest.Email)
	}
	for _, bad := range []string{"nobody", "Ada <ada@example.com>", "a@b\r\nBcc: x@example.com"} {
		resp := gqltest.PostAs(t, e.url, w.reader, setDigest, map[string]any{"p": w.own, "f": "DAILY", "e": bad})
		if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != graph.CodeBadUserInput || resp.Errors[0].Extensions["field"] != "email" {
			t.Errorf("email %q: %+v, want BAD_USER_INPUT on email", bad, resp.Errors)
		}
	}
}

// The privacy layer, not only the resolver, keeps a digest its member's:
// an OWNER may change another member's role but not their digest.
func TestDigestIsTheMembersOwn(t *testing.T) {
	e := newSecureEnv(t)
	w := e.newWorld(t, "digest-own")
	sys := accesstest.System()
	reader := e.client.ProjectMember.GetX(sys, dbID(t, w.readerMember))
	editor := e.client.ProjectMember.GetX(sys, dbID(t, w.editorMember))
	owner := e.client.ProjectMember.Query().Where(projectmember.ProjectID(reader.ProjectID), projectmember.RoleEQ(viewer.Owner)).OnlyX(sys)
	as := func(userID int) context.Context {
		return viewer.NewContext(context.Background(), &viewer.Viewer{UserID: userID, Subject: "s", Kind: viewer.User})
	}
	err := e.client.ProjectMember.UpdateOne(reader).SetDigest(projectmember.DigestDaily).Exec(as(owner.UserID))
	var forbidden *access.ForbiddenError
	if !errors.As(err, &forbidden) || !errors.Is(err, privacy.Deny) {
		t.Errorf("an OWNER set a member's digest: %v", err)
	}
	if err := e.client.ProjectMember.UpdateOne(reader).SetDigestEmail("x@example.com").Exec(as(editor.UserID)); !errors.As(err, &forbidden) {
		t.Errorf("an EDITOR set another member's address: %v", err)
	}
	if err := e.client.ProjectMember.UpdateOne(reader).SetDigest(projectmember.DigestDaily).Exec(as(reader.UserID)); err != nil {
		t.Errorf("a VIEWER could not set their own digest: %v", err)
	}
	if err := e.client.ProjectMember.UpdateOne(reader).SetRole(viewer.Editor).Exec(as(reader.UserID)); !errors.As(err, &forbidden) {
		t.Errorf("a VIEWER changed their own role: %v", err)
	}
	if err := e.client.ProjectMember.UpdateOne(reader).SetRole(viewer.Editor).Exec(as(owner.UserID)); err != nil {
		t.Errorf("an OWNER could not change a role: %v", err)
	}
}
