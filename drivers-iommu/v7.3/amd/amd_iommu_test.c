// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the rules of the test_dev() domain op of the AMD IOMMU
 * driver. The rules take what they read as arguments: the cases construct
 * devices and domains, and need no AMD IOMMU.
 */
#include <kunit/test.h>
#include <linux/iommu.h>
#include <linux/sizes.h>

#include "amd_iommu.h"

/* 16-bit PASIDs: a GCR3 table of two levels */
#define TEST_MAX_PASIDS		0xffff

struct amd_iommu_test {
	struct iommu_dev_data *dev_data;
	struct amd_iommu_attach_caps caps;
	struct protection_domain *v1;
	struct protection_domain *v2;
	struct protection_domain *identity;
	struct iommu_domain blocked;
	struct iommu_domain nested;
	struct iommu_domain *sva;
};

static const struct iommu_dirty_ops test_dirty_ops;

static struct protection_domain *test_alloc_pdom(struct kunit *test,
						 unsigned int type,
						 enum protection_domain_mode mode)
{
	struct protection_domain *pdom;

	pdom = kunit_kzalloc(test, sizeof(*pdom), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pdom);
	pdom->domain.type = type;
	pdom->pd_mode = mode;
	return pdom;
}

/*
 * A device with PASID support behind an IOMMU that supports dirty tracking,
 * two GCR3 levels and a system without SNP: every rule passes until a case
 * takes something away.
 */
static int amd_iommu_test_init(struct kunit *test)
{
	struct amd_iommu_test *t;
	struct protection_domain *sva;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t);

	t->dev_data = kunit_kzalloc(test, sizeof(*t->dev_data), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, t->dev_data);
	t->dev_data->flags = AMD_IOMMU_DEVICE_FLAG_PASID_SUP;
	t->dev_data->max_pasids = TEST_MAX_PASIDS;

	t->caps.hd_support = true;
	t->caps.max_glx = 1;

	t->v1 = test_alloc_pdom(test, IOMMU_DOMAIN_UNMANAGED, PD_MODE_V1);
	t->v2 = test_alloc_pdom(test, IOMMU_DOMAIN_DMA, PD_MODE_V2);
	t->identity = test_alloc_pdom(test, IOMMU_DOMAIN_IDENTITY, PD_MODE_NONE);
	sva = test_alloc_pdom(test, IOMMU_DOMAIN_SVA, PD_MODE_NONE);
	t->sva = &sva->domain;
	t->blocked.type = IOMMU_DOMAIN_BLOCKED;
	t->nested.type = IOMMU_DOMAIN_NESTED;

	test->priv = t;
	return 0;
}

static void amd_iommu_test_domain_default(struct kunit *test)
{
	struct amd_iommu_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->v1->domain,
						    IOMMU_NO_PASID), 0);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->v2->domain,
						    IOMMU_NO_PASID), 0);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->identity->domain,
						    IOMMU_NO_PASID), 0);
}

/* Only the SVA domains have set_dev_pasid() */
static void amd_iommu_test_domain_pasid(struct kunit *test)
{
	struct amd_iommu_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->v1->domain, 1),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->v2->domain, 1),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->identity->domain, 1),
			-EOPNOTSUPP);
}

/* amd_iommu_attach_device(): dirty tracking needs HD support in the IOMMU */
static void amd_iommu_test_domain_dirty(struct kunit *test)
{
	struct amd_iommu_test *t = test->priv;

	t->v1->domain.dirty_ops = &test_dirty_ops;
	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->v1->domain,
						    IOMMU_NO_PASID), 0);

	t->caps.hd_support = false;
	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->v1->domain,
						    IOMMU_NO_PASID), -EINVAL);

	/* Without dirty tracking, the domain does not need it */
	t->v1->domain.dirty_ops = NULL;
	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->v1->domain,
						    IOMMU_NO_PASID), 0);
}

/* amd_iommu_identity_attach(): SNP without Mode0 support forbids identity */
static void amd_iommu_test_domain_snp_identity(struct kunit *test)
{
	struct amd_iommu_test *t = test->priv;

	t->caps.snp_en = true;
	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->identity->domain,
						    IOMMU_NO_PASID), -EINVAL);
	/* A paging domain is not affected */
	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->v1->domain,
						    IOMMU_NO_PASID), 0);

	t->caps.snp_mode0_sup = true;
	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->identity->domain,
						    IOMMU_NO_PASID), 0);
}

/*
 * setup_gcr3_table(): the GCR3 table set up for a v2 domain, or for the
 * identity domain on a device with PASID support, must fit in the GCR3 levels
 * of the IOMMUs.
 */
static void amd_iommu_test_domain_gcr3_levels(struct kunit *test)
{
	struct amd_iommu_test *t = test->priv;

	/* 16-bit PASIDs need two levels, the IOMMUs support one */
	t->caps.max_glx = 0;
	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->v2->domain,
						    IOMMU_NO_PASID), -EINVAL);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->identity->domain,
						    IOMMU_NO_PASID), -EINVAL);
	/* A v1 domain has no GCR3 table */
	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->v1->domain,
						    IOMMU_NO_PASID), 0);

	/* 512 PASIDs fit in one level */
	t->dev_data->max_pasids = 512;
	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->v2->domain,
						    IOMMU_NO_PASID), 0);

	/*
	 * The identity domain gets no GCR3 table on a device without PASID
	 * support, even from IOMMUs without guest translation (GLX unset)
	 */
	t->dev_data->flags = 0;
	t->dev_data->max_pasids = 0;
	t->caps.max_glx = -1;
	KUNIT_EXPECT_EQ(test, amd_iommu_test_domain(&t->caps, t->dev_data,
						    &t->identity->domain,
						    IOMMU_NO_PASID), 0);
}

/* iommu_sva_set_dev_pasid() does not replace a domain */
static void amd_iommu_test_sva_replace(struct kunit *test)
{
	struct amd_iommu_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, amd_iommu_test_sva(t->dev_data, &t->v2->domain,
						 1, NULL), 0);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_sva(t->dev_data, &t->v2->domain,
						 1, t->sva), -EOPNOTSUPP);
}

/* PASID 0 is the RID's, and the device has max_pasids */
static void amd_iommu_test_sva_pasid_range(struct kunit *test)
{
	struct amd_iommu_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, amd_iommu_test_sva(t->dev_data, &t->v2->domain,
						 IOMMU_NO_PASID, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_sva(t->dev_data, &t->v2->domain,
						 TEST_MAX_PASIDS - 1, NULL), 0);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_sva(t->dev_data, &t->v2->domain,
						 TEST_MAX_PASIDS, NULL),
			-EINVAL);
}

/* A device without PASID support has no PASID enabled */
static void amd_iommu_test_sva_no_pasid_sup(struct kunit *test)
{
	struct amd_iommu_test *t = test->priv;

	/* As probed: no PASID capability, no max_pasids */
	t->dev_data->flags = 0;
	t->dev_data->max_pasids = 0;
	KUNIT_EXPECT_EQ(test, amd_iommu_test_sva(t->dev_data, &t->v2->domain,
						 1, NULL), -EINVAL);

	/* No PASID capability enabled, whatever max_pasids says */
	t->dev_data->max_pasids = TEST_MAX_PASIDS;
	KUNIT_EXPECT_EQ(test, amd_iommu_test_sva(t->dev_data, &t->v2->domain,
						 1, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_sva(t->dev_data,
						 &t->identity->domain, 1,
						 NULL), -EINVAL);
}

/* PASID is enabled by attach_device() of a v2 or identity RID domain only */
static void amd_iommu_test_sva_rid_domain(struct kunit *test)
{
	struct amd_iommu_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, amd_iommu_test_sva(t->dev_data, &t->v2->domain,
						 1, NULL), 0);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_sva(t->dev_data,
						 &t->identity->domain, 1,
						 NULL), 0);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_sva(t->dev_data, &t->v1->domain,
						 1, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_sva(t->dev_data, &t->blocked,
						 1, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_sva(t->dev_data, &t->nested,
						 1, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_sva(t->dev_data, NULL, 1, NULL),
			-EINVAL);
}

/*
 * During a reset the RID is blocked: the GCR3 table is freed and PASID is
 * disabled, but the core records the domain done() attaches again. The rule
 * reads the record, not the driver's state.
 */
static void amd_iommu_test_sva_reads_record(struct kunit *test)
{
	struct amd_iommu_test *t = test->priv;
	u64 *gcr3_tbl;

	gcr3_tbl = kunit_kzalloc(test, SZ_4K, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, gcr3_tbl);

	/* Reset: state torn down, v2 recorded */
	t->dev_data->domain = NULL;
	t->dev_data->gcr3_info.gcr3_tbl = NULL;
	t->dev_data->pasid_enabled = 0;
	KUNIT_EXPECT_EQ(test, amd_iommu_test_sva(t->dev_data, &t->v2->domain,
						 1, NULL), 0);

	/* The other way round: state of a v2 domain, v1 recorded */
	t->dev_data->domain = t->v2;
	t->dev_data->gcr3_info.gcr3_tbl = gcr3_tbl;
	t->dev_data->pasid_enabled = 1;
	KUNIT_EXPECT_EQ(test, amd_iommu_test_sva(t->dev_data, &t->v1->domain,
						 1, NULL), -EINVAL);
}

/* nested_attach_device() refuses a device with PASID enabled */
static void amd_iommu_test_nested_pasid_enabled(struct kunit *test)
{
	struct amd_iommu_test *t = test->priv;

	if (!IS_ENABLED(CONFIG_AMD_IOMMU_IOMMUFD))
		kunit_skip(test, "needs CONFIG_AMD_IOMMU_IOMMUFD");

	KUNIT_EXPECT_EQ(test, amd_iommu_test_nested(t->dev_data,
						    &t->v1->domain,
						    IOMMU_NO_PASID), 0);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_nested(t->dev_data, &t->blocked,
						    IOMMU_NO_PASID), 0);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_nested(t->dev_data, &t->nested,
						    IOMMU_NO_PASID), 0);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_nested(t->dev_data, NULL,
						    IOMMU_NO_PASID), 0);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_nested(t->dev_data,
						    &t->v2->domain,
						    IOMMU_NO_PASID), -EINVAL);
	KUNIT_EXPECT_EQ(test, amd_iommu_test_nested(t->dev_data,
						    &t->identity->domain,
						    IOMMU_NO_PASID), -EINVAL);

	/* The record, not dev_data->pasid_enabled, which a reset clears */
	t->dev_data->pasid_enabled = 0;
	KUNIT_EXPECT_EQ(test, amd_iommu_test_nested(t->dev_data,
						    &t->identity->domain,
						    IOMMU_NO_PASID), -EINVAL);
	t->dev_data->pasid_enabled = 1;
	KUNIT_EXPECT_EQ(test, amd_iommu_test_nested(t->dev_data, &t->blocked,
						    IOMMU_NO_PASID), 0);

	/* Without PASID support, no domain enables PASID */
	t->dev_data->flags = 0;
	t->dev_data->max_pasids = 0;
	KUNIT_EXPECT_EQ(test, amd_iommu_test_nested(t->dev_data,
						    &t->identity->domain,
						    IOMMU_NO_PASID), 0);
}

static void amd_iommu_test_nested_pasid(struct kunit *test)
{
	struct amd_iommu_test *t = test->priv;

	if (!IS_ENABLED(CONFIG_AMD_IOMMU_IOMMUFD))
		kunit_skip(test, "needs CONFIG_AMD_IOMMU_IOMMUFD");

	KUNIT_EXPECT_EQ(test, amd_iommu_test_nested(t->dev_data,
						    &t->v1->domain, 1),
			-EOPNOTSUPP);
}

static struct kunit_case amd_iommu_test_cases[] = {
	KUNIT_CASE(amd_iommu_test_domain_default),
	KUNIT_CASE(amd_iommu_test_domain_pasid),
	KUNIT_CASE(amd_iommu_test_domain_dirty),
	KUNIT_CASE(amd_iommu_test_domain_snp_identity),
	KUNIT_CASE(amd_iommu_test_domain_gcr3_levels),
	KUNIT_CASE(amd_iommu_test_sva_replace),
	KUNIT_CASE(amd_iommu_test_sva_pasid_range),
	KUNIT_CASE(amd_iommu_test_sva_no_pasid_sup),
	KUNIT_CASE(amd_iommu_test_sva_rid_domain),
	KUNIT_CASE(amd_iommu_test_sva_reads_record),
	KUNIT_CASE(amd_iommu_test_nested_pasid_enabled),
	KUNIT_CASE(amd_iommu_test_nested_pasid),
	{}
};

static struct kunit_suite amd_iommu_test_suite = {
	.name = "amd-iommu-test-dev",
	.init = amd_iommu_test_init,
	.test_cases = amd_iommu_test_cases,
};

kunit_test_suite(amd_iommu_test_suite);

MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");
MODULE_DESCRIPTION("KUnit tests of the test_dev rules of the AMD IOMMU driver");
MODULE_LICENSE("GPL");
