package digest_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/feedbackloop/feedbackloop/access/accesstest"
	"github.com/feedbackloop/feedbackloop/digest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
	"github.com/feedbackloop/feedbackloop/ent/feedback"
	"github.com/feedbackloop/feedbackloop/ent/projectmember"
	"github.com/feedbackloop/feedbackloop/internal/testsmtp"
	"github.com/feedbackloop/feedbackloop/migrations/migrationstest"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/viewer"
)

var dbTemplate *migrationstest.Template

func TestMain(m *testing.M) { migrationstest.Main(m, "digest", &dbTemplate) }

// Users' text is escaped in the HTML body and kept as it is in the text
// one; a project's name cannot add header lines to the subject.
func TestRenderEscapesUsersText(t *testing.T) {
	d := &digest.Digest{Project: "Road\r\nBcc: x@example.com", Frequency: "DAILY",
		NewFeedback: []digest.Item{{ID: 1, Text: `<script>alert("x")</script> & more`}}, NewFeedbackCount: 12,
		Open: []digest.Item{{ID: 2, Text: `<img src=x onerror=alert(1)>`}}, OpenCount: 1}
	m, err := digest.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") || !strings.Contains(m.Subject, "Daily digest of Road Bcc: x@example.com: 12 new feedback") {
		t.Errorf("subject %q", m.Subject)
	}
	for _, raw := range []string{"<script>", "<img"} {
		if strings.Contains(m.HTML, raw) {
			t.Errorf("HTML holds %s unescaped:\n%s", raw, m.HTML)
		}
	}
	if !strings.Contains(m.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; more") || !strings.Contains(m.HTML, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Errorf("HTML lacks the escaped text:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, `- <script>alert("x")</script> & more`) || !strings.Contains(m.Text, "… and 11 more") {
		t.Errorf("text body:\n%s", m.Text)
	}
}

type world struct {
	client  *ent.Client
	project int
	now     time.Time
}

func newWorld(t *testing.T) *world {
	db, _ := dbTemplate.Open(t)
	w := &world{client: store.NewClient(db), now: time.Now().UTC().Add(time.Minute)}
	sys := accesstest.System()
	p := w.client.Project.Create().SetName(`Roadmap <b>`).SaveX(sys)
	w.project = p.ID
	task := w.client.Task.Create().SetProjectID(p.ID).SetTitle("Search").SaveX(sys)
	w.client.Feedback.Create().SetProjectID(p.ID).SetTaskID(task.ID).SetFeedbackText(`search is <i>slow</i>`).SaveX(sys)
	done := w.client.Feedback.Create().SetProjectID(p.ID).SetTaskID(task.ID).SetFeedbackText("export breaks").
		SetStatus(feedback.StatusCompleted).SetSummary("Export fails on big files").SetProcessedAt(time.Now()).SaveX(sys)
	w.client.Feedback.Create().SetProjectID(p.ID).SetFeedbackText("??").SetStatus(feedback.StatusFailed).SetProcessedAt(time.Now()).SaveX(sys)
	w.client.Adjustment.Create().SetFeedbackID(done.ID).SetAdjustmentType(adjustment.AdjustmentTypeGeneral).
		SetDescription("Stream the export").SetPosition(0).SaveX(sys)
	w.client.Adjustment.Create().SetFeedbackID(done.ID).SetAdjustmentType(adjustment.AdjustmentTypeGeneral).
		SetDescription("Raise the limit").SetPosition(1).SetStatus(adjustment.StatusRejected).SetDecidedAt(time.Now()).SaveX(sys)
	return w
}

// member adds a member with a digest whose period ended ago.
func (w *world) member(t *testing.T, subject string, d projectmember.Digest, email string, ago time.Duration) *ent.ProjectMember {
	sys := accesstest.System()
	u := w.client.User.Create().SetSubject(subject).SaveX(sys)
	c := w.client.ProjectMember.Create().SetProjectID(w.project).SetUserID(u.ID).SetRole(viewer.Reader).SaveX(sys)
	up := w.client.ProjectMember.UpdateOne(c).SetDigest(d).SetDigestSentAt(w.now.Add(-ago))
	if email != "" {
		up.SetDigestEmail(email)
	}
	return up.SaveX(sys)
}

func (w *world) scheduler(smtpURL string) *digest.Scheduler {
	m, err := digest.ParseSMTP(smtpURL, "Feedback Loop <digests@example.com>")
	if err != nil {
		panic(err)
	}
	return digest.NewScheduler(digest.Config{Client: w.client, Mailer: m, Now: func() time.Time { return w.now }})
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

// Two workers' schedulers at once send each due digest once, over real
// SMTP, as text and HTML; members without an address, with NONE or not
// yet due get nothing; a second round sends nothing more.
func TestDigestsAreSentOnceByTwoSchedulers(t *testing.T) {
	mail := testsmtp.Start(t)
	w := newWorld(t)
	daily := w.member(t, "daily", projectmember.DigestDaily, "daily@example.com", 25*time.Hour)
	w.member(t, "weekly", projectmember.DigestWeekly, "weekly@example.com", 8*24*time.Hour)
	sys := accesstest.System()
	w.client.Comment.Create().SetProjectID(w.project).SetFeedbackID(w.client.Feedback.Query().FirstIDX(sys)).
		SetBody("@daily look <u>here</u>").AddMentionIDs(daily.UserID).SaveX(sys)
	w.member(t, "no-address", projectmember.DigestDaily, "", 25*time.Hour)
	w.member(t, "none", projectmember.DigestNone, "none@example.com", 25*time.Hour)
	w.member(t, "not-yet", projectmember.DigestWeekly, "not-yet@example.com", 6*24*time.Hour)

	a, b := w.scheduler(mail.URL), w.scheduler(mail.URL)
	var wg sync.WaitGroup
	sent := make([]int, 2)
	for i, s := range []*digest.Scheduler{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := s.RunOnce(context.Background())
			if err != nil {
				t.Error(err)
			}
			sent[i] = n
		}()
	}
	wg.Wait()
	if sent[0]+sent[1] != 2 {
		t.Errorf("the schedulers sent %v digests, want 2 in all", sent)
	}
	if n, err := a.RunOnce(context.Background()); err != nil || n != 0 {
		t.Errorf("a second round sent %d (%v), want none", n, err)
	}
	got := byRecipient(mail.Messages(t))
	if len(got) != 2 || len(got["daily@example.com"]) != 1 || len(got["weekly@example.com"]) != 1 {
		t.Fatalf("recipients: %v, want daily@ and weekly@ once each", keys(got))
	}
	m := got["daily@example.com"][0]
	if m.From.Address != "digests@example.com" || !strings.HasPrefix(m.Subject, "Daily digest of Roadmap <b>: 3 new feedback, 2 analyses, 1 decisions, 1 open suggestions") {
		t.Errorf("from %v, subject %q", m.From, m.Subject)
	}
	for _, want := range []string{"search is <i>slow</i>", "Export fails on big files", "Analyses completed: 1, failed: 1", "rejected: Raise the limit", "Open suggestions: 1", "Stream the export"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text body lacks %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.Text, "Comments mentioning you: 1") || !strings.Contains(m.Text, "  - @daily look <u>here</u>") || !strings.Contains(m.HTML, "@daily look &lt;u&gt;here&lt;/u&gt;") {
		t.Errorf("the daily digest does not list the comment mentioning its member:\n%s\n%s", m.Text, m.HTML)
	}
	if strings.Contains(got["weekly@example.com"][0].Text, "mentioning you") {
		t.Errorf("the weekly digest lists another member's mentions:\n%s", got["weekly@example.com"][0].Text)
	}
	if !strings.Contains(m.HTML, "search is &lt;i&gt;slow&lt;/i&gt;") || strings.Contains(m.HTML, "<i>slow") || !strings.Contains(m.HTML, "Roadmap &lt;b&gt;") {
		t.Errorf("HTML body does not escape users' text:\n%s", m.HTML)
	}
	if !strings.HasPrefix(got["weekly@example.com"][0].Subject, "Weekly digest of") {
		t.Errorf("weekly subject %q", got["weekly@example.com"][0].Subject)
	}
}

// A digest the SMTP server refuses is not lost: its claim is given back and
// the next round sends it, covering the same period.
func TestRefusedDigestIsRetried(t *testing.T) {
	mail := testsmtp.Start(t)
	w := newWorld(t)
	m := w.member(t, "daily", projectmember.DigestDaily, "daily@example.com", 25*time.Hour)
	s := w.scheduler(mail.URL)
	mail.Refuse(t, 451)
	if n, err := s.RunOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("refused round: sent %d, %v", n, err)
	}
	if got := w.client.ProjectMember.GetX(accesstest.System(), m.ID).DigestSentAt; !got.Equal(*m.DigestSentAt) {
		t.Fatalf("after a refusal the period ends at %v, want %v (given back)", got, m.DigestSentAt)
	}
	mail.Refuse(t, 0)
	w.now = w.now.Add(5 * time.Minute)
	if n, err := s.RunOnce(context.Background()); err != nil || n != 1 {
		t.Fatalf("retry round: sent %d, %v", n, err)
	}
	msgs := mail.Messages(t)
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "search is <i>slow</i>") {
		t.Fatalf("after the retry: %d messages", len(msgs))
	}
	if got := w.client.ProjectMember.GetX(accesstest.System(), m.ID).DigestSentAt; !got.Equal(w.now.Truncate(time.Microsecond)) {
		t.Errorf("period ends at %v, want %v", got, w.now)
	}
}

// A period with nothing new sends nothing and is consumed.
func TestEmptyPeriodSendsNothing(t *testing.T) {
	mail := testsmtp.Start(t)
	w := newWorld(t)
	w.now = w.now.Add(48 * time.Hour) // everything in the world is older than the period
	m := w.member(t, "daily", projectmember.DigestDaily, "daily@example.com", 25*time.Hour)
	s := w.scheduler(mail.URL)
	if n, err := s.RunOnce(context.Background()); err != nil || n != 0 {
		t.Fatalf("sent %d, %v", n, err)
	}
	if len(mail.Messages(t)) != 0 {
		t.Error("an empty digest was sent")
	}
	if got := w.client.ProjectMember.GetX(accesstest.System(), m.ID).DigestSentAt; !got.After(*m.DigestSentAt) {
		t.Error("the empty period was not consumed")
	}
}

func keys(m map[string][]testsmtp.Message) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
