package load

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ClockTicks is the unit of utime and stime in /proc/PID/stat:
// sysconf(_SC_CLK_TCK), which is 100 on Linux.
const ClockTicks = 100

// ProcSample is one reading of a process's CPU time and resident memory.
type ProcSample struct {
	CPUTicks uint64 // utime+stime, in 1/ClockTicks seconds
	RSS      int64  // bytes (VmRSS)
	SysR     uint64 // read-class system calls (syscr in /proc/PID/io); 0 if unreadable
	SysW     uint64 // write-class system calls (syscw)
}

// CPUSeconds converts the sample's CPU time to seconds.
func (s ProcSample) CPUSeconds() float64 { return float64(s.CPUTicks) / ClockTicks }

// ReadProc samples process pid; pid 0 means this process.
func ReadProc(pid int) (ProcSample, error) {
	dir := "/proc/self"
	if pid > 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	var s ProcSample
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return s, err
	}
	s.CPUTicks, err = parseStatCPU(stat)
	if err != nil {
		return s, err
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return s, err
	}
	s.RSS, err = parseStatusRSS(status)
	if err != nil {
		return s, err
	}
	if io, err := os.ReadFile(dir + "/io"); err == nil {
		s.SysR, s.SysW = parseIO(io)
	}
	return s, nil
}

// parseIO returns syscr and syscw of a /proc/PID/io file.
func parseIO(b []byte) (r, w uint64) {
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "syscr":
			r = n
		case "syscw":
			w = n
		}
	}
	return r, w
}

// parseStatCPU returns utime+stime (fields 14 and 15) of a /proc/PID/stat
// line. The command name (field 2) may hold spaces and parentheses, so the
// fields are counted from the last ')'.
func parseStatCPU(stat []byte) (uint64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("malformed stat line")
	}
	f := strings.Fields(string(stat[i+1:]))
	// f[0] is field 3 (state), so field n is f[n-3].
	if len(f) < 13 {
		return 0, fmt.Errorf("short stat line")
	}
	ut, err := strconv.ParseUint(f[14-3], 10, 64)
	if err != nil {
		return 0, err
	}
	st, err := strconv.ParseUint(f[15-3], 10, 64)
	if err != nil {
		return 0, err
	}
	return ut + st, nil
}

// parseStatusRSS returns VmRSS of a /proc/PID/status file in bytes.
func parseStatusRSS(status []byte) (int64, error) {
	for line := range strings.SplitSeq(string(status), "\n") {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 1 {
			break
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, err
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no VmRSS in status")
}
