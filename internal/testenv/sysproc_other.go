//go:build !linux

package testenv

import "syscall"

// sysProcAttr has no parent-death signal outside Linux; Stop must be called.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{} }

// processAlive errs on the side of keeping directories.
func processAlive(pid int) bool { return true }
