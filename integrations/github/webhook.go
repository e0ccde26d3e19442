package github

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/feedbackloop/feedbackloop/access"
	"github.com/feedbackloop/feedbackloop/ent"
	"github.com/feedbackloop/feedbackloop/ent/githubissue"
	"github.com/feedbackloop/feedbackloop/ent/githubrepository"
	"github.com/feedbackloop/feedbackloop/ent/task"
	"github.com/feedbackloop/feedbackloop/store"
	"github.com/feedbackloop/feedbackloop/webhooks"
)

// MaxWebhookBytes bounds a webhook delivery's body (an issues event is a
// few kilobytes).
const MaxWebhookBytes = 1 << 20

const maxDeliveryID = 100

// Webhook receives GitHub's webhook deliveries for linked repositories. A
// delivery is trusted once its X-Hub-Signature-256 verifies with the
// webhook secret of a project linking the repository it names; then an
// issues event closing an issue the service opened marks that project's
// task DONE, as the system, through the task's ordinary update (version,
// outbox event, subscriptions). Answers: 200 for a ping or a handled
// event, 202 for an event it ignores, 401 for a signature that does not
// verify (without saying why), 413 for a body past MaxWebhookBytes.
// Deliveries may be replayed: closing a DONE task changes nothing.
func Webhook(client *ent.Client, secrets *webhooks.Sealer, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST GitHub webhook deliveries here", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxWebhookBytes))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				http.Error(w, "the delivery is larger than the 1 MiB accepted", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "the delivery's body could not be read", http.StatusBadRequest)
			return
		}
		ctx := access.SystemContext(r.Context())
		var d delivery
		repo, err := verify(ctx, client, secrets, body, r.Header.Get("X-Hub-Signature-256"), &d)
		if err != nil {
			logger.ErrorContext(ctx, "GitHub webhook: cannot verify", "err", err)
			http.Error(w, "the delivery could not be verified now; GitHub may redeliver it", http.StatusServiceUnavailable)
			return
		}
		if repo == nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		event, id := r.Header.Get("X-GitHub-Event"), r.Header.Get("X-GitHub-Delivery")
		if len(id) > maxDeliveryID {
			id = id[:maxDeliveryID] // GitHub's are GUIDs
		}
		switch {
		case event == "ping":
			w.WriteHeader(http.StatusOK)
			return
		case event != "issues" || d.Action != "closed" || d.Issue.Number <= 0:
			w.WriteHeader(http.StatusAccepted)
			return
		}
		done, err := closeTask(ctx, client, repo, d.Issue.Number, id)
		if err != nil {
			logger.ErrorContext(ctx, "GitHub webhook: cannot close the task", "delivery", id, "err", err)
			http.Error(w, "the task could not be updated now; GitHub may redeliver it", http.StatusServiceUnavailable)
			return
		}
		if !done {
			w.WriteHeader(http.StatusAccepted) // not an issue the service opened
			return
		}
		logger.InfoContext(ctx, "GitHub issue closed: task DONE", "delivery", id, "project_id", repo.ProjectID, "issue", d.Issue.Number)
		w.WriteHeader(http.StatusOK)
	})
}

// delivery is what the service reads of a webhook's payload.
type delivery struct {
	Action string `json:"action"`
	Issue  struct {
		Number int `json:"number"`
	} `json:"issue"`
	Repository struct {
		Name  string `json:"name"`
		Owner struct {
			Login string `json:"login"`
		} `json:"owner"`
	} `json:"repository"`
}

// verify decodes body into d and returns the link of the repository it
// names whose webhook secret signed it; nil when none did.
func verify(ctx context.Context, client *ent.Client, secrets *webhooks.Sealer, body []byte, signature string, d *delivery) (*ent.GitHubRepository, error) {
	if signature == "" || json.Unmarshal(body, d) != nil || d.Repository.Name == "" || d.Repository.Owner.Login == "" {
		return nil, nil
	}
	links, err := client.GitHubRepository.Query().
		Where(githubrepository.OwnerEqualFold(d.Repository.Owner.Login), githubrepository.RepoEqualFold(d.Repository.Name)).
		All(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		secret, err := secrets.Open(l.WebhookSecret)
		if err != nil {
			continue
		}
		if Verify(secret, body, signature) {
			return l, nil
		}
	}
	return nil, nil
}

// closeTask marks DONE the task whose issue number was opened in repo's
// repository for repo's project; false when there is none. A delivery
// already handled (its X-GitHub-Delivery, delivery) changes nothing.
func closeTask(ctx context.Context, client *ent.Client, repo *ent.GitHubRepository, number int, delivery string) (bool, error) {
	return store.InTx(ctx, client, func(tx *ent.Tx) (bool, error) {
		is, err := tx.GitHubIssue.Query().
			Where(githubissue.ProjectID(repo.ProjectID), githubissue.OwnerEqualFold(repo.Owner), githubissue.RepoEqualFold(repo.Repo),
				githubissue.Number(number), githubissue.StatusEQ(githubissue.StatusCreated)).
			ForUpdate().
			First(ctx)
		if ent.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if delivery != "" && is.ClosedDelivery != nil && *is.ClosedDelivery == delivery {
			return true, nil // a redelivery
		}
		if delivery != "" {
			if err := tx.GitHubIssue.UpdateOne(is).SetClosedDelivery(delivery).Exec(ctx); err != nil {
				return false, err
			}
		}
		t, err := tx.Task.Query().Where(task.ID(is.TaskID)).ForUpdate().Only(ctx)
		if ent.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if t.Status == task.StatusDone {
			return true, nil // already done
		}
		return true, tx.Task.UpdateOne(t).SetStatus(task.StatusDone).Exec(ctx)
	})
}
