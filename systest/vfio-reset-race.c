// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-reset-race - race VFIO_DEVICE_RESET against iommufd attach/replace
 *
 * Runs as root in a guest with a VT-d (or other) IOMMU and a modern
 * virtio-blk PCI device bound to vfio-pci, reachable as a VFIO cdev.
 *
 * The device is bound to iommufd and given four targets that alternate
 * between two IOASes A and B: IOAS A, HWPT b (a paging HWPT on IOAS B),
 * HWPT a (a paging HWPT on IOAS A) and IOAS B. Both IOASes map a different
 * host buffer at the same IOVA, each holding an identical virtqueue. One
 * thread resets the device with VFIO_DEVICE_RESET while another replaces its
 * domain with the next target; every result must be 0 or an allowed errno.
 * Then a minimal polled virtio-blk driver, running through VFIO, posts one
 * read in both rings: only the buffer of the IOAS of the domain the device
 * was last attached to may see the DMA. The same check is repeated after
 * one more reset, so that the domain is shown to survive it.
 *
 * The rotation differs from A, b, B, a on purpose: b -> B and a -> A would
 * keep the IOAS and could not be told apart by DMA. In A, b, a, B every
 * replace moves the device to the other IOAS.
 *
 * Output is TAP 13; the exit status is 0 only if every test passed.
 *
 * Build: gcc -static -O2 -pthread -Wall -Wextra -isystem HDR/include \
 *	      -o vfio-reset-race vfio-reset-race.c
 * (HDR from "make headers_install INSTALL_HDR_PATH=HDR").
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define __printf(a, b)		__attribute__((format(printf, a, b)))
#define __noreturn		__attribute__((noreturn))

#define NTESTS			10

#define NR_ERRNO		4096
#define MAX_FAIL_MSGS		8
#define FINAL_ATTACH_TRIES	50
#define RETRY_SLEEP_MS		10
#define DMA_TIMEOUT_MS		5000
#define DMA_SETTLE_MS		200
#define STATUS_TIMEOUT_MS	1000

/* Layout of each of the two DMA buffers, mapped at IOVA_BASE */
#define IOVA_BASE		0x10000000ULL
#define BUF_SIZE		0x4000
#define DESC_OFF		0x0000
#define AVAIL_OFF		0x0200
#define USED_OFF		0x0400
#define HDR_OFF			0x1000
#define DATA_OFF		0x2000
#define STATUS_OFF		0x3000
#define SECTOR_SIZE		512
#define POISON			0xa5
#define MAX_QSZ			8

#define COMMON(f)		offsetof(struct virtio_pci_common_cfg, f)

enum { IOAS_A, IOAS_B };

struct target {
	const char *name;
	uint32_t id;
	int ioas;
};

#define NR_TARGETS	4
static struct target targets[NR_TARGETS] = {
	{ .name = "IOAS A", .ioas = IOAS_A },
	{ .name = "HWPT b (on IOAS B)", .ioas = IOAS_B },
	{ .name = "HWPT a (on IOAS A)", .ioas = IOAS_A },
	{ .name = "IOAS B", .ioas = IOAS_B },
};

static struct {
	unsigned int rounds;
	unsigned int seconds;
	bool attach_ok[NR_ERRNO];
	bool reset_ok[NR_ERRNO];
	const char *attach_list;
	const char *reset_list;
	const char *bdf;
} opt = {
	.rounds = 200,
	.seconds = 60,
	.attach_list = "EBUSY",
	.reset_list = "EAGAIN",
};

struct outcome {
	unsigned long n[NR_ERRNO];
};

struct failures {
	unsigned int count;
	char msg[MAX_FAIL_MSGS][160];
};

struct race {
	int devfd;
	uint64_t deadline;
	pthread_barrier_t start;
	unsigned long reset_seq;	/* odd while a reset is in flight */
	bool reset_done;
	unsigned int reset_rounds;
	unsigned int attach_rounds;
	struct outcome reset_out;
	struct outcome attach_out;
	struct outcome attach_overlap;
	struct failures reset_fail;
	struct failures attach_fail;
	int last_ok;
	int last_tried;
};

static struct race race;

/* Next TAP test number, read by the SIGALRM handler */
static volatile sig_atomic_t tap_next = 1;
static bool all_ok = true;

/* ---------------------------------------------------------------- output */

static void __printf(1, 2) diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void __printf(2, 3)
tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", (int)tap_next);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	tap_next = tap_next + 1;
	if (!ok)
		all_ok = false;
}

static void __noreturn __printf(1, 2)
bail(const char *fmt, ...)
{
	va_list ap;

	fputs("Bail out! ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(1);
}

static void on_alarm(int sig)
{
	static const char pre[] = "not ok ";
	static const char post[] =
		" - timed out: a step did not finish in time\n"
		"Bail out! timeout\n";
	char num[16];
	int n = tap_next, i = sizeof(num);
	ssize_t r;

	(void)sig;
	do {
		num[--i] = '0' + n % 10;
		n /= 10;
	} while (n && i > 0);
	r = write(STDOUT_FILENO, pre, sizeof(pre) - 1);
	r = write(STDOUT_FILENO, num + i, sizeof(num) - i);
	r = write(STDOUT_FILENO, post, sizeof(post) - 1);
	(void)r;
	_exit(1);
}

static const char *errname(int err)
{
	static __thread char buf[16];
	const char *name;

	if (!err)
		return "0";
	name = strerrorname_np(err);
	if (name)
		return name;
	snprintf(buf, sizeof(buf), "E%d", err);
	return buf;
}

static void __printf(2, 3)
add_failure(struct failures *f, const char *fmt, ...)
{
	va_list ap;

	if (f->count < MAX_FAIL_MSGS) {
		va_start(ap, fmt);
		vsnprintf(f->msg[f->count], sizeof(f->msg[0]), fmt, ap);
		va_end(ap);
	}
	f->count++;
}

static void print_failures(const struct failures *f)
{
	unsigned int i;

	for (i = 0; i < f->count && i < MAX_FAIL_MSGS; i++)
		diag("  %s", f->msg[i]);
	if (f->count > MAX_FAIL_MSGS)
		diag("  ... and %u more", f->count - MAX_FAIL_MSGS);
}

static void print_outcome(const char *what, const struct outcome *o)
{
	char line[512], item[64];
	unsigned long total = 0;
	int e;

	line[0] = '\0';
	for (e = 0; e < NR_ERRNO; e++) {
		if (!o->n[e])
			continue;
		total += o->n[e];
		snprintf(item, sizeof(item), " %s=%lu", errname(e), o->n[e]);
		if (strlen(line) + strlen(item) < sizeof(line))
			strcat(line, item);
	}
	diag("%s: %lu calls:%s", what, total, total ? line : " none");
}

/* ---------------------------------------------------------------- helpers */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int errno_by_name(const char *name)
{
	static const struct {
		const char *name;
		int err;
	} alias[] = {
		{ "EWOULDBLOCK", EWOULDBLOCK },
		{ "EDEADLOCK", EDEADLOCK },
		{ "ENOTSUP", ENOTSUP },
	};
	const char *n;
	unsigned int i;
	int e;

	for (e = 1; e < NR_ERRNO; e++) {
		n = strerrorname_np(e);
		if (n && !strcmp(n, name))
			return e;
	}
	for (i = 0; i < ARRAY_SIZE(alias); i++)
		if (!strcmp(alias[i].name, name))
			return alias[i].err;
	return -1;
}

/* Parse a comma-separated list of errno names; "" allows none */
static int parse_errnos(const char *list, bool *allowed)
{
	char *copy = strdup(list), *tok, *save = NULL, *end;
	int e;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		end = tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (!*tok)
			continue;
		e = errno_by_name(tok);
		if (e <= 0) {
			fprintf(stderr, "unknown errno name '%s'\n", tok);
			free(copy);
			return -1;
		}
		allowed[e] = true;
	}
	free(copy);
	return 0;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [--rounds N] [--seconds S] [--attach-errnos LIST] [--reset-errnos LIST] BDF\n"
		"  --rounds N            resets to issue; the replace thread runs at\n"
		"                        least N rounds and until the resets end (200)\n"
		"  --seconds S           time bound of the race (60)\n"
		"  --attach-errnos LIST  errnos allowed for VFIO_DEVICE_ATTACH_IOMMUFD_PT\n"
		"                        in the race, comma separated, \"\" = none (EBUSY)\n"
		"  --reset-errnos LIST   errnos allowed for VFIO_DEVICE_RESET (EAGAIN)\n",
		prog);
	exit(2);
}

static unsigned int parse_uint(const char *s, const char *prog)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > UINT_MAX / 2)
		usage(prog);
	return v;
}

static void parse_args(int argc, char **argv)
{
	const char *val;
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		size_t n;

		if (a[0] != '-' || a[1] != '-') {
			if (opt.bdf)
				usage(argv[0]);
			opt.bdf = a;
			continue;
		}
		if (!strcmp(a, "--help"))
			usage(argv[0]);
		val = strchr(a, '=');
		n = val ? (size_t)(val - a) : strlen(a);
		if (val) {
			val++;
		} else {
			if (i + 1 >= argc)
				usage(argv[0]);
			val = argv[++i];
		}
		if (n == 8 && !strncmp(a, "--rounds", n))
			opt.rounds = parse_uint(val, argv[0]);
		else if (n == 9 && !strncmp(a, "--seconds", n))
			opt.seconds = parse_uint(val, argv[0]);
		else if (n == 15 && !strncmp(a, "--attach-errnos", n))
			opt.attach_list = val;
		else if (n == 14 && !strncmp(a, "--reset-errnos", n))
			opt.reset_list = val;
		else
			usage(argv[0]);
	}
	if (!opt.bdf || !opt.seconds)
		usage(argv[0]);
	if (parse_errnos(opt.attach_list, opt.attach_ok) ||
	    parse_errnos(opt.reset_list, opt.reset_ok))
		usage(argv[0]);
}

/* ---------------------------------------------------------------- iommufd */

static int ioas_alloc(int iommufd, uint32_t *id)
{
	struct iommu_ioas_alloc alloc = {
		.size = sizeof(alloc),
	};

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc))
		return -errno;
	*id = alloc.out_ioas_id;
	return 0;
}

static int ioas_map(int iommufd, uint32_t ioas, void *va, uint64_t len,
		    uint64_t iova)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return ioctl(iommufd, IOMMU_IOAS_MAP, &map) ? -errno : 0;
}

static int hwpt_alloc(int iommufd, uint32_t dev_id, uint32_t pt_id,
		      uint32_t *id)
{
	struct iommu_hwpt_alloc alloc = {
		.size = sizeof(alloc),
		.flags = 0,
		.dev_id = dev_id,
		.pt_id = pt_id,
		.data_type = IOMMU_HWPT_DATA_NONE,
	};

	if (ioctl(iommufd, IOMMU_HWPT_ALLOC, &alloc))
		return -errno;
	*id = alloc.out_hwpt_id;
	return 0;
}

static int iommufd_destroy(int iommufd, uint32_t id)
{
	struct iommu_destroy d = {
		.size = sizeof(d),
		.id = id,
	};

	return ioctl(iommufd, IOMMU_DESTROY, &d) ? -errno : 0;
}

/* Returns 0 or a positive errno */
static int attach_pt(int devfd, uint32_t pt_id)
{
	struct vfio_device_attach_iommufd_pt at = {
		.argsz = sizeof(at),
		.flags = 0,
		.pt_id = pt_id,
	};

	return ioctl(devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &at) ? errno : 0;
}

static int detach_pt(int devfd)
{
	struct vfio_device_detach_iommufd_pt dt = {
		.argsz = sizeof(dt),
		.flags = 0,
	};

	return ioctl(devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &dt) ? errno : 0;
}

static int device_reset(int devfd)
{
	return ioctl(devfd, VFIO_DEVICE_RESET) ? errno : 0;
}

/* ---------------------------------------------------------------- race */

static void *reset_thread(void *arg)
{
	struct race *r = arg;
	unsigned int round;
	int err;

	pthread_barrier_wait(&r->start);
	for (round = 0; round < opt.rounds && now_ms() < r->deadline;
	     round++) {
		__atomic_add_fetch(&r->reset_seq, 1, __ATOMIC_SEQ_CST);
		err = device_reset(r->devfd);
		__atomic_add_fetch(&r->reset_seq, 1, __ATOMIC_SEQ_CST);
		if (err >= NR_ERRNO)
			err = NR_ERRNO - 1;
		r->reset_out.n[err]++;
		if (err && (err >= NR_ERRNO || !opt.reset_ok[err]))
			add_failure(&r->reset_fail,
				    "VFIO_DEVICE_RESET round %u: %s (%d)",
				    round, errname(err), err);
	}
	r->reset_rounds = round;
	__atomic_store_n(&r->reset_done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *attach_thread(void *arg)
{
	struct race *r = arg;
	unsigned long seq0, seq1;
	unsigned int round;
	int next, err;

	pthread_barrier_wait(&r->start);
	for (round = 0; now_ms() < r->deadline; round++) {
		if (round >= opt.rounds &&
		    __atomic_load_n(&r->reset_done, __ATOMIC_SEQ_CST))
			break;
		/* Always a replace that moves the device to the other IOAS */
		next = (r->last_ok + 1) % NR_TARGETS;
		seq0 = __atomic_load_n(&r->reset_seq, __ATOMIC_SEQ_CST);
		err = attach_pt(r->devfd, targets[next].id);
		seq1 = __atomic_load_n(&r->reset_seq, __ATOMIC_SEQ_CST);
		if (err >= NR_ERRNO)
			err = NR_ERRNO - 1;
		r->attach_out.n[err]++;
		if ((seq0 & 1) || seq1 != seq0)
			r->attach_overlap.n[err]++;
		r->last_tried = next;
		if (!err)
			r->last_ok = next;
		else if (!opt.attach_ok[err])
			add_failure(&r->attach_fail,
				    "VFIO_DEVICE_ATTACH_IOMMUFD_PT round %u (to %s): %s (%d)",
				    round, targets[next].name, errname(err),
				    err);
	}
	r->attach_rounds = round;
	return NULL;
}

/* ---------------------------------------------------------------- virtio */

struct vloc {
	bool found;
	uint8_t bar;
	uint32_t off;
	uint32_t len;
};

struct vdev {
	int fd;
	uint64_t cfg_off;
	uint64_t bar_off[PCI_STD_NUM_BARS];
	uint64_t bar_size[PCI_STD_NUM_BARS];
	struct vloc common;
	struct vloc notify;
	struct vloc device;
	uint32_t notify_mult;
	uint16_t qsz;
	uint16_t notify_off;
	char err[256];
};

static void __printf(2, 3)
verr(struct vdev *vd, const char *fmt, ...)
{
	va_list ap;

	if (vd->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(vd->err, sizeof(vd->err), fmt, ap);
	va_end(ap);
}

static void vio(struct vdev *vd, bool wr, uint64_t off, void *buf,
		size_t size, const char *what)
{
	ssize_t n;

	n = wr ? pwrite(vd->fd, buf, size, off) : pread(vd->fd, buf, size, off);
	if (n != (ssize_t)size)
		verr(vd, "%s of %zu bytes at 0x%llx (%s) returned %zd: %s",
		     wr ? "pwrite" : "pread", size, (unsigned long long)off,
		     what, n, n < 0 ? strerror(errno) : "short");
}

static uint8_t rd8(struct vdev *vd, uint64_t off, const char *what)
{
	uint8_t v = 0xff;

	vio(vd, false, off, &v, 1, what);
	return v;
}

static uint16_t rd16(struct vdev *vd, uint64_t off, const char *what)
{
	uint16_t v = 0xffff;

	vio(vd, false, off, &v, 2, what);
	return le16toh(v);
}

static uint32_t rd32(struct vdev *vd, uint64_t off, const char *what)
{
	uint32_t v = 0xffffffff;

	vio(vd, false, off, &v, 4, what);
	return le32toh(v);
}

static void wr8(struct vdev *vd, uint64_t off, uint8_t v, const char *what)
{
	vio(vd, true, off, &v, 1, what);
}

static void wr16(struct vdev *vd, uint64_t off, uint16_t v, const char *what)
{
	v = htole16(v);
	vio(vd, true, off, &v, 2, what);
}

static void wr32(struct vdev *vd, uint64_t off, uint32_t v, const char *what)
{
	v = htole32(v);
	vio(vd, true, off, &v, 4, what);
}

static uint64_t loc_off(struct vdev *vd, const struct vloc *l, uint32_t off)
{
	return vd->bar_off[l->bar] + l->off + off;
}

#define common_rd8(vd, f)	rd8(vd, loc_off(vd, &(vd)->common, COMMON(f)), #f)
#define common_rd16(vd, f)	rd16(vd, loc_off(vd, &(vd)->common, COMMON(f)), #f)
#define common_rd32(vd, f)	rd32(vd, loc_off(vd, &(vd)->common, COMMON(f)), #f)
#define common_wr8(vd, f, v)	wr8(vd, loc_off(vd, &(vd)->common, COMMON(f)), v, #f)
#define common_wr16(vd, f, v)	wr16(vd, loc_off(vd, &(vd)->common, COMMON(f)), v, #f)
#define common_wr32(vd, f, v)	wr32(vd, loc_off(vd, &(vd)->common, COMMON(f)), v, #f)

static int region_info(int fd, uint32_t index, uint64_t *off, uint64_t *size)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info),
		.index = index,
	};

	if (ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, &info))
		return -errno;
	*off = info.offset;
	*size = info.size;
	return 0;
}

/* Find the regions and the virtio capabilities; enable memory and DMA */
static int vio_probe(struct vdev *vd)
{
	const struct {
		const char *name;
		const struct vloc *loc;
	} want[] = {
		{ "common", &vd->common },
		{ "notify", &vd->notify },
		{ "device", &vd->device },
	};
	uint64_t size;
	uint16_t status;
	uint8_t pos, type;
	int i, ret, guard;

	ret = region_info(vd->fd, VFIO_PCI_CONFIG_REGION_INDEX, &vd->cfg_off,
			  &size);
	if (ret) {
		verr(vd, "VFIO_DEVICE_GET_REGION_INFO(config): %s",
		     errname(-ret));
		return -1;
	}
	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		ret = region_info(vd->fd, VFIO_PCI_BAR0_REGION_INDEX + i,
				  &vd->bar_off[i], &vd->bar_size[i]);
		if (ret) {
			verr(vd, "VFIO_DEVICE_GET_REGION_INFO(BAR%d): %s", i,
			     errname(-ret));
			return -1;
		}
	}

	status = rd16(vd, vd->cfg_off + PCI_STATUS, "PCI_STATUS");
	if (vd->err[0])
		return -1;
	if (!(status & PCI_STATUS_CAP_LIST)) {
		verr(vd, "no capability list (status 0x%04x)", status);
		return -1;
	}
	pos = rd8(vd, vd->cfg_off + PCI_CAPABILITY_LIST, "cap list");
	for (guard = 0; pos && guard < 48 && !vd->err[0]; guard++) {
		uint64_t c = vd->cfg_off + (pos & ~3);
		struct vloc *l;

		if (rd8(vd, c + PCI_CAP_LIST_ID, "cap id") != PCI_CAP_ID_VNDR)
			goto next;
		type = rd8(vd, c + offsetof(struct virtio_pci_cap, cfg_type),
			   "cfg_type");
		if (type == VIRTIO_PCI_CAP_COMMON_CFG)
			l = &vd->common;
		else if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
			l = &vd->notify;
		else if (type == VIRTIO_PCI_CAP_DEVICE_CFG)
			l = &vd->device;
		else
			goto next;
		if (l->found)
			goto next;	/* the first one of each type is used */
		l->bar = rd8(vd, c + offsetof(struct virtio_pci_cap, bar),
			     "cap bar");
		l->off = rd32(vd, c + offsetof(struct virtio_pci_cap, offset),
			      "cap offset");
		l->len = rd32(vd, c + offsetof(struct virtio_pci_cap, length),
			      "cap length");
		if (l->bar >= PCI_STD_NUM_BARS ||
		    (uint64_t)l->off + l->len > vd->bar_size[l->bar])
			goto next;	/* not usable, a later one may be */
		l->found = true;
		if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
			vd->notify_mult = rd32(vd, c +
				offsetof(struct virtio_pci_notify_cap,
					 notify_off_multiplier),
				"notify_off_multiplier");
next:
		pos = rd8(vd, c + PCI_CAP_LIST_NEXT, "cap next");
	}
	if (vd->err[0])
		return -1;
	for (i = 0; i < (int)ARRAY_SIZE(want); i++) {
		if (!want[i].loc->found) {
			verr(vd, "no usable virtio %s capability",
			     want[i].name);
			return -1;
		}
	}
	if (vd->common.len < COMMON(queue_used_hi) + 4) {
		verr(vd, "common config too short (%u)", vd->common.len);
		return -1;
	}
	diag("virtio caps: common BAR%u+0x%x/0x%x notify BAR%u+0x%x/0x%x (x%u) device BAR%u+0x%x/0x%x",
	     vd->common.bar, vd->common.off, vd->common.len, vd->notify.bar,
	     vd->notify.off, vd->notify.len, vd->notify_mult, vd->device.bar,
	     vd->device.off, vd->device.len);
	return 0;
}

static int vio_enable_pci(struct vdev *vd)
{
	uint16_t cmd;

	cmd = rd16(vd, vd->cfg_off + PCI_COMMAND, "PCI_COMMAND");
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	wr16(vd, vd->cfg_off + PCI_COMMAND, cmd, "PCI_COMMAND");
	cmd = rd16(vd, vd->cfg_off + PCI_COMMAND, "PCI_COMMAND");
	if (!vd->err[0] && (cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER)) !=
			   (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER))
		verr(vd, "PCI_COMMAND 0x%04x: memory/bus master did not stick",
		     cmd);
	return vd->err[0] ? -1 : 0;
}

static int vio_wait_status(struct vdev *vd, uint8_t want)
{
	uint64_t end = now_ms() + STATUS_TIMEOUT_MS;
	uint8_t s;

	do {
		s = common_rd8(vd, device_status);
		if (vd->err[0])
			return -1;
		if (s == want)
			return 0;
		sleep_ms(1);
	} while (now_ms() < end);
	verr(vd, "device_status stayed 0x%02x, waited for 0x%02x", s, want);
	return -1;
}

/* Reset the virtio device and bring queue 0 up on the rings at IOVA_BASE */
static int vio_start(struct vdev *vd)
{
	const uint64_t want_mask = (1ULL << VIRTIO_F_VERSION_1) |
				   (1ULL << VIRTIO_F_ACCESS_PLATFORM);
	uint64_t features, accepted;
	uint32_t cap_lo, cap_hi;
	uint16_t qmax, qsz;
	uint8_t status;

	if (vio_enable_pci(vd))
		return -1;

	common_wr8(vd, device_status, 0);
	if (vio_wait_status(vd, 0))
		return -1;
	status = VIRTIO_CONFIG_S_ACKNOWLEDGE;
	common_wr8(vd, device_status, status);
	status |= VIRTIO_CONFIG_S_DRIVER;
	common_wr8(vd, device_status, status);

	common_wr32(vd, device_feature_select, 0);
	features = common_rd32(vd, device_feature);
	common_wr32(vd, device_feature_select, 1);
	features |= (uint64_t)common_rd32(vd, device_feature) << 32;
	if (vd->err[0])
		return -1;
	accepted = features & want_mask;
	if (!(accepted & (1ULL << VIRTIO_F_VERSION_1))) {
		verr(vd, "device does not offer VIRTIO_F_VERSION_1 (0x%llx)",
		     (unsigned long long)features);
		return -1;
	}
	common_wr32(vd, guest_feature_select, 0);
	common_wr32(vd, guest_feature, (uint32_t)accepted);
	common_wr32(vd, guest_feature_select, 1);
	common_wr32(vd, guest_feature, (uint32_t)(accepted >> 32));
	status |= VIRTIO_CONFIG_S_FEATURES_OK;
	common_wr8(vd, device_status, status);
	if (!(common_rd8(vd, device_status) & VIRTIO_CONFIG_S_FEATURES_OK)) {
		verr(vd, "FEATURES_OK did not stick (accepted 0x%llx)",
		     (unsigned long long)accepted);
		return -1;
	}

	common_wr16(vd, msix_config, VIRTIO_MSI_NO_VECTOR);
	common_wr16(vd, queue_select, 0);
	qmax = common_rd16(vd, queue_size);
	if (vd->err[0])
		return -1;
	if (!qmax) {
		verr(vd, "queue 0 not available");
		return -1;
	}
	for (qsz = MAX_QSZ; qsz > qmax; qsz >>= 1)
		;
	vd->qsz = qsz;
	common_wr16(vd, queue_size, qsz);
	common_wr16(vd, queue_msix_vector, VIRTIO_MSI_NO_VECTOR);
	common_wr32(vd, queue_desc_lo, (uint32_t)(IOVA_BASE + DESC_OFF));
	common_wr32(vd, queue_desc_hi, (uint32_t)((IOVA_BASE + DESC_OFF) >> 32));
	common_wr32(vd, queue_avail_lo, (uint32_t)(IOVA_BASE + AVAIL_OFF));
	common_wr32(vd, queue_avail_hi,
		    (uint32_t)((IOVA_BASE + AVAIL_OFF) >> 32));
	common_wr32(vd, queue_used_lo, (uint32_t)(IOVA_BASE + USED_OFF));
	common_wr32(vd, queue_used_hi, (uint32_t)((IOVA_BASE + USED_OFF) >> 32));
	vd->notify_off = common_rd16(vd, queue_notify_off);
	common_wr16(vd, queue_enable, 1);
	if (vd->err[0])
		return -1;
	if ((uint64_t)vd->notify_off * vd->notify_mult + 2 > vd->notify.len) {
		verr(vd, "notify offset %u x %u beyond the notify area (%u)",
		     vd->notify_off, vd->notify_mult, vd->notify.len);
		return -1;
	}

	status |= VIRTIO_CONFIG_S_DRIVER_OK;
	common_wr8(vd, device_status, status);
	status = common_rd8(vd, device_status);
	cap_lo = rd32(vd, loc_off(vd, &vd->device, 0), "capacity lo");
	cap_hi = rd32(vd, loc_off(vd, &vd->device, 4), "capacity hi");
	if (vd->err[0])
		return -1;
	diag("virtio: features 0x%llx accepted 0x%llx queue max %u size %u notify_off %u status 0x%02x capacity %llu sectors",
	     (unsigned long long)features, (unsigned long long)accepted,
	     qmax, qsz, vd->notify_off, status,
	     ((unsigned long long)cap_hi << 32) | cap_lo);
	if (status & VIRTIO_CONFIG_S_NEEDS_RESET || status & VIRTIO_CONFIG_S_FAILED ||
	    !(status & VIRTIO_CONFIG_S_DRIVER_OK)) {
		verr(vd, "device status 0x%02x after DRIVER_OK", status);
		return -1;
	}
	return 0;
}

static void vio_notify(struct vdev *vd)
{
	wr16(vd, loc_off(vd, &vd->notify,
			 (uint32_t)vd->notify_off * vd->notify_mult), 0,
	     "queue notify");
}

/*
 * Poison the buffer and write the descriptors of one read of @sector, with an
 * empty avail ring: the device may read the rings as soon as it is enabled.
 */
static void buf_prepare(uint8_t *buf, uint32_t sector)
{
	struct vring_desc *desc = (void *)(buf + DESC_OFF);
	struct vring_avail *avail = (void *)(buf + AVAIL_OFF);
	struct virtio_blk_outhdr *hdr = (void *)(buf + HDR_OFF);

	memset(buf, POISON, BUF_SIZE);
	memset(buf + DESC_OFF, 0, AVAIL_OFF - DESC_OFF);
	memset(buf + AVAIL_OFF, 0, USED_OFF - AVAIL_OFF);
	memset(buf + USED_OFF, 0, HDR_OFF - USED_OFF);

	hdr->type = htole32(VIRTIO_BLK_T_IN);
	hdr->ioprio = 0;
	hdr->sector = htole64(sector);

	desc[0].addr = htole64(IOVA_BASE + HDR_OFF);
	desc[0].len = htole32(sizeof(*hdr));
	desc[0].flags = htole16(VRING_DESC_F_NEXT);
	desc[0].next = htole16(1);
	desc[1].addr = htole64(IOVA_BASE + DATA_OFF);
	desc[1].len = htole32(SECTOR_SIZE);
	desc[1].flags = htole16(VRING_DESC_F_NEXT | VRING_DESC_F_WRITE);
	desc[1].next = htole16(2);
	desc[2].addr = htole64(IOVA_BASE + STATUS_OFF);
	desc[2].len = htole32(1);
	desc[2].flags = htole16(VRING_DESC_F_WRITE);
	desc[2].next = 0;

	avail->flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	avail->idx = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Make the request of buf_prepare() available */
static void buf_post(uint8_t *buf)
{
	struct vring_avail *avail = (void *)(buf + AVAIL_OFF);

	avail->ring[0] = htole16(0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	__atomic_store_n(&avail->idx, htole16(1), __ATOMIC_SEQ_CST);
}

static uint16_t used_idx(uint8_t *buf)
{
	struct vring_used *used = (void *)(buf + USED_OFF);

	return le16toh(__atomic_load_n(&used->idx, __ATOMIC_ACQUIRE));
}

static void expected_sector(uint8_t *out, uint32_t sector)
{
	char line[64];
	size_t len, pos = 0, n;

	len = snprintf(line, sizeof(line), "iommu-systest sector %06u\n",
		       sector);
	while (pos < SECTOR_SIZE) {
		n = SECTOR_SIZE - pos < len ? SECTOR_SIZE - pos : len;
		memcpy(out + pos, line, n);
		pos += n;
	}
}

static void printable(char *dst, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? src[i] : '.';
	dst[n] = '\0';
}

struct bufstate {
	uint16_t used_idx;
	uint32_t used_id;
	uint32_t used_len;
	uint8_t status;
	int first_diff;		/* vs expected data, -1 if equal */
	bool poisoned;		/* data and status still POISON */
};

static void buf_state(uint8_t *buf, const uint8_t *expect,
		      struct bufstate *st)
{
	struct vring_used *used = (void *)(buf + USED_OFF);
	int i;

	st->used_idx = used_idx(buf);
	st->used_id = le32toh(used->ring[0].id);
	st->used_len = le32toh(used->ring[0].len);
	st->status = buf[STATUS_OFF];
	st->first_diff = -1;
	for (i = 0; i < SECTOR_SIZE; i++) {
		if (buf[DATA_OFF + i] != expect[i]) {
			st->first_diff = i;
			break;
		}
	}
	st->poisoned = buf[STATUS_OFF] == POISON;
	for (i = 0; i < SECTOR_SIZE && st->poisoned; i++)
		if (buf[DATA_OFF + i] != POISON)
			st->poisoned = false;
}

static void buf_diag(const char *name, uint8_t *buf,
		     const struct bufstate *st)
{
	char text[33];

	printable(text, buf + DATA_OFF, 32);
	diag("%s: used idx %u (id %u len %u) status 0x%02x data %s%s \"%s...\"",
	     name, st->used_idx, st->used_id, st->used_len, st->status,
	     st->first_diff < 0 ? "as expected" :
	     st->poisoned ? "poisoned" : "differs",
	     st->first_diff < 0 || st->poisoned ? "" : " (see offset)",
	     text);
	if (st->first_diff >= 0 && !st->poisoned)
		diag("%s: first difference at byte %d", name, st->first_diff);
}

/*
 * Post a read of @sector in both rings, notify queue 0 and check that only
 * the buffer of IOAS @final saw the DMA. Prints two TAP results.
 */
static void dma_check(struct vdev *vd, uint8_t *bufs[2], int final,
		      uint32_t sector, const char *when)
{
	const char *bname[2] = { "bufA (IOAS A)", "bufB (IOAS B)" };
	uint8_t expect[SECTOR_SIZE];
	struct bufstate st[2];
	uint64_t end, settle = 0;
	int other = !final;
	bool ok_final, ok_other;

	vd->err[0] = '\0';
	buf_prepare(bufs[0], sector);
	buf_prepare(bufs[1], sector);
	if (vio_start(vd)) {
		diag("virtio init failed: %s", vd->err);
		tap(false, "%s: DMA of sector %u lands in %s", when, sector,
		    bname[final]);
		tap(false, "%s: %s untouched", when, bname[other]);
		return;
	}
	buf_post(bufs[0]);
	buf_post(bufs[1]);
	vio_notify(vd);
	if (vd->err[0])
		diag("notify failed: %s", vd->err);

	end = now_ms() + DMA_TIMEOUT_MS;
	while (now_ms() < end) {
		if (!settle && (used_idx(bufs[0]) || used_idx(bufs[1])))
			settle = now_ms() + DMA_SETTLE_MS;
		if (settle && now_ms() >= settle)
			break;
		sleep_ms(1);
	}
	if (!settle)
		diag("no used idx advanced within %d ms (device status 0x%02x)",
		     DMA_TIMEOUT_MS, common_rd8(vd, device_status));

	expected_sector(expect, sector);
	buf_state(bufs[0], expect, &st[0]);
	buf_state(bufs[1], expect, &st[1]);
	buf_diag(bname[0], bufs[0], &st[0]);
	buf_diag(bname[1], bufs[1], &st[1]);

	ok_final = st[final].used_idx == 1 && st[final].used_id == 0 &&
		   st[final].status == VIRTIO_BLK_S_OK &&
		   st[final].first_diff < 0;
	ok_other = st[other].used_idx == 0 && st[other].poisoned;
	tap(ok_final, "%s: DMA of sector %u lands in %s", when, sector,
	    bname[final]);
	tap(ok_other, "%s: %s untouched", when, bname[other]);

	/* Stop the device so that it does no more DMA */
	vd->err[0] = '\0';
	common_wr8(vd, device_status, 0);
	vio_wait_status(vd, 0);
	if (vd->err[0])
		diag("virtio reset after the check: %s", vd->err);
}

/* ---------------------------------------------------------------- main */

static int open_vfio_cdev(const char *bdf, char *name, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir) {
		diag("%s: %s (is the device bound to vfio-pci with VFIO_DEVICE_CDEV?)",
		     path, strerror(errno));
		return -1;
	}
	name[0] = '\0';
	while ((de = readdir(dir))) {
		if (!strncmp(de->d_name, "vfio", 4)) {
			snprintf(name, len, "%s", de->d_name);
			break;
		}
	}
	closedir(dir);
	if (!name[0]) {
		diag("%s: no vfioN entry", path);
		return -1;
	}
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		diag("open %s: %s", path, strerror(errno));
	return fd;
}

static void *alloc_buf(void)
{
	void *p = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, POISON, BUF_SIZE);
	return p;
}

static int setup(int *iommufdp, int *devfdp, uint32_t ioas[2],
		 uint8_t *bufs[2])
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.flags = 0,
	};
	char name[NAME_MAX + 1];
	uint32_t hwpt_a, hwpt_b;
	int ret, i;

	*devfdp = open_vfio_cdev(opt.bdf, name, sizeof(name));
	if (*devfdp < 0)
		return -1;
	*iommufdp = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (*iommufdp < 0) {
		diag("open /dev/iommu: %s", strerror(errno));
		return -1;
	}
	bind.iommufd = *iommufdp;
	if (ioctl(*devfdp, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		diag("VFIO_DEVICE_BIND_IOMMUFD: %s", errname(errno));
		return -1;
	}
	diag("%s: /dev/vfio/devices/%s bound, dev_id %u", opt.bdf, name,
	     bind.out_devid);

	for (i = 0; i < 2; i++) {
		ret = ioas_alloc(*iommufdp, &ioas[i]);
		if (ret) {
			diag("IOMMU_IOAS_ALLOC: %s", errname(-ret));
			return -1;
		}
		bufs[i] = alloc_buf();
		if (!bufs[i]) {
			diag("mmap: %s", strerror(errno));
			return -1;
		}
		ret = ioas_map(*iommufdp, ioas[i], bufs[i], BUF_SIZE,
			       IOVA_BASE);
		if (ret) {
			diag("IOMMU_IOAS_MAP(IOAS %c): %s", 'A' + i,
			     errname(-ret));
			return -1;
		}
	}
	ret = hwpt_alloc(*iommufdp, bind.out_devid, ioas[IOAS_A], &hwpt_a);
	if (!ret)
		ret = hwpt_alloc(*iommufdp, bind.out_devid, ioas[IOAS_B],
				 &hwpt_b);
	if (ret) {
		diag("IOMMU_HWPT_ALLOC: %s", errname(-ret));
		return -1;
	}
	targets[0].id = ioas[IOAS_A];
	targets[1].id = hwpt_b;
	targets[2].id = hwpt_a;
	targets[3].id = ioas[IOAS_B];
	for (i = 0; i < NR_TARGETS; i++)
		diag("target %d: %s, id %u", i, targets[i].name,
		     targets[i].id);

	ret = attach_pt(*devfdp, targets[0].id);
	if (ret) {
		diag("first VFIO_DEVICE_ATTACH_IOMMUFD_PT(%s): %s",
		     targets[0].name, errname(ret));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t ioas[2] = { 0, 0 };
	uint8_t *bufs[2] = { NULL, NULL };
	struct vdev vd;
	pthread_t tr, ta;
	int iommufd = -1, devfd = -1, err, i, final;
	bool ok, vd_ok;
	uint64_t t0;

	parse_args(argc, argv);

	printf("TAP version 13\n1..%d\n", NTESTS);
	fflush(stdout);
	signal(SIGALRM, on_alarm);
	alarm(opt.seconds + 60);
	diag("vfio-reset-race %s: rounds %u seconds %u attach errnos \"%s\" reset errnos \"%s\"",
	     opt.bdf, opt.rounds, opt.seconds, opt.attach_list,
	     opt.reset_list);

	/* 1: setup */
	ok = !setup(&iommufd, &devfd, ioas, bufs);
	tap(ok, "setup: bind, IOAS A/B, HWPT a/b, maps, attach to %s",
	    targets[0].name);
	if (!ok)
		bail("setup failed");

	memset(&vd, 0, sizeof(vd));
	vd.fd = devfd;
	vd_ok = !vio_probe(&vd);
	if (!vd_ok)
		diag("virtio probe failed: %s", vd.err);

	/* 2, 3: the race */
	race.devfd = devfd;
	race.last_ok = 0;
	race.last_tried = 0;
	pthread_barrier_init(&race.start, NULL, 2);
	t0 = now_ms();
	race.deadline = t0 + (uint64_t)opt.seconds * 1000;
	if (pthread_create(&tr, NULL, reset_thread, &race) ||
	    pthread_create(&ta, NULL, attach_thread, &race))
		bail("pthread_create failed");
	pthread_join(tr, NULL);
	pthread_join(ta, NULL);
	diag("race: %u resets, %u attaches in %llu ms", race.reset_rounds,
	     race.attach_rounds, (unsigned long long)(now_ms() - t0));

	print_outcome("VFIO_DEVICE_RESET", &race.reset_out);
	print_failures(&race.reset_fail);
	tap(!race.reset_fail.count && race.reset_out.n[0],
	    "race: VFIO_DEVICE_RESET returned 0 or an allowed errno, and succeeded at least once");

	print_outcome("VFIO_DEVICE_ATTACH_IOMMUFD_PT", &race.attach_out);
	print_outcome("VFIO_DEVICE_ATTACH_IOMMUFD_PT issued while a VFIO_DEVICE_RESET was in flight",
		      &race.attach_overlap);
	print_failures(&race.attach_fail);
	tap(!race.attach_fail.count && race.attach_out.n[0],
	    "race: VFIO_DEVICE_ATTACH_IOMMUFD_PT returned 0 or an allowed errno, and succeeded at least once");

	/* 4: make the final domain known */
	diag("last attach tried: %s, last that returned 0: %s",
	     targets[race.last_tried].name, targets[race.last_ok].name);
	ok = true;
	if (race.last_ok != race.last_tried) {
		for (i = 0; i < FINAL_ATTACH_TRIES; i++) {
			err = attach_pt(devfd, targets[race.last_tried].id);
			if (!err) {
				race.last_ok = race.last_tried;
				break;
			}
			if (err >= NR_ERRNO || !opt.attach_ok[err]) {
				diag("final VFIO_DEVICE_ATTACH_IOMMUFD_PT(%s): %s",
				     targets[race.last_tried].name,
				     errname(err));
				ok = false;
				break;
			}
			sleep_ms(RETRY_SLEEP_MS);
		}
		if (race.last_ok != race.last_tried) {
			diag("final attach to %s did not succeed after %d tries",
			     targets[race.last_tried].name, i);
			ok = false;
		} else {
			diag("final attach to %s succeeded after %d retries",
			     targets[race.last_ok].name, i);
		}
	}
	final = targets[race.last_ok].ioas;
	tap(ok, "final domain known: %s", targets[race.last_ok].name);

	/* 5, 6: DMA goes to the final domain */
	if (vd_ok) {
		dma_check(&vd, bufs, final, 1, "after the race");
	} else {
		tap(false, "after the race: DMA lands in the final domain (no virtio device)");
		tap(false, "after the race: other buffer untouched (no virtio device)");
	}

	/* 7: one more reset */
	for (i = 0; i < FINAL_ATTACH_TRIES; i++) {
		err = device_reset(devfd);
		if (!err || err >= NR_ERRNO || !opt.reset_ok[err])
			break;
		sleep_ms(RETRY_SLEEP_MS);
	}
	if (err)
		diag("VFIO_DEVICE_RESET: %s after %d tries", errname(err), i + 1);
	tap(!err, "VFIO_DEVICE_RESET after the race");

	/* 8, 9: the domain survives the reset */
	if (vd_ok) {
		dma_check(&vd, bufs, final, 2, "after one more reset");
	} else {
		tap(false, "after one more reset: DMA lands in the final domain (no virtio device)");
		tap(false, "after one more reset: other buffer untouched (no virtio device)");
	}

	/* 10: cleanup */
	ok = true;
	err = detach_pt(devfd);
	if (err) {
		diag("VFIO_DEVICE_DETACH_IOMMUFD_PT: %s", errname(err));
		ok = false;
	}
	for (i = 1; i <= 2; i++) {
		err = iommufd_destroy(iommufd, targets[i].id);
		if (err) {
			diag("IOMMU_DESTROY(%s): %s", targets[i].name,
			     errname(-err));
			ok = false;
		}
	}
	for (i = 0; i < 2; i++) {
		err = iommufd_destroy(iommufd, ioas[i]);
		if (err) {
			diag("IOMMU_DESTROY(IOAS %c): %s", 'A' + i,
			     errname(-err));
			ok = false;
		}
	}
	tap(ok, "detach and destroy");
	close(devfd);
	close(iommufd);
	for (i = 0; i < 2; i++)
		munmap(bufs[i], BUF_SIZE);

	return all_ok ? 0 : 1;
}
