#!/usr/bin/env bash
# Installs the pinned developer tools (buf, staticcheck) into $(go env GOPATH)/bin.
# protoc-gen-go and protoc-gen-go-grpc are pinned by the `tool` block in go.mod instead.
set -euo pipefail
BUF_VERSION=v1.75.0
STATICCHECK_VERSION=v0.8.2
bin="$(go env GOPATH)/bin"
if ! [ -x "$bin/buf" ] || [ "$("$bin/buf" --version 2>/dev/null)" != "${BUF_VERSION#v}" ]; then
  echo "installing buf $BUF_VERSION" >&2
  go install "github.com/bufbuild/buf/cmd/buf@$BUF_VERSION"
fi
if ! [ -x "$bin/staticcheck" ] || ! "$bin/staticcheck" -version 2>/dev/null | grep -q "${STATICCHECK_VERSION#v}"; then
  echo "installing staticcheck $STATICCHECK_VERSION" >&2
  go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi
