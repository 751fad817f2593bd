package routes

// Hooks for the external tests (routes_test), which run the whole CLI
// through internal/clitest.
var (
	TestClock       = &clock
	TestPortForward = &portForward
)
