//go:build !unix

package graph

import "syscall"

// writeNoWait writes nothing where a socket cannot be written without
// waiting: every frame goes to the connection's writer goroutine.
func writeNoWait(syscall.RawConn, []byte) (int, error) { return 0, nil }
