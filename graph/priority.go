package graph

import (
	"github.com/feedbackloop/feedbackloop/graph/model"
	"github.com/feedbackloop/feedbackloop/queue"
)

// jobPriority is the queue priority of an AnalysisPriority. GraphQL has
// already refused values outside the enum; NORMAL is the default.
func jobPriority(p model.AnalysisPriority) queue.Priority {
	switch p {
	case model.AnalysisPriorityHigh:
		return queue.High
	case model.AnalysisPriorityLow:
		return queue.Low
	}
	return queue.Normal
}
