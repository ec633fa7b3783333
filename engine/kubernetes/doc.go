//go:build linux

// Package kubernetes is graceful's kubernetes runner: a coordinator that
// serves a Unix socket on a volume shared by the containers of a pod, and the
// join client that job containers run as their entrypoint.
//
// The job runs in other containers than graceful, in other PID namespaces,
// so no signal can reach it. Cancellation travels over the socket instead:
// the coordinator pushes "interrupt" and each join client carries out its
// own local process timeline against its job. See docs/kubernetes.md.
package kubernetes
