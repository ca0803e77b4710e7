//go:build !amd64

package runner

// waitsArch is empty where the generic system calls are all there is (arm64).
var waitsArch = map[int]wait{}
