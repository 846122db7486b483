# vzcptcheck: build, test, install.  `make` builds everything, `make test` runs
# every check, `make demo` runs a simulated two-node migration check.

PREFIX  ?= /usr
SBINDIR ?= $(PREFIX)/sbin
BINDIR  ?= $(PREFIX)/bin
LIBDIR  ?= $(PREFIX)/lib
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
DESTDIR ?=

BUN    := node_modules/.bin/bun
NPM_STAMP := node_modules/.package-lock.json
ADDON  := native/build/Release/vzcpt.node
PRELOAD := build/libvzcptsim.so
CC     ?= cc
CFLAGS ?= -O2 -Wall -Wextra -Werror

# Bun's baseline x64 runtime (no AVX2 needed: OpenVZ nodes are often Westmere
# or Sandy Bridge), installed from npm so that builds stay offline.
BASELINE := node_modules/@oven/bun-linux-x64-baseline/bin/bun
# A compiled binary must not read code or settings from the current directory.
COMPILE := $(BUN) build --compile --compile-executable-path=$(BASELINE) \
	--no-compile-autoload-dotenv --no-compile-autoload-bunfig \
	--no-compile-autoload-tsconfig --no-compile-autoload-package-json

SRC := $(shell find src -name '*.ts' 2>/dev/null)
SIM := $(shell find sim -name '*.ts' -o -name '*.yaml' -o -name '*.json' 2>/dev/null)

.PHONY: all deps test test-tools check typecheck lint unit bench demo coverage install uninstall clean format

all: dist/vzcptcheck dist/vzcptsim $(PRELOAD)

deps: $(NPM_STAMP)

$(NPM_STAMP): package.json package-lock.json
	npm ci
	@touch $@

# npm ci builds the addon (package.json's install script); this rebuilds it
# when its sources change.
$(ADDON): native/vzcpt.c native/binding.gyp | $(NPM_STAMP)
	npm run install

# --splitting: explain/profile (import()ed by cli.ts) become a chunk of their own inside the
# executable, parsed only when asked for, so `version` and `caps` start as fast as before.
dist/vzcptcheck: $(ADDON) $(SRC)
	@mkdir -p dist
	$(COMPILE) --splitting --outfile=$@ src/cli.ts

dist/vzcptsim: $(ADDON) $(PRELOAD) $(SRC) $(SIM)
	@mkdir -p dist
	$(COMPILE) --outfile=$@ sim/cli.ts

$(PRELOAD): sim/preload/vzcptsim.c
	@mkdir -p build
	$(CC) $(CFLAGS) -shared -fPIC -o $@ $< -ldl

build/cptprobe: bench/cptprobe.c
	@mkdir -p build
	$(CC) $(CFLAGS) -o $@ $<

typecheck: $(NPM_STAMP)
	node_modules/.bin/tsc --noEmit -p .

lint: $(NPM_STAMP)
	node_modules/.bin/biome check --error-on-warnings .

format: $(NPM_STAMP)
	node_modules/.bin/biome check --write .

# Tools some tests drive (Debian packages), installed when missing.
test-tools:
	test/setup-qemu.sh
	test/setup-chromium.sh

unit: all test-tools
	$(BUN) test

test: typecheck lint unit

coverage: all
	$(BUN) test --coverage --coverage-reporter=text --coverage-reporter=lcov
	$(BUN) test/coverage-summary.ts coverage/lcov.info

bench: all build/cptprobe
	$(BUN) bench/run.ts

# The main job: the real dist/vzcptcheck against simulated nodes (LD_PRELOAD).
demo: all
	dist/vzcptsim demo --via-preload

install: dist/vzcptcheck
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 dist/vzcptcheck $(DESTDIR)$(SBINDIR)/vzcptcheck
	install -m 0644 man/vzcptcheck.8 $(DESTDIR)$(MANDIR)/man8/vzcptcheck.8
	install -d $(DESTDIR)$(DATADIR)/vzcptcheck
	install -m 0644 man/vzcptcheck-profile.schema.json $(DESTDIR)$(DATADIR)/vzcptcheck/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/vzcptcheck $(DESTDIR)$(MANDIR)/man8/vzcptcheck.8
	rm -f $(DESTDIR)$(DATADIR)/vzcptcheck/vzcptcheck-profile.schema.json
	-rmdir $(DESTDIR)$(DATADIR)/vzcptcheck

clean:
	rm -rf dist build native/build coverage
