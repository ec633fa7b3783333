// Package containers holds no code: its tests are the container-runtime
// suite. They build graceful with build/release.sh, the image from the
// repository's Containerfile and a job image with busybox, and run real
// containers under podman (with runc and the settings in containers.conf):
// graceful as PID 1 under the "container" profile, stopped by podman stop,
// signalled by podman kill, and a pod played by podman kube play.
//
// The suite runs as part of go test ./... where rootful podman works and
// skips with one line where it cannot; CONTAINER_SUITE=require makes that
// a failure, CONTAINER_SUITE=0 skips it. .ci/run runs it in a step of its
// own, with require.
// See docs/containers.md.
package containers
