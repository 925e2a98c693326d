# Front door of the iommu-series pipeline (see README.md).
#
#   make                 deps, fetch the base, apply the series, KUnit on UML
#   make check           every check of every base with a series; ends with
#                        "N passed, N failed"
#   make fetch | apply | export | kunit CONFIG=uml|x86_64|x86_64-debug
#   make shellcheck | check-copies | summary | selftest
#   make bench           benchmark of the core (iommu_core_bench on UML) before
#                        and after the commit adding test_dev; BENCH_RUNS=5
#   make systest         the system tests (scripts/systest.sh): the series'
#                        x86_64-debug kernel on emulated VT-d, AMD-Vi,
#                        virtio-iommu (and arm64 SMMUv3), the iommufd
#                        selftest against the base kernel's; part of make check
#   make mutate          the suites against bugs re-introduced one at a time
#                        (kunit/BASE/mutations/*.patch); MUTATE_CONFIG=uml
#                        (not part of make check)
#
# Variables: BASE (default v7.3), BASES (default: the bases with a
# patches/<base>/series), CONFIG, WORK (work tree), JOBS (default: the number of cores),
# IOMMU_SERIES_CACHE (default ~/.cache/iommu-series).

SHELL := /bin/bash
BASE ?= v7.3
BASES ?= $(patsubst patches/%/series,%,$(wildcard patches/*/series))
CONFIG ?= uml
export BASE

.PHONY: all deps fetch apply export kunit check check-copies shellcheck summary selftest bench mutate systest

all: apply
	@rc=0; scripts/kunit.sh uml || rc=$$?; scripts/summary.sh uml; exit $$rc

deps:
	@scripts/deps.sh

fetch: deps
	@scripts/fetch-base.sh

apply: fetch
	@scripts/apply.sh

export:
	@scripts/export.sh

kunit:
	@rc=0; scripts/kunit.sh $(CONFIG) || rc=$$?; scripts/summary.sh $(CONFIG); exit $$rc

check: deps
	@scripts/check-all.sh $(BASES)

check-copies:
	@scripts/check-copies.sh

shellcheck:
	@shellcheck scripts/*.sh systest/*.sh .ci/run && echo "shellcheck: clean"

summary:
	@scripts/summary.sh uml x86_64 x86_64-debug

selftest: fetch
	@scripts/selftest.sh

bench:
	@scripts/bench.sh

mutate: fetch
	@scripts/mutate.sh

systest: fetch
	@scripts/systest.sh
