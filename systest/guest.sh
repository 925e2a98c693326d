#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the system tests' initramfs (busybox sh), see scripts/systest.sh.
# The kernel command line says what to run:
#   systest.run=LIST      comma-separated: selftest, selftest-fail-nth,
#                         reset, vfio
#   systest.iommu=NAME    the IOMMU expected: dmar, amd, viommu, smmuv3
#   systest.md5=SUM       md5sum of the test disk
#   systest.ats=1         the device must have ATS enabled
#   systest.rounds=N      rounds of the vfio reset/attach race
#   systest.race_dev=noats  the race on the virtio-blk without ATS
#   systest.methods=LIST  reset methods the device must have (flr,pm,bus)
# Results go to the kernel log through /dev/kmsg (boot with
# printk.devkmsg=on), one record a line, so that they never interleave with
# kernel messages on the console:
#   systest: ok - NAME [# DETAIL]     systest: not ok - NAME [# DETAIL]
#   iommufd: LINE (the selftest's TAP)  vfio-race: LINE (the race's TAP)
#   systest: done N     (N: how many ok/not ok lines; then it powers off)

/bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /tmp
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
# the shell's own messages off the console (they could split a result
# line there); shown at the end
exec 2>>/tmp/init.err
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

# (a kmsg record over about 1 KiB is refused: cut)
say() { printf '<5>%.900s\n' "$*" >/dev/kmsg; }
COUNT=0
ok() {
	COUNT=$((COUNT + 1))
	say "systest: ok - $1${2:+ # $2}"
}
notok() {
	COUNT=$((COUNT + 1))
	say "systest: not ok - $1${2:+ # $2}"
}
check() { # NAME DETAIL COMMAND...: ok when COMMAND succeeds
	n=$1 d=$2
	shift 2
	if "$@"; then ok "$n" "$d"; else notok "$n" "$d"; fi
}
finish() {
	while IFS= read -r l; do say "systest: # stderr: $l"; done </tmp/init.err
	# the host checks that it read as many results
	say "systest: done $COUNT"
	sync
	poweroff -f
	sleep 10
}

arg() { # the value of systest.$1= on the command line
	read -r cmdline </proc/cmdline
	for w in $cmdline; do
		case $w in systest.$1=*) echo "${w#*=}" ;; esac
	done
}
RUN=$(arg run)
IOMMU=$(arg iommu)
MD5=$(arg md5)
ATS=$(arg ats)
ROUNDS=$(arg rounds)
wants() { case ",$RUN," in *",$1,"*) return 0 ;; esac; return 1; }

# cfg16 BDF OFFSET / cfg32 BDF OFFSET: config space (the sysfs file gives
# all 4 KiB to root), little endian
cfg16() { od -An -tu2 -j "$2" -N2 "/sys/bus/pci/devices/$1/config" | tr -d ' '; }
cfg32() { od -An -tu4 -j "$2" -N4 "/sys/bus/pci/devices/$1/config" | tr -d ' '; }
# ext_cap BDF ID: offset of the PCIe extended capability ID, or nothing
ext_cap() {
	off=256 hops=0
	while [ "$off" -ge 256 ] && [ "$hops" -lt 64 ]; do
		h=$(cfg32 "$1" "$off")
		[ -n "$h" ] && [ "$h" != 0 ] || return 1
		if [ $((h & 0xffff)) -eq "$2" ]; then
			echo "$off"
			return 0
		fi
		off=$(((h >> 20) & 0xffc))
		hops=$((hops + 1))
	done
	return 1
}
ats_enabled() { # BDF: the ATS capability's Enable bit (control register bit 15)
	c=$(ext_cap "$1" 15) || return 1
	[ $(($(cfg16 "$1" $((c + 6))) & 0x8000)) -ne 0 ]
}

# A test device: a modern virtio-blk function (1af4:1042); find_dev ats: one
# with an ATS capability, noats: one without, any: the first
find_dev() {
	for d in /sys/bus/pci/devices/*; do
		if [ "$(cat "$d/vendor")" != 0x1af4 ] || [ "$(cat "$d/device")" != 0x1042 ]; then
			continue
		fi
		case $1 in
		ats) ext_cap "${d##*/}" 15 >/dev/null || continue ;;
		noats) ext_cap "${d##*/}" 15 >/dev/null && continue ;;
		esac
		basename "$d"
		return 0
	done
	return 1
}
disk_of() { # BDF: the block device the virtio-blk driver made of it
	for b in /sys/bus/pci/devices/"$1"/virtio*/block/*; do
		[ -e "$b" ] && { basename "$b"; return 0; }
	done
	return 1
}
wait_disk() { # BDF: up to 30 s for its disk
	i=0
	while [ $i -lt 300 ]; do
		disk_of "$1" >/dev/null && return 0
		usleep 100000
		i=$((i + 1))
	done
	return 1
}
read_ok() { # BDF: the whole disk read through the device has the right sum
	dk=$(disk_of "$1") || return 1
	# in the background: a read whose DMA never completes must fail this
	# check, not hang the guest
	rm -f /tmp/md5
	(
		sync
		echo 3 >/proc/sys/vm/drop_caches
		md5sum "/dev/$dk" >/tmp/md5 2>&1
	) &
	pid=$! i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 300 ]; do
		usleep 100000
		i=$((i + 1))
	done
	if kill -0 $pid 2>/dev/null; then
		say "systest: # reading /dev/$dk did not end in 30 s"
		return 1
	fi
	s=$(cut -d' ' -f1 /tmp/md5)
	[ "$s" = "$MD5" ] || { say "systest: # /dev/$dk reads md5 $s, expected $MD5"; return 1; }
}
driver_of() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
unbind() { [ -e "/sys/bus/pci/devices/$1/driver" ] && echo "$1" >"/sys/bus/pci/devices/$1/driver/unbind"; }
bind_to() { # BDF DRIVER (a probe stuck on DMA fails after 30 s)
	unbind "$1"
	echo "$2" >"/sys/bus/pci/devices/$1/driver_override" || return 1
	echo "$1" >/sys/bus/pci/drivers_probe &
	pid=$! i=0
	while kill -0 $pid 2>/dev/null && [ $i -lt 300 ]; do
		usleep 100000
		i=$((i + 1))
	done
	[ "$(driver_of "$1")" = "$2" ]
}

iommu_probed() { # an IOMMU of the expected kind registered
	case $IOMMU in
	dmar) p='dmar*' ;;
	amd) p='ivhd*' ;;
	smmuv3) p='*smmu*' ;;
	viommu) p='0000:*' ;;
	*) return 1 ;;
	esac
	for i in /sys/class/iommu/$p; do
		[ -e "$i" ] && return 0
	done
	return 1
}
group_dma() { # BDF: in an IOMMU group whose default domain translates
	[ -e "/sys/bus/pci/devices/$1/iommu_group" ] || return 1
	t=$(cat "/sys/bus/pci/devices/$1/iommu_group/type")
	say "systest: # $1 is in group $(basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")") of type $t"
	case $t in DMA | DMA-FQ) return 0 ;; esac
	return 1
}

TR=/sys/kernel/tracing
trace_start() {
	[ -w $TR/set_ftrace_filter ] || return 1
	echo 0 >$TR/tracing_on
	echo nop >$TR/current_tracer
	echo 'pci_dev_reset_iommu_prepare pci_dev_reset_iommu_done' >$TR/set_ftrace_filter || return 1
	echo >$TR/trace
	echo function >$TR/current_tracer && echo 1 >$TR/tracing_on
}
# trace_check: the reset went through prepare then done, as many of each
trace_check() {
	echo 0 >$TR/tracing_on
	grep -o 'pci_dev_reset_iommu_[a-z]*' $TR/trace >/tmp/calls
	np=$(grep -c prepare /tmp/calls) nd=$(grep -c 'done' /tmp/calls)
	say "systest: # traced: $(tr '\n' ' ' </tmp/calls)"
	[ "$np" -ge 1 ] && [ "$np" = "$nd" ] && [ "$(head -n 1 /tmp/calls)" = pci_dev_reset_iommu_prepare ] &&
		[ "$(tail -n 1 /tmp/calls)" = pci_dev_reset_iommu_done ]
}

# ---------------------------------------------------------------------------
say "systest: start ($RUN on $IOMMU)"

if wants selftest; then
	# the hugepage cases of the selftest need huge pages (the largest
	# maps 128 MiB): 160 of 2 MiB
	echo 160 >/proc/sys/vm/nr_hugepages
	# PID 1's child; its TAP line by line into the log
	(cd /systest && ./iommufd 2>&1; echo "exit status $?") |
		while IFS= read -r l; do say "iommufd: $l"; done
fi
if wants selftest-fail-nth; then
	(cd /systest && ./iommufd_fail_nth 2>&1; echo "exit status $?") |
		while IFS= read -r l; do say "iommufd_fail_nth: $l"; done
fi

if wants reset || wants vfio; then
	check iommu-probed "$(cd /sys/class/iommu 2>/dev/null && echo *)" iommu_probed
	kind=any
	[ "$ATS" != 1 ] || kind=ats
	if BDF=$(find_dev $kind); then
		ok device-found "$BDF, driver $(driver_of "$BDF"), reset_method $(cat "/sys/bus/pci/devices/$BDF/reset_method" 2>/dev/null)"
	else
		notok device-found "no virtio-blk 1af4:1042"
		finish
	fi
	check device-dma-domain "$BDF" group_dma "$BDF"
fi

# reset_with METHOD: a function reset of the device by METHOD through
# sysfs, traced; the device translates and reads right after it
reset_with() {
	m=$1
	# virtio-pci has no reset_prepare/done hooks: unbind it around the reset
	check "unbind-for-$m" "$(driver_of "$BDF")" unbind "$BDF"
	if ! echo "$m" >"/sys/bus/pci/devices/$BDF/reset_method"; then
		notok "reset-$m" "cannot select $m in reset_method"
	else
		traced=0
		! trace_start || traced=1
		nlog=$(dmesg | wc -l)
		if echo 1 2>/tmp/err >"/sys/bus/pci/devices/$BDF/reset"; then
			ok "reset-$m" "echo 1 > /sys/bus/pci/devices/$BDF/reset"
		elif [ "$m" = bus ] && grep -q 'Inappropriate ioctl' /tmp/err &&
			dmesg | tail -n +$((nlog + 1)) | grep -q 'Data Link Layer Link Active not set'; then
			# QEMU's pcie-root-port does not report the link back up
			# after a secondary bus reset: the kernel resets the device,
			# then says the reset failed (ENOTTY); the rest is checked
			ok "reset-$m" "the bus was reset; the kernel then failed it ($(cat /tmp/err)): QEMU's root port reports no Data Link Layer Link Active"
		else
			notok "reset-$m" "echo 1 > /sys/bus/pci/devices/$BDF/reset: $(cat /tmp/err)"
		fi
		if [ $traced = 1 ]; then
			check "reset-$m-traced" "pci_dev_reset_iommu_prepare then _done, as many of each" trace_check
		else
			notok "reset-$m-traced" "cannot trace pci_dev_reset_iommu_prepare/done (not in this kernel?)"
		fi
	fi
	echo default >"/sys/bus/pci/devices/$BDF/reset_method"
	check "rebind-after-$m" virtio-pci bind_to "$BDF" virtio-pci
	wait_disk "$BDF"
	check "dma-domain-after-$m" "$BDF" group_dma "$BDF"
	[ "$ATS" != 1 ] || check "ats-enabled-after-$m" "$BDF" ats_enabled "$BDF"
	check "read-after-$m" "md5 $MD5" read_ok "$BDF"
}

if wants reset; then
	wait_disk "$BDF"
	[ "$ATS" != 1 ] || check ats-enabled "$BDF" ats_enabled "$BDF"
	check read "md5 $MD5" read_ok "$BDF"
	# every reset method the device has (QEMU's: flr pm bus)
	methods=
	read -r methods <"/sys/bus/pci/devices/$BDF/reset_method" 2>/dev/null
	[ -n "$methods" ] || say "systest: # $BDF has no reset method: nothing reset"
	# the methods the machine gives the device must all be there
	for m in $(arg methods | tr , ' '); do
		case " $methods " in
		*" $m "*) ;;
		*) notok "reset-$m" "not in the reset_method of $BDF ($methods)" ;;
		esac
	done
	for m in $methods; do
		reset_with "$m"
	done
fi

# The race runs on the function without ATS when there is one
# (systest.race_dev=noats, README: a PCI-core data race on an ATS device)
if wants vfio; then
	RBDF=$BDF
	if [ "$(arg race_dev)" = noats ]; then
		if RBDF=$(find_dev noats); then
			check race-device-dma-domain "$RBDF" group_dma "$RBDF"
		else
			notok race-device-found "no virtio-blk 1af4:1042 without ATS"
			RBDF=
		fi
	fi
	if [ -z "$RBDF" ]; then
		:
	elif bind_to "$RBDF" vfio-pci; then
		ok bind-vfio-pci "$RBDF"
		(/systest/vfio-reset-race --rounds "${ROUNDS:-100}" "$RBDF" 2>&1; echo "exit status $?") |
			while IFS= read -r l; do say "vfio-race: $l"; done
	else
		notok bind-vfio-pci "$RBDF is on $(driver_of "$RBDF")"
	fi
fi

finish
