//go:build !linux

package postgres

import "time"

func processCPU() (time.Duration, bool) { return 0, false }

func pidCPU(uint32) (time.Duration, bool) { return 0, false }
