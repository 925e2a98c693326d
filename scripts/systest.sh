#!/usr/bin/env bash
# systest.sh: the system tests of the series: real IOMMU drivers on hardware
# QEMU emulates (TCG), the series' x86_64-debug kernel (the KUnit kernel of
# make check, booted with kunit.enable=0) and an initramfs of Debian's
# busybox-static with systest/guest.sh as /init:
#   selftest q35 without an emulated IOMMU: the upstream iommufd selftest
#            of the tree (tools/testing/selftests/iommu, static)
#   vtd      q35, intel-iommu (intremap, device-iotlb), a virtio-blk-pci
#            with ATS and one without, each behind a PCIe root port: the
#            device with ATS on a DMA domain with ATS on, the disk read
#            right, each reset method through sysfs traced through
#            pci_dev_reset_iommu_prepare()/done(), ATS and the disk right
#            after it; the device without ATS on vfio-pci (cdev, iommufd)
#            racing VFIO_DEVICE_RESET against attach/replace
#            (systest/vfio-reset-race.c), then DMA into the last domain
#   amd      q35, amd-iommu, the device on the root bus: probe, DMA domain,
#            read (QEMU 7.2 translates no device behind a root port for
#            AMD-Vi; on the root bus the device has no reset method)
#   viommu   q35, virtio-iommu-pci: the same
#   smmuv3   arm64 virt,iommu=smmuv3 with the arm64 KUnit kernel (for a
#            series that touches drivers/iommu/arm/): the same
#   base     the base kernel without the series (same .config but the
#            series' own symbols, built once per base commit and cached):
#            the same selftest binary (base-selftest), compared test by
#            test with the series' run (a test that passes on the base and
#            not with the series fails), and the vtd resets (base-vtd; a
#            check the base passes and the series fails is a regression);
#            the race only with SYSTEST_BASE_RACE=1 (the base hangs)
# Every boot has a timeout and powers off by itself; a guest that does not
# finish fails its items, naming the boot.  A kernel splat (SPLAT_PATTERNS)
# or an IOMMU fault report in a guest's log fails that boot.
#
# Standalone (make systest BASE=...): applies patches/<base>/series in the
# check tree (like make check), builds the x86_64-debug kernel (and arm64)
# without booting KUnit, then runs the tests.  make check calls it with
# SYSTEST_PREPARED=1 after its own KUnit kernels (the check tree at the
# full series, its lock held).
#
# Prints one PASS/FAIL line per item and "systest <base>: N passed, N
# failed"; writes $RESULTS/systest-items.txt, systest.ktap,
# systest-summary.txt and each guest's console as systest-NAME.log.
# Environment: SYSTEST_TESTS (default "selftest vtd amd viommu smmuv3 base"),
# SYSTEST_TIMEOUT (seconds per boot, default 900), SYSTEST_ROUNDS (vfio
# race rounds, default 100), SYSTEST_FAIL_NTH=1 (also iommufd_fail_nth).
set -euo pipefail
{ # Read the whole script before running it: editing it meanwhile is safe.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
load_series

OBJ=$BUILD_ROOT/check-x86_64-debug
OBJ_ARM=$BUILD_ROOT/check-arm64
OBJ_BASE=$BUILD_ROOT/systest-base
SYS=$BASE_DIR/systest
TESTS=${SYSTEST_TESTS:-selftest vtd amd viommu smmuv3 base}
for t in $TESTS; do
	case $t in
	selftest | vtd | amd | viommu | smmuv3 | base) ;;
	*) die "unknown test '$t' in SYSTEST_TESTS (known: selftest vtd amd viommu smmuv3 base)" ;;
	esac
done
TIMEOUT=${SYSTEST_TIMEOUT:-900}
ROUNDS=${SYSTEST_ROUNDS:-100}
mkdir -p "$SYS" "$RESULTS" "$CCACHE_DIR"
t_start=$(now)
for t in qemu-system-x86_64 busybox cpio gzip; do
	command -v "$t" >/dev/null || die "$t not found: run make deps"
done
[[ -x /bin/busybox ]] || die "/bin/busybox not found: run make deps (package busybox-static)"

work=$(mktemp -d "${TMPDIR:-/tmp}/iommu-systest.XXXXXX")
boot_pids=()
restore_rev=
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	((${#boot_pids[@]} == 0)) || kill_tree "${boot_pids[@]}"
	# The check tree back at the full series if the base was checked out.
	[[ -z $restore_rev ]] || git -C "$CHECK_WORK" checkout -q -f --detach "$restore_rev" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

n_pass=0
n_fail=0
items=$RESULTS/systest-items.txt
ktap_lines=()
: >"$items"
rm -f "$RESULTS/systest-summary.txt"
# The base's boot is a reference, not a test of the series: its items are
# printed as INFO (not counted) and compared with the series' (CHECKS_OF).
INFO_MODE=0
CHECKS_OF=
item() { # PASS|FAIL NAME [DETAIL]
	local line="$1 [$BASE] systest $2"
	[[ -z ${3:-} ]] || line+=" ($3)"
	# (the race's names say which IOAS the device ended on: not compared)
	[[ -z $CHECKS_OF ]] || printf '%s %s\n' "$1" "${2#*: }" |
		sed -E 's/(IOAS|HWPT) [ABab]/\1 x/g; s/buf[AB]/bufx/g' >>"$work/checks.$CHECKS_OF"
	if ((INFO_MODE)); then
		printf 'INFO [%s] systest %s\n' "$BASE" "$2: $1${3:+ ($3)}" | tee -a "$items"
		return 0
	fi
	printf '%s\n' "$line" | tee -a "$items"
	local st=ok
	[[ $1 == PASS ]] || st='not ok'
	ktap_lines+=("$st $((${#ktap_lines[@]} + 1)) $2${3:+ # ${3//#/}}")
	if [[ $1 == PASS ]]; then n_pass=$((n_pass + 1)); else n_fail=$((n_fail + 1)); fi
}
write_results() {
	{
		printf 'KTAP version 1\n1..%d\n' "${#ktap_lines[@]}"
		printf '%s\n' "${ktap_lines[@]}"
	} >"$RESULTS/systest.ktap"
	printf 'passed=%d\nfailed=%d\nseconds=%d\n' "$n_pass" "$n_fail" "$(($(now) - t_start))" \
		>"$RESULTS/systest-summary.txt"
	printf 'systest %s: %d passed, %d failed (%d s)\n' "$BASE" "$n_pass" "$n_fail" "$(($(now) - t_start))"
}
wants() { [[ " $TESTS " == *" $1 "* ]]; }

# ---------------------------------------------------------------------------
# The kernels of the series.
cw() { git -C "$CHECK_WORK" "$@"; }
if [[ ${SYSTEST_PREPARED:-0} != 1 ]]; then
	lock 7 "$CHECK_WORK.lock" "the check tree $CHECK_WORK"
	info "applying the ${#patches[@]} patches of $PATCH_DIR in the check tree $CHECK_WORK"
	if ! series_into_check_tree "${patches[@]}"; then
		item FAIL apply "$(basename "$AM_FAILED") does not apply"
		write_results
		exit 1
	fi
	# (RESULT_NAME: the KUnit results of make check stay)
	info "building the x86_64-debug kernel in $OBJ (log: $RESULTS/systest-x86_64-debug.build.log)"
	KUNIT_BUILD_ONLY=1 KUNIT_BUILD_DIR=$OBJ RESULT_NAME=systest-x86_64-debug \
		"$REPO/scripts/kunit.sh" x86_64-debug "$CHECK_WORK" >&2 ||
		item FAIL "x86_64 kernel" "the build failed (see $RESULTS/systest-x86_64-debug.build.log)"
	if wants smmuv3 && [[ -n $(cw diff --name-only "$BASE_TAG" HEAD -- drivers/iommu/arm/) ]]; then
		info "building the arm64 kernel in $OBJ_ARM (log: $RESULTS/systest-arm64.build.log)"
		KUNIT_BUILD_ONLY=1 KUNIT_BUILD_DIR=$OBJ_ARM RESULT_NAME=systest-arm64 \
			"$REPO/scripts/kunit.sh" arm64 "$CHECK_WORK" >&2 ||
			item FAIL "smmuv3: arm64 kernel" "the build failed (see $RESULTS/systest-arm64.build.log)"
	fi
fi
series_rev=$(cw rev-parse HEAD)
base_rev=$(cw rev-parse "$BASE_TAG^{commit}")
[[ $series_rev != "$base_rev" ]] || die "the check tree $CHECK_WORK is at the base: no series to test"
image=$OBJ/arch/x86/boot/bzImage
image_arm=$OBJ_ARM/arch/arm64/boot/Image.gz
# A kernel built from this tree is newer than every file the series put
# there (the series is applied afresh before each build): an older image
# is a build that failed or did not run.
newest=0
while IFS= read -r f; do
	[[ ! -e $CHECK_WORK/$f ]] || { t=$(stat -c %Y "$CHECK_WORK/$f"); ((t <= newest)) || newest=$t; }
done < <(cw diff --name-only "$BASE_TAG" HEAD)
fresh() { [[ -f $1 ]] && (($(stat -c %Y "$1") >= newest)); }
fresh "$image" || image=
# arm64, as make check decides it: a .c file of drivers/iommu/arm/ touched
touches_arm=0
[[ -z $(cw diff --name-only "$BASE_TAG" HEAD -- 'drivers/iommu/arm/*.c') ]] || touches_arm=1
((touches_arm)) && fresh "$image_arm" || image_arm=
# Copies: the build dirs change under later steps of make check.
[[ -z $image ]] || cp "$image" "$work/bzImage"
[[ -z $image_arm ]] || cp "$image_arm" "$work/Image.gz"

# ---------------------------------------------------------------------------
# User-space programs, built static against a tree's uapi headers:
# build_progs TREE OUT [x86_64|arm64]
build_progs() {
	local tree=$1 out=$2 arch=${3:-x86_64} cc=gcc hdr=$2/hdr
	[[ $arch == x86_64 ]] || cc=aarch64-linux-gnu-gcc
	mkdir -p "$out"
	make -s -C "$tree" O="$hdr/obj" ARCH="$arch" headers_install INSTALL_HDR_PATH="$hdr" \
		>"$out/build.log" 2>&1 || return 1
	[[ $arch == arm64 ]] || {
		make -s -C "$tree/tools/testing/selftests/iommu" OUTPUT="$out" CC="$cc" \
			KHDR_INCLUDES="-isystem $hdr/include" LDFLAGS=-static >>"$out/build.log" 2>&1 &&
			"$cc" -static -O2 -pthread -Wall -Wextra -isystem "$hdr/include" \
				-o "$out/vfio-reset-race" "$REPO/systest/vfio-reset-race.c" >>"$out/build.log" 2>&1
	}
}

# The test disk: 1 MiB, every 512-byte sector N filled with the line
# "iommu-systest sector NNNNNN\n" (the race program checks sectors 1 and 2).
disk=$work/disk.img
python3 - "$disk" <<'EOF'
import sys
with open(sys.argv[1], "wb") as f:
    for n in range(2048):
        line = b"iommu-systest sector %06u\n" % n
        f.write((line * (512 // len(line) + 1))[:512])
EOF
md5=$(md5sum "$disk" | cut -d' ' -f1)

# initramfs BUSYBOX PROGDIR OUT: busybox, systest/guest.sh as /init and the
# programs of PROGDIR in /systest.
initramfs() {
	local root=$work/root.$RANDOM
	mkdir -p "$root/bin" "$root/systest" "$root/dev"
	cp "$1" "$root/bin/busybox"
	ln -s busybox "$root/bin/sh" # for /init's #!/bin/sh; /init adds the other applets
	cp "$REPO/systest/guest.sh" "$root/init"
	chmod 755 "$root/init"
	local p
	for p in iommufd iommufd_fail_nth vfio-reset-race; do
		[[ ! -f $2/$p ]] || cp "$2/$p" "$root/systest/"
	done
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$3"
	rm -rf "$root"
}

# ---------------------------------------------------------------------------
# The base kernel: the .config of the series' kernel in the base tree
# (olddefconfig drops the series' own symbols), built in a copy of the
# series' build dir with the check tree checked out at the base, so that
# only what the series changes is compiled again; cached by base commit and
# .config in $SYS/base-COMMIT-HASH.
base_kernel() {
	local cfgdir=$work/basecfg h dir
	mkdir -p "$cfgdir"
	cp "$OBJ/.config" "$cfgdir/.config"
	restore_rev=$series_rev
	# (called in a condition: set -e is off here, every step is checked)
	cw checkout -q -f --detach "$BASE_TAG" || return 1
	[[ $(cw rev-parse HEAD) == "$base_rev" ]] || { info "the check tree is not at the base"; return 1; }
	make -s -C "$CHECK_WORK" O="$cfgdir" ARCH=x86_64 olddefconfig >"$work/basecfg.log" 2>&1 || {
		info "olddefconfig of the base failed (see below)"
		tail -n 20 "$work/basecfg.log" >&2
		return 1
	}
	h=$(grep -v '^#' "$cfgdir/.config" | sha1sum | cut -c1-12)
	dir=$SYS/base-${base_rev:0:12}-$h
	BASE_DIR_SYS=$dir
	if [[ -f $dir/bzImage ]]; then
		info "base kernel: cached in $dir"
	else
		info "base kernel: building in $OBJ_BASE (a copy of $OBJ; log $RESULTS/systest-base.build.log)"
		local t0
		t0=$(now)
		rm -rf "$OBJ_BASE" "$dir"
		cp -a "$OBJ" "$OBJ_BASE" || return 1
		cp "$cfgdir/.config" "$OBJ_BASE/.config" || return 1
		# (niced: guests run beside it, under their timeouts)
		if ! LANG=C LC_ALL=C nice -n 5 make -C "$CHECK_WORK" O="$OBJ_BASE" ARCH=x86_64 CC="ccache gcc" -j"$JOBS" \
			olddefconfig bzImage >"$RESULTS/systest-base.build.log" 2>&1; then
			tail -n 30 "$RESULTS/systest-base.build.log" >&2
			return 1
		fi
		[[ $(cw rev-parse HEAD) == "$base_rev" ]] || { info "the check tree left the base during the build"; return 1; }
		mkdir -p "$dir.tmp" && cp "$OBJ_BASE/arch/x86/boot/bzImage" "$dir.tmp/" && mv "$dir.tmp" "$dir" || return 1
		rm -rf "$OBJ_BASE"
		info "base kernel: built in $(($(now) - t0)) s"
	fi
	cw checkout -q -f --detach "$series_rev" || return 1
	restore_rev=
}

# busybox_arm64: print the path of Debian's busybox-static for arm64,
# downloaded once into $CACHE/tools with a private apt configuration (the
# machine's apt configuration and architectures are not changed).
busybox_arm64() {
	local dir=$CACHE/tools/busybox-arm64 apt=$CACHE/tools/apt-arm64 tmp deb
	if [[ -x $dir/busybox ]]; then
		printf '%s\n' "$dir/busybox"
		return 0
	fi
	mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
	printf 'deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main\n' \
		>"$apt/sources.list"
	local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
		-o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Dir::State::status=/dev/null
		-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
		-o APT::Architecture=arm64 -o APT::Architectures=arm64 -o APT::Sandbox::User=root
		-o Acquire::Languages=none -o Debug::NoLocking=1)
	tmp=$(mktemp -d "$CACHE/tools/.busybox.XXXXXX")
	info "downloading busybox-static:arm64 from Debian bookworm (private apt lists in $apt)" >&2
	if ! apt_update "http://deb.debian.org/debian" "${opts[@]}" 2>"$tmp/log" ||
		! (cd "$tmp" && apt-get -qq "${opts[@]}" download busybox-static:arm64) >>"$tmp/log" 2>&1; then
		cat "$tmp/log" >&2
		rm -rf "$tmp"
		return 1
	fi
	deb=$(find "$tmp" -maxdepth 1 -name 'busybox-static_*_arm64.deb' | first 1)
	if [[ -z $deb ]] || ! dpkg-deb -x "$deb" "$tmp/x" || [[ ! -x $tmp/x/bin/busybox ]]; then
		rm -rf "$tmp"
		return 1
	fi
	mkdir -p "$dir.tmp"
	cp "$tmp/x/bin/busybox" "$dir.tmp/busybox"
	basename "$deb" >"$dir.tmp/source"
	rm -rf "$tmp" "$dir"
	mv "$dir.tmp" "$dir"
	printf '%s\n' "$dir/busybox"
}

# compare_selftest BASE SERIES: one item per test of the iommufd selftest
# (files of selftest_results) that passes with the series or passes on the
# base and not with the series (a regression, which fails); a test that
# does not pass on the base either is shown (SKIP, XFAIL), not counted.
# Then one item with both counts.
compare_selftest() {
	local st name b regress=0
	declare -A on_base=()
	if [[ $1 == none ]]; then
		# no base run: each test on its own
		while read -r st name; do
			case $st in
			ok) item PASS "iommufd: $name" ;;
			skip) printf 'SKIP [%s] systest iommufd: %s\n' "$BASE" "$name" | tee -a "$items" ;;
			*) item FAIL "iommufd: $name" "fails (no base run to compare with)" ;;
			esac
		done <"$2"
		local plan
		plan=$(guest_lines "$RESULTS/systest-selftest.log" iommufd | sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' | first 1)
		if (($(wc -l <"$2") == 0)) || [[ $plan != "$(wc -l <"$2")" ]]; then
			item FAIL "iommufd selftest" "plan ${plan:-missing}, $(wc -l <"$2") results (see $RESULTS/systest-selftest.log)"
		else
			item PASS "iommufd selftest" "series $(grep -c '^ok ' "$2") passed, $(grep -c '^fail ' "$2") failed, $(grep -c '^skip ' "$2") skipped; no base run"
		fi
		return
	fi
	while read -r st name; do on_base[$name]=$st; done <"$1"
	while read -r st name; do
		b=${on_base[$name]:-absent}
		case $st in
		ok) item PASS "iommufd: $name" ;;
		skip)
			if [[ $b == ok ]]; then
				item FAIL "iommufd: $name" "passes on the base, not run with the series: regression"
				regress=$((regress + 1))
			else
				printf 'SKIP [%s] systest iommufd: %s (skipped, %s on the base)\n' "$BASE" "$name" "$b" | tee -a "$items"
			fi
			;;
		*)
			if [[ $b == ok ]]; then
				item FAIL "iommufd: $name" "fails with the series, passes on the base: regression"
				regress=$((regress + 1))
			elif [[ $b == absent ]]; then
				item FAIL "iommufd: $name" "fails with the series, no result on the base to compare with"
			else
				# the base's own failure, not the series': shown, not counted
				printf 'XFAIL [%s] systest iommufd: %s (fails on the base too)\n' "$BASE" "$name" | tee -a "$items"
			fi
			;;
		esac
		unset "on_base[$name]"
	done <"$2"
	for name in "${!on_base[@]}"; do
		if [[ ${on_base[$name]} == ok ]]; then
			item FAIL "iommufd: $name" "passes on the base, did not run with the series: regression"
			regress=$((regress + 1))
		fi
	done
	cnt() { printf '%d passed, %d failed, %d skipped' "$(grep -c '^ok ' "$1")" "$(grep -c '^fail ' "$1")" "$(grep -c '^skip ' "$1")"; }
	# every test of the plan ("1..N") has a result
	local plan
	plan=$(guest_lines "$RESULTS/systest-selftest.log" iommufd | sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' | first 1)
	if [[ $plan != "$(wc -l <"$2")" ]]; then
		item FAIL "iommufd selftest: plan" "plan ${plan:-missing}, $(wc -l <"$2") results"
		regress=$((regress + 1))
	fi
	if (($(wc -l <"$1") == 0 || $(wc -l <"$2") == 0)); then
		item FAIL "iommufd selftest: series vs base" "no results (base: $(wc -l <"$1") tests, series: $(wc -l <"$2"))"
	elif ((regress == 0)); then
		item PASS "iommufd selftest: series vs base" "base $(cnt "$1"); series $(cnt "$2")"
	else
		item FAIL "iommufd selftest: series vs base" "$regress regressions; base $(cnt "$1"); series $(cnt "$2")"
	fi
}

# ---------------------------------------------------------------------------
# boot NAME ARCH CPUS KERNEL INITRAMFS APPEND QEMU-ARGS...: one guest, its
# console in $RESULTS/systest-NAME.log, how it ended in $work/boot.NAME
# (read by report).  Guests that need one vCPU get one, so that two of
# them run side by side on two cores (boots in the background, waited).
boot() {
	local name=$1 arch=$2 cpus=$3 kernel=$4 initrd=$5 append=$6 log=$RESULTS/systest-$1.log rc=0 t0
	shift 6
	local q BOOT_STATUS BOOT_SECONDS
	if [[ $arch == arm64 ]]; then
		q=(qemu-system-aarch64 -accel tcg -cpu max -smp "$cpus" -m 2048)
		append="console=ttyAMA0 $append"
	else
		q=(qemu-system-x86_64 -accel tcg -smp "$cpus" -m 2048)
		append="console=ttyS0 $append"
	fi
	q+=(-nodefaults -nographic -serial stdio -no-reboot -kernel "$kernel" -initrd "$initrd"
		-append "kunit.enable=0 printk.devkmsg=on panic=-1 oops=panic $append" "$@")
	t0=$(now)
	info "$name: booting (timeout ${TIMEOUT}s, console $log)"
	printf '# %s\n' "${q[*]}" >"$log"
	# --foreground: QEMU stays in our process group, so Ctrl-C stops it.
	timeout --foreground --kill-after=30 "$TIMEOUT" "${q[@]}" </dev/null >>"$log" 2>&1 || rc=$?
	BOOT_SECONDS=$(($(now) - t0))
	if ((rc == 124 || rc == 137)); then
		BOOT_STATUS="timed out after ${TIMEOUT}s"
	elif ! grep -q 'systest: done' "$log"; then
		BOOT_STATUS="the guest stopped before its end (QEMU status $rc)"
	else
		BOOT_STATUS=ok
	fi
	printf '%s\n%s\n' "$BOOT_SECONDS" "$BOOT_STATUS" >"$work/boot.$name"
}
boot_bg() { # as boot, in the background
	boot "$@" &
	boot_pids+=($!)
}
boot_wait() {
	local p
	for p in "${boot_pids[@]}"; do
		wait "$p" || true
	done
	boot_pids=()
}

# Lines the guest wrote, without the kernel's timestamp: guest_lines LOG TAG
guest_lines() {
	sed -n "s/^\(\[ *[0-9.]*\] \)\{0,1\}$2: //p" "$1" | tr -d '\r'
}

# IOMMU fault reports, counted like splats.
FAULT_PATTERNS='DMAR: DRHD: handling fault|DMAR: \[DMA (Read|Write)|AMD-Vi: Event logged|arm-smmu-v3.*event 0x|fault from EP [0-9]'

# report NAME: items of one boot (its guest's checks, the vfio race's TAP,
# the boot itself: finished, no splat, no fault).
report() {
	local name=$1 log=$RESULTS/systest-$1.log l st rest
	CHECKS_OF=$name
	: >"$work/checks.$name"
	while IFS= read -r l; do
		case $l in
		'ok - '*) st=PASS rest=${l#ok - } ;;
		'not ok - '*) st=FAIL rest=${l#not ok - } ;;
		*) continue ;;
		esac
		item "$st" "$name: ${rest%% # *}" "$([[ $rest == *' # '* ]] && printf '%s' "${rest#* # }")"
	done < <(guest_lines "$log" systest)
	while IFS= read -r l; do
		if [[ $l =~ ^(ok|not\ ok)\ [0-9]+\ -?\ ?(.*)$ ]]; then
			st=PASS
			[[ ${BASH_REMATCH[1]} == ok ]] || st=FAIL
			rest=${BASH_REMATCH[2]}
			item "$st" "$name: vfio-race: ${rest%% # *}" "$([[ $rest == *' # '* ]] && printf '%s' "${rest#* # }")"
		fi
	done < <(guest_lines "$log" vfio-race)
	# the exit status of each program the guest ran (the selftests' tests
	# are items of compare_selftest).  (Read into a variable first: with
	# pipefail, "... | grep -q" fails when grep's early exit kills the
	# writer.)
	local tag out
	for tag in iommufd iommufd_fail_nth vfio-race; do
		out=$(guest_lines "$log" "$tag")
		[[ -n $out ]] || continue
		if grep -q -x 'exit status 0' <<<"$out"; then
			item PASS "$name: $tag exit" "exit status 0"
		else
			item FAIL "$name: $tag exit" "$(grep '^exit status' <<<"$out" | first 1)"
		fi
	done
	local secs status said nread
	{ read -r secs && read -r status; } <"$work/boot.$name" 2>/dev/null || status="no result of its boot"
	# as many results read as the guest said it wrote, and some where it
	# had checks to make (a lost or mangled line is a failure)
	said=$(guest_lines "$log" systest | sed -n 's/^done \([0-9][0-9]*\)$/\1/p' | first 1)
	nread=$(guest_lines "$log" systest | grep -c -E '^(not )?ok - ' || true)
	if [[ $status == ok && $said != "$nread" ]]; then
		status="the guest said it wrote ${said:-no count of} results, $nread read from its console"
	elif [[ $status == ok && $name != *selftest ]] && ((nread < 3)); then
		status="only $nread results from a boot with checks to make"
	fi
	if [[ $status == ok ]]; then
		item PASS "$name: guest finished" "$secs s"
	else
		item FAIL "$name: guest finished" "$status"
		tail -n 15 "$log" | sed 's/^/      /'
	fi
	local splats faults
	splats=$(splat_lines "$log" | wc -l)
	faults=$(grep -c -E "$FAULT_PATTERNS" "$log" || true)
	if ((splats + faults == 0)); then
		item PASS "$name: no splat, no IOMMU fault"
	else
		item FAIL "$name: no splat, no IOMMU fault" "$splats splat lines, $faults fault lines"
		{ splat_lines "$log"; grep -E "$FAULT_PATTERNS" "$log" || true; } | first 12 | sed 's/^/      /'
	fi
	CHECKS_OF=
}

# compare_checks BASE SERIES: a check of the guest that passed in the
# base's boot and not in the series' is a regression (one item each); then
# one item with both counts.
compare_checks() {
	local st name regress=0
	declare -A in_series=()
	while read -r st name; do in_series[$name]=$st; done <"$work/checks.$2"
	while read -r st name; do
		[[ $st == PASS && ${in_series[$name]:-absent} != PASS ]] || continue
		item FAIL "$2: $name" "passes on the base kernel, ${in_series[$name]:-absent} with the series: regression"
		regress=$((regress + 1))
	done <"$work/checks.$1"
	local bp bf sp sf
	# the base's guest must have finished and made checks
	if ! grep -q '^PASS guest finished$' "$work/checks.$1"; then
		item FAIL "$2 checks: series vs base" "the base kernel's guest did not finish: nothing to compare with"
		return
	fi
	bp=$(grep -c '^PASS ' "$work/checks.$1" || true)
	bf=$(grep -c '^FAIL ' "$work/checks.$1" || true)
	sp=$(grep -c '^PASS ' "$work/checks.$2" || true)
	sf=$(grep -c '^FAIL ' "$work/checks.$2" || true)
	if ((regress == 0 && bp + bf > 0)); then
		item PASS "$2 checks: series vs base" "base kernel $bp passed, $bf failed; series $sp passed, $sf failed"
	else
		item FAIL "$2 checks: series vs base" "$regress regressions; base kernel $bp passed, $bf failed; series $sp passed, $sf failed"
	fi
}

# selftest_results LOG TAG: "STATUS NAME" of each test of the kselftest TAP
# (STATUS ok, fail or skip).
selftest_results() {
	guest_lines "$1" "$2" | sed -n -E \
		-e 's/^ok [0-9]+ (.*) # SKIP.*$/skip \1/p' \
		-e '/# SKIP/!s/^ok [0-9]+ (.*)$/ok \1/p' \
		-e 's/^not ok [0-9]+ (.*)$/fail \1/p' | sed -E 's/ # .*$//; s/ +$//'
}

# ---------------------------------------------------------------------------
if [[ -z $image ]]; then
	item FAIL "x86_64 kernel" "no bzImage in $OBJ built after the series was applied (see the build log in $RESULTS)"
	write_results
	exit 1
fi
prog=$work/progs
if build_progs "$CHECK_WORK" "$prog"; then
	item PASS "user programs" "iommufd, iommufd_fail_nth, vfio-reset-race static, against the series' uapi headers"
else
	item FAIL "user programs" "see $prog/build.log"
	tail -n 30 "$prog/build.log" | sed 's/^/      /'
fi
initramfs /bin/busybox "$prog" "$work/initrd.gz"
run_list=selftest
[[ ${SYSTEST_FAIL_NTH:-0} != 1 ]] || run_list+=,selftest-fail-nth
common="systest.md5=$md5 systest.rounds=$ROUNDS"
x86=(-machine 'q35,kernel-irqchip=split')
blk() { # BUS ID [EXTRA]: the test disk as a modern virtio-blk-pci behind the IOMMU
	printf '%s\n' -drive "file=$disk,if=none,id=$2,format=raw,snapshot=on" \
		-device "virtio-blk-pci,drive=$2,bus=$1,disable-legacy=on,iommu_platform=on${3:+,$3}"
}
rootport=(-device 'pcie-root-port,id=rp1,bus=pcie.0,chassis=1')
# The vtd machine: the device with ATS (the sysfs resets) and one without
# (the vfio race; SYSTEST_RACE_ATS=1 races the one with ATS), each behind a
# root port of its own.
vtd_machine() {
	printf '%s\n' "${x86[@]}" -device intel-iommu,intremap=on,device-iotlb=on "${rootport[@]}" \
		-device 'pcie-root-port,id=rp2,bus=pcie.0,chassis=2'
	blk rp1 d0 ats=on
	blk rp2 d1
}
race_dev=noats
[[ ${SYSTEST_RACE_ATS:-0} != 1 ]] || race_dev=same

# The boots, two at a time where they fit on two cores (one vCPU each but
# vtd's, whose race needs two), the base kernel built beside the first.
# The selftest runs on a machine without an emulated IOMMU: 6.12 cannot give
# its mock devices the mock IOMMU when VT-d is there (159 of its 190 tests
# fail on the vtd machine, with and without the series).
arm_ok=0
if wants smmuv3 && ((touches_arm)); then
	if [[ -z $image_arm ]]; then
		item FAIL "smmuv3: arm64 kernel" "no Image.gz in $OBJ_ARM built after the series was applied"
	elif bb=$(busybox_arm64); then
		initramfs "$bb" /nonexistent "$work/initrd-arm64.gz"
		arm_ok=1
	else
		item FAIL "smmuv3: busybox for arm64" "could not download busybox-static:arm64"
	fi
fi
mapfile -t vtd_args < <(vtd_machine)
vtd_append="intel_iommu=on iommu.passthrough=0 systest.iommu=dmar systest.ats=1 systest.race_dev=$race_dev systest.methods=flr,pm,bus $common"

! wants selftest || boot_bg selftest x86_64 1 "$work/bzImage" "$work/initrd.gz" \
	"systest.run=$run_list systest.iommu=none $common" -machine q35
base_ok=0
if wants base; then
	if base_kernel; then
		base_ok=1
	else
		item FAIL "base kernel" "could not build it (see $RESULTS/systest-base.build.log)"
	fi
fi
boot_wait

! wants vtd || boot_bg vtd x86_64 2 "$work/bzImage" "$work/initrd.gz" "systest.run=reset,vfio $vtd_append" \
	"${vtd_args[@]}"
# The base kernel runs the same programs (the series does not change the
# uAPI): one selftest binary on both kernels.
((base_ok == 0)) || ! wants selftest || boot_bg base-selftest x86_64 1 "$BASE_DIR_SYS/bzImage" "$work/initrd.gz" \
	"systest.run=$run_list systest.iommu=none $common" -machine q35
boot_wait

# (The base's race stays out: its attach during a reset reaches the
# hardware, and with ATS the guest hangs, README.)
base_run=reset base_cpus=1
[[ ${SYSTEST_BASE_RACE:-0} != 1 ]] || base_run=reset,vfio base_cpus=2
((base_ok == 0)) || ! wants vtd || boot_bg base-vtd x86_64 "$base_cpus" "$BASE_DIR_SYS/bzImage" "$work/initrd.gz" \
	"systest.run=$base_run $vtd_append" "${vtd_args[@]}"
if wants viommu; then
	mapfile -t b < <(blk rp1 d0)
	boot_bg viommu x86_64 1 "$work/bzImage" "$work/initrd.gz" \
		"iommu.passthrough=0 systest.run=reset systest.iommu=viommu systest.methods=flr,pm,bus $common" \
		"${x86[@]}" -device virtio-iommu-pci "${rootport[@]}" "${b[@]}"
fi
boot_wait

if wants amd; then
	# QEMU 7.2's amd-iommu does not translate the DMA of a device behind
	# a PCIe root port (the first read never completes): the device is on
	# the root bus, where it has no reset method (README).
	mapfile -t b < <(blk pcie.0 d0)
	boot_bg amd x86_64 1 "$work/bzImage" "$work/initrd.gz" \
		"iommu.passthrough=0 systest.run=reset systest.iommu=amd $common" \
		-machine q35 -device amd-iommu "${b[@]}"
fi
if ((arm_ok)); then
	mapfile -t b < <(blk rp1 d0)
	boot_bg smmuv3 arm64 1 "$work/Image.gz" "$work/initrd-arm64.gz" \
		"iommu.passthrough=0 systest.run=reset systest.iommu=smmuv3 systest.methods=flr,pm,bus $common" \
		-machine virt,iommu=smmuv3 "${rootport[@]}" "${b[@]}"
fi
boot_wait

for t in selftest vtd amd viommu; do
	! wants $t || report $t
done
((arm_ok == 0)) || report smmuv3
# The base's boots: the reference of the series', shown, not counted.
if ((base_ok)); then
	INFO_MODE=1
	! wants selftest || report base-selftest
	! wants vtd || report base-vtd
	INFO_MODE=0
	! wants vtd || compare_checks base-vtd vtd
fi
# The selftest's tests: compared with the base's run when there is one,
# counted alone otherwise (a run without results fails either way).
if wants selftest; then
	selftest_results "$RESULTS/systest-selftest.log" iommufd >"$work/st.series"
	if ((base_ok)); then
		selftest_results "$RESULTS/systest-base-selftest.log" iommufd >"$work/st.base"
		compare_selftest "$work/st.base" "$work/st.series"
	else
		compare_selftest none "$work/st.series"
	fi
fi

write_results
((n_fail == 0))
exit
}
