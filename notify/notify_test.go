package notify_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/digest"
	"github.com/feedbackloop/feedbackloop/discussion"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/notification"
	"github.com/feedbackloop/feedbackloop/internal/testsmtp"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
	"github.com/feedbackloop/feedbackloop/notify"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/viewer"
)

var dbTemplate *migrationstest.Template

func TestMain(m *testing.M) { migrationstest.Main(m, "notify", &dbTemplate) }

type world struct {
	client   *ent.Client
	project  int
	feedback int
	now      time.Time
	users    map[string]*ent.User
	members  map[string]*ent.ProjectMember
}

func newWorld(t *testing.T) *world {
	db, _ := dbTemplate.Open(t)
	w := &world{client: store.NewClient(db), now: time.Now().UTC().Add(time.Minute),
		users: map[string]*ent.User{}, members: map[string]*ent.ProjectMember{}}
	sys := accesstest.System()
	p := w.client.Project.Create().SetName("Road\r\nBcc: x@example.com <b>map</b>").SaveX(sys)
	w.project = p.ID
	w.feedback = w.client.Feedback.Create().SetProjectID(p.ID).SetFeedbackText("export breaks").SaveX(sys).ID
	return w
}

// member adds a member of the project with role and, unless "", a digest
// address.
func (w *world) member(subject string, role viewer.Role, email string) {
	sys := accesstest.System()
	u := w.client.User.Create().SetSubject(subject).SaveX(sys)
	c := w.client.ProjectMember.Create().SetProjectID(w.project).SetUserID(u.ID).SetRole(role)
	if email != "" {
		c.SetDigestEmail(email)
	}
	w.users[subject], w.members[subject] = u, c.SaveX(sys)
}

func (w *world) as(subject string) context.Context {
	u := w.users[subject]
	return viewer.NewContext(context.Background(), &viewer.Viewer{UserID: u.ID, Subject: u.Subject, Kind: viewer.User, UserKind: viewer.External})
}

func (w *world) sender(smtpURL string) *notify.Sender {
	m, err := digest.ParseSMTP(smtpURL, "Feedback Loop <notes@example.com>")
	if err != nil {
		panic(err)
	}
	return notify.NewSender(notify.Config{Client: w.client, Mailer: m, Now: func() time.Time { return w.now }})
}

func (w *world) notes(t *testing.T) map[string]*ent.Notification {
	out := map[string]*ent.Notification{}
	for _, n := range w.client.Notification.Query().AllX(accesstest.System()) {
		for s, u := range w.users {
			if u.ID == n.UserID {
				out[s] = n
			}
		}
	}
	return out
}

func byRecipient(msgs []testsmtp.Message) map[string][]testsmtp.Message {
	out := map[string][]testsmtp.Message{}
	for _, m := range msgs {
		for _, to := range m.To {
			out[to.Address] = append(out[to.Address], m)
		}
	}
	return out
}

// A comment's mentions are mailed, over real SMTP, once, by two workers'
// senders at once: to the members mentioned who have a digest address and
// may still see the project when it is sent; never to its author; an edit
// that mentions them again sends nothing more.
func TestMentionsAreMailedOnceToMembersWhoMayStillSeeTheProject(t *testing.T) {
	mail := testsmtp.Start(t)
	w := newWorld(t)
	w.member("ada", viewer.Owner, "ada@example.com")
	w.member("bob", viewer.Reader, "bob@example.com")
	w.member("carol", viewer.Reader, "")
	w.member("dave", viewer.Reader, "dave@example.com")
	svc := discussion.New(w.client, true)
	c, err := svc.Add(w.as("ada"), discussion.Target{FeedbackID: &w.feedback},
		"@ada @bob @carol @dave @nobody: the <script>export</script> breaks")
	if err != nil {
		t.Fatal(err)
	}
	// dave leaves before the mail goes: he is no longer told.
	w.client.ProjectMember.DeleteOne(w.members["dave"]).ExecX(accesstest.System())

	a, b := w.sender(mail.URL), w.sender(mail.URL)
	var wg sync.WaitGroup
	for _, s := range []*notify.Sender{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.SendDue(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if _, err := svc.Edit(w.as("ada"), c.ID, "@bob @carol again"); err != nil {
		t.Fatal(err)
	}
	if n, err := a.SendDue(context.Background()); err != nil || n != 0 {
		t.Errorf("after an edit mentioning the same members, %d sent (%v), want none", n, err)
	}

	got := byRecipient(mail.Messages(t))
	if len(got) != 1 || len(got["bob@example.com"]) != 1 {
		t.Fatalf("mail to %v, want one to bob@example.com", got)
	}
	m := got["bob@example.com"][0]
	if strings.ContainsAny(m.Subject, "\r\n") || !strings.HasPrefix(m.Subject, "ada mentioned you in Road Bcc") ||
		!strings.Contains(m.Text, "the <script>export</script> breaks") || strings.Contains(m.HTML, "<script>") ||
		!strings.Contains(m.HTML, "&lt;script&gt;export&lt;/script&gt;") {
		t.Errorf("mention mail: subject %q\n%s\n%s", m.Subject, m.Text, m.HTML)
	}
	notes := w.notes(t)
	if _, ok := notes["ada"]; ok {
		t.Error("the author is told of her own comment")
	}
	if n := notes["carol"]; n == nil || n.Status != notification.StatusDropped || n.Error == nil || *n.Error != "no digest address" {
		t.Errorf("carol (no address): %+v", n)
	}
	if n := notes["dave"]; n == nil || n.Status != notification.StatusDropped || n.Error == nil || !strings.Contains(*n.Error, "no longer a member") {
		t.Errorf("dave (left the project): %+v", n)
	}
	if n := notes["bob"]; n == nil || n.Status != notification.StatusSent {
		t.Errorf("bob: %+v", n)
	}
}

// A comment names at most bounds.MaxCommentMentions members: no more are
// told.
func TestMentionsPerCommentAreBounded(t *testing.T) {
	w := newWorld(t)
	w.member("ada", viewer.Owner, "")
	body := ""
	for i := range 30 {
		s := "m" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		w.member(s, viewer.Reader, s+"@example.com")
		body += "@" + s + " "
	}
	if _, err := discussion.New(w.client, true).Add(w.as("ada"), discussion.Target{FeedbackID: &w.feedback}, body); err != nil {
		t.Fatal(err)
	}
	if n := w.client.Notification.Query().CountX(accesstest.System()); n != 20 {
		t.Errorf("%d notifications for 30 mentions, want 20", n)
	}
}

// A send the SMTP server refuses is not lost: the notification waits,
// with the error, and goes out on a later round; never twice.
func TestARefusedSendIsTriedAgain(t *testing.T) {
	mail := testsmtp.Start(t)
	w := newWorld(t)
	w.member("ada", viewer.Owner, "ada@example.com")
	w.member("bob", viewer.Owner, "")
	w.member("eve", viewer.Editor, "eve@example.com")
	tx, err := w.client.Tx(accesstest.System())
	if err != nil {
		t.Fatal(err)
	}
	n, err := notify.WebhookDisabled(accesstest.System(), tx, w.project, 4_294_967_300, "hooks.example.com", "every delivery has failed")
	if err != nil || tx.Commit() != nil || n != 1 {
		t.Fatalf("owners told: %d, %v (want 1: ada; bob has no address, eve is no OWNER)", n, err)
	}
	s := w.sender(mail.URL)
	mail.Refuse(t, 451)
	if _, err := s.SendDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	note := w.notes(t)["ada"]
	if note.Status != notification.StatusPending || note.AttemptCount != 1 || note.Error == nil || note.NextAttemptAt == nil ||
		!note.NextAttemptAt.After(w.now) {
		t.Fatalf("after a refused send: %+v", note)
	}
	if n, _ := s.SendDue(context.Background()); n != 0 {
		t.Errorf("%d sent before the backoff ended", n)
	}
	mail.Refuse(t, 0)
	w.now = note.NextAttemptAt.Add(time.Second)
	if n, err := s.SendDue(context.Background()); err != nil || n != 1 {
		t.Fatalf("after the backoff: %d sent, %v", n, err)
	}
	if n, _ := s.SendDue(context.Background()); n != 0 {
		t.Errorf("sent again: %d", n)
	}
	msgs := mail.Messages(t)
	if len(msgs) != 1 || msgs[0].To[0].Address != "ada@example.com" || !strings.Contains(msgs[0].Subject, "hooks.example.com") ||
		!strings.Contains(msgs[0].Text, "every delivery has failed") {
		t.Fatalf("mail: %+v", msgs)
	}
	if note := w.notes(t)["ada"]; note.Status != notification.StatusSent {
		t.Errorf("after sending: %+v", note)
	}
}
