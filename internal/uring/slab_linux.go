package uring

import (
	"fmt"
	"reflect"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Slab is a fixed pool of values of type T mapped outside the Go heap, for
// the structures the kernel reads after a Prep call returns: Msghdr, arrays
// of Iovec, Timespec, sockaddrs, eventfd counters. The garbage collector
// never moves or frees them. T must hold no Go pointers. A Slab is not safe
// for concurrent use.
type Slab[T any] struct {
	mem   []byte
	items []T
	free  []int32
}

// NewSlab maps a Slab of n values of T.
func NewSlab[T any](n int) (*Slab[T], error) {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if n <= 0 || size == 0 || n > 1<<31-1 {
		return nil, fmt.Errorf("uring: NewSlab(%d) of %d-byte values", n, size)
	}
	if t := reflect.TypeFor[T](); hasPointers(t) {
		return nil, fmt.Errorf("uring: NewSlab: %v holds Go pointers", t)
	}
	mem, err := unix.Mmap(-1, 0, n*size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, fmt.Errorf("uring: mmap slab: %w", err)
	}
	s := &Slab[T]{
		mem:   mem,
		items: unsafe.Slice((*T)(unsafe.Pointer(&mem[0])), n),
		free:  make([]int32, n),
	}
	for i := range s.free {
		s.free[i] = int32(n - 1 - i) // Alloc hands out 0, 1, 2, ... first
	}
	return s, nil
}

// hasPointers reports whether values of t contain Go pointers.
func hasPointers(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Array:
		return t.Len() > 0 && hasPointers(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasPointers(t.Field(i).Type) {
				return true
			}
		}
		return false
	case reflect.Pointer, reflect.UnsafePointer, reflect.Slice, reflect.String,
		reflect.Map, reflect.Chan, reflect.Func, reflect.Interface:
		return true
	}
	return false
}

// Alloc takes a free slot, zeroes it and returns its index; ok is false
// when every slot is in use.
func (s *Slab[T]) Alloc() (i int, ok bool) {
	if len(s.free) == 0 {
		return -1, false
	}
	i = int(s.free[len(s.free)-1])
	s.free = s.free[:len(s.free)-1]
	var zero T
	s.items[i] = zero
	return i, true
}

// Free returns slot i to the pool. The kernel must be done with it.
func (s *Slab[T]) Free(i int) {
	s.free = append(s.free, int32(i))
}

// At returns the value in slot i.
func (s *Slab[T]) At(i int) *T {
	return &s.items[i]
}

// Len returns the number of slots.
func (s *Slab[T]) Len() int {
	return len(s.items)
}

// Close unmaps the slab; no slot may be used afterwards. Close is
// idempotent.
func (s *Slab[T]) Close() error {
	if s.mem == nil {
		return nil
	}
	err := unix.Munmap(s.mem)
	s.mem, s.items, s.free = nil, nil, nil
	if err != nil {
		return fmt.Errorf("uring: munmap slab: %w", err)
	}
	return nil
}
