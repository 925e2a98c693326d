// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the IOMMU core: deferred attach (is_attach_deferred(), as
 * AMD-Vi and VT-d use in a kdump kernel), driven through the fake IOMMU
 * driver of <linux/iommu-kunit.h> with the personality of each real driver.
 */
#include <kunit/test.h>
#include <linux/iommu-kunit.h>

KFAKE_PERSONALITY_PARAMS();

/* The hardware has not been set up: the driver is told nothing is replaced */
static void deferred_first_call_attaches(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .deferred = true };
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);

	KFAKE_EXPECT_NO_CALLS(test, fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(def, kd, IOMMU_NO_PASID, NULL),
			   KFAKE_ATTACH_EV(def, kd, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	KUNIT_EXPECT_FALSE(test, kd->dev->iommu->attach_deferred);

	/* Later calls, the DMA API fast path, cost nothing */
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	KFAKE_EXPECT_NO_CALLS(test, fake);
}

static void deferred_failure_retried(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .deferred = true };
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);

	kd->fail_domain = def;
	kd->fail_err = -ENOMEM;
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), -ENOMEM);
	KUNIT_EXPECT_TRUE(test, kd->dev->iommu->attach_deferred);
	/* VT-d blocks the device before its attach fails */
	KUNIT_EXPECT_PTR_EQ(test, kd->rid,
			    kfake_param_personality(test) == KFAKE_VTD ?
			    &kfake_blocked_domain : NULL);
	kd->fail_domain = NULL;
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(def, kd, IOMMU_NO_PASID, NULL),
			   KFAKE_ATTACH_FAIL_EV(def, kd, NULL, -ENOMEM),
			   KFAKE_TEST_EV(def, kd, IOMMU_NO_PASID, NULL),
			   KFAKE_ATTACH_EV(def, kd, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
}

static void deferred_explicit_attach_ends_deferral(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .deferred = true };
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	KUNIT_EXPECT_FALSE(test, kd->dev->iommu->attach_deferred);
	kfake_detach_group(test, paging, group);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	/*
	 * Current behaviour: test_dev() and attach_dev() are told the device
	 * leaves the default domain, which its hardware never had.
	 */
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd, IOMMU_NO_PASID, def),
			   KFAKE_ATTACH_EV(paging, kd, def),
			   KFAKE_ATTACH_EV(def, kd, paging));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
}

/*
 * Joining a group on its default domain does not end the deferral, although
 * the domain is tested at the join as for any device.
 */
static void deferred_join_default_group_waits(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	const struct kfake_dev_cfg dcfg = { .group = 1, .deferred = true };
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd1);
	struct kfake_dev *kd2;

	kfake_clear_log(fake);
	kd2 = kfake_add_dev(fake, &dcfg);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(def, kd2, IOMMU_NO_PASID, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd2), def);
	KUNIT_EXPECT_NULL(test, kd2->rid);
	KUNIT_EXPECT_TRUE(test, kd2->dev->iommu->attach_deferred);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd2->dev, def), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(def, kd2, IOMMU_NO_PASID, NULL),
			   KFAKE_ATTACH_EV(def, kd2, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, def);
}

/* Joining a group on another domain must attach that domain at once */
static void deferred_join_attached_group_attaches(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	const struct kfake_dev_cfg dcfg = { .group = 1, .deferred = true };
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);
	struct kfake_dev *kd2;

	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	kfake_clear_log(fake);
	kd2 = kfake_add_dev(fake, &dcfg);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd2, IOMMU_NO_PASID, NULL),
			   KFAKE_ATTACH_EV(paging, kd2, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, paging);

	/* ... which ended the deferral */
	kfake_clear_log(fake);
	KUNIT_EXPECT_FALSE(test, kd2->dev->iommu->attach_deferred);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd2->dev, paging), 0);
	KFAKE_EXPECT_NO_CALLS(test, fake);
}

static struct kunit_case iommu_deferred_cases[] = {
	KUNIT_CASE_PARAM(deferred_first_call_attaches,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(deferred_failure_retried,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(deferred_explicit_attach_ends_deferral,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(deferred_join_default_group_waits,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(deferred_join_attached_group_attaches,
			 kfake_personality_gen_params),
	{}
};

static struct kunit_suite iommu_deferred_suite = {
	.name = "iommu_core_deferred_attach",
	.suite_init = kfake_bus_init,
	.suite_exit = kfake_bus_exit,
	.test_cases = iommu_deferred_cases,
};

kunit_test_suite(iommu_deferred_suite);
