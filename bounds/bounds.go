// Package bounds holds the sizes the data model allows that code outside
// the schema must also hold values to: the schema (ent/schema) enforces
// them on every write, and the analysis and the suggestions check what a
// model proposes against them before anything is written. It imports
// nothing, so that checking a value does not bring the data layer with it.
package bounds

// MaxEstimatedHours is the largest estimate a task may have.
const MaxEstimatedHours = 10_000

// MaxDroppedReasons bounds the reasons a feedback keeps for the suggestions
// left out of its analysis; the last one sums up the rest.
const MaxDroppedReasons = 10

// MaxCommentChars is the longest comment body, in characters.
const MaxCommentChars = 5_000

// MaxCommentMentions bounds the distinct @subject mentions of one comment
// that are looked up; later ones stay plain text.
const MaxCommentMentions = 20

// EmailBytes is the longest email address accepted (RFC 5321's path limit
// less its angle brackets): a member's digest address.
const EmailBytes = 254

// MaxOrganizationsPerUser bounds the organisations a person belongs to
// (their personal one included): createOrganization and
// addOrganizationMember refuse past it.
const MaxOrganizationsPerUser = 100

// MaxOrganizationMembers bounds an organisation's members:
// addOrganizationMember refuses past it.
const MaxOrganizationMembers = 1_000
