package analysis

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// StateFingerprint identifies what an analysis of req saw besides the
// feedback's text: the project's fields and every task's fields that the
// prompt is built from, the task the feedback is about, and the
// instructions (SystemPrompt, which also lists the suggestion kinds). Two
// feedback with the same normalised text and the same fingerprint would get
// the same prompt, so one's analysis can serve the other; any change to a
// task, the project or the instructions gives another fingerprint. The
// submitter's name and the feedback's ID are left out: they do not change
// what is suggested. It is a hex SHA-256, 64 characters.
func StateFingerprint(req Request) string {
	type task struct {
		ID          int     `json:"id"`
		Title       string  `json:"title"`
		Description string  `json:"description"`
		Status      string  `json:"status"`
		Priority    int     `json:"priority"`
		Hours       *string `json:"hours"`
	}
	state := struct {
		Version      int    `json:"v"`
		Instructions string `json:"instructions"`
		ProjectID    int    `json:"project_id"`
		Name         string `json:"name"`
		Status       string `json:"status"`
		Description  string `json:"description"`
		Tasks        []task `json:"tasks"`
		About        *int   `json:"about"`
	}{
		Version: 1, ProjectID: req.Project.ID, Name: req.Project.Name, Status: req.Project.Status,
		Description: req.Project.Description, About: req.Feedback.TaskID, Tasks: []task{},
	}
	sum := sha256.Sum256([]byte(SystemPrompt()))
	state.Instructions = hex.EncodeToString(sum[:])
	for _, t := range req.Tasks {
		ft := task{ID: t.ID, Title: t.Title, Description: t.Description, Status: t.Status, Priority: t.Priority}
		if h := t.EstimatedHours; h != nil {
			// Exact, and defined for every float (JSON has no NaN or infinity).
			s := strconv.FormatUint(math.Float64bits(*h), 16)
			ft.Hours = &s
		}
		state.Tasks = append(state.Tasks, ft)
	}
	// The order tasks were loaded in says nothing about the state.
	slices.SortFunc(state.Tasks, func(a, b task) int { return a.ID - b.ID })
	b, err := json.Marshal(state)
	if err != nil {
		panic("analysis: encoding the state: " + err.Error()) // strings and numbers always encode
	}
	sum = sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
