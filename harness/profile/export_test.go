package profile

import "time"

// SetProbeTimeout sets the bound on check and version commands for one test.
func SetProbeTimeout(d time.Duration) (restore func()) {
	old := probeTimeout
	probeTimeout = d
	return func() { probeTimeout = old }
}
