//go:build unix

package graph

import (
	"errors"
	"syscall"
)

// writeNoWait writes b to the socket without waiting for room in its
// buffer: it returns how much the kernel took (0 when the buffer is full).
// Sockets are non-blocking underneath the runtime's poller, so a plain
// write(2) never blocks.
func writeNoWait(rc syscall.RawConn, b []byte) (int, error) {
	var (
		n    int
		werr error
	)
	err := rc.Write(func(fd uintptr) bool {
		for {
			n, werr = syscall.Write(int(fd), b)
			if !errors.Is(werr, syscall.EINTR) {
				return true
			}
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errors.Is(werr, syscall.EAGAIN):
		return 0, nil
	case werr != nil:
		return 0, werr
	}
	return n, nil
}
