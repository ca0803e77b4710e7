package runner

import "golang.org/x/sys/unix"

// waitsArch are the waiting system calls x86-64 has beside the generic ones. (select is left
// out: its timeout is a struct timeval, which it also rewrites.)
var waitsArch = map[int]wait{
	unix.SYS_PAUSE:      {waitEvent, 0},
	unix.SYS_ACCEPT:     {waitEvent, 0},
	unix.SYS_POLL:       {waitMillis, 2},
	unix.SYS_EPOLL_WAIT: {waitMillis, 3},
}
