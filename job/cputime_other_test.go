//go:build !unix

package job_test

import "time"

// cpuTime is the CPU time the process has used, or zero where it cannot be
// read.
func cpuTime() time.Duration { return 0 }
