// SPDX-License-Identifier: GPL-2.0-only
/*
 * A benchmark of the IOMMU core's attach, PASID, reset and deferred attach
 * paths, driven through the fake IOMMU driver of iommu-kunit-fake.c.
 *
 * This is not a pass/fail test of timings: each case times BENCH_BATCHES loops
 * of one operation and reports the mean time per operation of the fastest
 * loop as
 *
 *	bench <name>: <ns>.<hundredths> ns/op (<iterations> iterations)
 *
 * where <iterations> counts the operations of all the timed loops. The fastest
 * loop is the least disturbed by the rest of the machine (other tasks, the
 * host of a UML or QEMU guest; every loop sees timer ticks), which makes the
 * numbers of two kernels more comparable from run to run.
 *
 * It fails only when an operation does not succeed, so that a broken path
 * cannot pass for a fast one. The fake driver's callbacks are part of what is
 * timed; compare numbers between kernels built the same way, not with real
 * hardware.
 */
#include <kunit/test.h>
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/iommu-kunit.h>
#include <linux/ktime.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/pci.h>
#include <linux/stringify.h>

#include "iommu-priv.h"

/*
 * Iterations per case, split into BENCH_BATCHES timed loops: about 0.3 s per
 * case on UML. The timed loops are preceded by an untimed one of the same
 * length.
 */
#define BENCH_ITERS_ATTACH		6000000
#define BENCH_ITERS_REPLACE		4000000
#define BENCH_ITERS_PASID		350000
#define BENCH_ITERS_RESET		4000000
#define BENCH_ITERS_RESET_PASIDS	35000
#define BENCH_ITERS_DEFERRED		90000000

#define BENCH_NR_PASIDS		64
#define BENCH_BATCHES		20

static const struct bus_type bench_bus = {
	.name = "iommu-kunit-bench",
};

/*
 * The fake driver logs nothing, so that its callbacks cost little next to
 * the core: the numbers are mostly the core's.
 */
static const struct kfake_cfg bench_fake_cfg = {
	.release = KFAKE_RELEASE_BLOCKED,
	.max_pasids = 64,
	.no_log = true,
};

/* The same with the log, to check that the fast path calls nothing */
static const struct kfake_cfg bench_fake_logged_cfg = {
	.release = KFAKE_RELEASE_BLOCKED,
	.max_pasids = 64,
};

static void bench_report(struct kunit *test, const char *name, u64 best,
			 unsigned int per_loop)
{
	u64 whole;
	u32 frac;

	/* BENCH_ITERS_* below BENCH_BATCHES would time nothing */
	KUNIT_ASSERT_GT(test, per_loop, 0);
	whole = div_u64_rem(div_u64(best * 100, per_loop), 100, &frac);
	kunit_info(test, "bench %s: %llu.%02u ns/op (%u iterations)\n", name,
		   whole, frac, per_loop * BENCH_BATCHES);
}

/*
 * Run @body @iters / BENCH_BATCHES times in each of BENCH_BATCHES + 1 loops and
 * report the time per run of the fastest loop but the first, which warms up.
 */
#define BENCH_RUN(test, name, iters, body)				\
	do {								\
		const unsigned int __per_loop = (iters) / BENCH_BATCHES; \
		u64 __best = U64_MAX, __start;				\
		unsigned int __b, __i;					\
									\
		for (__b = 0; __b <= BENCH_BATCHES; __b++) {		\
			__start = ktime_get_ns();			\
			for (__i = 0; __i < __per_loop; __i++)		\
				body;					\
			if (__b)					\
				__best = min(__best,			\
					     ktime_get_ns() - __start);	\
		}							\
		bench_report(test, name, __best, __per_loop);		\
	} while (0)

static void attach_detach_once(struct kunit *test, struct kfake_dev *kd,
			       struct iommu_domain *paging,
			       struct iommu_domain *def)
{
	KUNIT_ASSERT_EQ(test, iommu_attach_device(paging, kd->dev), 0);
	iommu_detach_device(paging, kd->dev);
	KUNIT_ASSERT_PTR_EQ(test, kd->rid, def);
}

/* iommu_attach_device() and iommu_detach_device() of a single-device group */
static void bench_attach_detach(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { };
	const unsigned int iters = BENCH_ITERS_ATTACH;
	struct kfake *fake = kfake_create(test, &bench_bus, &bench_fake_cfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	BENCH_RUN(test, "attach_detach", iters,
		  attach_detach_once(test, kd, paging, def));
}

/* Replace the domain of @group, alternating between two paging domains */
static void replace_once(struct kunit *test, struct kfake_dev *kd,
			 struct iommu_group *group,
			 struct iommu_domain **paging,
			 struct iommu_attach_handle *handle)
{
	unsigned int next = kd->rid == paging[0];

	KUNIT_ASSERT_EQ(test, iommu_replace_group_handle(group, paging[next],
							 &handle[next]), 0);
	KUNIT_ASSERT_PTR_EQ(test, kd->rid, paging[next]);
}

/* iommu_replace_group_handle() from one paging domain to another */
static void bench_replace(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { };
	const unsigned int iters = BENCH_ITERS_REPLACE;
	struct kfake *fake = kfake_create(test, &bench_bus, &bench_fake_cfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_attach_handle handle[2] = {};
	struct iommu_domain *paging[2];

	paging[0] = kfake_alloc_paging(test, kd);
	paging[1] = kfake_alloc_paging(test, kd);
	KUNIT_ASSERT_EQ(test, iommu_attach_group_handle(paging[0], group,
							&handle[0]), 0);

	BENCH_RUN(test, "replace", iters,
		  replace_once(test, kd, group, paging, handle));

	iommu_detach_group_handle(kfake_cur(kd), group);
}

static void pasid_once(struct kunit *test, struct kfake_dev *kd,
		       struct iommu_domain *paging)
{
	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 1,
							NULL), 0);
	iommu_detach_device_pasid(paging, kd->dev, 1);
	KUNIT_ASSERT_NULL(test, kfake_pasid_domain(kd, 1));
}

/* iommu_attach_device_pasid() and iommu_detach_device_pasid() */
static void bench_pasid_attach_detach(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .pasid_bits = 5 };
	const unsigned int iters = BENCH_ITERS_PASID;
	struct kfake *fake = kfake_create(test, &bench_bus, &bench_fake_cfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	BENCH_RUN(test, "pasid_attach_detach", iters,
		  pasid_once(test, kd, paging));
}

static void reset_once(struct kunit *test, struct kpci *kp,
		       struct iommu_domain *def)
{
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	KUNIT_ASSERT_PTR_EQ(test, kp->kd[0]->rid, &kfake_blocked_domain);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KUNIT_ASSERT_PTR_EQ(test, kp->kd[0]->rid, def);
}

/*
 * pci_dev_reset_iommu_prepare() and pci_dev_reset_iommu_done() of an ATS and
 * PASID capable function with @nr_pasids PASIDs attached
 */
static void bench_reset(struct kunit *test, const char *name,
			unsigned int nr_pasids, unsigned int iters)
{
	static const struct kfake_cfg fcfg = {
		.release = KFAKE_RELEASE_BLOCKED,
		.max_pasids = 128,
	};
	static const struct kpci_fn fns[] = {
		{ .devfn = 0, .ats = true, .pasid = true, .pasid_bits = 7,
		  .alias = -1 },
	};
	struct iommu_domain *def, *paging;
	struct kfake_dev *kd;
	struct kpci *kp;
	ioasid_t pasid;

	/* kpci_create() skips where the reset suite would */
	if (!IS_ENABLED(CONFIG_PCI))
		kfake_skip(test, "needs CONFIG_PCI");
	kp = kpci_create(test, &fcfg, fns, ARRAY_SIZE(fns));
	kd = kp->kd[0];
	def = kfake_cur(kd);
	paging = kfake_alloc_paging(test, kd);
	for (pasid = 1; pasid <= nr_pasids; pasid++)
		KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, paging, kd, pasid),
				0);

	BENCH_RUN(test, name, iters, reset_once(test, kp, def));

	for (pasid = 1; pasid <= nr_pasids; pasid++)
		KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, pasid), paging);
}

static void bench_reset_no_pasids(struct kunit *test)
{
	bench_reset(test, "reset_0_pasids", 0, BENCH_ITERS_RESET);
}

static void bench_reset_pasids(struct kunit *test)
{
	bench_reset(test, "reset_" __stringify(BENCH_NR_PASIDS) "_pasids",
		    BENCH_NR_PASIDS, BENCH_ITERS_RESET_PASIDS);
}

/* iommu_deferred_attach() once the device is attached: the DMA fast path */
static void bench_deferred_attach_fast(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .deferred = true };
	const unsigned int iters = BENCH_ITERS_DEFERRED;
	struct kfake *fake = kfake_create(test, &bench_bus,
					  &bench_fake_logged_cfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);

	/* The first call attaches the device and ends the deferral */
	KUNIT_ASSERT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	KUNIT_ASSERT_PTR_EQ(test, kd->rid, def);
	kfake_clear_log(fake);

	BENCH_RUN(test, "deferred_attach_fast", iters,
		  KUNIT_ASSERT_EQ(test, iommu_deferred_attach(kd->dev, def),
				  0));

	/* Nothing reached the driver: the fast path was taken */
	KFAKE_EXPECT_NO_CALLS(test, fake);
}

static int bench_bus_init(struct kunit_suite *suite)
{
	return bus_register(&bench_bus);
}

static void bench_bus_exit(struct kunit_suite *suite)
{
	bus_unregister(&bench_bus);
}

static struct kunit_case iommu_bench_cases[] = {
	KUNIT_CASE_SLOW(bench_attach_detach),
	KUNIT_CASE_SLOW(bench_replace),
	KUNIT_CASE_SLOW(bench_pasid_attach_detach),
	KUNIT_CASE_SLOW(bench_reset_no_pasids),
	KUNIT_CASE_SLOW(bench_reset_pasids),
	KUNIT_CASE_SLOW(bench_deferred_attach_fast),
	{}
};

static struct kunit_suite iommu_bench_suite = {
	.name = "iommu_core_bench",
	.suite_init = bench_bus_init,
	.suite_exit = bench_bus_exit,
	.test_cases = iommu_bench_cases,
};

kunit_test_suite(iommu_bench_suite);
