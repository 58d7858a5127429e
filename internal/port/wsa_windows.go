package port

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

// The Win32 and Winsock pieces the iocp engine needs that x/sys/windows does
// not wrap: GetQueuedCompletionStatusEx, the Winsock extension functions
// (AcceptEx, GetAcceptExSockaddrs, ConnectEx, DisconnectEx) loaded through
// WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER), Wine detection, the
// skip-completion-port check, sockaddr conversions and error mapping.

var (
	modkernel32 = windows.NewLazySystemDLL("kernel32.dll")
	modntdll    = windows.NewLazySystemDLL("ntdll.dll")

	procGetQueuedCompletionStatusEx = modkernel32.NewProc("GetQueuedCompletionStatusEx")
	procWineGetVersion              = modntdll.NewProc("wine_get_version")
)

// overlappedEntry is OVERLAPPED_ENTRY, one completion that
// GetQueuedCompletionStatusEx reaped. The status of the operation is in
// ov.Internal (an NTSTATUS), not in internal.
type overlappedEntry struct {
	key      uintptr
	ov       *windows.Overlapped
	internal uintptr
	qty      uint32
}

// getQueuedCompletionStatusEx reaps up to len(entries) completions, waiting
// up to timeout milliseconds (windows.INFINITE: forever) for the first.
func getQueuedCompletionStatusEx(port windows.Handle, entries []overlappedEntry, timeout uint32) (int, error) {
	var n uint32
	r, _, e := procGetQueuedCompletionStatusEx.Call(uintptr(port),
		uintptr(unsafe.Pointer(&entries[0])), uintptr(len(entries)),
		uintptr(unsafe.Pointer(&n)), uintptr(timeout), 0)
	if r == 0 {
		return 0, errnoOf(e)
	}
	return int(n), nil
}

// errnoOf returns the errno of a failed call, never a nil or zero one.
func errnoOf(e error) error {
	var errno syscall.Errno
	if errors.As(e, &errno) && errno != 0 {
		return errno
	}
	return syscall.EINVAL
}

// The GUIDs of the extension functions (mswsock.h).
var (
	wsaidAcceptEx             = windows.GUID{Data1: 0xb5367df1, Data2: 0xcbac, Data3: 0x11cf, Data4: [8]byte{0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92}}
	wsaidGetAcceptExSockaddrs = windows.GUID{Data1: 0xb5367df2, Data2: 0xcbac, Data3: 0x11cf, Data4: [8]byte{0x95, 0xca, 0x00, 0x80, 0x5f, 0x48, 0xa1, 0x92}}
	wsaidDisconnectEx         = windows.GUID{Data1: 0x7fda2e11, Data2: 0x8630, Data3: 0x436f, Data4: [8]byte{0xa0, 0x31, 0xf5, 0x36, 0xa6, 0xee, 0xc1, 0x57}}
)

// wsaExtensions are the extension functions' addresses. DisconnectEx may be
// missing; the engine then closes sockets instead of reusing them.
type wsaExtensions struct {
	acceptEx, getAcceptExSockaddrs, connectEx, disconnectEx uintptr
}

var (
	extOnce sync.Once
	extFns  wsaExtensions
	extErr  error
)

// loadExtensions loads the extension functions once, through a TCP socket
// of the default provider, as the Go runtime loads ConnectEx.
func loadExtensions() (*wsaExtensions, error) {
	extOnce.Do(func() {
		var d windows.WSAData
		if err := windows.WSAStartup(uint32(0x202), &d); err != nil {
			extErr = fmt.Errorf("WSAStartup: %w", err)
			return
		}
		s, err := windows.WSASocket(windows.AF_INET, windows.SOCK_STREAM, windows.IPPROTO_TCP, nil, 0,
			windows.WSA_FLAG_OVERLAPPED|windows.WSA_FLAG_NO_HANDLE_INHERIT)
		if err != nil {
			extErr = fmt.Errorf("WSASocket: %w", err)
			return
		}
		defer windows.Closesocket(s)
		for _, f := range []struct {
			name string
			id   *windows.GUID
			fn   *uintptr
		}{
			{"AcceptEx", &wsaidAcceptEx, &extFns.acceptEx},
			{"GetAcceptExSockaddrs", &wsaidGetAcceptExSockaddrs, &extFns.getAcceptExSockaddrs},
			{"ConnectEx", &windows.WSAID_CONNECTEX, &extFns.connectEx},
			{"DisconnectEx", &wsaidDisconnectEx, &extFns.disconnectEx},
		} {
			fn, err := loadExtension(s, f.id)
			if err != nil && f.fn != &extFns.disconnectEx {
				extErr = fmt.Errorf("loading %s: %w", f.name, err)
				return
			}
			*f.fn = fn
		}
	})
	return &extFns, extErr
}

func loadExtension(s windows.Handle, id *windows.GUID) (uintptr, error) {
	var fn uintptr
	var n uint32
	err := windows.WSAIoctl(s, windows.SIO_GET_EXTENSION_FUNCTION_POINTER,
		(*byte)(unsafe.Pointer(id)), uint32(unsafe.Sizeof(*id)),
		(*byte)(unsafe.Pointer(&fn)), uint32(unsafe.Sizeof(fn)), &n, nil, 0)
	if err == nil && fn == 0 {
		err = syscall.EINVAL
	}
	return fn, err
}

// acceptAddrLen is the room AcceptEx gets for each address: at least 16
// bytes more than the largest sockaddr, as its documentation requires.
const acceptAddrLen = uint32(unsafe.Sizeof(windows.RawSockaddrAny{}))

// boolCall turns the BOOL result of an extension function into an error.
func boolCall(r uintptr, e syscall.Errno) error {
	if r != 0 {
		return nil
	}
	if e == 0 {
		return syscall.EINVAL
	}
	return e
}

func (x *wsaExtensions) AcceptEx(ls, as windows.Handle, buf *byte, recvd *uint32, ov *windows.Overlapped) error {
	r, _, e := syscall.SyscallN(x.acceptEx, uintptr(ls), uintptr(as), uintptr(unsafe.Pointer(buf)), 0,
		uintptr(acceptAddrLen), uintptr(acceptAddrLen), uintptr(unsafe.Pointer(recvd)), uintptr(unsafe.Pointer(ov)))
	return boolCall(r, e)
}

// GetAcceptExSockaddrs returns the local and peer addresses AcceptEx wrote
// into buf.
func (x *wsaExtensions) GetAcceptExSockaddrs(buf *byte) (local, remote netip.AddrPort) {
	var lsa, rsa *windows.RawSockaddrAny
	var llen, rlen int32
	syscall.SyscallN(x.getAcceptExSockaddrs, uintptr(unsafe.Pointer(buf)), 0,
		uintptr(acceptAddrLen), uintptr(acceptAddrLen),
		uintptr(unsafe.Pointer(&lsa)), uintptr(unsafe.Pointer(&llen)),
		uintptr(unsafe.Pointer(&rsa)), uintptr(unsafe.Pointer(&rlen)))
	return rawToAddrPort(lsa), rawToAddrPort(rsa)
}

func rawToAddrPort(rsa *windows.RawSockaddrAny) netip.AddrPort {
	if rsa == nil {
		return netip.AddrPort{}
	}
	sa, err := rsa.Sockaddr()
	if err != nil {
		return netip.AddrPort{}
	}
	return sockaddrToAddrPort(sa)
}

func (x *wsaExtensions) ConnectEx(s windows.Handle, sa *windows.RawSockaddrAny, salen int32, ov *windows.Overlapped) error {
	r, _, e := syscall.SyscallN(x.connectEx, uintptr(s), uintptr(unsafe.Pointer(sa)), uintptr(salen), 0, 0, 0,
		uintptr(unsafe.Pointer(ov)))
	return boolCall(r, e)
}

func (x *wsaExtensions) DisconnectEx(s windows.Handle, ov *windows.Overlapped, flags uint32) error {
	r, _, e := syscall.SyscallN(x.disconnectEx, uintptr(s), uintptr(unsafe.Pointer(ov)), uintptr(flags), 0)
	return boolCall(r, e)
}

// isWine reports whether the process runs under Wine, which exports
// ntdll!wine_get_version.
func isWine() bool { return procWineGetVersion.Find() == nil }

// skipCompletionPortOK reports whether SetFileCompletionNotificationModes
// (SKIP_COMPLETION_PORT_ON_SUCCESS) is safe for TCP sockets: only when every
// TCP provider hands out real (IFS) handles, the check the Go runtime makes,
// since a layered provider may not queue what it completes at once.
func skipCompletionPortOK() bool {
	protos := [2]int32{windows.IPPROTO_TCP, 0}
	var buf [32]windows.WSAProtocolInfo
	n := uint32(unsafe.Sizeof(buf))
	count, err := windows.WSAEnumProtocols(&protos[0], &buf[0], &n)
	if err != nil {
		return false
	}
	for i := range count {
		if buf[i].ServiceFlags1&windows.XP1_IFS_HANDLES == 0 {
			return false
		}
	}
	return true
}

func sockaddrToAddrPort(sa windows.Sockaddr) netip.AddrPort {
	switch sa := sa.(type) {
	case *windows.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port))
	case *windows.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port))
	}
	return netip.AddrPort{}
}

// sockaddrToTCP converts a sockaddr to a *net.TCPAddr, nil if it is not one.
func sockaddrToTCP(sa windows.Sockaddr) net.Addr {
	ap := sockaddrToAddrPort(sa)
	if !ap.IsValid() {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}

// putSockaddr writes ap into raw as a sockaddr and returns its length.
func putSockaddr(raw *windows.RawSockaddrAny, ap netip.AddrPort) int32 {
	*raw = windows.RawSockaddrAny{}
	port := ap.Port()
	if ap.Addr().Is4() {
		sa := (*windows.RawSockaddrInet4)(unsafe.Pointer(raw))
		sa.Family = windows.AF_INET
		p := (*[2]byte)(unsafe.Pointer(&sa.Port))
		p[0], p[1] = byte(port>>8), byte(port)
		sa.Addr = ap.Addr().As4()
		return int32(unsafe.Sizeof(*sa))
	}
	sa := (*windows.RawSockaddrInet6)(unsafe.Pointer(raw))
	sa.Family = windows.AF_INET6
	p := (*[2]byte)(unsafe.Pointer(&sa.Port))
	p[0], p[1] = byte(port>>8), byte(port)
	sa.Addr = ap.Addr().As16()
	return int32(unsafe.Sizeof(*sa))
}

// wildcard is the any-address sockaddr of family, for bind.
func wildcard(family int32) windows.Sockaddr {
	if family == windows.AF_INET6 {
		return &windows.SockaddrInet6{}
	}
	return &windows.SockaddrInet4{}
}

// sockError is the error of a failed socket operation. It unwraps to the
// Winsock or Win32 errno, and errors.Is also matches the portable errnos a
// Unix program checks (syscall.ECONNRESET, ECONNREFUSED, ...) and, for an
// operation cancelled because its connection closed, net.ErrClosed: a reset,
// a refused connect and a cancelled operation are told apart the same way
// on every platform.
type sockError struct {
	op    string
	errno syscall.Errno
}

func (e *sockError) Error() string { return e.op + ": " + e.errno.Error() }
func (e *sockError) Unwrap() error { return e.errno }

func (e *sockError) Is(target error) bool {
	switch target {
	case syscall.ECONNRESET:
		return e.errno == windows.WSAECONNRESET || e.errno == windows.ERROR_NETNAME_DELETED
	case syscall.ECONNABORTED:
		return e.errno == windows.WSAECONNABORTED || e.errno == windows.ERROR_CONNECTION_ABORTED
	case syscall.ECONNREFUSED:
		return e.errno == windows.WSAECONNREFUSED || e.errno == windows.ERROR_CONNECTION_REFUSED ||
			e.errno == windows.ERROR_PORT_UNREACHABLE
	case syscall.ETIMEDOUT:
		return e.errno == windows.WSAETIMEDOUT || e.errno == windows.ERROR_SEM_TIMEOUT
	case syscall.ENETUNREACH:
		return e.errno == windows.WSAENETUNREACH || e.errno == windows.ERROR_NETWORK_UNREACHABLE
	case syscall.EHOSTUNREACH:
		return e.errno == windows.WSAEHOSTUNREACH || e.errno == windows.ERROR_HOST_UNREACHABLE
	case net.ErrClosed:
		return e.cancelled()
	}
	return false
}

// cancelled reports whether the operation was cancelled (CancelIoEx).
func (e *sockError) cancelled() bool {
	return e.errno == windows.ERROR_OPERATION_ABORTED || e.errno == windows.WSAEINTR
}

// Timeout reports whether the error is a timeout, for net.Error users.
func (e *sockError) Timeout() bool { return e.Is(syscall.ETIMEDOUT) }

// newSockError wraps a failed call's error; it keeps a non-errno as it is.
func newSockError(op string, err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return &sockError{op: op, errno: errno}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// errClosing fails an operation registered after its connection began to
// close.
func errClosing(op string) error {
	return &sockError{op: op, errno: windows.ERROR_OPERATION_ABORTED}
}

// overlappedErr is the error of a completed operation whose status is not
// success: the Winsock error WSAGetOverlappedResult reports for it (10061
// for a refused connect, where the NTSTATUS maps to 1225), else the NTSTATUS
// mapped to a Win32 error.
func overlappedErr(op string, s windows.Handle, ov *windows.Overlapped) error {
	var n, flags uint32
	err := windows.WSAGetOverlappedResult(s, ov, &n, false, &flags)
	if err == nil {
		err = windows.NTStatus(ov.Internal).Errno()
	}
	return newSockError(op, err)
}
