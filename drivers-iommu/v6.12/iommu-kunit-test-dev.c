// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the IOMMU core: the test_dev() domain op, which every attach
 * path calls, with the domain the device has now, before it changes anything.
 * Driven through the fake IOMMU driver of <linux/iommu-kunit.h> with the
 * personality of each real driver (VT-d, SMMUv3 and AMD-Vi have test_dev()
 * on paging domains only: an expected test_dev() of a static domain is then
 * dropped by KFAKE_EXPECT_CALLS()).
 */
#include <kunit/test.h>
#include <linux/iommu-kunit.h>

#include "iommu-priv.h"

KFAKE_PERSONALITY_PARAMS();

static const struct kfake_dev_cfg grouped = { .group = 1 };
static const struct kfake_dev_cfg grouped_pasid = {
	.group = 1,
	.pasid_bits = 5,
};

static const struct kfake_dev_cfg pasid_dev = { .pasid_bits = 5 };

static struct iommu_attach_handle *new_handle(struct kunit *test)
{
	struct iommu_attach_handle *handle;

	handle = kunit_kzalloc(test, sizeof(*handle), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, handle);
	return handle;
}

/* Every device is asked, against what it has now, before any is attached */

static void test_dev_before_group_attach(struct kunit *test)
{
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd1 = kfake_add_dev(fake, &grouped);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &grouped);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *def = kfake_cur(kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd1, IOMMU_NO_PASID, def),
			   KFAKE_TEST_EV(paging, kd2, IOMMU_NO_PASID, def),
			   KFAKE_ATTACH_EV(paging, kd1, def),
			   KFAKE_ATTACH_EV(paging, kd2, def));

	/* A detach cannot be refused: the driver is not asked */
	kd1->refuse_domain = def;
	kd1->refuse_err = -EINVAL;
	kfake_clear_log(fake);
	kfake_detach_group(test, paging, group);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_EV(def, kd1, paging),
			   KFAKE_ATTACH_EV(def, kd2, paging));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd1), def);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);
}

/**
 * struct refuse_case - which device of a group refuses a domain
 * @refuses: index of the device whose test_dev() refuses.
 * @personality: the driver.
 */
struct refuse_case {
	unsigned int refuses;
	enum kfake_personality personality;
};

static const struct refuse_case refuse_cases[] = {
	{ 0, KFAKE_PLAIN }, { 1, KFAKE_PLAIN },
	{ 0, KFAKE_VTD }, { 1, KFAKE_VTD },
	{ 0, KFAKE_SMMUV3 }, { 1, KFAKE_SMMUV3 },
	{ 0, KFAKE_AMD }, { 1, KFAKE_AMD },
};

static void refuse_case_desc(const struct refuse_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s, %s device refuses",
		 kfake_personality_name(c->personality),
		 c->refuses ? "last" : "first");
}

KUNIT_ARRAY_PARAM(refuse_cases, refuse_cases, refuse_case_desc);

/*
 * A refusal stops the test loop and leaves the whole group as it was: the
 * devices after the one that refuses are not asked, none is attached, and
 * the driver's code reaches the caller as it is.
 */
static void test_dev_refusal_changes_nothing(struct kunit *test)
{
	const struct refuse_case *c = test->param_value;
	struct kfake *fake = kfake_new_as(test, c->personality);
	struct kfake_dev *kd[2] = {
		kfake_add_dev(fake, &grouped),
		kfake_add_dev(fake, &grouped),
	};
	struct iommu_group *group = kfake_group(test, kd[0]);
	struct iommu_domain *def = kfake_cur(kd[0]);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd[0]);
	struct kfake_dev *refuser = kd[c->refuses];

	kfake_need_test_dev(test, fake);

	refuser->refuse_domain = paging;
	refuser->refuse_err = -EINVAL;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), -EINVAL);
	if (c->refuses)
		KFAKE_EXPECT_CALLS(test, fake,
				   KFAKE_TEST_EV(paging, kd[0], IOMMU_NO_PASID,
						 def),
				   KFAKE_TEST_FAIL_EV(paging, kd[1],
						      IOMMU_NO_PASID, def,
						      -EINVAL));
	else
		KFAKE_EXPECT_CALLS(test, fake,
				   KFAKE_TEST_FAIL_EV(paging, kd[0],
						      IOMMU_NO_PASID, def,
						      -EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd[0]), def);
	KUNIT_EXPECT_PTR_EQ(test, kd[0]->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kd[1]->rid, def);

	refuser->refuse_err = -ENODEV;
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), -ENODEV);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd[0]), def);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_ATTACH, NULL), 0);
}

/* Replacing by another domain is tested; by the same domain, it is not */
static void test_dev_before_replace(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { };
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd);
	struct iommu_attach_handle *handle;

	kfake_need_test_dev(test, fake);

	KUNIT_ASSERT_EQ(test, kfake_attach_group_handle(test, p1, group), 0);
	kd->refuse_domain = p2;
	kd->refuse_err = -EBUSY;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_replace_group_handle(test, group, p2),
			-EBUSY);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_FAIL_EV(p2, kd, IOMMU_NO_PASID, p1,
					      -EBUSY));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), p1);
	handle = iommu_attach_handle_get(group, IOMMU_NO_PASID, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(handle));
	KUNIT_EXPECT_PTR_EQ(test, handle->domain, p1);

	kd->refuse_domain = NULL;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_replace_group_handle(test, group, p2), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(p2, kd, IOMMU_NO_PASID, p1),
			   KFAKE_ATTACH_EV(p2, kd, p1));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), p2);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_replace_group_handle(test, group, p2), 0);
	KFAKE_EXPECT_NO_CALLS(test, fake);
	handle = iommu_attach_handle_get(group, IOMMU_NO_PASID, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(handle));
	KUNIT_EXPECT_PTR_EQ(test, handle->domain, p2);
}

/*
 * Only the plain personality has test_dev() on its static blocked domain:
 * no real driver does, so this runs on it alone.
 */
static void test_dev_before_dma_ownership(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { };
	struct kfake *fake = kfake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);

	KUNIT_ASSERT_NOT_NULL(test, kfake_blocked_domain.ops->test_dev);
	kd->refuse_domain = &kfake_blocked_domain;
	kd->refuse_err = -EINVAL;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_claim_dma_owner(test, group), -EINVAL);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_FAIL_EV(&kfake_blocked_domain, kd,
					      IOMMU_NO_PASID, def, -EINVAL));
	KUNIT_EXPECT_FALSE(test, iommu_group_dma_owner_claimed(group));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
}

/* A device joining a group with a domain is tested like an attach */
static void test_dev_before_probe_joins_group(struct kunit *test)
{
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd1 = kfake_add_dev(fake, &grouped);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);
	struct kfake_dev *kd2;

	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	kfake_clear_log(fake);
	kd2 = kfake_add_dev(fake, &grouped);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd2, IOMMU_NO_PASID, NULL),
			   KFAKE_ATTACH_EV(paging, kd2, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, paging);
	KUNIT_EXPECT_PTR_EQ(test, kfake_group(test, kd2), group);
}

/*
 * A device that refuses the domain of the group it joins fails its probe:
 * it ends up with no group, and its siblings stay on their domain.
 */
static void test_dev_refusal_at_join(struct kunit *test)
{
	const struct kfake_dev_cfg rcfg = {
		.group = 1,
		.refuse_kind = KFAKE_KIND_PAGING,
		.refuse_err = -EINVAL,
	};
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd1 = kfake_add_dev(fake, &grouped);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);
	struct kfake_dev *kd2;

	kfake_need_test_dev(test, fake);

	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	kfake_clear_log(fake);
	kd2 = kfake_add_dev(fake, &rcfg);
	KUNIT_ASSERT_NOT_NULL(test, kd2->dev);
	/*
	 * Current behaviour: the unwind parks the device on the release
	 * domain and tells the driver it leaves the group's domain, which it
	 * was never attached to.
	 */
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_FAIL_EV(paging, kd2, IOMMU_NO_PASID,
					      NULL, -EINVAL),
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd2, paging));
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_PROBE, kd2->dev), 1);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_RELEASE, kd2->dev), 1);
	KUNIT_EXPECT_NULL(test, kd2->owned->iommu_group);
	KUNIT_EXPECT_FALSE(test, device_iommu_mapped(kd2->owned));
	KUNIT_EXPECT_FALSE(test, kfake_domain_has_dev(paging, kd2,
						      IOMMU_NO_PASID));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd1), paging);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, paging);
}

static void test_dev_before_pasid_attach(struct kunit *test)
{
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd1 = kfake_add_dev(fake, &grouped_pasid);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &grouped_pasid);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	kfake_need_test_dev(test, fake);

	kd2->refuse_domain = paging;
	kd2->refuse_err = -EOPNOTSUPP;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, paging, kd1, 3),
			-EOPNOTSUPP);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd1, 3, NULL),
			   KFAKE_TEST_FAIL_EV(paging, kd2, 3, NULL,
					      -EOPNOTSUPP));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd1, 3));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 3, 0),
			    ERR_PTR(-ENOENT));

	kd2->refuse_domain = NULL;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, paging, kd1, 3), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd1, 3, NULL),
			   KFAKE_TEST_EV(paging, kd2, 3, NULL),
			   KFAKE_PASID_EV(paging, kd1, 3, NULL),
			   KFAKE_PASID_EV(paging, kd2, 3, NULL));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 3, 0),
			    kfake_pasid_handle(kd1, 3));
}

static void test_dev_before_pasid_replace(struct kunit *test)
{
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd = kfake_add_dev(fake, &pasid_dev);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd);
	struct iommu_attach_handle *h1;

	kfake_need_test_dev(test, fake);
	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, p1, kd, 4), 0);
	h1 = kfake_pasid_handle(kd, 4);
	kd->refuse_domain = p2;
	kd->refuse_err = -EINVAL;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_replace_pasid(test, p2, kd, 4), -EINVAL);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_FAIL_EV(p2, kd, 4, p1, -EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 4), p1);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 4, 0), h1);

	kd->refuse_domain = NULL;
	kfake_clear_log(fake);
	if (fake->cfg.personality == KFAKE_AMD) {
		/* AMD's set_dev_pasid() does not replace, and test_dev() says so */
		KUNIT_EXPECT_EQ(test, kfake_replace_pasid(test, p2, kd, 4),
				-EOPNOTSUPP);
		KFAKE_EXPECT_CALLS(test, fake,
				   KFAKE_TEST_FAIL_EV(p2, kd, 4, p1,
						      -EOPNOTSUPP));
		KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 4, 0),
				    h1);
		return;
	}
	KUNIT_EXPECT_EQ(test, kfake_replace_pasid(test, p2, kd, 4), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(p2, kd, 4, p1),
			   KFAKE_PASID_EV(p2, kd, 4, p1));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 4, 0),
			    kfake_pasid_handle(kd, 4));
}

static void test_dev_before_deferred_attach(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .deferred = true };
	struct kfake *fake;
	struct kfake_dev *kd;
	struct iommu_domain *def;

	/* Only a paging default domain has test_dev() in a real driver */
	if (!kfake_default_is_dma() &&
	    kfake_param_personality(test) != KFAKE_PLAIN)
		kfake_skip(test, "identity default domain: no test_dev()");
	fake = kfake_new_as(test, kfake_param_personality(test));
	kfake_need_test_dev(test, fake);
	kd = kfake_add_dev(fake, &cfg);
	def = kfake_cur(kd);
	kd->refuse_domain = def;
	kd->refuse_err = -ENODEV;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), -ENODEV);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_FAIL_EV(def, kd, IOMMU_NO_PASID, NULL,
					      -ENODEV));
	KUNIT_EXPECT_TRUE(test, kd->dev->iommu->attach_deferred);
	KUNIT_EXPECT_NULL(test, kd->rid);

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
	struct kfake *fake = kfake_new(test, &cfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &pasid_dev);
	struct kfake_dev *direct = kfake_add_dev(fake, &dcfg);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);
	struct iommu_domain *foreign = kfake_alloc_foreign(test);

	KUNIT_ASSERT_NULL(test, paging->ops->test_dev);
	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, paging, kd, 1), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_EV(paging, kd, def),
			   KFAKE_PASID_EV(paging, kd, 1, NULL));
	kfake_detach_pasid(test, kd, 1);
	kfake_detach_group(test, paging, group);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(foreign, group), -EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(foreign, kd->dev, 1,
							new_handle(test)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test,
			kfake_claim_dma_owner(test, kfake_group(test, direct)),
			-EINVAL);
	KFAKE_EXPECT_NO_CALLS(test, fake);
}

/*
 * VT-d: IOMMU units differ in address width, and a unit takes no domain of a
 * wider unit. The refusal comes from test_dev(), for the RID and for a PASID,
 * before any device of the group is attached. The device of the narrower
 * unit probes first, so that a paging default domain fits both.
 */
static void test_dev_vtd_units(struct kunit *test)
{
	const struct kfake_dev_cfg cfg0 = { .group = 1, .pasid_bits = 4 };
	const struct kfake_dev_cfg cfg1 = {
		.group = 1,
		.pasid_bits = 4,
		.unit = 1,
	};
	struct kfake *fake = kfake_new_as(test, KFAKE_VTD);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg1);
	struct kfake_dev *kd0 = kfake_add_dev(fake, &cfg0);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *def = kfake_cur(kd1);
	struct iommu_domain *wide = kfake_alloc_paging(test, kd0);
	struct iommu_domain *narrow = kfake_alloc_paging(test, kd1);

	KUNIT_ASSERT_PTR_EQ(test, kfake_group(test, kd0), group);
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(wide, group), -EINVAL);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_FAIL_EV(wide, kd1, IOMMU_NO_PASID, def,
					      -EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, wide, kd0, 1), -EINVAL);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_FAIL_EV(wide, kd1, 1, NULL, -EINVAL));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd0, 1));

	/* The other way round, the domain fits every unit */
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, narrow, group), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(narrow, kd1, IOMMU_NO_PASID, def),
			   KFAKE_TEST_EV(narrow, kd0, IOMMU_NO_PASID, def),
			   KFAKE_ATTACH_EV(narrow, kd1, def),
			   KFAKE_ATTACH_EV(narrow, kd0, def));
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, narrow);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, narrow);
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, narrow, kd0, 1), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(narrow, kd1, 1, NULL),
			   KFAKE_TEST_EV(narrow, kd0, 1, NULL),
			   KFAKE_PASID_EV(narrow, kd1, 1, NULL),
			   KFAKE_PASID_EV(narrow, kd0, 1, NULL));
}

static struct kunit_case iommu_test_dev_cases[] = {
	KUNIT_CASE_PARAM(test_dev_before_group_attach,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(test_dev_refusal_changes_nothing,
			 refuse_cases_gen_params),
	KUNIT_CASE_PARAM(test_dev_before_replace,
			 kfake_personality_gen_params),
	KUNIT_CASE(test_dev_before_dma_ownership),
	KUNIT_CASE_PARAM(test_dev_before_probe_joins_group,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(test_dev_refusal_at_join,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(test_dev_before_pasid_attach,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(test_dev_before_pasid_replace,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(test_dev_before_deferred_attach,
			 kfake_personality_gen_params),
	KUNIT_CASE(test_dev_optional),
	KUNIT_CASE(test_dev_vtd_units),
	{}
};

static struct kunit_suite iommu_test_dev_suite = {
	.name = "iommu_core_test_dev",
	.suite_init = kfake_bus_init,
	.suite_exit = kfake_bus_exit,
	.test_cases = iommu_test_dev_cases,
};

kunit_test_suite(iommu_test_dev_suite);
