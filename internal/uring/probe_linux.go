package uring

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// disabledSysctl is the sysctl that can disable io_uring (Linux 6.6+).
const disabledSysctl = "/proc/sys/kernel/io_uring_disabled"

// probeOp is struct io_uring_probe_op.
type probeOp struct {
	op    uint8
	resv  uint8
	flags uint16
	resv2 uint32
}

// probe is struct io_uring_probe with room for every opcode.
type probe struct {
	lastOp uint8
	opsLen uint8
	resv   uint16
	resv2  [3]uint32
	ops    [256]probeOp
}

var _ [16 + 256*8]byte = [unsafe.Sizeof(probe{})]byte{}

// Ops is the set of opcodes the kernel supports (IORING_REGISTER_PROBE).
type Ops struct {
	last uint8
	bits [4]uint64
}

// Has reports whether the kernel supports opcode op.
func (o *Ops) Has(op uint8) bool { return o.bits[op/64]&(1<<(op%64)) != 0 }

// Last returns the highest opcode the kernel knows.
func (o *Ops) Last() uint8 { return o.last }

// Require returns an error naming the opcodes of ops the kernel lacks.
func (o *Ops) Require(ops ...uint8) error {
	var missing []string
	for _, op := range ops {
		if !o.Has(op) {
			missing = append(missing, fmt.Sprint(op))
		}
	}
	if missing != nil {
		return fmt.Errorf("uring: kernel lacks io_uring opcodes %s", strings.Join(missing, ", "))
	}
	return nil
}

// ProbeOps asks the kernel which opcodes it supports.
func (r *Ring) ProbeOps() (Ops, error) {
	var p probe
	if _, err := r.register(IORING_REGISTER_PROBE, unsafe.Pointer(&p), uint32(len(p.ops))); err != nil {
		return Ops{}, fmt.Errorf("uring: probe opcodes: %w", err)
	}
	o := Ops{last: p.lastOp}
	for _, op := range p.ops[:p.opsLen] {
		if op.flags&IO_URING_OP_SUPPORTED != 0 {
			o.bits[op.op/64] |= 1 << (op.op % 64)
		}
	}
	return o, nil
}

// Info is what Probe found out about the kernel's io_uring.
type Info struct {
	// Flags are the setup flags a ring made with default Options gets.
	Flags uint32
	// Features are the kernel's IORING_FEAT_* flags.
	Features uint32
	// Ops are the supported opcodes.
	Ops Ops
}

// Probe reports whether io_uring can be used here: it sets up a small ring
// with the default flags, probes the opcodes and closes it. The error says
// why not: no io_uring in the kernel (ENOSYS), denied by seccomp (EPERM),
// or disabled by the kernel.io_uring_disabled sysctl.
func Probe() (Info, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r, err := New(Options{Entries: 8})
	if err != nil {
		return Info{}, err
	}
	defer r.Close()
	ops, err := r.ProbeOps()
	if err != nil {
		return Info{}, err
	}
	return Info{Flags: r.Flags(), Features: r.Features(), Ops: ops}, nil
}

// setupError explains why io_uring_setup failed with err; flags are the
// last setup flags tried and disabled the value of the
// kernel.io_uring_disabled sysctl ("" if absent).
func setupError(err error, flags uint32, disabled string) error {
	var why string
	switch {
	case errors.Is(err, unix.ENOSYS):
		why = "the kernel has no io_uring, or a sandbox (seccomp, gVisor) hides it"
	case errors.Is(err, unix.EPERM):
		switch disabled {
		case "2":
			why = "disabled by sysctl kernel.io_uring_disabled=2"
		case "1":
			why = "restricted by sysctl kernel.io_uring_disabled=1 to the group kernel.io_uring_group"
		default:
			why = "denied, most likely by a seccomp filter (container runtimes block io_uring by default)"
		}
	case errors.Is(err, unix.EINVAL):
		why = fmt.Sprintf("the kernel accepts none of the setup flag sets (last tried %#x)", flags)
	case errors.Is(err, unix.ENOMEM):
		why = "out of memory, or over RLIMIT_MEMLOCK (older kernels charge rings to it)"
	case errors.Is(err, unix.EMFILE), errors.Is(err, unix.ENFILE):
		why = "out of file descriptors"
	default:
		why = "io_uring_setup failed"
	}
	return fmt.Errorf("uring: io_uring unavailable: %s: %w", why, err)
}

// readSysctl returns the trimmed content of the file at path, or "".
func readSysctl(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
