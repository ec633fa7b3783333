#!/usr/bin/env bash
# Builds graceful for containers: static, non-PIE, reproducible binaries for
# linux/amd64 and linux/arm64, and their SHA-256 checksums. No make needed.
#
#   build/release.sh                  # bin/graceful-linux-{amd64,arm64}, bin/SHA256SUMS
#   PLATFORMS=linux/amd64 build/release.sh
#   VERSION=v1.2.3 OUT=dist build/release.sh
#
# The flags (docs/containers.md explains each):
#   CGO_ENABLED=0     no libc: the binary runs in scratch, distroless and musl
#                     images (a cgo build fails there with "no such file or
#                     directory", the missing dynamic loader)
#   -buildmode=exe    non-PIE (the default for linux without cgo, stated so a
#                     GOFLAGS=-buildmode=pie cannot slip in): the page trim of
#                     docs/performance.md only works on non-PIE builds
#   -trimpath         no build-machine paths in the binary
#   -buildvcs=false   no VCS stamp (which records a dirty tree and is absent in
#                     git worktrees anyway); the commit is linked in instead
#   -ldflags -X main.version=... -X main.commit=...   for graceful version
#
# Two runs on the same commit with the same Go toolchain give the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${OUT:-bin}
platforms=${PLATFORMS:-linux/amd64 linux/arm64}
commit=${COMMIT:-$(git rev-parse HEAD 2>/dev/null || echo unknown)}
version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo devel)}

mkdir -p "$out"
bins=()
for p in $platforms; do
	os=${p%/*} arch=${p#*/}
	bin=graceful-$os-$arch
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build \
		-buildmode=exe -trimpath -buildvcs=false \
		-ldflags "-s -w -X main.version=$version -X main.commit=$commit" \
		-o "$out/$bin" ./cmd/graceful
	bins+=("$bin")
done
(cd "$out" && sha256sum "${bins[@]}" >SHA256SUMS && cat SHA256SUMS)
