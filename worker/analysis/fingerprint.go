package analysis

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
)

// StateFingerprint identifies what an analysis of req saw besides the
// feedback's text: the project's fields and every task's fields that the
// prompt is built from, the task the feedback is about, and the
// instructions (SystemPrompt, which also lists the suggestion kinds), and
// the project's recent decisions and their counts by kind, which the prompt
// and the built-in planner learn from. Two
// feedback with the same normalised text and the same fingerprint would get
// the same prompt, so one's analysis can serve the other; any change to a
// task, the project, the instructions or the decisions gives another
// fingerprint: an analysis made before the team's latest decision is not
// reused after it. The
// submitter's name and the feedback's ID are left out: they do not change
// what is suggested. It is a hex SHA-256, 64 characters.
func StateFingerprint(req Request) string {
	type decision struct {
		Type     string  `json:"type"`
		TaskID   *int    `json:"task_id"`
		NewValue *string `json:"new_value"`
		Rejected bool    `json:"rejected"`
		Reason   *string `json:"reason"`
	}
	type task struct {
		ID          int     `json:"id"`
		Title       string  `json:"title"`
		Description string  `json:"description"`
		Status      string  `json:"status"`
		Priority    int     `json:"priority"`
		Hours       *string `json:"hours"`
	}
	state := struct {
		Version      int          `json:"v"`
		Instructions string       `json:"instructions"`
		ProjectID    int          `json:"project_id"`
		Name         string       `json:"name"`
		Status       string       `json:"status"`
		Description  string       `json:"description"`
		Tasks        []task       `json:"tasks"`
		About        *int         `json:"about"`
		Decisions    []decision   `json:"decisions"`
		Record       []KindRecord `json:"record"`
	}{
		Version: 2, Decisions: []decision{}, Record: []KindRecord{}, ProjectID: req.Project.ID, Name: req.Project.Name, Status: req.Project.Status,
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
	for _, d := range req.Decisions { // newest first: their order is part of the state
		state.Decisions = append(state.Decisions, decision{string(d.Type), d.TaskID, d.NewValue, d.Rejected, d.Reason})
	}
	state.Record = append(state.Record, req.Record...)
	slices.SortFunc(state.Record, func(a, b KindRecord) int { return strings.Compare(string(a.Type), string(b.Type)) })
	// The order tasks were loaded in says nothing about the state.
	slices.SortFunc(state.Tasks, func(a, b task) int { return a.ID - b.ID })
	b, err := json.Marshal(state)
	if err != nil {
		panic("analysis: encoding the state: " + err.Error()) // strings and numbers always encode
	}
	sum = sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
