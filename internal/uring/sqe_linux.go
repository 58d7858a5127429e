package uring

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// SQE is struct io_uring_sqe (64 bytes): one submission. Fields shared by
// several kernel unions carry the name of their most common member.
type SQE struct {
	Opcode uint8
	// Flags holds IOSQE_* bits.
	Flags uint8
	// IoPrio carries the per-opcode flags of accept, send and recv
	// (IORING_ACCEPT_MULTISHOT, IORING_RECV_MULTISHOT, ...).
	IoPrio uint16
	Fd     int32
	// Off is the file offset, addr2, or the sockaddr length of connect.
	Off uint64
	// Addr is the address of the operation's buffer or structure.
	Addr uint64
	Len  uint32
	// OpFlags is the union of rw_flags, msg_flags, poll32_events,
	// timeout_flags, accept_flags, cancel_flags and the like.
	OpFlags  uint32
	UserData uint64
	// BufIndex is buf_index, or buf_group with IOSQE_BUFFER_SELECT.
	BufIndex    uint16
	Personality uint16
	// FileIndex is file_index, splice_fd_in, or addr_len.
	FileIndex uint32
	Addr3     uint64
	_         uint64
}

var _ [64]byte = [unsafe.Sizeof(SQE{})]byte{}

func (s *SQE) prep(op uint8, fd int, addr uintptr, length uint32, off uint64) {
	s.Opcode = op
	s.Fd = int32(fd)
	s.Addr = uint64(addr)
	s.Len = length
	s.Off = off
}

// bufAddr returns the address of b's first byte, which the kernel keeps.
func bufAddr(b []byte) uintptr {
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}

// PrepNop prepares an operation that does nothing and completes with 0.
func (s *SQE) PrepNop() {
	s.prep(IORING_OP_NOP, -1, 0, 0, 0)
}

// PrepAccept prepares one accept on the listening socket fd; flags are
// accept4 flags (unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC). The completion's Res
// is the new fd; use unix.Getpeername for the peer's address.
func (s *SQE) PrepAccept(fd int, flags int) {
	s.prep(IORING_OP_ACCEPT, fd, 0, 0, 0)
	s.OpFlags = uint32(flags)
}

// PrepMultishotAccept prepares an accept that completes once per new
// connection, with IORING_CQE_F_MORE set while it stays armed.
func (s *SQE) PrepMultishotAccept(fd int, flags int) {
	s.PrepAccept(fd, flags)
	s.IoPrio |= IORING_ACCEPT_MULTISHOT
}

// PrepConnect prepares a connect of socket fd to the address sa of length
// n (see PutSockaddr). sa must stay valid until the completion.
func (s *SQE) PrepConnect(fd int, sa *unix.RawSockaddrAny, n uint32) {
	s.prep(IORING_OP_CONNECT, fd, uintptr(unsafe.Pointer(sa)), 0, uint64(n))
}

// PrepRecv prepares a receive into buf, which must stay valid and unmoved
// until the completion. flags are MSG_* flags.
func (s *SQE) PrepRecv(fd int, buf []byte, flags int) {
	s.prep(IORING_OP_RECV, fd, bufAddr(buf), uint32(len(buf)), 0)
	s.OpFlags = uint32(flags)
}

// PrepRecvMultishot prepares a receive that completes once per arrival of
// data, each time into a buffer the kernel takes from the provided-buffer
// group (IOSQE_BUFFER_SELECT, IORING_RECV_MULTISHOT). It ends, without
// IORING_CQE_F_MORE, on EOF (Res 0), on error, and when the group has no
// free buffer (-ENOBUFS); re-arm it then.
func (s *SQE) PrepRecvMultishot(fd int, group uint16, flags int) {
	s.prep(IORING_OP_RECV, fd, 0, 0, 0)
	s.OpFlags = uint32(flags)
	s.Flags |= IOSQE_BUFFER_SELECT
	s.BufIndex = group
	s.IoPrio |= IORING_RECV_MULTISHOT
}

// PrepSend prepares a send of buf, which must stay valid and unmoved until
// the completion. flags are MSG_* flags.
func (s *SQE) PrepSend(fd int, buf []byte, flags int) {
	s.prep(IORING_OP_SEND, fd, bufAddr(buf), uint32(len(buf)), 0)
	s.OpFlags = uint32(flags)
}

// PrepSendZC prepares a zero-copy send of buf. It completes twice: first
// with the result and IORING_CQE_F_MORE, then with IORING_CQE_F_NOTIF once
// the kernel no longer reads buf, which must stay valid until then.
func (s *SQE) PrepSendZC(fd int, buf []byte, flags int) {
	s.prep(IORING_OP_SEND_ZC, fd, bufAddr(buf), uint32(len(buf)), 0)
	s.OpFlags = uint32(flags)
}

// PrepSendmsg prepares a gathered send of the iovecs of msg. msg, its iovecs
// and their buffers must stay valid until the completion (see Slab).
func (s *SQE) PrepSendmsg(fd int, msg *Msghdr, flags int) {
	s.prep(IORING_OP_SENDMSG, fd, uintptr(unsafe.Pointer(msg)), 1, 0)
	s.OpFlags = uint32(flags)
}

// PrepClose prepares a close of fd.
func (s *SQE) PrepClose(fd int) {
	s.prep(IORING_OP_CLOSE, fd, 0, 0, 0)
}

// PrepShutdown prepares a shutdown of socket fd; how is unix.SHUT_RD,
// SHUT_WR or SHUT_RDWR.
func (s *SQE) PrepShutdown(fd int, how int) {
	s.prep(IORING_OP_SHUTDOWN, fd, 0, uint32(how), 0)
}

// PrepCancel prepares a cancel of the request(s) whose UserData is
// userData; flags are IORING_ASYNC_CANCEL_* (ALL for every match). The
// cancelled request completes with -ECANCELED; the cancel itself with 0,
// or -ENOENT when nothing matched, or -EALREADY when it was running.
func (s *SQE) PrepCancel(userData uint64, flags uint32) {
	s.prep(IORING_OP_ASYNC_CANCEL, -1, uintptr(userData), 0, 0)
	s.OpFlags = flags
}

// PrepCancelFd prepares a cancel of the request(s) on fd
// (IORING_ASYNC_CANCEL_FD); add IORING_ASYNC_CANCEL_ALL to cancel them all.
func (s *SQE) PrepCancelFd(fd int, flags uint32) {
	s.prep(IORING_OP_ASYNC_CANCEL, fd, 0, 0, 0)
	s.OpFlags = flags | IORING_ASYNC_CANCEL_FD
}

// PrepPollAdd prepares a one-shot poll of fd for events (unix.POLLIN, ...).
// It completes with the ready events in Res.
func (s *SQE) PrepPollAdd(fd int, events uint32) {
	s.prep(IORING_OP_POLL_ADD, fd, 0, 0, 0)
	if bigEndian() {
		events = events<<16 | events>>16 // the kernel reads poll32_events word-swapped
	}
	s.OpFlags = events
}

// PrepPollMultishot prepares a poll that completes each time fd becomes
// ready, with IORING_CQE_F_MORE while it stays armed.
func (s *SQE) PrepPollMultishot(fd int, events uint32) {
	s.PrepPollAdd(fd, events)
	s.Len = IORING_POLL_ADD_MULTI
}

// PrepRead prepares a read into buf at offset off (ignored by sockets and
// eventfds). buf must stay valid and unmoved until the completion.
func (s *SQE) PrepRead(fd int, buf []byte, off uint64) {
	s.prep(IORING_OP_READ, fd, bufAddr(buf), uint32(len(buf)), off)
}

// PrepWrite prepares a write of buf at offset off (ignored by sockets and
// eventfds). buf must stay valid and unmoved until the completion.
func (s *SQE) PrepWrite(fd int, buf []byte, off uint64) {
	s.prep(IORING_OP_WRITE, fd, bufAddr(buf), uint32(len(buf)), off)
}

// PrepTimeout prepares a timeout that completes with -ETIME after ts, or
// with 0 once count other completions have been posted (0: time only).
// flags are IORING_TIMEOUT_*. The kernel reads ts when the SQE is
// submitted; keep it valid until then.
func (s *SQE) PrepTimeout(ts *Timespec, count uint32, flags uint32) {
	s.prep(IORING_OP_TIMEOUT, -1, uintptr(unsafe.Pointer(ts)), 1, uint64(count))
	s.OpFlags = flags
}

// bigEndian reports whether this machine stores the high byte first.
func bigEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 0
}
