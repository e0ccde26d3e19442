package insights

// Similarity exposes similarity to the tests, which compare it with
// pg_trgm's.
var Similarity = similarity
