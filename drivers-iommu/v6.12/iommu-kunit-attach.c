// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the IOMMU core: attach, detach and replace of group domains,
 * require_direct devices and DMA ownership, driven through the fake IOMMU
 * driver of <linux/iommu-kunit.h> with the personality of each real driver.
 */
#include <kunit/test.h>
#include <linux/iommu-kunit.h>

#include "iommu-priv.h"

KFAKE_PERSONALITY_PARAMS();

#define NR_DEVS	3

/* A group of NR_DEVS devices, in kd[] */
static struct iommu_group *add_group(struct kfake *fake,
				     struct kfake_dev *kd[NR_DEVS],
				     const struct kfake_dev_cfg *cfg)
{
	unsigned int i;

	for (i = 0; i < NR_DEVS; i++)
		kd[i] = kfake_add_dev(fake, cfg);
	return kfake_group(fake->test, kd[0]);
}

/* Whether a failed attach leaves the device blocked instead of as it was */
static bool fails_dirty(struct kfake *fake)
{
	return fake->cfg.dirty_failures || fake->cfg.personality == KFAKE_VTD;
}

static void attach_group_attaches_every_device(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd[NR_DEVS];
	struct iommu_group *group = add_group(fake, kd, &cfg);
	struct iommu_domain *def = kfake_cur(kd[0]);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd[0]);

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	/* Every device is asked before any is attached */
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd[0], IOMMU_NO_PASID, def),
			   KFAKE_TEST_EV(paging, kd[1], IOMMU_NO_PASID, def),
			   KFAKE_TEST_EV(paging, kd[2], IOMMU_NO_PASID, def),
			   KFAKE_ATTACH_EV(paging, kd[0], def),
			   KFAKE_ATTACH_EV(paging, kd[1], def),
			   KFAKE_ATTACH_EV(paging, kd[2], def));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd[1]), paging);
	KUNIT_EXPECT_PTR_EQ(test, kd[2]->rid, paging);

	/* A detach must succeed: the driver is not asked */
	kfake_clear_log(fake);
	kfake_detach_group(test, paging, group);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_EV(def, kd[0], paging),
			   KFAKE_ATTACH_EV(def, kd[1], paging),
			   KFAKE_ATTACH_EV(def, kd[2], paging));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd[2]), def);
	KUNIT_EXPECT_PTR_EQ(test, kd[0]->rid, def);
	KUNIT_EXPECT_FALSE(test, kfake_domain_has_dev(paging, kd[1],
						      IOMMU_NO_PASID));
}

static void attach_device_needs_single_device_group(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = kfake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_device(paging, kd1->dev), -EINVAL);
	KFAKE_EXPECT_NO_CALLS(test, fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd1), def);
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, def);
}

/* A group on a domain other than a core one takes no other: nothing asked */
static void attach_group_busy(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { };
	struct kfake *fake = kfake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, p1, group), 0);
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(p2, group), -EBUSY);
	KFAKE_EXPECT_NO_CALLS(test, fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), p1);
}

/* The owner check of the core refuses before the driver is asked */
static void attach_foreign_domain_rejected(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { };
	struct kfake *fake = kfake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);

	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(kfake_alloc_foreign(test),
						 kfake_group(test, kd)),
			-EINVAL);
	KFAKE_EXPECT_NO_CALLS(test, fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);
}

/**
 * struct fail_case - which device of a group fails its attach, and the driver
 * @fails: index of the device whose attach_dev() fails.
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
 * The log of a group change from @old to @new where device @fails fails with
 * @err: every device is tested, the devices before it are attached and then
 * reverted, the device that failed is not (but with
 * KFAKE_DIFF_REVERT_FAILED_DEV).
 */
static void expect_failed_change(struct kunit *test, struct kfake *fake,
				 struct kfake_dev *kd[NR_DEVS],
				 struct iommu_domain *new,
				 struct iommu_domain *old, unsigned int fails,
				 int err)
{
	struct kfake_event want[3 * NR_DEVS + 1];
	unsigned int reverted = fails, i, n = 0;

	for (i = 0; i < NR_DEVS; i++)
		want[n++] = (struct kfake_event)
			KFAKE_TEST_EV(new, kd[i], IOMMU_NO_PASID, old);
	for (i = 0; i < fails; i++)
		want[n++] = (struct kfake_event)KFAKE_ATTACH_EV(new, kd[i], old);
	want[n++] = (struct kfake_event)
		KFAKE_ATTACH_FAIL_EV(new, kd[fails], old, err);
	if (kfake_base_has(KFAKE_DIFF_REVERT_FAILED_DEV))
		reverted++;
	for (i = 0; i < reverted; i++)
		want[n++] = (struct kfake_event)KFAKE_ATTACH_EV(old, kd[i], new);
	kfake_expect_calls(test, fake, want, n);
}

/*
 * The hardware after the failed change: back on @old, but for the device
 * that failed, which a driver that blocks before it attaches (VT-d) leaves
 * blocked. The core does not re-attach it (err_revert skips it), so its
 * group->domain is then not what that device translates with.
 */
static void expect_reverted(struct kunit *test, struct kfake *fake,
			    struct kfake_dev *kd[NR_DEVS],
			    struct iommu_domain *old, unsigned int fails)
{
	unsigned int i;

	for (i = 0; i < NR_DEVS; i++) {
		KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd[i]), old);
		if (i == fails && fails_dirty(fake) &&
		    !kfake_base_has(KFAKE_DIFF_REVERT_FAILED_DEV))
			KUNIT_EXPECT_PTR_EQ_MSG(test, kd[i]->rid,
						&kfake_blocked_domain,
						"device %u", i);
		else
			KUNIT_EXPECT_PTR_EQ_MSG(test, kd[i]->rid, old,
						"device %u", i);
	}
}

/* A failed attach reverts the devices already attached, by a kfake_fail_nth() */
static void attach_failure_reverts_group(struct kunit *test)
{
	const struct fail_case *c = test->param_value;
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = kfake_new_as(test, c->personality);
	struct kfake_dev *kd[NR_DEVS];
	struct iommu_group *group = add_group(fake, kd, &cfg);
	struct iommu_domain *def = kfake_cur(kd[0]);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd[0]);

	kfake_clear_log(fake);
	kfake_fail_nth(fake, KFAKE_ATTACH, c->fails + 1, -ENOSPC);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, paging, group),
			-ENOSPC);
	expect_failed_change(test, fake, kd, paging, def, c->fails, -ENOSPC);
	expect_reverted(test, fake, kd, def, c->fails);
	KUNIT_EXPECT_FALSE(test, kfake_domain_has_dev(paging, kd[0],
						      IOMMU_NO_PASID));
}

static void replace_failure_keeps_old_domain(struct kunit *test)
{
	const struct fail_case *c = test->param_value;
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = kfake_new_as(test, c->personality);
	struct kfake_dev *kd[NR_DEVS];
	struct iommu_group *group = add_group(fake, kd, &cfg);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd[0]);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd[0]);
	struct iommu_attach_handle *handle;

	KUNIT_ASSERT_EQ(test, kfake_attach_group_handle(test, p1, group), 0);
	kd[c->fails]->fail_domain = p2;
	kd[c->fails]->fail_err = -ENOMEM;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_replace_group_handle(test, group, p2),
			-ENOMEM);
	expect_failed_change(test, fake, kd, p2, p1, c->fails, -ENOMEM);
	expect_reverted(test, fake, kd, p1, c->fails);
	handle = iommu_attach_handle_get(group, IOMMU_NO_PASID, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(handle));
	KUNIT_EXPECT_PTR_EQ(test, handle->domain, p1);
}

/*
 * VT-d blocks the device before it looks at the domain: the device whose
 * attach fails is left blocked, and the core, which skips it in its revert,
 * goes on telling the driver it is on the group's domain.
 */
static void attach_failure_vtd_leaves_device_blocked(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = kfake_new_as(test, KFAKE_VTD);
	struct kfake_dev *kd[NR_DEVS];
	struct iommu_group *group = add_group(fake, kd, &cfg);
	struct iommu_domain *def = kfake_cur(kd[0]);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd[0]);

	kfake_skip_base(test, KFAKE_DIFF_REVERT_FAILED_DEV);

	kd[1]->fail_domain = paging;
	kd[1]->fail_err = -ENOSPC;
	kfake_clear_log(fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, paging, group),
			-ENOSPC);
	expect_failed_change(test, fake, kd, paging, def, 1, -ENOSPC);
	KUNIT_EXPECT_PTR_EQ(test, kd[0]->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kd[1]->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_PTR_EQ(test, kd[2]->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd[1]), def);

	/*
	 * Current behaviour: the next attach tells the driver that device
	 * leaves the default domain, which it no longer translates with.
	 */
	kd[1]->fail_domain = NULL;
	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd[0], IOMMU_NO_PASID, def),
			   KFAKE_TEST_EV(paging, kd[1], IOMMU_NO_PASID, def),
			   KFAKE_TEST_EV(paging, kd[2], IOMMU_NO_PASID, def),
			   KFAKE_ATTACH_EV(paging, kd[0], def),
			   KFAKE_ATTACH_EV(paging, kd[1], def),
			   KFAKE_ATTACH_EV(paging, kd[2], def));
	KUNIT_EXPECT_PTR_EQ(test, kd[1]->rid, paging);
}

static void replace_group_domain(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *def = kfake_cur(kd1);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd1);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd1);
	struct iommu_attach_handle *handle;

	KUNIT_ASSERT_EQ(test, kfake_attach_group_handle(test, p1, group), 0);
	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, kfake_replace_group_handle(test, group, p2), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(p2, kd1, IOMMU_NO_PASID, p1),
			   KFAKE_TEST_EV(p2, kd2, IOMMU_NO_PASID, p1),
			   KFAKE_ATTACH_EV(p2, kd1, p1),
			   KFAKE_ATTACH_EV(p2, kd2, p1));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd2), p2);
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, p2);
	KUNIT_EXPECT_FALSE(test, kfake_domain_has_dev(p1, kd2,
						      IOMMU_NO_PASID));
	handle = iommu_attach_handle_get(group, IOMMU_NO_PASID, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(handle));
	KUNIT_EXPECT_PTR_EQ(test, handle->domain, p2);

	kfake_clear_log(fake);
	kfake_detach_group(test, p2, group);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_EV(def, kd1, p2),
			   KFAKE_ATTACH_EV(def, kd2, p2));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd1), def);
	KUNIT_EXPECT_TRUE(test,
			  IS_ERR(iommu_attach_handle_get(group, IOMMU_NO_PASID,
							 0)));
}

/* IOMMU_RESV_DIRECT */

enum direct_op {
	DIRECT_ATTACH_BLOCKED,
	DIRECT_ATTACH_PAGING,
	DIRECT_CLAIM_OWNER,
};

/**
 * struct direct_case - a change a require_direct device may refuse
 * @name: description.
 * @op: the change.
 * @no_blocked_domain: the driver has no static blocked domain, the core
 *	blocks with an empty paging domain of its own.
 * @sibling: the group has a device without a direct region first.
 * @direct: the (last) device has an IOMMU_RESV_DIRECT region.
 * @err: what the change returns.
 */
struct direct_case {
	const char *name;
	enum direct_op op;
	bool no_blocked_domain;
	bool sibling;
	bool direct;
	int err;
};

/*
 * Each refusal comes with its control: the same change of a device without
 * a direct region succeeds, so the refusal is the core's require_direct
 * check (iommu_core_test_rid()), not the owner check or anything else.
 */
static const struct direct_case direct_cases[] = {
	{
		.name = "blocked domain, direct",
		.op = DIRECT_ATTACH_BLOCKED,
		.direct = true,
		.err = -EINVAL,
	},
	{
		.name = "blocked domain, not direct",
		.op = DIRECT_ATTACH_BLOCKED,
	},
	{
		.name = "paging domain, direct",
		.op = DIRECT_ATTACH_PAGING,
		.direct = true,
	},
	{
		.name = "DMA ownership, direct",
		.op = DIRECT_CLAIM_OWNER,
		.direct = true,
		.err = -EINVAL,
	},
	{
		.name = "DMA ownership, not direct",
		.op = DIRECT_CLAIM_OWNER,
	},
	{
		.name = "DMA ownership, paging blocking domain, direct",
		.op = DIRECT_CLAIM_OWNER,
		.no_blocked_domain = true,
		.direct = true,
		.err = -EINVAL,
	},
	{
		.name = "DMA ownership, paging blocking domain, not direct",
		.op = DIRECT_CLAIM_OWNER,
		.no_blocked_domain = true,
	},
	{
		/* The direct device refuses before its sibling is attached */
		.name = "DMA ownership, group, direct",
		.op = DIRECT_CLAIM_OWNER,
		.sibling = true,
		.direct = true,
		.err = -EINVAL,
	},
	{
		.name = "DMA ownership, group, not direct",
		.op = DIRECT_CLAIM_OWNER,
		.sibling = true,
	},
};

KUNIT_ARRAY_PARAM_DESC(direct_cases, direct_cases, name);

static void direct_refuses_blocking(struct kunit *test)
{
	const struct direct_case *c = test->param_value;
	const struct kfake_cfg fcfg = {
		.release = KFAKE_RELEASE_BLOCKED,
		.no_blocked_domain = c->no_blocked_domain,
	};
	const struct kfake_dev_cfg scfg = { .group = 1 };
	const struct kfake_dev_cfg cfg = { .group = 1, .direct = c->direct };
	struct kfake *fake = kfake_new(test, &fcfg);
	struct kfake_dev *sib = c->sibling ? kfake_add_dev(fake, &scfg) : NULL;
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *dom = NULL;
	struct kfake_event want[4];
	unsigned int n = 0;
	int ret = 0, i;

	KUNIT_ASSERT_EQ(test, !!kd->dev->iommu->require_direct, c->direct);
	if (c->op == DIRECT_ATTACH_PAGING)
		dom = kfake_alloc_paging(test, kd);
	kfake_clear_log(fake);
	switch (c->op) {
	case DIRECT_ATTACH_BLOCKED:
		dom = &kfake_blocked_domain;
		fallthrough;
	case DIRECT_ATTACH_PAGING:
		ret = kfake_attach_group(test, dom, group);
		break;
	case DIRECT_CLAIM_OWNER:
		ret = kfake_claim_dma_owner(test, group);
		KUNIT_EXPECT_EQ(test, iommu_group_dma_owner_claimed(group),
				!c->err);
		if (!c->no_blocked_domain) {
			dom = &kfake_blocked_domain;
			break;
		}
		/* The core's blocking domain, allocated for the claim */
		i = kfake_event_index(fake, KFAKE_ALLOC, kd->dev);
		if (i < 0 && sib)
			i = kfake_event_index(fake, KFAKE_ALLOC, sib->dev);
		KUNIT_ASSERT_GE(test, i, 0);
		dom = fake->events[i].domain;
		break;
	}
	KUNIT_EXPECT_EQ(test, ret, c->err);

	/* The core checks a device before the driver is asked about it */
	if (sib)
		want[n++] = (struct kfake_event)
			KFAKE_TEST_EV(dom, sib, IOMMU_NO_PASID, def);
	if (!c->err) {
		want[n++] = (struct kfake_event)
			KFAKE_TEST_EV(dom, kd, IOMMU_NO_PASID, def);
		if (sib)
			want[n++] = (struct kfake_event)
				KFAKE_ATTACH_EV(dom, sib, def);
		want[n++] = (struct kfake_event)KFAKE_ATTACH_EV(dom, kd, def);
	}
	kfake_expect_calls(test, fake, want, n);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), c->err ? def : dom);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, c->err ? def : dom);
	if (sib)
		KUNIT_EXPECT_PTR_EQ(test, sib->rid, c->err ? def : dom);
}

/*
 * A detach must succeed: the core checks each device on its own, and a
 * require_direct device takes the default domain, which maps its region.
 */
static void direct_group_detach(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	const struct kfake_dev_cfg dcfg = { .group = 1, .direct = true };
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &dcfg);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *def = kfake_cur(kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	kfake_clear_log(fake);
	kfake_detach_group(test, paging, group);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_EV(def, kd1, paging),
			   KFAKE_ATTACH_EV(def, kd2, paging));
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, def);
}

/*
 * A require_direct device joins a group that its owner attached to a paging
 * domain. The detach must then go to the blocking domain, which the device
 * cannot take: the core warns and moves the device off the domain the owner
 * is about to free, to the default domain, which holds its 1:1 mappings. The
 * release of the group by its owner leaves it there. Fails without "iommu:
 * Move a require_direct device off a domain that a forced change leaves": the
 * device stayed on the paging domain, and SMMUv3 on its invalidation list.
 */
static void direct_joins_owned_group(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	const struct kfake_dev_cfg dcfg = { .group = 1, .direct = true };
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *def = kfake_cur(kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);
	struct iommu_domain *blocked = &kfake_blocked_domain;
	struct kfake_dev *kd2;

	kfake_skip_base(test, KFAKE_DIFF_DIRECT_LEFT_ON_OLD);
	/* Its cleanup detaches the group again, with the same WARN */
	kfake_need_warn_suppress(test);

	KUNIT_ASSERT_EQ(test, kfake_claim_dma_owner(test, group), 0);
	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	kfake_clear_log(fake);
	kd2 = kfake_add_dev(fake, &dcfg);
	KUNIT_ASSERT_PTR_EQ(test, kfake_cur(kd2), paging);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(paging, kd2, IOMMU_NO_PASID, NULL),
			   KFAKE_ATTACH_EV(paging, kd2, NULL));

	kfake_clear_log(fake);
	kunit_warning_suppress(test) {
		kfake_detach_group(test, paging, group);
		/* __iommu_group_set_domain_nofail() */
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 1);
	}
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_EV(blocked, kd1, paging),
			   KFAKE_ATTACH_EV(def, kd2, paging));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd1), blocked);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, blocked);
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, def);
	/* Invalidations of the paging domain must no longer reach it */
	KUNIT_EXPECT_FALSE(test, kfake_domain_has_dev(paging, kd2,
						      IOMMU_NO_PASID));

	/* The device is on the default domain already */
	kfake_clear_log(fake);
	kfake_release_dma_owner(test, group);
	KFAKE_EXPECT_CALLS(test, fake, KFAKE_ATTACH_EV(def, kd1, blocked));
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, def);
}

/* DMA ownership */

/*
 * A require_direct device parked by a forced detach stays on a 1:1 domain when
 * a later attach fails on another device and is reverted: the revert to the
 * group's blocking domain moves it to the default domain again. Fails if the
 * revert attaches the blocking domain to it, which the core check, out of
 * __iommu_device_set_domain() since test_dev, must prevent.
 */
static void direct_parked_survives_failed_attach(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	const struct kfake_dev_cfg dcfg = { .group = 1, .direct = true };
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *def = kfake_cur(kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd1);
	struct kfake_dev *kd2, *kd3;

	kfake_skip_base(test, KFAKE_DIFF_DIRECT_LEFT_ON_OLD);
	kfake_need_warn_suppress(test);

	KUNIT_ASSERT_EQ(test, kfake_claim_dma_owner(test, group), 0);
	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	kd2 = kfake_add_dev(fake, &dcfg);
	kunit_warning_suppress(test) {
		kfake_detach_group(test, paging, group);
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 1);
	}
	KUNIT_ASSERT_PTR_EQ(test, kd2->rid, def);
	kd3 = kfake_add_dev(fake, &cfg);
	KUNIT_ASSERT_PTR_EQ(test, kd3->rid, &kfake_blocked_domain);

	kd3->fail_domain = p2;
	kd3->fail_err = -ENOMEM;
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, p2, group), -ENOMEM);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, def);
	KUNIT_EXPECT_FALSE(test, kfake_domain_has_dev(p2, kd2,
						      IOMMU_NO_PASID));
	kd3->fail_domain = NULL;
}

static void dma_owner_blocks_group(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *def = kfake_cur(kd1);
	struct iommu_domain *blocked = &kfake_blocked_domain;
	static int other_owner;

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, kfake_claim_dma_owner(test, group), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(blocked, kd1, IOMMU_NO_PASID, def),
			   KFAKE_TEST_EV(blocked, kd2, IOMMU_NO_PASID, def),
			   KFAKE_ATTACH_EV(blocked, kd1, def),
			   KFAKE_ATTACH_EV(blocked, kd2, def));
	KUNIT_EXPECT_TRUE(test, iommu_group_dma_owner_claimed(group));
	KUNIT_EXPECT_EQ(test, iommu_group_claim_dma_owner(group, &other_owner),
			-EPERM);

	/* A release must succeed: the driver is not asked */
	kfake_clear_log(fake);
	kfake_release_dma_owner(test, group);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_EV(def, kd1, blocked),
			   KFAKE_ATTACH_EV(def, kd2, blocked));
	KUNIT_EXPECT_FALSE(test, iommu_group_dma_owner_claimed(group));
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, def);
}

/*
 * A release must succeed: when the driver fails to attach the default domain
 * to a device (a kfake_fail_nth()), the core falls back to the blocking
 * domain for it, warns, and goes on with the other devices.
 */
static void dma_owner_release_failure_blocks(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *def = kfake_cur(kd1);
	struct iommu_domain *blocked = &kfake_blocked_domain;

	KUNIT_ASSERT_EQ(test, kfake_claim_dma_owner(test, group), 0);
	kfake_clear_log(fake);
	kfake_fail_nth(fake, KFAKE_ATTACH, 1, -EIO);
	kunit_warning_suppress(test) {
		kfake_release_dma_owner(test, group);
		/* __iommu_group_set_domain_nofail() */
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 1);
	}
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_FAIL_EV(def, kd1, blocked, -EIO),
			   KFAKE_ATTACH_EV(blocked, kd1, blocked),
			   KFAKE_ATTACH_EV(def, kd2, blocked));
	KUNIT_EXPECT_FALSE(test, iommu_group_dma_owner_claimed(group));
	/* Current behaviour: the group is on its default domain, kd1 is not */
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd1), def);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, blocked);
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, def);
}

static void dma_owner_without_blocked_domain(struct kunit *test)
{
	const struct kfake_cfg fcfg = { .no_blocked_domain = true };
	const struct kfake_dev_cfg cfg = { };
	struct kfake *fake = kfake_new(test, &fcfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *blocking;
	int i;

	kfake_clear_log(fake);
	KUNIT_ASSERT_EQ(test, kfake_claim_dma_owner(test, group), 0);
	KUNIT_ASSERT_EQ(test, kfake_count(fake, KFAKE_ALLOC, NULL), 1);
	i = kfake_event_index(fake, KFAKE_ALLOC, kd->dev);
	KUNIT_ASSERT_GE(test, i, 0);
	blocking = fake->events[i].domain;
	KUNIT_EXPECT_TRUE(test, blocking->type & __IOMMU_DOMAIN_PAGING);
	KUNIT_EXPECT_PTR_NE(test, blocking, def);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_TEST_EV(blocking, kd, IOMMU_NO_PASID, def),
			   KFAKE_ATTACH_EV(blocking, kd, def));

	kfake_clear_log(fake);
	kfake_release_dma_owner(test, group);
	KFAKE_EXPECT_CALLS(test, fake, KFAKE_ATTACH_EV(def, kd, blocking));
}

static struct kunit_case iommu_attach_cases[] = {
	KUNIT_CASE_PARAM(attach_group_attaches_every_device,
			 kfake_personality_gen_params),
	KUNIT_CASE(attach_device_needs_single_device_group),
	KUNIT_CASE(attach_group_busy),
	KUNIT_CASE(attach_foreign_domain_rejected),
	KUNIT_CASE_PARAM(attach_failure_reverts_group, fail_cases_gen_params),
	KUNIT_CASE(attach_failure_vtd_leaves_device_blocked),
	KUNIT_CASE_PARAM(replace_group_domain, kfake_personality_gen_params),
	KUNIT_CASE_PARAM(replace_failure_keeps_old_domain,
			 fail_cases_gen_params),
	KUNIT_CASE_PARAM(direct_refuses_blocking, direct_cases_gen_params),
	KUNIT_CASE_PARAM(direct_group_detach, kfake_personality_gen_params),
	KUNIT_CASE_PARAM(direct_joins_owned_group,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(direct_parked_survives_failed_attach,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(dma_owner_blocks_group, kfake_personality_gen_params),
	KUNIT_CASE_PARAM(dma_owner_release_failure_blocks,
			 kfake_personality_gen_params),
	KUNIT_CASE(dma_owner_without_blocked_domain),
	{}
};

static struct kunit_suite iommu_attach_suite = {
	.name = "iommu_core_attach",
	.suite_init = kfake_bus_init,
	.suite_exit = kfake_bus_exit,
	.test_cases = iommu_attach_cases,
};

kunit_test_suite(iommu_attach_suite);
