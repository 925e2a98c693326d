#!/usr/bin/env bash
# kunit.sh CONFIG [SRC]: build and run the KUnit suites of the kernel tree
# SRC (default: the work tree) in one configuration:
#   uml           kunit.py build, the UML kernel, kunit.py parse
#   x86_64        kunit.py build --arch=x86_64, boot in QEMU (TCG), kunit.py parse
#   x86_64-debug  the same with kunit/x86_64-debug.kunitconfig added (KASAN,
#                 lockdep, UBSAN, ...): VT-d and the iommufd selftest built
#                 and run under the debugging aids (make check's kernel)
# The kunitconfig is the tree's drivers/iommu/.kunitconfig (when the series
# has added it) plus, for each fragment of CONFIG (lib.sh kunit_fragments),
# kunit/FRAGMENT.kunitconfig of this repo and, if it exists,
# kunit/BASE/FRAGMENT.kunitconfig.  Kernel splats
# (SPLAT_PATTERNS of lib.sh) in the kernel log fail the configuration.
#
# Writes $CACHE/<base>/results/NAME.{txt,json,log} (NAME defaults to CONFIG):
# NAME.txt has status= passed= failed= crashed= skipped= splats= seconds=.
# Environment: KUNIT_BUILD_DIR (default $CACHE/<base>/build/CONFIG),
# RESULT_NAME, KUNIT_TIMEOUT (seconds), JOBS (default: the number of cores),
# KUNIT_BUILD_ONLY=1: build the kernel, do not boot it (scripts/systest.sh
# boots it on its own; status 0 when it built).
set -euo pipefail
{ # Read the whole script before running it: editing it meanwhile is safe.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
base_init

config=${1:-}
case $config in
uml) arch=um timeout_default=600 ;;
x86_64) arch=x86_64 timeout_default=900 ;;
x86_64-debug) arch=x86_64 timeout_default=1800 ;;
arm64) arch=arm64 timeout_default=1200 ;;
*) die "usage: kunit.sh uml|x86_64|x86_64-debug|arm64 [SRC]" ;;
esac
src=${2:-$WORK}
[[ -f $src/tools/testing/kunit/kunit.py ]] || die "$src is not a kernel tree (no tools/testing/kunit/kunit.py); run: make apply BASE=$BASE"
src=$(cd "$src" && pwd)
build=${KUNIT_BUILD_DIR:-$BUILD_ROOT/$config}
name=${RESULT_NAME:-$config}
timeout=${KUNIT_TIMEOUT:-$timeout_default}
mkdir -p "$build" "$RESULTS" "$CCACHE_DIR"
# The developer's work tree: not while make apply rebuilds it.
if [[ $src == "$(cd "$WORK" 2>/dev/null && pwd)" ]]; then
	lock 5 "$WORK.lock" "the work tree $WORK"
	! op_in_progress "$WORK" ||
		die "a git am/rebase/merge is in progress in the work tree $WORK (an interrupted make apply?): finish or abort it first"
fi
lock 6 "$build.lock" "the build dir $build"
log=$RESULTS/$name.log
json=$RESULTS/$name.json
res=$RESULTS/$name.txt
rm -f "$log" "$json" "$res" "$RESULTS/$name.build.log"

kunitconfigs=()
series_kc=$src/drivers/iommu/.kunitconfig
if [[ -f $series_kc ]]; then
	kunitconfigs+=(--kunitconfig="$series_kc")
else
	info "no drivers/iommu/.kunitconfig in $src (yet): building the $config KUnit kernel without the series' suites (0 cases)"
fi
add_repo_kunitconfigs kunitconfigs "$config"
add_tree_kunitconfigs kunitconfigs "$config" "$src"
cc=gcc
if [[ $arch == arm64 ]]; then
	# Debian's cross compiler (gcc-aarch64-linux-gnu); deps.sh installs it.
	cc=aarch64-linux-gnu-gcc
	command -v "$cc" >/dev/null || die "$cc not found: run make deps (package gcc-aarch64-linux-gnu)"
	command -v qemu-system-aarch64 >/dev/null || die "qemu-system-aarch64 not found: run make deps (package qemu-system-arm)"
fi
common=(--build_dir="$build" "${kunitconfigs[@]}" --make_options="CC=ccache $cc" --jobs="$JOBS")
[[ $arch != arm64 ]] || common+=(--cross_compile=aarch64-linux-gnu-)

# kunit_step ARGS: kunit.py ARGS in the tree, output to the build log. A
# cold build now and then ends in "Inconsistent kallsyms data"; the kernel's
# own advice is an extra kallsyms pass, so try once more with it.
kunit_step() {
	local rc=0
	(cd "$src" && kunit_py "$src" "$@") >"$RESULTS/$name.build.log" 2>&1 || rc=$?
	if ((rc != 0)) && grep -q 'Inconsistent kallsyms data' "$RESULTS/$name.build.log"; then
		info "$config: kallsyms needs an extra pass, building again"
		rc=0
		(cd "$src" && kunit_py "$src" "$@" --make_options=KALLSYMS_EXTRA_PASS=1) \
			>"$RESULTS/$name.build.log" 2>&1 || rc=$?
	fi
	return "$rc"
}

t0=$(now)
status=ok
build_ok=1
info "$config: building in $build (log: ${RESULTS}/$name.build.log)"
if [[ $arch == um ]]; then
	# kunit.py build, then the UML kernel with its console on a regular
	# file, then kunit.py parse. Under kunit.py run the console is a pipe:
	# when the reader falls behind on a busy machine, UML's console writes
	# fail with EAGAIN and KTAP lines are lost.
	rc=0
	kunit_step build "${common[@]}" || rc=$?
	if ((rc != 0)) || [[ ! -x $build/linux ]]; then
		build_ok=0
	else
		urc=0
		# --foreground: UML stays in our process group, so Ctrl-C stops it.
		timeout --foreground --kill-after=30 "$timeout" "$build/linux" \
			kunit.enable=1 mem=1G console=tty kunit_shutdown=halt \
			</dev/null >"$log" 2>&1 || urc=$?
		if ((urc == 124 || urc == 137)); then
			status=timeout
			info "$config: UML timed out after ${timeout}s"
		fi
		(cd "$src" && kunit_py "$src" parse --json="$json" "$log") >>"$RESULTS/$name.build.log" 2>&1 || true
		[[ -s $json ]] || build_ok=0
	fi
else
	rc=0
	kunit_step build --arch="$arch" "${common[@]}" || rc=$?
	if [[ $arch == arm64 ]]; then
		image=$build/arch/arm64/boot/Image.gz
	else
		image=$build/arch/x86/boot/bzImage
	fi
	if ((rc != 0)) || [[ ! -f $image ]]; then
		build_ok=0
	elif [[ ${KUNIT_BUILD_ONLY:-0} == 1 ]]; then
		info "$config: built $image ($(($(now) - t0)) s; not booted: KUNIT_BUILD_ONLY=1)"
		exit 0
	else
		info "$config: booting $image in QEMU (TCG, timeout ${timeout}s)"
		if [[ $arch == arm64 ]]; then
			qemu=(qemu-system-aarch64 -accel tcg -machine virt -cpu max -nodefaults -nographic -serial stdio
				-no-reboot -m 2048 -kernel "$image"
				-append 'kunit.enable=1 console=ttyAMA0 kunit_shutdown=reboot panic=-1')
		else
			qemu=(qemu-system-x86_64 -accel tcg -nodefaults -nographic -serial stdio -no-reboot -m 2048
				-kernel "$image" -append 'kunit.enable=1 console=ttyS0 kunit_shutdown=reboot panic=-1')
			# qboot boots faster than SeaBIOS (kunit.py uses it too).
			for rom in /usr/share/qemu/qboot.rom /usr/share/seabios/qboot.rom; do
				[[ -f $rom ]] && { qemu+=(-bios "$rom"); break; }
			done
		fi
		qrc=0
		# --foreground: QEMU stays in our process group, so Ctrl-C stops it.
		timeout --foreground --kill-after=30 "$timeout" "${qemu[@]}" </dev/null >"$log" 2>&1 || qrc=$?
		if ((qrc == 124 || qrc == 137)); then
			status=timeout
			info "$config: QEMU timed out after ${timeout}s"
		fi
		(cd "$src" && kunit_py "$src" parse --json="$json" "$log") >>"$RESULTS/$name.build.log" 2>&1 || true
	fi
fi
seconds=$(($(now) - t0))

passed=0 failed=0 crashed=0 skipped=0 errors=0
if ((build_ok == 0)); then
	status='build-failed'
	tail -n 40 "$RESULTS/$name.build.log" >&2 || true
	info "$config: build failed (see $RESULTS/$name.build.log)"
elif [[ -s $json ]]; then
	counts=$(kunit_counts "$json") || die "cannot read $json"
	eval "$counts"
else
	[[ $status == timeout ]] || status='no-results'
fi

splats=0
if [[ -f $log ]]; then
	splats=$(splat_lines "$log" | wc -l)
	if ((splats > 0)); then
		info "$config: $splats kernel-log lines match the splat patterns, first ones:"
		splat_lines "$log" | first 20 >&2
	fi
fi

total=$((passed + failed + crashed + skipped))
has_tests=0
[[ -f $series_kc ]] && has_tests=1
status=$(kunit_status "$status" "$failed" "$crashed" "$total" "$errors" "$splats" "$has_tests")
[[ $status == ktap-errors ]] &&
	info "$config: kunit.py reported $errors KTAP parse errors; some results are missing (see $RESULTS/$name.build.log)"
# Items for the pass/fail count: each case, plus one failure for a broken
# build or run, no tests or splats.
extra_failed=0
case $status in
ok | tests-failed) ;;
*) extra_failed=1 ;;
esac
[[ $status == tests-failed && $splats -gt 0 ]] && extra_failed=1
{
	printf 'config=%s\nsrc=%s\nbuild=%s\nstatus=%s\n' "$config" "$src" "$build" "$status"
	printf 'passed=%d\nfailed=%d\ncrashed=%d\nskipped=%d\nerrors=%d\nsplats=%d\nextra_failed=%d\nseconds=%d\n' \
		"$passed" "$failed" "$crashed" "$skipped" "$errors" "$splats" "$extra_failed" "$seconds"
} >"$res.tmp"
mv "$res.tmp" "$res"
printf 'kunit %s: %d passed, %d failed, %d crashed, %d skipped, %d splat lines: %s (%d s)\n' \
	"$name" "$passed" "$failed" "$crashed" "$skipped" "$splats" "$status" "$seconds"
[[ $status == ok ]]
exit
}
