// Package accesstest helps tests act on rows directly, outside the
// privacy rules that callers meet.
package accesstest

import (
	"context"

	"github.com/feedbackloop/feedbackloop/access"
)

// System is a background context that acts as the system, which the
// privacy policies let through: for tests that arrange or inspect rows
// directly rather than as a caller.
func System() context.Context { return access.SystemContext(context.Background()) }
