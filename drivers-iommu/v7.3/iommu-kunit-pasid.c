// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the IOMMU core: attach, replace and detach of PASIDs, driven
 * through the fake IOMMU driver of <linux/iommu-kunit.h> with the personality
 * of each real driver.
 */
#include <kunit/test.h>
#include <linux/iommu-kunit.h>

#include "iommu-priv.h"

KFAKE_PERSONALITY_PARAMS();

#define NR_DEVS	3

static const struct kfake_dev_cfg pasid_dev = { .pasid_bits = 5 };
static const struct kfake_dev_cfg pasid_grouped = {
	.group = 1,
	.pasid_bits = 5,
};

static void pasid_attach_and_detach(struct kunit *test)
{
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd = kfake_add_dev(fake, &pasid_dev);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, paging, kd, 1), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd, 1, NULL),
			   KFAKE_PASID_EV(paging, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), paging);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0),
			    kfake_pasid_handle(kd, 1));

	/* A detach must succeed: the driver is not asked */
	kfake_clear_log(fake);
	kfake_detach_pasid(test, kd, 1);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_PASID_EV(&kfake_blocked_domain, kd, 1, paging));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
	KUNIT_EXPECT_FALSE(test, kfake_domain_has_dev(paging, kd, 1));
	KUNIT_EXPECT_TRUE(test, IS_ERR(iommu_attach_handle_get(group, 1, 0)));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
}

/* PASIDs out of range are refused by the core, before the driver is asked */
static void pasid_attach_rejects_bad_pasids(struct kunit *test)
{
	struct kfake *fake = kfake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &pasid_dev);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd->dev,
							IOMMU_NO_PASID, NULL),
			-EINVAL);
	/* 5 PASID bits: 0 to 31 */
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 32,
							NULL), -EINVAL);
	KFAKE_EXPECT_NO_CALLS(test, fake);
}

static void pasid_attach_twice_busy(struct kunit *test)
{
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd = kfake_add_dev(fake, &pasid_dev);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd);
	struct iommu_domain *foreign = kfake_alloc_foreign(test);

	kfake_skip_base(test, KFAKE_DIFF_PASID_TESTED_WHEN_BUSY);

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, p1, kd, 3), 0);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(p2, kd->dev, 3, NULL),
			-EBUSY);
	/*
	 * The core's own checks come before the busy PASID, as they did before
	 * test_dev(). Fails if the PASID in use is checked first, as on v2:
	 * -EBUSY.
	 */
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(foreign, kd->dev, 3,
							NULL), -EINVAL);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(p1, kd, 3, NULL),
			   KFAKE_PASID_EV(p1, kd, 3, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 3), p1);
}

static void pasid_needs_blocked_domain(struct kunit *test)
{
	const struct kfake_cfg fcfg = {
		.no_blocked_domain = true,
		.max_pasids = 64,
	};
	struct kfake *fake = kfake_new(test, &fcfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &pasid_dev);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	kfake_skip_base(test, KFAKE_DIFF_PASID_WITHOUT_BLOCKED);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 1,
							NULL), -EOPNOTSUPP);
	KFAKE_EXPECT_NO_CALLS(test, fake);
}

static void pasid_foreign_domain_rejected(struct kunit *test)
{
	struct kfake *fake = kfake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &pasid_dev);
	struct iommu_domain *foreign = kfake_alloc_foreign(test);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(foreign, kd->dev, 1,
							NULL), -EINVAL);
	KFAKE_EXPECT_NO_CALLS(test, fake);
}

/* A device without PASIDs is neither asked nor attached */
static void pasid_group_skips_devices_without_pasid(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd1 = kfake_add_dev(fake, &pasid_grouped);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd3 = kfake_add_dev(fake, &pasid_grouped);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, paging, kd1, 7), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd1, 7, NULL),
			   KFAKE_TEST_EV(paging, kd3, 7, NULL),
			   KFAKE_PASID_EV(paging, kd1, 7, NULL),
			   KFAKE_PASID_EV(paging, kd3, 7, NULL));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd2, 7));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd3, 7), paging);

	kfake_clear_log(fake);
	kfake_detach_pasid(test, kd1, 7);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_PASID_EV(&kfake_blocked_domain, kd1, 7, paging),
			   KFAKE_PASID_EV(&kfake_blocked_domain, kd3, 7,
					  paging));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd3, 7));
}

/**
 * struct fail_case - which device of a group fails its set_dev_pasid()
 * @fails: index of the device.
 * @personality: the driver.
 */
struct fail_case {
	unsigned int fails;
	enum kfake_personality personality;
};

static const struct fail_case fail_cases[] = {
	{ 0, KFAKE_PLAIN }, { 1, KFAKE_PLAIN }, { 2, KFAKE_PLAIN },
	{ 0, KFAKE_VTD }, { 1, KFAKE_VTD }, { 2, KFAKE_VTD },
	{ 0, KFAKE_SMMUV3 }, { 1, KFAKE_SMMUV3 }, { 2, KFAKE_SMMUV3 },
	{ 0, KFAKE_AMD }, { 1, KFAKE_AMD }, { 2, KFAKE_AMD },
};

static void fail_case_desc(const struct fail_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s, device %u of %u fails",
		 kfake_personality_name(c->personality), c->fails, NR_DEVS);
}

KUNIT_ARRAY_PARAM(fail_cases, fail_cases, fail_case_desc);

/*
 * The log of a PASID change from @old (NULL for an attach) to @new where
 * device @fails fails with @err: the devices before it are set and then
 * reverted, to @old or, without one, to the blocked domain.
 */
static void expect_failed_pasid(struct kunit *test, struct kfake *fake,
				struct kfake_dev *kd[NR_DEVS],
				struct iommu_domain *new,
				struct iommu_domain *old, ioasid_t pasid,
				unsigned int fails, int err)
{
	struct iommu_domain *back = old ? old : &kfake_blocked_domain;
	struct kfake_event want[3 * NR_DEVS];
	unsigned int i, n = 0;

	for (i = 0; i < NR_DEVS; i++)
		want[n++] = (struct kfake_event)
			KFAKE_TEST_EV(new, kd[i], pasid, old);
	for (i = 0; i < fails; i++)
		want[n++] = (struct kfake_event)
			KFAKE_PASID_EV(new, kd[i], pasid, old);
	want[n++] = (struct kfake_event)
		KFAKE_PASID_FAIL_EV(new, kd[fails], pasid, old, err);
	for (i = 0; i < fails; i++)
		want[n++] = (struct kfake_event)
			KFAKE_PASID_EV(back, kd[i], pasid, new);
	kfake_expect_calls(test, fake, want, n);
}

/* A failed attach, by a kfake_fail_nth(), leaves no PASID anywhere */
static void pasid_attach_failure_reverts(struct kunit *test)
{
	const struct fail_case *c = test->param_value;
	struct kfake *fake = kfake_new_as(test, c->personality);
	struct kfake_dev *kd[NR_DEVS];
	struct iommu_group *group;
	struct iommu_domain *paging;
	unsigned int i;

	for (i = 0; i < NR_DEVS; i++)
		kd[i] = kfake_add_dev(fake, &pasid_grouped);
	group = kfake_group(test, kd[0]);
	paging = kfake_alloc_paging(test, kd[0]);
	kfake_clear_log(fake);
	kfake_fail_nth(fake, KFAKE_SET_PASID, c->fails + 1, -ENOSPC);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, paging, kd[0], 2),
			-ENOSPC);
	expect_failed_pasid(test, fake, kd, paging, NULL, 2, c->fails,
			    -ENOSPC);
	for (i = 0; i < NR_DEVS; i++)
		KUNIT_EXPECT_NULL_MSG(test, kfake_pasid_domain(kd[i], 2),
				      "device %u", i);
	KUNIT_EXPECT_TRUE(test, IS_ERR(iommu_attach_handle_get(group, 2, 0)));

	/* Nothing was left behind in the PASID array */
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, paging, kd[0], 2), 0);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd[2], 2), paging);
}

static void pasid_replace(struct kunit *test)
{
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd = kfake_add_dev(fake, &pasid_dev);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd);
	struct iommu_attach_handle *handle;

	if (kfake_param_personality(test) == KFAKE_AMD)
		kfake_skip(test, "amd: no replace, see pasid_replace_amd_refused");
	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, p1, kd, 4), 0);
	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, kfake_replace_pasid(test, p2, kd, 4), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(p2, kd, 4, p1),
			   KFAKE_PASID_EV(p2, kd, 4, p1));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 4), p2);
	KUNIT_EXPECT_FALSE(test, kfake_domain_has_dev(p1, kd, 4));
	handle = kfake_pasid_handle(kd, 4);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 4, 0), handle);

	/* Same domain, new handle: nothing to test, nothing to tell */
	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, kfake_replace_pasid(test, p2, kd, 4), 0);
	KFAKE_EXPECT_NO_CALLS(test, fake);
	KUNIT_EXPECT_PTR_NE(test, kfake_pasid_handle(kd, 4), handle);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 4, 0),
			    kfake_pasid_handle(kd, 4));
}

/* AMD's set_dev_pasid() does not replace: the PASID stays where it was */
static void pasid_replace_amd_refused(struct kunit *test)
{
	struct kfake *fake = kfake_new_as(test, KFAKE_AMD);
	struct kfake_dev *kd = kfake_add_dev(fake, &pasid_dev);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd);
	struct iommu_attach_handle *handle;

	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, p1, kd, 4), 0);
	handle = kfake_pasid_handle(kd, 4);
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_replace_pasid(test, p2, kd, 4),
			-EOPNOTSUPP);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_REFUSED_EV(p2, kd, 4, p1, -EOPNOTSUPP));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 4), p1);
	KUNIT_EXPECT_TRUE(test, kfake_domain_has_dev(p1, kd, 4));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 4, 0), handle);
}

static void pasid_replace_needs_attached_pasid(struct kunit *test)
{
	struct kfake *fake = kfake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &pasid_dev);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_replace_pasid(test, paging, kd, 4),
			-EINVAL);
	KFAKE_EXPECT_NO_CALLS(test, fake);
	KUNIT_EXPECT_TRUE(test,
			  IS_ERR(iommu_attach_handle_get(kfake_group(test, kd),
							 4, 0)));
}

/*
 * A failed replace puts the devices already moved back on the old domain.
 * VT-d's set_dev_pasid() clears the PASID entry before it fails, so the
 * device that failed is left without the PASID, which the core skips in its
 * revert.
 */
static void pasid_replace_failure_reverts(struct kunit *test)
{
	const struct fail_case *c = test->param_value;
	struct kfake *fake = kfake_new_as(test, c->personality);
	struct kfake_dev *kd[NR_DEVS];
	struct iommu_group *group;
	struct iommu_domain *p1, *p2;
	struct iommu_attach_handle *handle;
	unsigned int i;

	if (c->personality == KFAKE_AMD)
		kfake_skip(test, "amd: no replace, see pasid_replace_amd_refused");
	for (i = 0; i < NR_DEVS; i++)
		kd[i] = kfake_add_dev(fake, &pasid_grouped);
	group = kfake_group(test, kd[0]);
	p1 = kfake_alloc_paging(test, kd[0]);
	p2 = kfake_alloc_paging(test, kd[0]);
	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, p1, kd[0], 4), 0);
	handle = kfake_pasid_handle(kd[0], 4);
	kd[c->fails]->fail_domain = p2;
	kd[c->fails]->fail_err = -EIO;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_replace_pasid(test, p2, kd[0], 4), -EIO);
	expect_failed_pasid(test, fake, kd, p2, p1, 4, c->fails, -EIO);
	for (i = 0; i < NR_DEVS; i++)
		KUNIT_EXPECT_PTR_EQ_MSG(test, kfake_pasid_domain(kd[i], 4),
					i == c->fails &&
					c->personality == KFAKE_VTD ?
					NULL : p1, "device %u", i);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 4, 0), handle);
}

static void pasid_blocks_dma_ownership(struct kunit *test)
{
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd = kfake_add_dev(fake, &pasid_dev);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, paging, kd, 1), 0);
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_claim_dma_owner(test, group), -EBUSY);
	KFAKE_EXPECT_NO_CALLS(test, fake);
	KUNIT_EXPECT_FALSE(test, iommu_group_dma_owner_claimed(group));
}

/*
 * The owner of a group (iommufd) attaches PASIDs while the RID is blocked.
 * AMD-Vi frees the PASID table of a device whose RID it blocks, so it
 * refuses them; the other drivers take them.
 */
static void pasid_attach_while_rid_blocked(struct kunit *test)
{
	enum kfake_personality p = kfake_param_personality(test);
	struct kfake *fake = kfake_new_as(test, p);
	struct kfake_dev *kd = kfake_add_dev(fake, &pasid_dev);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);
	int err = p == KFAKE_AMD ? -EINVAL : 0;

	KUNIT_ASSERT_EQ(test, kfake_claim_dma_owner(test, group), 0);
	KUNIT_ASSERT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, paging, kd, 1), err);
	if (err) {
		KFAKE_EXPECT_CALLS(test, fake,
				   KFAKE_REFUSED_EV(paging, kd, 1, NULL, err));
		KUNIT_EXPECT_TRUE(test,
				  IS_ERR(iommu_attach_handle_get(group, 1, 0)));
		KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
		return;
	}
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd, 1, NULL),
			   KFAKE_PASID_EV(paging, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), paging);

	kfake_clear_log(fake);
	kfake_detach_pasid(test, kd, 1);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_PASID_EV(&kfake_blocked_domain, kd, 1, paging));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
}

/* SMMUv3: a stage-2 RID domain and a CD table of PASIDs exclude each other */
static void pasid_smmuv3_s2_rid_busy_with_pasids(struct kunit *test)
{
	struct kfake *fake = kfake_new_as(test, KFAKE_SMMUV3);
	struct kfake_dev *kd = kfake_add_dev(fake, &pasid_dev);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);
	struct iommu_domain *s2 = kfake_alloc_s2(test, kd);

	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, paging, kd, 1), 0);
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(s2, group), -EBUSY);
	/* Without test_dev(), 6.12 also reverts the device that failed */
	if (kfake_base_has(KFAKE_DIFF_REVERT_FAILED_DEV))
		KFAKE_EXPECT_CALLS(test, fake,
				   KFAKE_REFUSED_EV(s2, kd, IOMMU_NO_PASID, def,
						    -EBUSY),
				   KFAKE_UNTESTED_ATTACH_EV(def, kd, s2));
	else
		KFAKE_EXPECT_CALLS(test, fake,
				   KFAKE_REFUSED_EV(s2, kd, IOMMU_NO_PASID, def,
						    -EBUSY));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), paging);

	/* Without the PASID, the stage-2 domain is taken */
	kfake_detach_pasid(test, kd, 1);
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, s2, group), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(s2, kd, IOMMU_NO_PASID, def),
			   KFAKE_ATTACH_EV(s2, kd, def));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, s2);
}

static void pasid_smmuv3_refused_on_s2_rid(struct kunit *test)
{
	struct kfake *fake = kfake_new_as(test, KFAKE_SMMUV3);
	struct kfake_dev *kd = kfake_add_dev(fake, &pasid_dev);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);
	struct iommu_domain *s2 = kfake_alloc_s2(test, kd);

	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, s2, group), 0);
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, paging, kd, 1),
			-EINVAL);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_REFUSED_EV(paging, kd, 1, NULL, -EINVAL));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
	KUNIT_EXPECT_TRUE(test, IS_ERR(iommu_attach_handle_get(group, 1, 0)));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, s2);

	/* Back on a stage-1 or identity RID domain, the PASID is taken */
	kfake_detach_group(test, s2, group);
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, paging, kd, 1), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd, 1, NULL),
			   KFAKE_PASID_EV(paging, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
}

static struct kunit_case iommu_pasid_cases[] = {
	KUNIT_CASE_PARAM(pasid_attach_and_detach,
			 kfake_personality_gen_params),
	KUNIT_CASE(pasid_attach_rejects_bad_pasids),
	KUNIT_CASE_PARAM(pasid_attach_twice_busy,
			 kfake_personality_gen_params),
	KUNIT_CASE(pasid_needs_blocked_domain),
	KUNIT_CASE(pasid_foreign_domain_rejected),
	KUNIT_CASE_PARAM(pasid_group_skips_devices_without_pasid,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(pasid_attach_failure_reverts, fail_cases_gen_params),
	KUNIT_CASE_PARAM(pasid_replace, kfake_personality_gen_params),
	KUNIT_CASE(pasid_replace_amd_refused),
	KUNIT_CASE(pasid_replace_needs_attached_pasid),
	KUNIT_CASE_PARAM(pasid_replace_failure_reverts, fail_cases_gen_params),
	KUNIT_CASE_PARAM(pasid_blocks_dma_ownership,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(pasid_attach_while_rid_blocked,
			 kfake_personality_gen_params),
	KUNIT_CASE(pasid_smmuv3_s2_rid_busy_with_pasids),
	KUNIT_CASE(pasid_smmuv3_refused_on_s2_rid),
	{}
};

static struct kunit_suite iommu_pasid_suite = {
	.name = "iommu_core_pasid",
	.suite_init = kfake_bus_init,
	.suite_exit = kfake_bus_exit,
	.test_cases = iommu_pasid_cases,
};

kunit_test_suite(iommu_pasid_suite);
