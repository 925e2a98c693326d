// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the IOMMU core: probe, release, attach, replace, deferred
 * attach, PASID attach and device reset, driven through a fake IOMMU driver on
 * a fake bus.
 */
#include <kunit/test.h>
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/module.h>

#include "iommu-kunit.h"
#include "iommu-priv.h"

static const struct bus_type kfake_bus = {
	.name = "iommu-kunit",
};

static const struct kfake_cfg kfake_dflt = {
	.release = KFAKE_RELEASE_BLOCKED,
	.max_pasids = 64,
};

static const struct kfake_dev_cfg kfake_plain = { };

/* A DMA ownership cookie, any unique pointer does */
static int kfake_owner;

static struct kfake *fake_new(struct kunit *test, const struct kfake_cfg *cfg)
{
	return kfake_create(test, &kfake_bus, cfg ? cfg : &kfake_dflt);
}

static void expect_default_type(struct kunit *test, struct iommu_domain *dom)
{
	KUNIT_ASSERT_NOT_NULL(test, dom);
	if (kfake_default_is_dma())
		KUNIT_EXPECT_TRUE(test, iommu_is_dma_domain(dom));
	else
		KUNIT_EXPECT_PTR_EQ(test, dom, &kfake_identity_domain);
}

/* Index in the log of the first @op event of @dev, or -1 */
static int event_index(struct kfake *fake, enum kfake_op op,
		       struct device *dev)
{
	unsigned int i;

	for (i = 0; i < fake->nr_events; i++)
		if (fake->events[i].op == op && fake->events[i].dev == dev)
			return i;
	return -1;
}

/* Probe */

static void probe_attaches_default_domain(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_plain);
	struct iommu_domain *def = kfake_cur(kd);

	expect_default_type(test, def);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_PROBE, kd->dev), 1);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_ALLOC, NULL),
			kfake_default_is_dma() ? 1 : 0);
	KFAKE_EXPECT_HW(test, fake, KFAKE_ATTACH_EV(def, kd, NULL));
}

static void probe_identity_requested(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .identity = true };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);

	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), &kfake_identity_domain);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_ALLOC, NULL), 0);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(&kfake_identity_domain, kd, NULL));
}

static void probe_group_shares_default_domain(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd3 = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd1);

	expect_default_type(test, def);
	KUNIT_EXPECT_PTR_EQ(test, kfake_group(test, kd1),
			    kfake_group(test, kd2));
	KUNIT_EXPECT_PTR_EQ(test, kfake_group(test, kd1),
			    kfake_group(test, kd3));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd2), def);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd3), def);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_ALLOC, NULL),
			kfake_default_is_dma() ? 1 : 0);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(def, kd1, NULL),
			KFAKE_ATTACH_EV(def, kd2, NULL),
			KFAKE_ATTACH_EV(def, kd3, NULL));
}

static void probe_separate_groups(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &kfake_plain);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &kfake_plain);

	KUNIT_EXPECT_PTR_NE(test, kfake_group(test, kd1),
			    kfake_group(test, kd2));
	if (kfake_default_is_dma())
		KUNIT_EXPECT_PTR_NE(test, kfake_cur(kd1), kfake_cur(kd2));
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, kfake_cur(kd1));
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, kfake_cur(kd2));
}

static void probe_driver_refuses_device(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .probe_err = -ENODEV };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);

	KUNIT_EXPECT_NULL(test, iommu_group_get(kd->owned));
	KUNIT_EXPECT_FALSE(test, device_iommu_mapped(kd->owned));
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_PROBE, NULL), 1);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_RELEASE, NULL), 0);
	KFAKE_EXPECT_NO_HW(test, fake);
	/* A device the IOMMU never took has nothing to attach lazily */
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->owned, NULL), 0);
}

/*
 * When no default domain can be had, the core unwinds the whole probe: the
 * device ends up with no group, so no later path ever sees a group whose
 * domain was never set.
 */
static void probe_default_domain_alloc_fails(struct kunit *test)
{
	const struct kfake_cfg cfg = {
		.release = KFAKE_RELEASE_BLOCKED,
		.no_identity_domain = true,
		.fail_paging_alloc = true,
	};
	struct kfake *fake = fake_new(test, &cfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_plain);

	KUNIT_EXPECT_NULL(test, iommu_group_get(kd->owned));
	KUNIT_EXPECT_NULL(test, kd->owned->iommu);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_RELEASE, kd->dev), 1);
	KUNIT_EXPECT_FALSE(test, kd->probed);
	/* Parked on the release domain, the domain never set is not "old" */
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, NULL));
}

static void probe_deferred_attach_waits(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .deferred = true };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);

	expect_default_type(test, kfake_cur(kd));
	KUNIT_EXPECT_NULL(test, kd->rid);
	KFAKE_EXPECT_NO_HW(test, fake);
}

/* Release */

static void release_attaches_release_domain_first(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_plain);
	struct iommu_domain *def = kfake_cur(kd);
	int attach, release;

	kfake_clear_log(fake);
	kfake_remove_dev(fake, kd);

	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def));
	attach = event_index(fake, KFAKE_ATTACH, kd->dev);
	release = event_index(fake, KFAKE_RELEASE, kd->dev);
	KUNIT_EXPECT_GE(test, attach, 0);
	KUNIT_EXPECT_GT(test, release, attach);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
}

static void release_direct_overrides_blocked(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .direct = true };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);

	kfake_clear_log(fake);
	kfake_remove_dev(fake, kd);

	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(&kfake_identity_domain, kd, def));
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_RELEASE, kd->dev), 1);
}

static void release_direct_keeps_identity(struct kunit *test)
{
	const struct kfake_cfg fcfg = {
		.release = KFAKE_RELEASE_IDENTITY,
		.max_pasids = 64,
	};
	const struct kfake_dev_cfg cfg = { .direct = true };
	struct kfake *fake = fake_new(test, &fcfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);

	kfake_clear_log(fake);
	kfake_remove_dev(fake, kd);

	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(&kfake_identity_domain, kd, def));
}

/*
 * Current behaviour, not a requirement: the override needs a static identity
 * domain to park on, and without one the release domain is used as is.
 */
static void release_direct_without_static_identity(struct kunit *test)
{
	const struct kfake_cfg fcfg = {
		.release = KFAKE_RELEASE_BLOCKED,
		.alloc_identity = true,
	};
	const struct kfake_dev_cfg cfg = { .direct = true };
	struct kfake *fake = fake_new(test, &fcfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);

	KUNIT_ASSERT_NOT_NULL(test, def);
	KUNIT_EXPECT_PTR_NE(test, def, &kfake_identity_domain);
	kfake_clear_log(fake);
	kfake_remove_dev(fake, kd);

	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def));
	/* The default domain, allocated for this group, went with it */
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_FREE, NULL), 1);
}

static void release_identity_release_domain(struct kunit *test)
{
	const struct kfake_cfg fcfg = { .release = KFAKE_RELEASE_IDENTITY };
	struct kfake *fake = fake_new(test, &fcfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_plain);
	struct iommu_domain *def = kfake_cur(kd);

	kfake_clear_log(fake);
	kfake_remove_dev(fake, kd);

	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(&kfake_identity_domain, kd, def));
}

static void release_deferred_never_attached(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .deferred = true, .direct = true };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);

	kfake_remove_dev(fake, kd);

	KFAKE_EXPECT_NO_HW(test, fake);
	KUNIT_EXPECT_NULL(test, kd->rid);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_RELEASE, kd->dev), 1);
}

static void release_deferred_after_attach(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .deferred = true };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);

	KUNIT_ASSERT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	kfake_clear_log(fake);
	kfake_remove_dev(fake, kd);

	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def));
}

static void release_while_attached_to_paging(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	KUNIT_ASSERT_EQ(test, iommu_attach_group(paging, group), 0);
	kfake_clear_log(fake);
	kfake_remove_dev(fake, kd2);

	/* The driver is told which domain the device is leaving */
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd2, paging));
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, paging);
	iommu_detach_group(paging, group);
	iommu_domain_free(paging);
}

static void release_without_release_domain(struct kunit *test)
{
	const struct kfake_cfg fcfg = { .release = KFAKE_RELEASE_NONE };
	struct kfake *fake = fake_new(test, &fcfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_plain);

	kfake_clear_log(fake);
	kfake_remove_dev(fake, kd);

	KFAKE_EXPECT_NO_HW(test, fake);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_RELEASE, kd->dev), 1);
}

static void release_one_device_of_group(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd1);

	kfake_clear_log(fake);
	kfake_remove_dev(fake, kd2);

	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd2, def));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd1), def);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_FREE, NULL), 0);
}

static void release_last_device_frees_domains(struct kunit *test)
{
	const struct kfake_cfg fcfg = { .no_blocked_domain = true };
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = fake_new(test, &fcfg);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd1);
	unsigned int nr = kfake_default_is_dma() ? 2 : 1;

	/* Makes the core allocate a paging domain to block DMA with */
	KUNIT_ASSERT_EQ(test, iommu_group_claim_dma_owner(group, &kfake_owner),
			0);
	iommu_group_release_dma_owner(group);

	kfake_remove_dev(fake, kd1);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_FREE, NULL), 0);
	kfake_remove_dev(fake, kd2);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_FREE, NULL), nr);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_ALLOC, NULL), nr);
}

/* Attach, detach and replace */

static void attach_device_and_detach(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_plain);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, iommu_attach_device(paging, kd->dev), 0);
	KFAKE_EXPECT_HW(test, fake, KFAKE_ATTACH_EV(paging, kd, def));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), paging);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, paging);

	kfake_clear_log(fake);
	iommu_detach_device(paging, kd->dev);
	KFAKE_EXPECT_HW(test, fake, KFAKE_ATTACH_EV(def, kd, paging));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	iommu_domain_free(paging);
}

static void attach_device_needs_single_device_group(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_device(paging, kd1->dev), -EINVAL);
	KFAKE_EXPECT_NO_HW(test, fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd1), def);
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, def);
	iommu_domain_free(paging);
}

static void attach_group_attaches_every_device(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd3 = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *def = kfake_cur(kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, iommu_attach_group(paging, group), 0);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(paging, kd1, def),
			KFAKE_ATTACH_EV(paging, kd2, def),
			KFAKE_ATTACH_EV(paging, kd3, def));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd2), paging);

	kfake_clear_log(fake);
	iommu_detach_group(paging, group);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(def, kd1, paging),
			KFAKE_ATTACH_EV(def, kd2, paging),
			KFAKE_ATTACH_EV(def, kd3, paging));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd3), def);
	iommu_domain_free(paging);
}

static void attach_group_busy(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_plain);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, iommu_attach_group(p1, group), 0);
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(p2, group), -EBUSY);
	KFAKE_EXPECT_NO_HW(test, fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), p1);
	iommu_detach_group(p1, group);
	iommu_domain_free(p1);
	iommu_domain_free(p2);
}

static void attach_foreign_domain_rejected(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_plain);
	struct iommu_domain *def = kfake_cur(kd);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_device(kfake_alloc_foreign(test),
						  kd->dev), -EINVAL);
	KFAKE_EXPECT_NO_HW(test, fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);
}

/*
 * The revert attaches the old domain again to every device up to and
 * including the one that failed, which may have lost its old translation.
 */
static void attach_failure_reverts_group(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd3 = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *def = kfake_cur(kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	kd2->fail_domain = paging;
	kd2->fail_err = -ENOSPC;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), -ENOSPC);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(paging, kd1, def),
			KFAKE_ATTACH_FAIL_EV(paging, kd2, def, -ENOSPC),
			KFAKE_ATTACH_EV(def, kd1, paging),
			KFAKE_ATTACH_EV(def, kd2, def));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd1), def);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kd3->rid, def);
	iommu_domain_free(paging);
}

static void attach_failure_on_first_device(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *def = kfake_cur(kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	kd1->fail_domain = paging;
	kd1->fail_err = -EINVAL;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), -EINVAL);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_FAIL_EV(paging, kd1, def, -EINVAL),
			KFAKE_ATTACH_EV(def, kd1, def));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd2), def);
	iommu_domain_free(paging);
}

static void replace_group_domain(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_plain);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd);
	struct iommu_attach_handle h1 = {}, h2 = {};

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, iommu_attach_group_handle(p1, group, &h1), 0);
	KUNIT_ASSERT_EQ(test, iommu_replace_group_handle(group, p2, &h2), 0);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(p1, kd, def),
			KFAKE_ATTACH_EV(p2, kd, p1));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), p2);
	KUNIT_EXPECT_PTR_EQ(test,
			    iommu_attach_handle_get(group, IOMMU_NO_PASID, 0),
			    &h2);

	kfake_clear_log(fake);
	iommu_detach_group_handle(p2, group);
	KFAKE_EXPECT_HW(test, fake, KFAKE_ATTACH_EV(def, kd, p2));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);
	iommu_domain_free(p1);
	iommu_domain_free(p2);
}

static void replace_failure_keeps_old_domain(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd1);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd1);
	struct iommu_attach_handle h1 = {}, h2 = {};

	KUNIT_ASSERT_EQ(test, iommu_attach_group_handle(p1, group, &h1), 0);
	kd2->fail_domain = p2;
	kd2->fail_err = -ENOMEM;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_replace_group_handle(group, p2, &h2),
			-ENOMEM);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(p2, kd1, p1),
			KFAKE_ATTACH_FAIL_EV(p2, kd2, p1, -ENOMEM),
			KFAKE_ATTACH_EV(p1, kd1, p2),
			KFAKE_ATTACH_EV(p1, kd2, p1));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd1), p1);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, p1);
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, p1);
	KUNIT_EXPECT_PTR_EQ(test,
			    iommu_attach_handle_get(group, IOMMU_NO_PASID, 0),
			    &h1);
	iommu_detach_group_handle(p1, group);
	iommu_domain_free(p1);
	iommu_domain_free(p2);
}

/* IOMMU_RESV_DIRECT */

/*
 * The core refuses the driver's static blocked domain before it gets to the
 * device: a static domain has no owner, so it is not the driver's.
 */
static void direct_rejects_blocked_domain(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .direct = true };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test,
			iommu_attach_group(&kfake_blocked_domain,
					   kfake_group(test, kd)),
			-EINVAL);
	KFAKE_EXPECT_NO_HW(test, fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);
}

static void direct_rejects_dma_ownership(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .direct = true };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_group_claim_dma_owner(group, &kfake_owner),
			-EINVAL);
	KFAKE_EXPECT_NO_HW(test, fake);
	KUNIT_EXPECT_FALSE(test, iommu_group_dma_owner_claimed(group));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);
}

/* Without a blocked domain the group blocks DMA with an empty paging domain */
static void direct_rejects_blocking_paging_domain(struct kunit *test)
{
	const struct kfake_cfg fcfg = { .no_blocked_domain = true };
	const struct kfake_dev_cfg cfg = { .direct = true };
	struct kfake *fake = fake_new(test, &fcfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_group_claim_dma_owner(group, &kfake_owner),
			-EINVAL);
	KFAKE_EXPECT_NO_HW(test, fake);
	KUNIT_EXPECT_FALSE(test, iommu_group_dma_owner_claimed(group));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);
}

static void direct_allows_paging_domain(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .direct = true };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_device(paging, kd->dev), 0);
	KFAKE_EXPECT_HW(test, fake, KFAKE_ATTACH_EV(paging, kd, def));
	iommu_detach_device(paging, kd->dev);
	iommu_domain_free(paging);
}

/* The direct device refuses before its sibling is attached and reverted */
static void direct_device_refused_before_group(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	const struct kfake_dev_cfg dcfg = { .group = 1, .direct = true };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &dcfg);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *def = kfake_cur(kd1);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_group_claim_dma_owner(group, &kfake_owner),
			-EINVAL);
	KFAKE_EXPECT_NO_HW(test, fake);
	KUNIT_EXPECT_FALSE(test, iommu_group_dma_owner_claimed(group));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd1), def);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, def);
}

static void dma_owner_blocks_group(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *def = kfake_cur(kd1);

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, iommu_group_claim_dma_owner(group, &kfake_owner),
			0);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd1, def),
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd2, def));
	KUNIT_EXPECT_TRUE(test, iommu_group_dma_owner_claimed(group));
	KUNIT_EXPECT_EQ(test, iommu_group_claim_dma_owner(group, &kfake_owner),
			-EPERM);

	kfake_clear_log(fake);
	iommu_group_release_dma_owner(group);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(def, kd1, &kfake_blocked_domain),
			KFAKE_ATTACH_EV(def, kd2, &kfake_blocked_domain));
	KUNIT_EXPECT_FALSE(test, iommu_group_dma_owner_claimed(group));
}

static void dma_owner_without_blocked_domain(struct kunit *test)
{
	const struct kfake_cfg fcfg = { .no_blocked_domain = true };
	struct kfake *fake = fake_new(test, &fcfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_plain);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *blocking;

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, iommu_group_claim_dma_owner(group, &kfake_owner),
			0);
	KUNIT_ASSERT_EQ(test, kfake_count(fake, KFAKE_ALLOC, NULL), 1);
	blocking = kd->rid;
	KUNIT_EXPECT_TRUE(test, blocking->type & __IOMMU_DOMAIN_PAGING);
	KUNIT_EXPECT_PTR_NE(test, blocking, def);
	KFAKE_EXPECT_HW(test, fake, KFAKE_ATTACH_EV(blocking, kd, def));

	kfake_clear_log(fake);
	iommu_group_release_dma_owner(group);
	KFAKE_EXPECT_HW(test, fake, KFAKE_ATTACH_EV(def, kd, blocking));
}

/* Deferred attach */

static void deferred_first_call_attaches(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .deferred = true };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);

	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	KFAKE_EXPECT_HW(test, fake, KFAKE_ATTACH_EV(def, kd, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);

	/* Later calls, the DMA API fast path, cost nothing */
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	KFAKE_EXPECT_NO_HW(test, fake);
}

static void deferred_failure_retried(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .deferred = true };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);

	kd->fail_domain = def;
	kd->fail_err = -ENOMEM;
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), -ENOMEM);
	kd->fail_domain = NULL;
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_FAIL_EV(def, kd, NULL, -ENOMEM),
			KFAKE_ATTACH_EV(def, kd, NULL));
}

static void deferred_explicit_attach_ends_deferral(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .deferred = true };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, iommu_attach_device(paging, kd->dev), 0);
	iommu_detach_device(paging, kd->dev);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	/* The hardware never had the default domain */
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(paging, kd, NULL),
			KFAKE_ATTACH_EV(def, kd, paging));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	iommu_domain_free(paging);
}

/* Joining a group on its default domain does not end the deferral */
static void deferred_join_default_group_waits(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	const struct kfake_dev_cfg dcfg = { .group = 1, .deferred = true };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd1);
	struct kfake_dev *kd2;

	kfake_clear_log(fake);
	kd2 = kfake_add_dev(fake, &dcfg);
	KFAKE_EXPECT_NO_HW(test, fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd2), def);
	KUNIT_EXPECT_NULL(test, kd2->rid);

	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd2->dev, def), 0);
	KFAKE_EXPECT_HW(test, fake, KFAKE_ATTACH_EV(def, kd2, NULL));
}

/* Joining a group on another domain must attach that domain at once */
static void deferred_join_attached_group_attaches(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	const struct kfake_dev_cfg dcfg = { .group = 1, .deferred = true };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);
	struct kfake_dev *kd2;

	KUNIT_ASSERT_EQ(test, iommu_attach_group(paging, group), 0);
	kfake_clear_log(fake);
	kd2 = kfake_add_dev(fake, &dcfg);
	KFAKE_EXPECT_HW(test, fake, KFAKE_ATTACH_EV(paging, kd2, NULL));

	/* ... which ended the deferral */
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd2->dev, paging), 0);
	KFAKE_EXPECT_NO_HW(test, fake);

	iommu_detach_group(paging, group);
	iommu_domain_free(paging);
}

/* PASID */

static const struct kfake_dev_cfg kfake_pasid_dev = { .pasid_bits = 5 };

static void pasid_attach_and_remove(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_pasid_dev);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);
	struct iommu_attach_handle handle = {};

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 1,
							&handle), 0);
	KFAKE_EXPECT_HW(test, fake, KFAKE_PASID_EV(paging, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), paging);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(kfake_group(test, kd),
							  1, 0), &handle);

	kfake_clear_log(fake);
	iommu_detach_device_pasid(paging, kd->dev, 1);
	KFAKE_EXPECT_HW(test, fake, KFAKE_PASID_REMOVE_EV(kd, 1, paging));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
	KUNIT_EXPECT_TRUE(test,
			  IS_ERR(iommu_attach_handle_get(kfake_group(test, kd),
							 1, 0)));
	iommu_domain_free(paging);
}

static void pasid_attach_rejects_bad_pasids(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_pasid_dev);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd->dev,
							IOMMU_NO_PASID, NULL),
			-EINVAL);
	/* 5 PASID bits: 0 to 31 */
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 32,
							NULL), -EINVAL);
	KFAKE_EXPECT_NO_HW(test, fake);
	iommu_domain_free(paging);
}

static void pasid_attach_twice_busy(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_pasid_dev);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd);

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(p1, kd->dev, 3, NULL),
			0);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(p2, kd->dev, 3, NULL),
			-EBUSY);
	KFAKE_EXPECT_HW(test, fake, KFAKE_PASID_EV(p1, kd, 3, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 3), p1);
	iommu_detach_device_pasid(p1, kd->dev, 3);
	iommu_domain_free(p1);
	iommu_domain_free(p2);
}

/* PASIDs are removed with remove_dev_pasid(), not with a blocked domain */
static void pasid_without_blocked_domain(struct kunit *test)
{
	const struct kfake_cfg fcfg = {
		.no_blocked_domain = true,
		.max_pasids = 64,
	};
	struct kfake *fake = fake_new(test, &fcfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_pasid_dev);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 1,
							NULL), 0);
	iommu_detach_device_pasid(paging, kd->dev, 1);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_PASID_EV(paging, kd, 1, NULL),
			KFAKE_PASID_REMOVE_EV(kd, 1, paging));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
	iommu_domain_free(paging);
}

static void pasid_foreign_domain_rejected(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_pasid_dev);
	struct iommu_domain *foreign = kfake_alloc_foreign(test);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(foreign, kd->dev, 1,
							NULL), -EINVAL);
	KFAKE_EXPECT_NO_HW(test, fake);
}

static void pasid_group_skips_devices_without_pasid(struct kunit *test)
{
	const struct kfake_dev_cfg pcfg = { .group = 1, .pasid_bits = 5 };
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &pcfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd3 = kfake_add_dev(fake, &pcfg);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(paging, kd1->dev, 7,
							NULL), 0);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_PASID_EV(paging, kd1, 7, NULL),
			KFAKE_PASID_EV(paging, kd3, 7, NULL));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd2, 7));

	kfake_clear_log(fake);
	iommu_detach_device_pasid(paging, kd3->dev, 7);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_PASID_REMOVE_EV(kd1, 7, paging),
			KFAKE_PASID_REMOVE_EV(kd3, 7, paging));
	iommu_domain_free(paging);
}

static void pasid_attach_failure_reverts(struct kunit *test)
{
	const struct kfake_dev_cfg pcfg = { .group = 1, .pasid_bits = 5 };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &pcfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &pcfg);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	kd2->fail_domain = paging;
	kd2->fail_err = -ENOSPC;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd1->dev, 2,
							NULL), -ENOSPC);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_PASID_EV(paging, kd1, 2, NULL),
			KFAKE_PASID_FAIL_EV(paging, kd2, 2, NULL, -ENOSPC),
			KFAKE_PASID_REMOVE_EV(kd1, 2, paging));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd1, 2));

	/* Nothing was left behind in the PASID array */
	kd2->fail_domain = NULL;
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd1->dev, 2,
							NULL), 0);
	iommu_detach_device_pasid(paging, kd1->dev, 2);
	iommu_domain_free(paging);
}

static void pasid_blocks_dma_ownership(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_pasid_dev);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 1,
							NULL), 0);
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_group_claim_dma_owner(group, &kfake_owner),
			-EBUSY);
	KFAKE_EXPECT_NO_HW(test, fake);
	iommu_detach_device_pasid(paging, kd->dev, 1);
	iommu_domain_free(paging);
}

/* Device reset, driven directly on fake-bus devices */

static void dev_reset_blocks_and_restores(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_pasid_dev);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);
	struct iommu_domain *pd = kfake_alloc_paging(test, kd);
	struct iommu_attach_handle handle = {};

	KUNIT_ASSERT_EQ(test, iommu_attach_group(paging, group), 0);
	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(pd, kd->dev, 1,
							&handle), 0);
	kfake_clear_log(fake);

	KUNIT_ASSERT_EQ(test, iommu_dev_reset_prepare(kd->dev), 0);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, paging),
			KFAKE_PASID_REMOVE_EV(kd, 1, pd));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
	/* The core keeps what the device goes back to */
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), paging);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0),
			    &handle);

	kfake_clear_log(fake);
	iommu_dev_reset_done(kd->dev);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(paging, kd, &kfake_blocked_domain),
			KFAKE_PASID_EV(pd, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, paging);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), pd);

	iommu_detach_device_pasid(pd, kd->dev, 1);
	iommu_detach_group(paging, group);
	iommu_domain_free(pd);
	iommu_domain_free(paging);
}

static void dev_reset_nested(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_pasid_dev);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *pd = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(pd, kd->dev, 2, NULL),
			0);
	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, iommu_dev_reset_prepare(kd->dev), 0);
	KUNIT_ASSERT_EQ(test, iommu_dev_reset_prepare(kd->dev), 0);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def),
			KFAKE_PASID_REMOVE_EV(kd, 2, pd));

	/* Only the outermost done() lets the device translate again */
	kfake_clear_log(fake);
	iommu_dev_reset_done(kd->dev);
	KFAKE_EXPECT_NO_HW(test, fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 2));

	iommu_dev_reset_done(kd->dev);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			KFAKE_PASID_EV(pd, kd, 2, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);

	iommu_detach_device_pasid(pd, kd->dev, 2);
	iommu_domain_free(pd);
}

/*
 * An IOMMU registering after its devices, whose default domain cannot be
 * allocated, leaves them in a group without a domain: a reset blocks such a
 * device, and done() has no domain to attach it to.
 */
static void dev_reset_group_without_domain(struct kunit *test)
{
	const struct kfake_cfg cfg = {
		.no_identity_domain = true,
		.fail_paging_alloc = true,
	};
	struct kfake *fake = fake_new(test, &cfg);
	struct kfake_dev *kd;

	KUNIT_EXPECT_LT(test, kfake_add_dev_before_iommu(fake, &kfake_plain,
							 &kd), 0);
	KUNIT_ASSERT_TRUE(test, kd->probed);
	KUNIT_ASSERT_NOT_NULL(test, kd->dev->iommu_group);
	KUNIT_ASSERT_NULL(test, kfake_cur(kd));

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, iommu_dev_reset_prepare(kd->dev), 0);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, NULL));
	kfake_clear_log(fake);
	iommu_dev_reset_done(kd->dev);
	KFAKE_EXPECT_NO_HW(test, fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_cur(kd));
}

/* Without requester IDs to share, a sibling is attached during the reset */
static void dev_reset_sibling_attached(struct kunit *test)
{
	const struct kfake_dev_cfg gcfg = { .group = 1 };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd0 = kfake_add_dev(fake, &gcfg);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &gcfg);
	struct iommu_group *group = kfake_group(test, kd0);
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd0);

	KUNIT_ASSERT_PTR_EQ(test, kfake_group(test, kd1), group);
	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, iommu_dev_reset_prepare(kd0->dev), 0);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), 0);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd0, def),
			KFAKE_ATTACH_EV(paging, kd1, def));

	kfake_clear_log(fake);
	iommu_dev_reset_done(kd0->dev);
	KFAKE_EXPECT_HW(test, fake,
			KFAKE_ATTACH_EV(paging, kd0, &kfake_blocked_domain));

	iommu_detach_group(paging, group);
	iommu_domain_free(paging);
}

/* test_dev() */

static const struct kfake_dev_cfg kfake_grouped = { .group = 1 };
static const struct kfake_dev_cfg kfake_grouped_pasid = {
	.group = 1,
	.pasid_bits = 5,
};

/* Every device is asked, against what it has now, before any is attached */
static void test_dev_before_group_attach(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &kfake_grouped);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &kfake_grouped);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *def = kfake_cur(kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, iommu_attach_group(paging, group), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd1, IOMMU_NO_PASID, def),
			   KFAKE_TEST_EV(paging, kd2, IOMMU_NO_PASID, def),
			   KFAKE_ATTACH_EV(paging, kd1, def),
			   KFAKE_ATTACH_EV(paging, kd2, def));

	/* A detach cannot be refused: the driver is not asked */
	kd1->refuse_domain = def;
	kd1->refuse_err = -EINVAL;
	kfake_clear_log(fake);
	iommu_detach_group(paging, group);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_EV(def, kd1, paging),
			   KFAKE_ATTACH_EV(def, kd2, paging));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd1), def);
	iommu_domain_free(paging);
}

/* A refusal by the last device leaves the whole group as it was */
static void test_dev_refusal_changes_nothing(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &kfake_grouped);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &kfake_grouped);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *def = kfake_cur(kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	kd2->refuse_domain = paging;
	kd2->refuse_err = -EINVAL;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), -EINVAL);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd1, IOMMU_NO_PASID, def),
			   KFAKE_TEST_FAIL_EV(paging, kd2, IOMMU_NO_PASID, def,
					      -EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd1), def);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, def);

	/* The driver's code reaches the caller as it is */
	kd2->refuse_err = -ENODEV;
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), -ENODEV);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd1), def);
	iommu_domain_free(paging);
}

static void test_dev_before_replace(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_plain);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd);
	struct iommu_attach_handle h1 = {}, h2 = {}, h3 = {}, h4 = {};

	KUNIT_ASSERT_EQ(test, iommu_attach_group_handle(p1, group, &h1), 0);
	kd->refuse_domain = p2;
	kd->refuse_err = -EBUSY;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_replace_group_handle(group, p2, &h2),
			-EBUSY);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_FAIL_EV(p2, kd, IOMMU_NO_PASID, p1,
					      -EBUSY));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), p1);
	KUNIT_EXPECT_PTR_EQ(test,
			    iommu_attach_handle_get(group, IOMMU_NO_PASID, 0),
			    &h1);

	kd->refuse_domain = NULL;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_replace_group_handle(group, p2, &h3), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(p2, kd, IOMMU_NO_PASID, p1),
			   KFAKE_ATTACH_EV(p2, kd, p1));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), p2);

	/* Replacing a domain by itself attaches nothing and tests nothing */
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_replace_group_handle(group, p2, &h4), 0);
	KFAKE_EXPECT_NO_CALLS(test, fake);

	iommu_detach_group_handle(p2, group);
	iommu_domain_free(p1);
	iommu_domain_free(p2);
}

static void test_dev_before_dma_ownership(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_plain);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);

	kd->refuse_domain = &kfake_blocked_domain;
	kd->refuse_err = -EINVAL;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_group_claim_dma_owner(group, &kfake_owner),
			-EINVAL);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_FAIL_EV(&kfake_blocked_domain, kd,
					      IOMMU_NO_PASID, def, -EINVAL));
	KUNIT_EXPECT_FALSE(test, iommu_group_dma_owner_claimed(group));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
}

/* A device joining a group with a domain is tested like an attach */
static void test_dev_before_probe_joins_group(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &kfake_grouped);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);
	struct kfake_dev *kd2;

	KUNIT_ASSERT_EQ(test, iommu_attach_group(paging, group), 0);
	kfake_clear_log(fake);
	kd2 = kfake_add_dev(fake, &kfake_grouped);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd2, IOMMU_NO_PASID, NULL),
			   KFAKE_ATTACH_EV(paging, kd2, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, paging);

	kfake_remove_dev(fake, kd2);
	iommu_detach_group(paging, group);
	iommu_domain_free(paging);
}

static void test_dev_before_pasid_attach(struct kunit *test)
{
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &kfake_grouped_pasid);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &kfake_grouped_pasid);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);
	struct iommu_attach_handle h = {};

	kd2->refuse_domain = paging;
	kd2->refuse_err = -EOPNOTSUPP;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd1->dev, 3,
							&h), -EOPNOTSUPP);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd1, 3, NULL),
			   KFAKE_TEST_FAIL_EV(paging, kd2, 3, NULL,
					      -EOPNOTSUPP));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd1, 3));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 3, 0),
			    ERR_PTR(-ENOENT));

	kd2->refuse_domain = NULL;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd1->dev, 3,
							&h), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd1, 3, NULL),
			   KFAKE_TEST_EV(paging, kd2, 3, NULL),
			   KFAKE_PASID_EV(paging, kd1, 3, NULL),
			   KFAKE_PASID_EV(paging, kd2, 3, NULL));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 3, 0), &h);

	iommu_detach_device_pasid(paging, kd1->dev, 3);
	iommu_domain_free(paging);
}

static void test_dev_before_deferred_attach(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .deferred = true };
	struct kfake *fake = fake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);

	kd->refuse_domain = def;
	kd->refuse_err = -ENODEV;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), -ENODEV);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_FAIL_EV(def, kd, IOMMU_NO_PASID, NULL,
					      -ENODEV));
	KUNIT_EXPECT_TRUE(test, kd->dev->iommu->attach_deferred);

	kd->refuse_domain = NULL;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(def, kd, IOMMU_NO_PASID, NULL),
			   KFAKE_ATTACH_EV(def, kd, NULL));

	/* The DMA API fast path asks nothing */
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	KFAKE_EXPECT_NO_CALLS(test, fake);
}

/* A driver without test_dev() keeps the checks of the core, and attaches */
static void test_dev_optional(struct kunit *test)
{
	const struct kfake_cfg cfg = {
		.release = KFAKE_RELEASE_BLOCKED,
		.max_pasids = 64,
		.no_test_dev = true,
	};
	const struct kfake_dev_cfg dcfg = { .direct = true };
	struct kfake *fake = fake_new(test, &cfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &kfake_pasid_dev);
	struct kfake_dev *direct = kfake_add_dev(fake, &dcfg);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);
	struct iommu_domain *foreign = kfake_alloc_foreign(test);

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, iommu_attach_group(paging, group), 0);
	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 1,
							NULL), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_EV(paging, kd, def),
			   KFAKE_PASID_EV(paging, kd, 1, NULL));
	iommu_detach_device_pasid(paging, kd->dev, 1);
	iommu_detach_group(paging, group);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(foreign, group), -EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(foreign, kd->dev, 1,
							NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test,
			iommu_group_claim_dma_owner(kfake_group(test, direct),
						    &kfake_owner),
			-EINVAL);
	KFAKE_EXPECT_NO_HW(test, fake);
	iommu_domain_free(paging);
}

static int kfake_bus_init(struct kunit_suite *suite)
{
	return bus_register(&kfake_bus);
}

static void kfake_bus_exit(struct kunit_suite *suite)
{
	bus_unregister(&kfake_bus);
}

static struct kunit_case iommu_probe_cases[] = {
	KUNIT_CASE(probe_attaches_default_domain),
	KUNIT_CASE(probe_identity_requested),
	KUNIT_CASE(probe_group_shares_default_domain),
	KUNIT_CASE(probe_separate_groups),
	KUNIT_CASE(probe_driver_refuses_device),
	KUNIT_CASE(probe_default_domain_alloc_fails),
	KUNIT_CASE(probe_deferred_attach_waits),
	{}
};

static struct kunit_suite iommu_probe_suite = {
	.name = "iommu_core_probe",
	.suite_init = kfake_bus_init,
	.suite_exit = kfake_bus_exit,
	.test_cases = iommu_probe_cases,
};

static struct kunit_case iommu_release_cases[] = {
	KUNIT_CASE(release_attaches_release_domain_first),
	KUNIT_CASE(release_direct_overrides_blocked),
	KUNIT_CASE(release_direct_keeps_identity),
	KUNIT_CASE(release_direct_without_static_identity),
	KUNIT_CASE(release_identity_release_domain),
	KUNIT_CASE(release_deferred_never_attached),
	KUNIT_CASE(release_deferred_after_attach),
	KUNIT_CASE(release_while_attached_to_paging),
	KUNIT_CASE(release_without_release_domain),
	KUNIT_CASE(release_one_device_of_group),
	KUNIT_CASE(release_last_device_frees_domains),
	{}
};

static struct kunit_suite iommu_release_suite = {
	.name = "iommu_core_release",
	.suite_init = kfake_bus_init,
	.suite_exit = kfake_bus_exit,
	.test_cases = iommu_release_cases,
};

static struct kunit_case iommu_attach_cases[] = {
	KUNIT_CASE(attach_device_and_detach),
	KUNIT_CASE(attach_device_needs_single_device_group),
	KUNIT_CASE(attach_group_attaches_every_device),
	KUNIT_CASE(attach_group_busy),
	KUNIT_CASE(attach_foreign_domain_rejected),
	KUNIT_CASE(attach_failure_reverts_group),
	KUNIT_CASE(attach_failure_on_first_device),
	KUNIT_CASE(replace_group_domain),
	KUNIT_CASE(replace_failure_keeps_old_domain),
	KUNIT_CASE(direct_rejects_blocked_domain),
	KUNIT_CASE(direct_rejects_dma_ownership),
	KUNIT_CASE(direct_rejects_blocking_paging_domain),
	KUNIT_CASE(direct_allows_paging_domain),
	KUNIT_CASE(direct_device_refused_before_group),
	KUNIT_CASE(dma_owner_blocks_group),
	KUNIT_CASE(dma_owner_without_blocked_domain),
	{}
};

static struct kunit_suite iommu_attach_suite = {
	.name = "iommu_core_attach",
	.suite_init = kfake_bus_init,
	.suite_exit = kfake_bus_exit,
	.test_cases = iommu_attach_cases,
};

static struct kunit_case iommu_deferred_cases[] = {
	KUNIT_CASE(deferred_first_call_attaches),
	KUNIT_CASE(deferred_failure_retried),
	KUNIT_CASE(deferred_explicit_attach_ends_deferral),
	KUNIT_CASE(deferred_join_default_group_waits),
	KUNIT_CASE(deferred_join_attached_group_attaches),
	{}
};

static struct kunit_suite iommu_deferred_suite = {
	.name = "iommu_core_deferred_attach",
	.suite_init = kfake_bus_init,
	.suite_exit = kfake_bus_exit,
	.test_cases = iommu_deferred_cases,
};

static struct kunit_case iommu_pasid_cases[] = {
	KUNIT_CASE(pasid_attach_and_remove),
	KUNIT_CASE(pasid_attach_rejects_bad_pasids),
	KUNIT_CASE(pasid_attach_twice_busy),
	KUNIT_CASE(pasid_without_blocked_domain),
	KUNIT_CASE(pasid_foreign_domain_rejected),
	KUNIT_CASE(pasid_group_skips_devices_without_pasid),
	KUNIT_CASE(pasid_attach_failure_reverts),
	KUNIT_CASE(pasid_blocks_dma_ownership),
	{}
};

static struct kunit_suite iommu_pasid_suite = {
	.name = "iommu_core_pasid",
	.suite_init = kfake_bus_init,
	.suite_exit = kfake_bus_exit,
	.test_cases = iommu_pasid_cases,
};

static struct kunit_case iommu_dev_reset_cases[] = {
	KUNIT_CASE(dev_reset_blocks_and_restores),
	KUNIT_CASE(dev_reset_nested),
	KUNIT_CASE(dev_reset_sibling_attached),
	KUNIT_CASE(dev_reset_group_without_domain),
	{}
};

static struct kunit_suite iommu_dev_reset_suite = {
	.name = "iommu_core_dev_reset",
	.suite_init = kfake_bus_init,
	.suite_exit = kfake_bus_exit,
	.test_cases = iommu_dev_reset_cases,
};

static struct kunit_case iommu_test_dev_cases[] = {
	KUNIT_CASE(test_dev_before_group_attach),
	KUNIT_CASE(test_dev_refusal_changes_nothing),
	KUNIT_CASE(test_dev_before_replace),
	KUNIT_CASE(test_dev_before_dma_ownership),
	KUNIT_CASE(test_dev_before_probe_joins_group),
	KUNIT_CASE(test_dev_before_pasid_attach),
	KUNIT_CASE(test_dev_before_deferred_attach),
	KUNIT_CASE(test_dev_optional),
	{}
};

static struct kunit_suite iommu_test_dev_suite = {
	.name = "iommu_core_test_dev",
	.suite_init = kfake_bus_init,
	.suite_exit = kfake_bus_exit,
	.test_cases = iommu_test_dev_cases,
};

kunit_test_suites(&iommu_probe_suite, &iommu_release_suite,
		  &iommu_attach_suite, &iommu_deferred_suite,
		  &iommu_pasid_suite, &iommu_dev_reset_suite,
		  &iommu_test_dev_suite);

MODULE_DESCRIPTION("KUnit tests of the IOMMU core");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
MODULE_IMPORT_NS(IOMMUFD_INTERNAL);
