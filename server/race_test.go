//go:build race

package server_test

// raceDetector is true under -race, which slows the heaviest load tests
// past what they measure.
const raceDetector = true
