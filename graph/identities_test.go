package graph_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/feedbackloop/feedbackloop/auth"
	"github.com/feedbackloop/feedbackloop/graph"
)

// Identities that cannot collide (issue 22): a token names an EXTERNAL user
// by its issuer and subject, never the operator's ADMIN_API_KEY or open
// mode's local admin, whatever its sub; admin rights come from ADMIN_API_KEY
// itself or from keys it made that rotating it revokes.

// me is what viewer says of a caller.
type me struct {
	ID, Subject string
	IsAdmin     bool
}

func (e *env) whoAmI(t *testing.T, cred string) me {
	t.Helper()
	var out struct{ Viewer me }
	e.as(t, cred, `{ viewer { id subject isAdmin } }`, nil, &out)
	return out.Viewer
}

// newKey creates an API key (on project when set) as cred and returns its
// Authorization value.
func (e *env) newKey(t *testing.T, cred, project string) string {
	t.Helper()
	var out struct{ CreateApiKey struct{ Secret string } }
	if project == "" {
		e.as(t, cred, `mutation { createApiKey(input: {name: "k"}) { secret } }`, nil, &out)
	} else {
		e.as(t, cred, `mutation($p: ID!) { createApiKey(input: {name: "k", projectID: $p, role: OWNER}) { secret } }`, map[string]any{"p": project}, &out)
	}
	return "Bearer " + out.CreateApiKey.Secret
}

// metricsStatus is the status of GET /metrics with authorization.
func (e *env) metricsStatus(t *testing.T, authorization string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.url+"/metrics", nil)
	req.Header.Set("Authorization", authorization)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// refusedAs asserts a 401 UNAUTHENTICATED reply with reason whose message
// says says.
func refusedAs(t *testing.T, what string, r reply, reason, says string) {
	t.Helper()
	if r.Status != http.StatusUnauthorized || r.code() != graph.CodeUnauthenticated ||
		r.Errors[0].Extensions["reason"] != reason || !strings.Contains(r.Errors[0].Message, says) {
		t.Errorf("%s: want 401 %s saying %q, got %d %+v", what, reason, says, r.Status, r.Errors)
	}
}

// Probe: a signed token with sub "admin-api-key" (or "local-admin", on a
// database that ran in open mode) made API keys that were admins: they saw
// every project and read /metrics.
func TestHostileReservedSubjectsAreOrdinaryUsers(t *testing.T) {
	open := newEnv(t)
	var openProject struct{ CreateProject struct{ ID string } }
	open.as(t, "", `mutation { createProject(input: {name: "made in open mode"}) { id } }`, nil, &openProject)
	localAdmin := open.whoAmI(t, "")
	openKey := open.newKey(t, "", "")

	e := open.restart(t, auth.Config{Secret: testSecret, AdminAPIKey: testAdminKey})
	admin := "Bearer " + testAdminKey
	operator := e.whoAmI(t, admin)
	var adminProject struct{ CreateProject struct{ ID string } }
	e.as(t, admin, `mutation { createProject(input: {name: "the operator's"}) { id } }`, nil, &adminProject)
	w := e.watchAs(bearer(t, "bystander"))
	var replies []reply

	// A key open mode made does not work with authentication on.
	r := e.from("127.0.0.1").as(openKey).post(`{ viewer { isAdmin } }`, nil)
	replies = append(replies, r)
	refusedAs(t, "open mode's key", r, auth.Revoked, "open mode")

	for _, c := range []struct{ sub, notID string }{{auth.AdminKeySubject, operator.ID}, {auth.LocalAdminSubject, localAdmin.ID}} {
		token := bearer(t, c.sub)
		got := e.whoAmI(t, token)
		if got.IsAdmin || got.ID == c.notID || got.ID == operator.ID || got.ID == localAdmin.ID || got.Subject != c.sub {
			t.Errorf("token with sub %q: %+v, the operator is %s and open mode's admin %s", c.sub, got, operator.ID, localAdmin.ID)
		}
		key := e.newKey(t, token, "")
		for cred, what := range map[string]string{token: "token", key: "its key"} {
			caller := e.from("127.0.0.1").as(cred)
			r := caller.post(`{ viewer { isAdmin } projects(first: 10) { totalCount } }`, nil)
			replies = append(replies, r)
			if string(r.Data) != `{"viewer":{"isAdmin":false},"projects":{"totalCount":0}}` {
				t.Errorf("sub %q, %s: %s %+v", c.sub, what, r.Data, r.Errors)
			}
			for _, p := range []string{openProject.CreateProject.ID, adminProject.CreateProject.ID} {
				r := caller.post(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": p})
				replies = append(replies, r)
				if r.code() != graph.CodeNotFound {
					t.Errorf("sub %q, %s reads another's project: %s %+v", c.sub, what, r.Data, r.Errors)
				}
			}
			if status := e.metricsStatus(t, cred); status != http.StatusForbidden {
				t.Errorf("sub %q, %s: /metrics answered %d, want 403", c.sub, what, status)
			}
		}
	}
	// The operator is still the operator.
	if got := e.whoAmI(t, admin); !got.IsAdmin || got.ID != operator.ID {
		t.Errorf("ADMIN_API_KEY: %+v", got)
	}
	w.check(t)
	noInternal(t, e, replies...)
}

// Probe: keys made with ADMIN_API_KEY stayed admins after it was rotated.
func TestAdminKeysEndWhenADMIN_API_KEYIsRotated(t *testing.T) {
	e := newSecureEnv(t)
	admin := "Bearer " + testAdminKey
	stranger := bearer(t, "stranger")
	var p struct{ CreateProject struct{ ID string } }
	e.as(t, stranger, `mutation { createProject(input: {name: "a stranger's"}) { id } }`, nil, &p)

	personal := e.newKey(t, admin, "")
	scoped := e.newKey(t, admin, p.CreateProject.ID)
	byKey := e.newKey(t, personal, "") // an admin key makes keys of the same kind
	legacy := e.newKey(t, admin, "")
	// As a key made before keys recorded their ADMIN_API_KEY.
	if _, err := e.db.Exec(`UPDATE api_keys SET admin_key_fingerprint = NULL WHERE id = (SELECT max(id) FROM api_keys)`); err != nil {
		t.Fatal(err)
	}
	refusedAs(t, "a key with no record of its ADMIN_API_KEY", e.from("127.0.0.1").as(legacy).post(`{ viewer { id } }`, nil), auth.Revoked, "before keys recorded")

	for _, k := range []string{personal, byKey} {
		if got := e.whoAmI(t, k); !got.IsAdmin {
			t.Fatalf("a key made with ADMIN_API_KEY is not an admin: %+v", got)
		}
		if status := e.metricsStatus(t, k); status != http.StatusOK {
			t.Fatalf("a key made with ADMIN_API_KEY: /metrics answered %d", status)
		}
		e.as(t, k, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": p.CreateProject.ID}, nil)
	}
	e.as(t, scoped, `mutation($p: ID!) { createTask(input: {projectID: $p, title: "by the operator's key"}) { id } }`, map[string]any{"p": p.CreateProject.ID}, nil)

	rotated := e.restart(t, auth.Config{Secret: testSecret, AdminAPIKey: "the-rotated-admin-key-0123456789"})
	w := rotated.watchAs("Bearer the-rotated-admin-key-0123456789")
	var replies []reply
	for what, k := range map[string]string{"the personal key": personal, "the scoped key": scoped, "the key a key made": byKey} {
		r := rotated.from("127.0.0.1").as(k).post(`{ viewer { isAdmin } }`, nil)
		replies = append(replies, r)
		refusedAs(t, what+" after rotation", r, auth.Revoked, "the ADMIN_API_KEY it was made with was rotated")
		if status := rotated.metricsStatus(t, k); status != http.StatusUnauthorized {
			t.Errorf("%s after rotation: /metrics answered %d, want 401", what, status)
		}
	}
	// The old ADMIN_API_KEY itself is no credential any more; the new one is.
	if r := rotated.from("127.0.0.1").as(admin).post(`{ viewer { id } }`, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("the old ADMIN_API_KEY: %d %s", r.Status, r.Data)
	}
	if got := rotated.whoAmI(t, "Bearer the-rotated-admin-key-0123456789"); !got.IsAdmin {
		t.Errorf("the new ADMIN_API_KEY: %+v", got)
	}
	w.check(t)
	noInternal(t, rotated, replies...)

	// Without ADMIN_API_KEY, its keys are refused too.
	removed := e.restart(t, auth.Config{Secret: testSecret})
	refusedAs(t, "with ADMIN_API_KEY removed", removed.from("127.0.0.1").as(personal).post(`{ viewer { id } }`, nil), auth.Revoked, "no longer set")
}

// addProjectMember names an EXTERNAL user at an issuer: JWT_ISSUER unless
// the input names another, never the operator's identities.
func TestAddProjectMemberNamesAnExternalUser(t *testing.T) {
	const issuer = "https://issuer.test"
	e := newEnvAuth(t, auth.Config{Secret: testSecret, Issuer: issuer, AdminAPIKey: testAdminKey},
		func(c *graph.Config) { c.DefaultIssuer = issuer })
	from := func(iss string) func(sub string) string {
		return func(sub string) string {
			return signed(t, jwt.MapClaims{"sub": sub, "iss": iss, "exp": time.Now().Add(time.Hour).Unix()})
		}
	}
	ours := from(issuer)
	var p struct{ CreateProject struct{ ID string } }
	e.as(t, ours("owner"), `mutation { createProject(input: {name: "P"}) { id } }`, nil, &p)
	add := `mutation($p: ID!, $s: String!, $i: String) { addProjectMember(input: {projectID: $p, subject: $s, issuer: $i, role: VIEWER}) { user { id } } }`
	var added struct {
		AddProjectMember struct{ User struct{ ID string } }
	}
	e.as(t, ours("owner"), add, map[string]any{"p": p.CreateProject.ID, "s": "bob"}, &added)
	if got := e.whoAmI(t, ours("bob")); got.ID != added.AddProjectMember.User.ID {
		t.Errorf("bob of JWT_ISSUER is user %s, the member added without an issuer %s", got.ID, added.AddProjectMember.User.ID)
	}
	e.as(t, ours("owner"), add, map[string]any{"p": p.CreateProject.ID, "s": "bob", "i": "https://elsewhere.test"}, &added)
	if got := e.whoAmI(t, ours("bob")); got.ID == added.AddProjectMember.User.ID {
		t.Error("bob of another issuer is the same user as bob of JWT_ISSUER")
	}
	e.as(t, ours("owner"), add, map[string]any{"p": p.CreateProject.ID, "s": auth.AdminKeySubject}, &added)
	if got := e.whoAmI(t, "Bearer "+testAdminKey); got.ID == added.AddProjectMember.User.ID {
		t.Error("addProjectMember with subject admin-api-key made the operator a member")
	}
	r := e.from("127.0.0.1").as(ours("owner")).post(add, map[string]any{"p": p.CreateProject.ID, "s": "carol", "i": strings.Repeat("i", 256)})
	if r.code() != graph.CodeBadUserInput || r.Errors[0].Extensions["field"] != "input.issuer" {
		t.Errorf("a 256-character issuer: %+v", r.Errors)
	}
}

// signed is the Authorization value of an HS256 token of testSecret with
// the claims c.
func signed(t testing.TB, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + s
}
