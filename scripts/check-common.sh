#!/usr/bin/env bash
# check-common.sh [BASE...]: the KUnit helpers and suites are one source for
# every base: each of their files (iommu-kunit*) in drivers-iommu/<base>/ and
# include-linux/<base>/ must exist for every base and be byte-identical
# across them, except the per-base compat header (COMPAT_FILE), which every
# base must have.  The other copies are files a driver patch of one base adds
# (a driver's own KUnit test): not compared.  Prints
# one PASS/FAIL line per file and exits non-zero when any file differs or is
# missing.  Without bases: every base with a patches/<base>/series.
set -euo pipefail
{ # Read the whole script before running it: editing it meanwhile is safe.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

COMPAT_FILE=drivers-iommu/iommu-kunit-compat.h
bases=("$@")
if ((${#bases[@]} == 0)); then
	for s in "$REPO"/patches/*/series; do
		[[ -e $s ]] || continue
		b=${s%/series}
		bases+=("${b##*/}")
	done
fi
((${#bases[@]} >= 2)) || die "need at least two bases to compare (have: ${bases[*]:-none})"

# Every file name, as <dir>/<file>, that some base has.
declare -A names=()
for b in "${bases[@]}"; do
	for d in "${COPY_DIRS[@]}"; do
		[[ -d $REPO/$d/$b ]] || continue
		while IFS= read -r f; do
			names["$d/${f#"$REPO/$d/$b/"}"]=1
		done < <(find "$REPO/$d/$b" -type f -name 'iommu-kunit*')
	done
done
((${#names[@]} > 0)) || die "no copies in ${COPY_DIRS[*]} for ${bases[*]}"
[[ -n ${names[$COMPAT_FILE]:-} ]] || die "no base has $COMPAT_FILE"

bad=0
while IFS= read -r n; do
	d=${n%%/*} f=${n#*/}
	ref=
	why=
	for b in "${bases[@]}"; do
		p=$REPO/$d/$b/$f
		if [[ ! -f $p ]]; then
			why+=" missing for $b;"
			continue
		fi
		[[ $n != "$COMPAT_FILE" ]] || continue
		if [[ -z $ref ]]; then
			ref=$p
		elif ! cmp -s "$ref" "$p"; then
			why+=" $b differs from ${ref#"$REPO/"} ($({ diff "$ref" "$p" || true; } | grep -c '^[<>]' || true) lines);"
		fi
	done
	if [[ -n $why ]]; then
		printf 'FAIL common %s:%s\n' "$n" "${why%;}"
		bad=1
	else
		printf 'PASS common %s\n' "$n"
	fi
done < <(printf '%s\n' "${!names[@]}" | LC_ALL=C sort)
exit "$bad"
}
