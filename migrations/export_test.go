package migrations

// StartLockID lets tests hold the start-up lock as another instance would.
const StartLockID = startLockID
