#!/usr/bin/env bash
# bench.sh: run the benchmark of the IOMMU core (the iommu_core_bench KUnit
# suite, CONFIG_IOMMU_KUNIT_BENCH) before and after the series adds the
# test_dev domain op, and compare.
#
#   before  the parent of the first commit of the series (base..$BRANCH of the
#           work tree) that adds a test_dev member to struct iommu_domain_ops
#           in include/linux/iommu.h
#   after   the head of the series (branch $BRANCH)
#
# Until a commit adds test_dev, the head is benchmarked against itself.  Each
# commit is checked out in a detached worktree of the work tree,
# $BASE_DIR/bench-before and bench-after (the work tree itself is left
# alone), and built for UML with kunit/bench.kunitconfig in
# $BUILD_ROOT/bench-before and bench-after.  The two kernels then run the
# suite alternately BENCH_RUNS times.  The table of the median ns/op of each
# operation, before and after, and their ratio is printed and written to
# $RESULTS/bench.txt; the kernel logs are $RESULTS/bench-SIDE-RUN.log.
#
# Environment: BENCH_RUNS (default 5), BENCH_BEFORE and BENCH_AFTER (commits
# of the work tree to compare instead), KUNIT_TIMEOUT (seconds per run,
# default 300), JOBS (default: the number of cores).
set -euo pipefail
{ # Read the whole script before running it: editing it meanwhile is safe.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
base_init

SUITE=iommu_core_bench
KUNITCONFIG=$REPO/kunit/bench.kunitconfig
runs=${BENCH_RUNS:-5}
timeout=${KUNIT_TIMEOUT:-300}
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "BENCH_RUNS must be a positive number, not '$runs'"
[[ -f $KUNITCONFIG ]] || die "missing $KUNITCONFIG"

g() { git -C "$WORK" "$@"; }
g rev-parse --git-dir >/dev/null 2>&1 ||
	die "no work tree $WORK (run: make apply BASE=$BASE)"
base=$(g rev-parse -q --verify "refs/tags/$BASE_TAG^{commit}") ||
	die "the work tree $WORK has no '$BASE_TAG' tag"
head=$(g rev-parse -q --verify "refs/heads/$BRANCH^{commit}") ||
	die "the work tree $WORK has no branch $BRANCH (run: make apply BASE=$BASE)"
bench_src=drivers/iommu/iommu-kunit-bench.c
if [[ -z ${BENCH_AFTER:-} ]] && ! g cat-file -e "$head:$bench_src" 2>/dev/null; then
	die "branch $BRANCH of $WORK (base $BASE) has no $bench_src: the benchmark suite is part of the v7.3 series only (make bench BASE=v7.3)"
fi

# has_test_dev REV: does struct iommu_domain_ops of REV have a test_dev op?
# (No grep -q in the pipe: its early exit would fail it under pipefail.)
has_test_dev() {
	local ops
	ops=$(g show "$1:include/linux/iommu.h" 2>/dev/null |
		awk '/^struct iommu_domain_ops[[:space:]]*\{/ { s = 1 } s { print } s && /^\};/ { exit }') || return 1
	grep -Eq '\([[:space:]]*\*[[:space:]]*test_dev[[:space:]]*\)' <<<"$ops"
}

# The first commit of the series that adds the op; its parent is "before".
first_test_dev() {
	local c
	while IFS= read -r c; do
		if has_test_dev "$c" && ! has_test_dev "$c^"; then
			printf '%s\n' "$c"
			return 0
		fi
	done < <(g rev-list --reverse "$base..$head" -- include/linux/iommu.h)
	return 1
}

describe() {
	g log -1 --format='%h %s' "$1"
}

if [[ -n ${BENCH_BEFORE:-} || -n ${BENCH_AFTER:-} ]]; then
	before=$(g rev-parse -q --verify "${BENCH_BEFORE:-$head}^{commit}") ||
		die "BENCH_BEFORE=$BENCH_BEFORE is not a commit of $WORK"
	after=$(g rev-parse -q --verify "${BENCH_AFTER:-$head}^{commit}") ||
		die "BENCH_AFTER=$BENCH_AFTER is not a commit of $WORK"
	info "comparing the commits given by BENCH_BEFORE and BENCH_AFTER"
elif tdc=$(first_test_dev); then
	before=$(g rev-parse "$tdc^")
	after=$head
	info "test_dev is added to struct iommu_domain_ops by $(describe "$tdc")"
else
	before=$head
	after=$head
	info "no commit of $BRANCH ($(describe "$head")) adds test_dev to struct iommu_domain_ops yet: benchmarking the head against itself"
fi
info "before: $(describe "$before")"
info "after:  $(describe "$after")"

mkdir -p "$BUILD_ROOT" "$RESULTS" "$CCACHE_DIR"
lock 5 "$WORK.lock" "the work tree $WORK"
lock 6 "$BUILD_ROOT/bench.lock" "the benchmark trees and build dirs"

# tree_at DIR REV: DIR is a detached worktree of $WORK at REV.  Created when
# missing; an existing one is reused, but never one with changes.
tree_at() {
	local dir=$1 rev=$2 common
	if [[ ! -e $dir ]]; then
		info "checking out $(describe "$rev") into $dir"
		g worktree add -q --force --detach "$dir" "$rev" >&2 ||
			die "cannot create the worktree $dir of $WORK"
		return 0
	fi
	common=$(git -C "$dir" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
	[[ -n $common && $common == "$(g rev-parse --path-format=absolute --git-common-dir)" ]] ||
		die "$dir exists but is not a worktree of $WORK (move it away)"
	if [[ -n $(dirty "$dir") ]]; then
		git -C "$dir" status --short | head -n 20 >&2
		die "$dir has uncommitted changes (see above); it is a scratch tree of make bench: remove them, or the tree with 'git -C $WORK worktree remove --force $dir'"
	fi
	git -C "$dir" checkout -q --detach "$rev" ||
		die "cannot check out $(describe "$rev") in $dir"
}

sides=(before after)
declare -A rev tree build
rev[before]=$before
rev[after]=$after
for s in "${sides[@]}"; do
	# The same commit on both sides: one tree, one kernel.
	if [[ $s == before && $before == "$after" ]]; then
		tree[$s]=$BASE_DIR/bench-after
		build[$s]=$BUILD_ROOT/bench-after
	else
		tree[$s]=$BASE_DIR/bench-$s
		build[$s]=$BUILD_ROOT/bench-$s
	fi
done

# build_side SIDE: build the UML kernel of SIDE with the benchmark.  A cold
# build now and then ends in "Inconsistent kallsyms data"; then build again
# with the extra kallsyms pass the kernel advises (as kunit.sh does).
build_side() {
	local s=$1 src=${tree[$1]} log=$RESULTS/bench-$1.build.log rc=0
	local args=(build --kunitconfig="$KUNITCONFIG" --build_dir="${build[$s]}"
		--make_options="CC=ccache gcc" --jobs="$JOBS")
	[[ -f $src/drivers/iommu/iommu-kunit-bench.c ]] ||
		die "$s ($(describe "${rev[$s]}")) has no $SUITE suite (drivers/iommu/iommu-kunit-bench.c): the commit adding it must come before the one adding test_dev"
	info "$s: building in ${build[$s]} (log: $log)"
	mkdir -p "${build[$s]}"
	(cd "$src" && kunit_py "$src" "${args[@]}") >"$log" 2>&1 || rc=$?
	if ((rc != 0)) && grep -q 'Inconsistent kallsyms data' "$log"; then
		info "$s: kallsyms needs an extra pass, building again"
		rc=0
		(cd "$src" && kunit_py "$src" "${args[@]}" --make_options=KALLSYMS_EXTRA_PASS=1) >"$log" 2>&1 || rc=$?
	fi
	if ((rc != 0)); then
		tail -n 30 "$log" >&2
		die "$s: the build of $(describe "${rev[$s]}") failed (see $log)"
	fi
}

for s in "${sides[@]}"; do
	# before == after: the tree and kernel of "after" serve both.
	if [[ $s == before && $before == "$after" ]]; then
		continue
	fi
	tree_at "${tree[$s]}" "${rev[$s]}"
	build_side "$s"
done

# run_side SIDE RUN: run the suite in the kernel of SIDE; append its
# "SIDE RUN OPERATION NS" lines to $samples.
samples=$RESULTS/bench-samples.txt
: >"$samples"
run_side() {
	local s=$1 r=$2 src=${tree[$1]} name=bench-$1-$2 rc=0
	local log=$RESULTS/$name.log json=$RESULTS/$name.json out=$RESULTS/$name.out
	# shellcheck disable=SC2034 # errors: set by the eval of kunit_counts
	local passed=0 failed=0 crashed=0 skipped=0 errors=0 counts lines
	rm -f "$log" "$json" "${build[$s]}/test.log"
	info "run $r/$runs: $s"
	(cd "$src" && kunit_py "$src" exec --build_dir="${build[$s]}" --timeout="$timeout" \
		--json="$json" "$SUITE") >"$out" 2>&1 || rc=$?
	if [[ -f ${build[$s]}/test.log ]]; then
		cp "${build[$s]}/test.log" "$log"
	fi
	if [[ ! -s $json ]]; then
		tail -n 30 "$out" >&2
		die "$s, run $r: the kernel produced no results (status $rc, see $out)"
	fi
	counts=$(kunit_counts "$json" 2>/dev/null) || die "cannot read $json"
	eval "$counts"
	if ((failed + crashed + skipped > 0 || passed == 0 || rc != 0)); then
		grep -E 'not ok|# SKIP|ASSERTION FAILED|Expected|Kernel panic' "$log" 2>/dev/null | head -n 20 >&2 || true
		die "$s, run $r: $passed passed, $failed failed, $crashed crashed, $skipped skipped (status $rc): every case must pass (see $log)"
	fi
	if [[ -n $(splat_lines "$log") ]]; then
		splat_lines "$log" | head -n 10 >&2
		die "$s, run $r: the kernel log has splats (see $log)"
	fi
	lines=$(sed -nE 's/.*# [A-Za-z0-9_]+: bench ([A-Za-z0-9_]+): ([0-9]+(\.[0-9]+)?) ns\/op \(([0-9]+) iterations\).*/\1 \2/p' "$log")
	[[ -n $lines ]] || die "$s, run $r: no 'bench NAME: N ns/op' line in $log"
	awk -v s="$s" -v r="$r" '{ print s, r, $1, $2 }' <<<"$lines" >>"$samples"
}

for ((r = 1; r <= runs; r++)); do
	for s in "${sides[@]}"; do
		run_side "$s" "$r"
	done
done

# The table.  Every operation must have been reported in every run.
table=$RESULTS/bench.txt
python3 - "$samples" "$runs" "$(describe "$before")" "$(describe "$after")" >"$table.tmp" <<'PY' || { rm -f "$table.tmp"; die "incomplete results (see above and $samples)"; }
import statistics
import sys

path, runs = sys.argv[1], int(sys.argv[2])
ns = {}
ops = []
for line in open(path):
    side, run, op, val = line.split()
    if op not in ops:
        ops.append(op)
    ns.setdefault((side, op), {})[int(run)] = float(val)
bad = False
for op in ops:
    for side in ("before", "after"):
        missing = sorted(set(range(1, runs + 1)) - set(ns.get((side, op), {})))
        if missing:
            print("bench.sh: error: %s: no result of %s in run(s) %s" %
                  (side, op, ", ".join(map(str, missing))), file=sys.stderr)
            bad = True
if bad:
    sys.exit(1)
print("before: %s" % sys.argv[3])
print("after:  %s" % sys.argv[4])
print("median of %d runs each, ns per operation (UML)" % runs)
print()
width = max(len("operation"), *(len(op) for op in ops))
print("%-*s %12s %12s %12s" % (width, "operation", "before", "after", "after/before"))
for op in ops:
    b = statistics.median(ns[("before", op)].values())
    a = statistics.median(ns[("after", op)].values())
    ratio = "%.2f" % (a / b) if b > 0 else "n/a"
    print("%-*s %12.2f %12.2f %12s" % (width, op, b, a, ratio))
PY
mv "$table.tmp" "$table"
cat "$table"
info "table written to $table"
exit
}
