package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/githubrepository"
	"github.com/feedbackloop/feedbackloop/ent/project"
	"github.com/feedbackloop/feedbackloop/graph/model"
	gh "github.com/feedbackloop/feedbackloop/integrations/github"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/viewer"
)

// gitHubLinkProblems checks linkGitHubRepository's input.
func gitHubLinkProblems(in *model.LinkGitHubRepositoryInput) []error {
	var ps []error
	in.Owner, in.Repo, in.Token = strings.TrimSpace(in.Owner), strings.TrimSpace(in.Repo), strings.TrimSpace(in.Token)
	if err := gh.CheckOwner(in.Owner); err != nil {
		ps = append(ps, &InputError{Field: "input.owner", Problem: err.Error()})
	}
	if err := gh.CheckRepo(in.Repo); err != nil {
		ps = append(ps, &InputError{Field: "input.repo", Problem: err.Error()})
	}
	if in.Token == "" || len(in.Token) > gh.MaxTokenLength || strings.ContainsAny(in.Token, " \t\r\n") {
		ps = append(ps, &InputError{Field: "input.token", Problem: fmt.Sprintf(
			"must be a GitHub token (1 to %d characters, no spaces) that may create issues in the repository", gh.MaxTokenLength)})
	}
	if in.WebhookSecret != nil && (len(*in.WebhookSecret) < gh.MinSecretLength || len(*in.WebhookSecret) > gh.MaxSecretLength) {
		ps = append(ps, &InputError{Field: "input.webhookSecret", Problem: fmt.Sprintf(
			"must be %d to %d characters (or omit it to have one generated)", gh.MinSecretLength, gh.MaxSecretLength)})
	}
	return ps
}

// linkGitHubRepository links (or re-links) a project's repository, its
// token and webhook secret sealed at rest.
func (r *Resolver) linkGitHubRepository(ctx context.Context, in model.LinkGitHubRepositoryInput) (*model.LinkGitHubRepositoryPayload, error) {
	if err := reportAll(ctx, gitHubLinkProblems(&in)); err != nil {
		return nil, err
	}
	if err := r.mustSeeProject(ctx, in.ProjectID, "input.projectID"); err != nil {
		return nil, err
	}
	if err := access.Require(ctx, r.client, in.ProjectID, viewer.Owner, githubrepository.Label, "link GitHub repositories"); err != nil {
		return nil, err
	}
	out := &model.LinkGitHubRepositoryPayload{}
	secret := ""
	if in.WebhookSecret != nil {
		secret = *in.WebhookSecret
	} else {
		raw := make([]byte, 32)
		if _, err := rand.Read(raw); err != nil {
			return nil, err
		}
		secret = hex.EncodeToString(raw)
		out.WebhookSecret = &secret
	}
	token, err := r.webhookSecrets.Seal(in.Token)
	if err != nil {
		return nil, err
	}
	sealedSecret, err := r.webhookSecrets.Seal(secret)
	if err != nil {
		return nil, err
	}
	out.Repository, err = store.InTx(ctx, r.client, func(tx *ent.Tx) (*ent.GitHubRepository, error) {
		if _, err := tx.Project.Query().Where(project.ID(in.ProjectID)).ForUpdate().OnlyID(access.SystemContext(ctx)); err != nil {
			return nil, err
		}
		if _, err := tx.GitHubRepository.Delete().Where(githubrepository.ProjectID(in.ProjectID)).Exec(ctx); err != nil {
			return nil, err
		}
		return tx.GitHubRepository.Create().
			SetProjectID(in.ProjectID).
			SetOwner(in.Owner).
			SetRepo(in.Repo).
			SetToken(token).
			SetWebhookSecret(sealedSecret).
			Save(ctx)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// unlinkGitHubRepository removes a project's link, if any.
func (r *Resolver) unlinkGitHubRepository(ctx context.Context, projectID int) (int, error) {
	if err := r.mustSeeProject(ctx, projectID, "projectID"); err != nil {
		return 0, err
	}
	if err := access.Require(ctx, r.client, projectID, viewer.Owner, githubrepository.Label, "link GitHub repositories"); err != nil {
		return 0, err
	}
	return store.InTx(ctx, r.client, func(tx *ent.Tx) (int, error) {
		_, err := tx.GitHubRepository.Delete().Where(githubrepository.ProjectID(projectID)).Exec(ctx)
		return projectID, err
	})
}
