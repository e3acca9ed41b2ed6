package pipeline

// MaxMagnitude is the largest magnitude a numeric cell may have (see
// maxMagnitude); servers check values that arrive in other encodings against it.
const MaxMagnitude = maxMagnitude
