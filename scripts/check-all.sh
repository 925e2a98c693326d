#!/usr/bin/env bash
# check-all.sh [BASE...]: the whole test run of 'make check'.
#   - shellcheck of every script (one item per file)
#   - the unit tests of the pipeline's parsers (scripts/test_*.py)
#   - the selftest of the pipeline (scripts/selftest.sh) on the first base
#   - for each base: fetch it if needed, then check.sh (per-patch checks,
#     copies, KUnit cases in each configuration)
# Ends with a summary and the line "N passed, N failed" counting every item;
# exits non-zero when anything failed.  Without bases (no patches/*/series
# yet) only the scripts are checked.
set -euo pipefail
{ # Read the whole script before running it: editing it meanwhile is safe.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

bases=("$@")
pass=0
fail=0
lines=()
t0=$(now)

# Lint the scripts.
while IFS= read -r f; do
	if out=$(cd "$REPO" && shellcheck "$f" 2>&1); then
		printf 'PASS shellcheck %s\n' "$f"
		pass=$((pass + 1))
	else
		printf 'FAIL shellcheck %s\n' "$f"
		printf '%s\n' "$out" | sed 's/^/      /' | first 40
		fail=$((fail + 1))
	fi
done < <(cd "$REPO" && { ls scripts/*.sh systest/*.sh; echo .ci/run; })
lines+=("shellcheck: $pass passed, $fail failed")

# Unit tests of the pipeline's own parsers (python3 -m unittest).
ut=$(cd "$REPO/scripts" && PYTHONDONTWRITEBYTECODE=1 python3 -m unittest -v 2>&1) && ut_rc=0 || ut_rc=$?
ut_pass=$(grep -c -E ' \.\.\. ok$' <<<"$ut" || true)
ut_fail=$(grep -c -E ' \.\.\. (FAIL|ERROR)$' <<<"$ut" || true)
if ((ut_rc != 0 && ut_fail == 0)) || ((ut_pass + ut_fail == 0)); then
	ut_fail=$((ut_fail + 1))
	printf 'FAIL unit tests (python3 -m unittest exited %d)\n' "$ut_rc"
	printf '%s\n' "$ut" | tail -n 20 | sed 's/^/      /'
fi
grep -E ' \.\.\. (ok|FAIL|ERROR)$' <<<"$ut" | sed -E 's/^(.*) \.\.\. ok$/PASS unit \1/; s/^(.*) \.\.\. (FAIL|ERROR)$/FAIL unit \1/' || true
pass=$((pass + ut_pass))
fail=$((fail + ut_fail))
lines+=("unit tests: $ut_pass passed, $ut_fail failed")

# The KUnit helpers and suites are one source for every base (but for the
# compat header): one item per file, when there are two bases to compare.
if ((${#bases[@]} >= 2)); then
	cm=$("$REPO/scripts/check-common.sh" "${bases[@]}" 2>&1) && cm_rc=0 || cm_rc=$?
	cm_pass=$(grep -c '^PASS ' <<<"$cm" || true)
	cm_fail=$(grep -c '^FAIL ' <<<"$cm" || true)
	if ((cm_rc != 0 && cm_fail == 0)) || ((cm_pass + cm_fail == 0)); then
		cm_fail=$((cm_fail + 1))
		printf 'FAIL common files (check-common.sh exited %d)\n' "$cm_rc"
	fi
	printf '%s\n' "$cm"
	pass=$((pass + cm_pass))
	fail=$((fail + cm_fail))
	lines+=("common files: $cm_pass passed, $cm_fail failed")
fi

# Fetch the first base now, the others in the background (network and xz,
# while the first base builds).  fetch-base.sh takes a lock per base: the
# loop below waits for a fetch still running.
prefetch_pid=
st_pid=
# shellcheck disable=SC2317 # called by the EXIT trap
stop_jobs() {
	local p
	for p in $prefetch_pid $st_pid; do
		kill_tree "$p"
	done
}
trap stop_jobs EXIT
first_ok=1
# The selftest's base: always the default one, even when only another base
# is checked: its throwaway series (a .kunitconfig with options 6.12 lacks)
# is written for it.
st_base=v7.3
if ((${#bases[@]})); then
	BASE=$st_base "$REPO/scripts/fetch-base.sh" || first_ok=0
	if ((${#bases[@]} > 1)) || [[ ${bases[0]} != "$st_base" ]]; then
		(
			trap - INT TERM
			for b in "${bases[@]}"; do
				[[ $b == "$st_base" ]] || BASE=$b "$REPO/scripts/fetch-base.sh" || true
			done
		) >"$CACHE/prefetch.log" 2>&1 &
		prefetch_pid=$!
	fi
fi

# The pipeline's selftest (every check fails on a patch made to trip it,
# every error case is said plainly), in the background: it is mostly
# single-threaded and fills the gaps of the builds.  Its items are counted at the end.
st_log=$CACHE/selftest.log
if ((${#bases[@]})); then
	mkdir -p "$CACHE"
	if ((first_ok)); then
		(trap - INT TERM; BASE=$st_base exec "$REPO/scripts/selftest.sh") >"$st_log" 2>&1 &
		st_pid=$!
	else
		echo "fetching $st_base failed" >"$st_log"
	fi
fi

if ((${#bases[@]} == 0)); then
	info "no patches/<base>/series in $REPO: no series to check (only the scripts were checked)"
fi
for b in "${bases[@]}"; do
	export BASE=$b
	s=$CACHE/$b/results/check-summary.txt
	rm -f "$s"
	if ! "$REPO/scripts/fetch-base.sh"; then
		printf 'FAIL [%s] fetch\n' "$b"
		fail=$((fail + 1))
		lines+=("$b: fetching the base failed")
		continue
	fi
	rc=0
	"$REPO/scripts/check.sh" || rc=$?
	if [[ -f $s ]]; then
		p=$(result_get "$s" passed)
		f=$(result_get "$s" failed)
		pass=$((pass + p))
		fail=$((fail + f))
		lines+=("$b: $(result_get "$s" version), $(result_get "$s" applied)/$(result_get "$s" patches) patches applied, $p passed, $f failed (KUnit cases: $(result_get "$s" kunit_passed) passed, $(result_get "$s" kunit_failed) failed; system tests: $(result_get "$s" systest_passed) passed, $(result_get "$s" systest_failed) failed), $(result_get "$s" seconds) s")
	else
		printf 'FAIL [%s] check.sh stopped (status %d) before writing its summary\n' "$b" "$rc"
		fail=$((fail + 1))
		lines+=("$b: check.sh stopped with status $rc")
	fi
done

if ((${#bases[@]})); then
	st_rc=1
	if [[ -n $st_pid ]]; then
		info "waiting for the selftest (log $st_log)"
		st_rc=0
		wait "$st_pid" || st_rc=$?
		st_pid=
	fi
	grep -E '^(PASS|FAIL) ' "$st_log" | sed 's/^\(PASS\|FAIL\) /\1 selftest: /' || true
	grep -E '^FAIL ' -A 30 "$st_log" | grep -E '^ {6}' | first 60 || true
	st_pass=$(grep -c '^PASS ' "$st_log" || true)
	st_fail=$(grep -c '^FAIL ' "$st_log" || true)
	if ((st_rc != 0 && st_fail == 0)); then
		printf 'FAIL selftest: stopped with status %d before its end (log %s)\n' "$st_rc" "$st_log"
		tail -n 20 "$st_log" | sed 's/^/      /'
		st_fail=1
	fi
	pass=$((pass + st_pass))
	fail=$((fail + st_fail))
	lines+=("selftest ($st_base): $st_pass passed, $st_fail failed")
fi

printf '\n== summary (%d s)\n' "$(($(now) - t0))"
printf '  %s\n' "${lines[@]}"
printf '%d passed, %d failed\n' "$pass" "$fail"
((fail == 0))
exit
}
