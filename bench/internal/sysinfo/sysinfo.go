// Package sysinfo describes the machine a benchmark ran on.
package sysinfo

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"

	"servercore/bench/internal/report"
)

// Machine returns the cores, CPU model, kernel, Go version and memory.
func Machine() report.Machine {
	m := report.Machine{Cores: runtime.NumCPU(), CPU: cpuModel(), Kernel: kernel(), GoVersion: goVersion(), MemTotal: memTotal()}
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func kernel() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return runtime.GOOS
	}
	str := func(a [65]int8) string {
		var b []byte
		for _, c := range a {
			if c == 0 {
				break
			}
			b = append(b, byte(c))
		}
		return string(b)
	}
	return strings.Join([]string{str(u.Sysname), str(u.Release), str(u.Machine)}, " ")
}

// goVersion is the toolchain's `go version`, falling back to the runtime's.
func goVersion() string {
	out, err := exec.Command("go", "version").Output()
	if err == nil {
		return strings.TrimPrefix(strings.TrimSpace(string(out)), "go version ")
	}
	return runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				var kb float64
				for _, c := range f[0] {
					kb = kb*10 + float64(c-'0')
				}
				return report.FormatValue(kb*1024, report.Metric{Unit: "B"})
			}
		}
	}
	return "unknown"
}
