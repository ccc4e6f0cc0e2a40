//go:build !unix

package loadgen

import "time"

// processCPU is not measured on this platform; the report shows zero.
func processCPU() time.Duration { return 0 }
