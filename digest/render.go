package digest

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/feedbackloop/feedbackloop/graph/gid"
)

// Message is a rendered digest: a subject and two bodies, sent as
// multipart/alternative.
type Message struct {
	Subject, Text, HTML string
}

var funcs = map[string]any{
	"id":    gid.Encode,
	"time":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"more":  func(count int, n int) int { return count - n },
	"lower": strings.ToLower,
}

const textBody = `{{.Frequency | lower}} digest of {{.Project}}
{{time .Since}} to {{time .Until}}

New feedback: {{.NewFeedbackCount}}
{{range .NewFeedback}}  - {{.Text}} ({{id .ID}})
{{end}}{{with more .NewFeedbackCount (len .NewFeedback)}}{{if gt . 0}}  … and {{.}} more
{{end}}{{end}}
Analyses completed: {{.CompletedCount}}, failed: {{.FailedCount}}
{{range .Completed}}  - {{.Text}} ({{id .ID}})
{{end}}{{with more .CompletedCount (len .Completed)}}{{if gt . 0}}  … and {{.}} more
{{end}}{{end}}
Decisions: {{.DecisionCount}}
{{range .Decisions}}  - {{.Status | lower}}: {{.Text}} ({{id .ID}})
{{end}}{{with more .DecisionCount (len .Decisions)}}{{if gt . 0}}  … and {{.}} more
{{end}}{{end}}
Open suggestions: {{.OpenCount}}
{{range .Open}}  - {{.Text}} ({{id .ID}})
{{end}}{{with more .OpenCount (len .Open)}}{{if gt . 0}}  … and {{.}} more
{{end}}{{end}}{{if .MentionCount}}
Comments mentioning you: {{.MentionCount}}
{{range .Mentions}}  - {{.Text}} ({{id .ID}})
{{end}}{{with more .MentionCount (len .Mentions)}}{{if gt . 0}}  … and {{.}} more
{{end}}{{end}}{{end}}
You get this because you chose a {{.Frequency | lower}} digest of this project.
Change it with setDigest (frequency NONE stops it).
`

const htmlBody = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Frequency | lower}} digest of {{.Project}}</title></head>
<body style="font-family: sans-serif">
<h1>{{.Frequency | lower}} digest of {{.Project}}</h1>
<p>{{time .Since}} to {{time .Until}}</p>
<h2>New feedback: {{.NewFeedbackCount}}</h2>
<ul>{{range .NewFeedback}}<li>{{.Text}} <small>({{id .ID}})</small></li>{{end}}{{with more .NewFeedbackCount (len .NewFeedback)}}{{if gt . 0}}<li>… and {{.}} more</li>{{end}}{{end}}</ul>
<h2>Analyses completed: {{.CompletedCount}}, failed: {{.FailedCount}}</h2>
<ul>{{range .Completed}}<li>{{.Text}} <small>({{id .ID}})</small></li>{{end}}{{with more .CompletedCount (len .Completed)}}{{if gt . 0}}<li>… and {{.}} more</li>{{end}}{{end}}</ul>
<h2>Decisions: {{.DecisionCount}}</h2>
<ul>{{range .Decisions}}<li>{{.Status | lower}}: {{.Text}} <small>({{id .ID}})</small></li>{{end}}{{with more .DecisionCount (len .Decisions)}}{{if gt . 0}}<li>… and {{.}} more</li>{{end}}{{end}}</ul>
<h2>Open suggestions: {{.OpenCount}}</h2>
<ul>{{range .Open}}<li>{{.Text}} <small>({{id .ID}})</small></li>{{end}}{{with more .OpenCount (len .Open)}}{{if gt . 0}}<li>… and {{.}} more</li>{{end}}{{end}}</ul>
{{if .MentionCount}}<h2>Comments mentioning you: {{.MentionCount}}</h2>
<ul>{{range .Mentions}}<li>{{.Text}} <small>({{id .ID}})</small></li>{{end}}{{with more .MentionCount (len .Mentions)}}{{if gt . 0}}<li>… and {{.}} more</li>{{end}}{{end}}</ul>
{{end}}<p><small>You get this because you chose a {{.Frequency | lower}} digest of this project. Change it with setDigest (frequency NONE stops it).</small></p>
</body></html>
`

var (
	textTmpl = texttemplate.Must(texttemplate.New("text").Funcs(funcs).Parse(textBody))
	// html/template escapes every value by its context: feedback text,
	// summaries and project names are the users'.
	htmlTmpl = htmltemplate.Must(htmltemplate.New("html").Funcs(funcs).Parse(htmlBody))
)

// Render writes d as a message.
func Render(d *Digest) (Message, error) {
	kind := map[string]string{"DAILY": "Daily", "WEEKLY": "Weekly"}[d.Frequency]
	subject := fmt.Sprintf("%s digest of %s: %d new feedback, %d analyses, %d decisions, %d open suggestions",
		kind, d.Project, d.NewFeedbackCount, d.CompletedCount+d.FailedCount, d.DecisionCount, d.OpenCount)
	return Compose(subject, d, textTmpl, htmlTmpl)
}

// Compose writes data as a message through a text and an HTML template.
// The subject is made one line: a header holds one, and the names in it
// (a project's, a member's) may not add others.
func Compose(subject string, data any, t *texttemplate.Template, h *htmltemplate.Template) (Message, error) {
	var tb, hb bytes.Buffer
	if err := t.Execute(&tb, data); err != nil {
		return Message{}, err
	}
	if err := h.Execute(&hb, data); err != nil {
		return Message{}, err
	}
	return Message{Subject: strings.Join(strings.Fields(subject), " "), Text: tb.String(), HTML: hb.String()}, nil
}
