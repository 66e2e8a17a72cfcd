# Hearth. `make run` and `make test` install what is missing (Debian, as root)
# and need nothing else. See README.md.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
TOOLS := $(BIN)/tools
STATICCHECK_VERSION := v0.8.2
# Debian packages the runtime and its tests need.
APT_RUNTIME := containerd runc containernetworking-plugins iptables restic
# The proxy benchmark's peer and load generator (its test starts them too).
APT_PROXY_PEERS := nginx wrk
# Debian packages the benchmark needs besides: the peer engine, and the
# proxy benchmark's.
APT_BENCH := docker.io $(APT_PROXY_PEERS)
# Caddy, the proxy benchmark's other peer: go-installed at this version into
# its own folder (a new version gets a new folder).
CADDY_VERSION := v2.11.9
CADDY := $(TOOLS)/caddy-$(CADDY_VERSION)/caddy
# The addon servers (docs/addons.md): the tests start their own instances in
# temporary folders; the packages' own services are not used.
APT_ADDONS := postgresql mariadb-server mariadb-client redis-server
# Debian packages the tests need besides: a browser that must trust the local
# CA (proxy/certs), and certutil to add the root to its NSS database.
APT_TEST := chromium libnss3-tools openssh-server openssh-client $(APT_ADDONS)
# versitygw, the S3 server the backup tests store to (posix mode, loopback):
# go-installed at this version into its own folder.
VERSITYGW_VERSION := v1.8.0
VERSITYGW := $(TOOLS)/versitygw-$(VERSITYGW_VERSION)/versitygw
# Debian packages that build and boot the disk images (docs/image.md).
APT_IMAGE := mmdebstrap qemu-system-x86 qemu-system-arm qemu-user-static binfmt-support \
	ovmf dosfstools mtools fdisk e2fsprogs zstd debian-archive-keyring arch-test
# The image's architecture: amd64 (UEFI mini-PC) or arm64 (Raspberry Pi 4/5).
ARCH ?= amd64
# Downloaded .debs and the unpacked root trees, kept between builds.
IMAGE_CACHE ?= $(CURDIR)/.hearth/image-cache
IMAGE_OUT ?= $(CURDIR)/.hearth/image

.PHONY: all build run test unit check generate bench deps deps-bench deps-test deps-image tools clean image image-test image-all

all: build

build:
	$(GO) build -trimpath -o $(BIN)/hearthd ./cmd/hearthd
	$(GO) build -trimpath -o $(BIN)/hearth ./cmd/hearth

# deps installs the Debian packages that are missing, and only those.
deps:
	@$(call apt_install,$(APT_RUNTIME))

deps-bench:
	@$(call apt_install,$(APT_RUNTIME) $(APT_BENCH))

deps-test:
	@$(call apt_install,$(APT_RUNTIME) $(APT_TEST) $(APT_PROXY_PEERS))

deps-image:
	@$(call apt_install,$(APT_IMAGE))
	@# a foreign ARCH is built through qemu-user: binfmt_misc must be mounted and enabled
	@if [ "$(ARCH)" != "$$(dpkg --print-architecture)" ] && [ ! -e /proc/sys/fs/binfmt_misc/qemu-$(if $(filter arm64,$(ARCH)),aarch64,x86_64) ]; then \
	  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; \
	  update-binfmts --enable qemu-$(if $(filter arm64,$(ARCH)),aarch64,x86_64); \
	fi

define apt_install
missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; done; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" != 0 ]; then echo "Hearth needs these Debian packages:$$missing (run as root, or apt-get install them)"; exit 1; fi; \
  echo "installing$$missing"; \
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
fi
endef

# run: hearthd in development mode (state in ./.hearth, a private containerd)
# with the offline sample catalog; make run prints the HEARTH_SOCKET to use.
run: deps build
	$(GO) run ./internal/devrun -state $(CURDIR)/.hearth -hearthd $(BIN)/hearthd

tools: $(TOOLS)/staticcheck

$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# generate: the web UI's pages from their templ files (commit the *_templ.go).
generate:
	$(GO) tool templ generate -path web

# check: formatting, vet, staticcheck, the dependency-direction test, and
# whether the committed templ output is current (generated into a copy of
# web/ and compared, so that it needs no git state).
check: tools
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cp -r web "$$tmp/" && \
	$(GO) tool templ generate -path "$$tmp/web" >"$$tmp/log" 2>&1 || { cat "$$tmp/log"; exit 1; }; \
	if ! diff -r -q web "$$tmp/web" >/dev/null; then \
	  echo "web/*_templ.go are stale: run 'make generate' and commit them:"; diff -r -q web "$$tmp/web"; exit 1; fi
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go' | grep -v '_templ\.go$$')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(TOOLS)/staticcheck ./...
	$(GO) test -count=1 ./internal/archtest

# test: everything, under the race detector. Tests that need containerd start
# their own private one; under CI (CI set) a missing part fails them.
test: deps-test check $(CADDY) $(VERSITYGW)
	HEARTH_CADDY=$(CADDY) HEARTH_VERSITYGW=$(VERSITYGW) $(GO) test -race -count=1 -timeout 15m ./...
	# The compose importer reads untrusted files: fuzz it for a bounded time.
	$(GO) test -run='^$$' -fuzz=FuzzImport -fuzztime=20s ./agent/compose

# bench writes .bench/*.json and prints each as a table.
bench: deps-bench build $(CADDY)
	$(GO) build -trimpath -o $(BIN)/hearth-bench ./internal/bench
	$(BIN)/hearth-bench -out $(CURDIR)/.bench runtime
	$(BIN)/hearth-bench -out $(CURDIR)/.bench -hearthd $(BIN)/hearthd agent
	$(BIN)/hearth-bench -out $(CURDIR)/.bench -caddy $(CADDY) proxy
	$(BIN)/hearth-bench -out $(CURDIR)/.bench backup

$(CADDY):
	GOBIN=$(dir $(CADDY)) $(GO) install github.com/caddyserver/caddy/v2/cmd/caddy@$(CADDY_VERSION)

$(VERSITYGW):
	GOBIN=$(dir $(VERSITYGW)) $(GO) install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

# image: the raw disk image for ARCH (and its .zst) under $(IMAGE_OUT).
image: deps-image
	$(GO) run ./image/cmd/hearth-image -arch $(ARCH) -cache $(IMAGE_CACHE) -out $(IMAGE_OUT)

# image-test: builds the test variant (sample apps preloaded) and boots it in
# qemu: amd64 under OVMF from the disk, arm64 by direct kernel boot.
image-test: deps-image
	HEARTH_IMAGE_TEST=1 HEARTH_IMAGE_CACHE=$(IMAGE_CACHE) HEARTH_IMAGE_OUT=$(IMAGE_OUT) HEARTH_IMAGE_ARCH=$(ARCH) \
		$(GO) test -count=1 -v -timeout 80m -run '^TestBoot$$' ./image/boottest

# image-all: both images, and the boot tests of both.
image-all:
	$(MAKE) image ARCH=amd64
	$(MAKE) image ARCH=arm64
	$(MAKE) image-test ARCH=amd64
	$(MAKE) image-test ARCH=arm64

clean:
	rm -rf $(BIN) .bench
