package main

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/feedbackloop/feedbackloop/internal/gqltest"
	"github.com/feedbackloop/feedbackloop/internal/testsmtp"
	"github.com/feedbackloop/feedbackloop/internal/testutil"
)

// The whole path in one process: a member chooses a daily digest through
// the API, feedback comes in, a day passes (the period is moved back in
// the database), and the worker's scheduler mails the digest over SMTP
// to a real server.
func TestDigestIsMailedByTheWorker(t *testing.T) {
	mail := testsmtp.Start(t)
	dsn := newDatabaseURL(t)
	base, _ := startServer(t, map[string]string{"DATABASE_URL": dsn, "SMTP_URL": mail.URL,
		"SMTP_FROM": "Feedback Loop <digests@example.com>", "DIGEST_INTERVAL": "100ms"})
	projectID, taskID := createProjectWithTask(t, base)
	var out struct{ SetDigest struct{ Sending bool } }
	gqltest.MustPost(t, base, `mutation($p: ID!) { setDigest(projectID: $p, frequency: DAILY, email: "lead@example.com") { sending } }`,
		map[string]any{"p": projectID}, &out)
	if !out.SetDigest.Sending {
		t.Error("setDigest says digests are not sent, with SMTP_URL set")
	}
	// Feedback first: a period with nothing new would be consumed unsent.
	submitFeedback(t, base, projectID, taskID, "The <b>export</b> button does nothing")
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE project_members SET digest_sent_at = now() - interval '25 hours' WHERE digest = 'DAILY'`); err != nil {
		t.Fatal(err)
	}
	var msgs []testsmtp.Message
	testutil.WaitFor(t, "the digest in the mailbox", func() bool { msgs = mail.Messages(t); return len(msgs) > 0 })
	m := msgs[0]
	if len(m.To) != 1 || m.To[0].Address != "lead@example.com" || !strings.HasPrefix(m.Subject, "Daily digest of Website") ||
		!strings.Contains(m.Text, "The <b>export</b> button does nothing") || !strings.Contains(m.HTML, "The &lt;b&gt;export&lt;/b&gt; button") {
		t.Errorf("digest: to %v, subject %q\n%s\n%s", m.To, m.Subject, m.Text, m.HTML)
	}
}
