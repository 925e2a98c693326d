#!/usr/bin/env bash
# mutate.sh [NAME...]: run the KUnit suites of the series of BASE against
# bugs re-introduced one at a time into the tree the series makes:
# kunit/<base>/mutations/NAME.patch, each a diff against that tree whose
# first line ("Mutation: ...") says which bug it brings back; a line
# "Config: CONFIG" after it names the KUnit configuration whose cases catch
# it, when UML's cannot (x86_64-debug also runs the x86_64 ones).  A
# mutation is caught when a case fails or the
# kernel crashes, missed when every case passes; one that does not apply or
# does not build is an error; one for another configuration is skipped.
# Without NAME, every mutation of the base.  MUTATE_CONFIG picks the
# configuration (default uml; x86_64 and x86_64-debug take minutes each).
# Ends with "N caught, N missed, N errors, N skipped" and exits non-zero
# when one was missed or is an error.
#
# The mutated tree is a scratch clone of the base, $CACHE/<base>/mutate-work,
# with the patches of patches/<base>/ applied (neither the work tree nor the
# check tree is touched); builds go to $CACHE/<base>/build/mutate, results
# to results/mutate-NAME.{txt,log}.
set -euo pipefail
{ # Read the whole script before running it: editing it meanwhile is safe.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
load_series

dir=$REPO/kunit/$BASE/mutations
[[ -d $dir ]] || die "no mutations for base $BASE (no directory $dir)"
if (($# > 0)); then
	muts=()
	for m in "$@"; do
		[[ -f $dir/$m.patch ]] || die "no mutation '$m' for base $BASE (not in $dir)"
		muts+=("$dir/$m.patch")
	done
else
	mapfile -t muts < <(find "$dir" -maxdepth 1 -name '*.patch' | LC_ALL=C sort)
	((${#muts[@]} > 0)) || die "no mutations in $dir"
fi

CHECK_WORK=$BASE_DIR/mutate-work
lock 7 "$CHECK_WORK.lock" "the mutation tree $CHECK_WORK"
info "applying ${#patches[@]} patches of $PATCH_DIR in $CHECK_WORK"
series_into_check_tree "${patches[@]}" ||
	die "patch $(basename "$AM_FAILED") (from $SERIES_FILE) does not apply to $BASE; nothing was mutated"

config=${MUTATE_CONFIG:-uml}
caught=0 missed=0 errors=0 skipped=0
for p in "${muts[@]}"; do
	name=$(basename "$p" .patch)
	what=$(sed -n '1s/^Mutation: //p' "$p")
	needs=$(sed -n '2,3s/^Config: //p' "$p")
	# The x86_64-debug kernel has all of x86_64 (IOMMU_DMA included)
	if [[ -n $needs && $needs != "$config" &&
		! ($needs == x86_64 && $config == x86_64-debug) ]]; then
		printf 'SKIPPED %s: caught in the %s configuration (MUTATE_CONFIG=%s) (%s)\n' "$name" "$needs" "$needs" "$what"
		skipped=$((skipped + 1))
		continue
	fi
	git -C "$CHECK_WORK" checkout -q -f HEAD -- .
	if ! git -C "$CHECK_WORK" apply "$p" 2>"$RESULTS/mutate-$name.log"; then
		printf 'ERROR %s: does not apply to the series (see %s)\n' "$name" "$RESULTS/mutate-$name.log"
		errors=$((errors + 1))
		continue
	fi
	KUNIT_BUILD_DIR=$BUILD_ROOT/mutate RESULT_NAME=mutate-$name \
		"$REPO/scripts/kunit.sh" "$config" "$CHECK_WORK" >>"$RESULTS/mutate-$name.log" 2>&1 || true
	status=$(result_get "$RESULTS/mutate-$name.txt" status)
	failed=$(result_get "$RESULTS/mutate-$name.txt" failed)
	crashed=$(result_get "$RESULTS/mutate-$name.txt" crashed)
	case $status in
	tests-failed | splats | no-results | timeout)
		printf 'CAUGHT %s: %s failed, %s crashed, %s (%s)\n' "$name" "${failed:-0}" "${crashed:-0}" "$status" "$what"
		caught=$((caught + 1))
		;;
	ok)
		printf 'MISSED %s: every case passed (%s)\n' "$name" "$what"
		missed=$((missed + 1))
		;;
	*)
		printf 'ERROR %s: %s (see %s)\n' "$name" "${status:-no result}" "$RESULTS/mutate-$name.log"
		errors=$((errors + 1))
		;;
	esac
done
git -C "$CHECK_WORK" checkout -q -f HEAD -- .
printf '%d caught, %d missed, %d errors, %d skipped\n' "$caught" "$missed" "$errors" "$skipped"
((missed + errors == 0))
exit
}
