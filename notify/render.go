package notify

import (
	"fmt"
	htmltemplate "html/template"
	"strconv"
	"strings"
	texttemplate "text/template"

	"github.com/feedbackloop/feedbackloop/digest"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/graph/gid"
	"github.com/feedbackloop/feedbackloop/internal/text"
)

// quoted bounds the comment text a mention quotes (runes).
const quoted = 1000

const disabledText = `A webhook endpoint of {{.Project}} was disabled.

Endpoint: {{.Webhook}} (host {{.Host}})
Why: {{.Reason}}

Deliveries to it are no longer attempted. Fix the endpoint, then enable it
again with updateWebhook(id: "{{.Webhook}}", input: {enabled: true});
redeliverWebhook sends the failed deliveries again.

You get this because you are an OWNER of {{.Project}} with a digest address.
`

const disabledHTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>A webhook endpoint of {{.Project}} was disabled</title></head>
<body style="font-family: sans-serif">
<h1>A webhook endpoint of {{.Project}} was disabled</h1>
<p>Endpoint: <code>{{.Webhook}}</code> (host <code>{{.Host}}</code>)</p>
<p>Why: {{.Reason}}</p>
<p>Deliveries to it are no longer attempted. Fix the endpoint, then enable it again with
<code>updateWebhook(id: "{{.Webhook}}", input: {enabled: true})</code>; <code>redeliverWebhook</code> sends the failed deliveries again.</p>
<p><small>You get this because you are an OWNER of {{.Project}} with a digest address.</small></p>
</body></html>
`

const mentionText = `{{.Author}} mentioned you in a comment on {{.Target}} in {{.Project}}:

{{.Body}}

Comment {{.Comment}}. You get this because the comment names you
and you have a digest address in {{.Project}}; setDigest without an email
stops these.
`

const mentionHTML = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Author}} mentioned you in {{.Project}}</title></head>
<body style="font-family: sans-serif">
<p>{{.Author}} mentioned you in a comment on {{.Target}} in {{.Project}}:</p>
<blockquote style="white-space: pre-wrap">{{.Body}}</blockquote>
<p><small>Comment <code>{{.Comment}}</code>. You get this because the comment names you and you have a digest address in {{.Project}}; setDigest without an email stops these.</small></p>
</body></html>
`

var (
	disabledTextTmpl = texttemplate.Must(texttemplate.New("t").Parse(disabledText))
	disabledHTMLTmpl = htmltemplate.Must(htmltemplate.New("h").Parse(disabledHTML))
	mentionTextTmpl  = texttemplate.Must(texttemplate.New("t").Parse(mentionText))
	// html/template escapes every value: comments, names and reasons are
	// users' (or an endpoint's) text.
	mentionHTMLTmpl = htmltemplate.Must(htmltemplate.New("h").Parse(mentionHTML))
)

// oneLine makes s fit a header: a name may not add lines.
func oneLine(s string) string { return text.Truncate(strings.Join(strings.Fields(s), " "), 200) }

func renderWebhookDisabled(project string, detail map[string]string) (digest.Message, error) {
	id, _ := strconv.Atoi(detail["webhookId"])
	data := map[string]string{"Project": project, "Webhook": gid.Encode(id), "Host": detail["host"], "Reason": detail["reason"]}
	subject := fmt.Sprintf("Webhook to %s disabled in %s after a day of failures", oneLine(detail["host"]), oneLine(project))
	return digest.Compose(subject, data, disabledTextTmpl, disabledHTMLTmpl)
}

func renderMention(project string, c *ent.Comment) (digest.Message, error) {
	author := "Someone"
	if a := c.Edges.Author; a != nil {
		author = a.Subject
		if a.Name != nil && *a.Name != "" {
			author = *a.Name
		}
	}
	target := "a suggestion " + gidOf(c.AdjustmentID)
	if c.FeedbackID != nil {
		target = "feedback " + gidOf(c.FeedbackID)
	}
	data := map[string]string{"Project": project, "Author": author, "Target": target,
		"Body": text.Truncate(c.Body, quoted), "Comment": gid.Encode(c.ID)}
	return digest.Compose(fmt.Sprintf("%s mentioned you in %s", oneLine(author), oneLine(project)), data, mentionTextTmpl, mentionHTMLTmpl)
}

func gidOf(id *int) string {
	if id == nil {
		return ""
	}
	return gid.Encode(*id)
}
