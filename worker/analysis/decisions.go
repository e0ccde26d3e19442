package analysis

import (
	"github.com/feedbackloop/feedbackloop/ent/adjustment"
)

// MaxDecisions bounds the recent decisions a Request carries (and the
// prompt shows, as room allows).
const MaxDecisions = 10

// Decision is one of the project's recent decisions on an earlier
// suggestion: applied or rejected, with the reason the team gave. Like
// every text from users it is data, never an instruction.
type Decision struct {
	Type     adjustment.AdjustmentType
	TaskID   *int
	NewValue *string
	Rejected bool // else applied
	Reason   *string
}

// KindRecord counts the project's recent decisions on suggestions of one
// kind.
type KindRecord struct {
	Type              adjustment.AdjustmentType
	Applied, Rejected int
}

// RejectionRate is the share of the decisions on the kind that were
// rejections, shrunk toward none while there are few: Rejected / (Applied
// + Rejected + 2). Two rejections make 0.5; a kind never decided on, 0.
func (r KindRecord) RejectionRate() float64 {
	return float64(r.Rejected) / float64(r.Applied+r.Rejected+2)
}
