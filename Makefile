# Hearth. `make run` and `make test` install what is missing (Debian, as root)
# and need nothing else. See README.md.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
TOOLS := $(BIN)/tools
STATICCHECK_VERSION := v0.8.2
# Debian packages the runtime and its tests need.
APT_RUNTIME := containerd runc containernetworking-plugins iptables
# The proxy benchmark's peer and load generator (its test starts them too).
APT_PROXY_PEERS := nginx wrk
# Debian packages the benchmark needs besides: the peer engine, and the
# proxy benchmark's.
APT_BENCH := docker.io $(APT_PROXY_PEERS)
# Caddy, the proxy benchmark's other peer: go-installed at this version into
# its own folder (a new version gets a new folder).
CADDY_VERSION := v2.11.9
CADDY := $(TOOLS)/caddy-$(CADDY_VERSION)/caddy
# Debian packages the tests need besides: a browser that must trust the local
# CA (proxy/certs), and certutil to add the root to its NSS database.
APT_TEST := chromium libnss3-tools

.PHONY: all build run test unit check bench deps deps-bench deps-test tools clean

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

# check: formatting, vet, staticcheck and the dependency-direction test.
check: tools
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go' | grep -v '_templ\.go$$')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(TOOLS)/staticcheck ./...
	$(GO) test -count=1 ./internal/archtest

# test: everything, under the race detector. Tests that need containerd start
# their own private one; under CI (CI set) a missing part fails them.
test: deps-test check $(CADDY)
	HEARTH_CADDY=$(CADDY) $(GO) test -race -count=1 -timeout 15m ./...
	# The compose importer reads untrusted files: fuzz it for a bounded time.
	$(GO) test -run='^$$' -fuzz=FuzzImport -fuzztime=20s ./agent/compose

# bench writes .bench/*.json and prints each as a table.
bench: deps-bench build $(CADDY)
	$(GO) build -trimpath -o $(BIN)/hearth-bench ./internal/bench
	$(BIN)/hearth-bench -out $(CURDIR)/.bench runtime
	$(BIN)/hearth-bench -out $(CURDIR)/.bench -hearthd $(BIN)/hearthd agent
	$(BIN)/hearth-bench -out $(CURDIR)/.bench -caddy $(CADDY) proxy

$(CADDY):
	GOBIN=$(dir $(CADDY)) $(GO) install github.com/caddyserver/caddy/v2/cmd/caddy@$(CADDY_VERSION)

clean:
	rm -rf $(BIN) .bench
