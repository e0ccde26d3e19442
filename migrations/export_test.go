package migrations

// StartLockID lets tests hold the start-up lock as another instance would.
const StartLockID = startLockID

// Files are the migrations, for tests that apply only some of them.
var Files = files
