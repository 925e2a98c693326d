// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of pci_dev_reset_iommu_prepare() and pci_dev_reset_iommu_done()
 * on real struct pci_devs: the software host bridge and the fake IOMMU driver
 * of <linux/iommu-kunit.h> translate for emulated PCIe functions with and
 * without ATS and PASID. The cases whose path real drivers take run once per
 * personality of the fake (plain, VT-d, SMMUv3, AMD).
 */
#include <kunit/test.h>
#include <linux/iommu-kunit.h>
#include <linux/module.h>
#include <linux/pci.h>

#include "iommu-priv.h"

/* Width of the PASID capability of the emulated functions, by default */
#define KPCI_PASIDS	32

KFAKE_PERSONALITY_PARAMS();

/*
 * The host bridge of a case, with a fake of the case's personality (plain for
 * a case that is not parameterised).
 */
static struct kpci *kpci_new(struct kunit *test, const struct kpci_fn *fns,
			     unsigned int nr)
{
	const struct kfake_cfg cfg = {
		.personality = test->param_value ?
			       kfake_param_personality(test) : KFAKE_PLAIN,
		.release = KFAKE_RELEASE_BLOCKED,
		.max_pasids = 64,
		.unit1_max_pasids = 16,
	};

	return kpci_create(test, &cfg, fns, nr);
}

static bool kpci_is(struct kpci *kp, enum kfake_personality p)
{
	return kp->fake->cfg.personality == p;
}

/*
 * A case of an attach accepted during a reset needs a driver with test_dev():
 * any other domain waits for the end of the reset (reset_untested_domain_waits)
 * but on a kernel that takes it.
 */
static void kreset_need_tested(struct kunit *test, struct kfake *fake)
{
	if (!kfake_base_has(KFAKE_DIFF_RESET_AS_V2))
		kfake_need_test_dev(test, fake);
}

static const struct kpci_fn kpci_one_ats[] = { KPCI_FN(0, true, false) };
static const struct kpci_fn kpci_one_pasid[] = { KPCI_FN(0, true, true) };
static const struct kpci_fn kpci_group_pasid[] = {
	KPCI_FN(0, true, true, .group = 1),
	KPCI_FN(1, true, true, .group = 1),
};

static const struct kpci_fn kpci_group_ats[] = {
	KPCI_FN(0, true, false, .group = 1),
	KPCI_FN(1, true, false, .group = 1),
};

/* Function 1 also issues DMA with the requester ID of function 0 */
static const struct kpci_fn kpci_alias[] = {
	KPCI_FN(0, true, false, .group = 1),
	{ .devfn = 1, .ats = true, .alias = 0, .cfg = { .group = 1 } },
};

static void reset_without_ats_is_noop(struct kunit *test)
{
	static const struct kpci_fn fns[] = { KPCI_FN(0, false, false) };
	struct kpci *kp = kpci_new(test, fns, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);

	KUNIT_EXPECT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
}

static void reset_blocks_and_restores_rid(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	/* The core keeps the domain the device returns to */
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
}

/*
 * The PASIDs are removed before the RID is blocked, their handles kept, and
 * restored after the RID. With the AMD personality, blocking the RID first
 * would remove the PASIDs through the PASID table it freed.
 */
static void reset_blocks_and_restores_pasids(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, p1, kd, 1), 0);
	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, p2, kd, 2), 0);
	kfake_clear_log(kp->fake);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_PASID_EV(&kfake_blocked_domain, kd, 1, p1),
			   KFAKE_PASID_EV(&kfake_blocked_domain, kd, 2, p2),
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 2));
	/* ... while the core keeps what the PASIDs go back to */
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0),
			    kfake_pasid_handle(kd, 1));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 2, 0),
			    kfake_pasid_handle(kd, 2));

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			   KFAKE_PASID_EV(p1, kd, 1, NULL),
			   KFAKE_PASID_EV(p2, kd, 2, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), p1);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 2), p2);
}

/* Only the outer done() restores */
static void reset_nested(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, paging, kd, 3), 0);
	kfake_clear_log(kp->fake);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_PASID_EV(&kfake_blocked_domain, kd, 3, paging),
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def));

	/* The inner done leaves the device blocked */
	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 3));

	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			   KFAKE_PASID_EV(paging, kd, 3, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 3), paging);
}

/* Calls prepare() and done() itself: it tests an unbalanced done() */
static void reset_unbalanced_done_warns(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);

	kunit_warning_suppress(test) {
		pci_dev_reset_iommu_done(kp->pdev[0]);
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 1);
	}
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);

	/* The state is intact: a balanced reset still works */
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def),
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
}

/* Each device of a group has its own reset */
static void reset_two_devices_of_group(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_group_pasid, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd0);

	KUNIT_ASSERT_PTR_EQ(test, kfake_group(test, kd0),
			    kfake_group(test, kd1));
	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, paging, kd0, 5), 0);
	kfake_clear_log(kp->fake);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 1), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_PASID_EV(&kfake_blocked_domain, kd0, 5, paging),
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd0, def),
			   KFAKE_PASID_EV(&kfake_blocked_domain, kd1, 5,
					  paging),
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd1, def));

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd0, &kfake_blocked_domain),
			   KFAKE_PASID_EV(paging, kd0, 5,
					  NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd1, 5));

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 1);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd1, &kfake_blocked_domain),
			   KFAKE_PASID_EV(paging, kd1, 5,
					  NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd0, 5), paging);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd1, 5), paging);
}

/* Detach cannot fail: the sibling moves at once, the device under reset later */
static void reset_detach_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_group_ats, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_group *group = kfake_group(test, kd0);
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd0);

	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);

	kfake_detach_group(test, paging, group);
	KFAKE_EXPECT_CALLS(test, kp->fake, KFAKE_ATTACH_EV(def, kd1, paging));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd0), def);
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, &kfake_blocked_domain);

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd0, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);
}

/* done() restores the RID only: the PASID is gone */
static void reset_pasid_detach_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, paging, kd, 6), 0);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	kfake_detach_pasid(test, kd, 6);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);

	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 6));
}

static void reset_deferred_device(struct kunit *test)
{
	static const struct kpci_fn fns[] = {
		KPCI_FN(0, true, false, .deferred = true),
	};
	struct kpci *kp = kpci_new(test, fns, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);

	/*
	 * Blocking the RID is the device's first attach, ending the deferral.
	 * Current behaviour, not a requirement: the driver is told the device
	 * leaves the default domain, which it was never attached to (its
	 * attach was deferred); NULL would be the truthful old domain.
	 */
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def));

	/* The DMA API's deferred attach must not unblock the device */
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);

	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
}

/*
 * A deferred device of a driver whose default domain is its blocked domain is
 * neither attached at probe nor by prepare: its deferred attach is still
 * pending during the reset and must wait for done().
 */
static void reset_deferred_attach_still_pending(struct kunit *test)
{
	const struct kfake_cfg fcfg = {
		.release = KFAKE_RELEASE_BLOCKED,
		.blocked_default = true,
	};
	static const struct kpci_fn fns[] = {
		KPCI_FN(0, true, false, .deferred = true),
	};
	struct kpci *kp;
	struct kfake_dev *kd;

	/* IOMMU_DOMAIN_BLOCKED is 0: without IOMMU_DMA, identity is forced */
	if (!IS_ENABLED(CONFIG_IOMMU_DMA))
		kfake_skip(test, "a blocked default domain needs IOMMU_DMA");

	kp = kpci_create(test, &fcfg, fns, 1);
	kd = kp->kd[0];
	KUNIT_ASSERT_PTR_EQ(test, kfake_cur(kd), &kfake_blocked_domain);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);

	/* Refused as at any other time ... */
	kd->refuse_domain = &kfake_blocked_domain;
	kd->refuse_err = -EINVAL;
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev,
						    &kfake_blocked_domain),
			-EINVAL);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_FAIL_EV(&kfake_blocked_domain, kd,
					      IOMMU_NO_PASID, NULL, -EINVAL));
	/*
	 * ... or accepted, but the device waits for done(): -EBUSY, as the DMA
	 * API must not map for a device that is not on the domain. Fails on
	 * v2, which returned 0.
	 */
	kd->refuse_domain = NULL;
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev,
						    &kfake_blocked_domain),
			kfake_base_has(KFAKE_DIFF_RESET_AS_V2) ? 0 : -EBUSY);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(&kfake_blocked_domain, kd,
					 IOMMU_NO_PASID, NULL));
	KUNIT_EXPECT_NULL(test, kd->rid);

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev,
						    &kfake_blocked_domain), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(&kfake_blocked_domain, kd,
					 IOMMU_NO_PASID, NULL),
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, NULL));
}

/*
 * A driver with several IOMMU units registers after the functions exist, and
 * cannot allocate their default domain: the registration that probed them
 * fails, and its unwind releases only the functions behind the unit that
 * registered. A function behind another unit is left in a group without a
 * domain. prepare() blocks it; done() has no domain to attach and leaves it
 * blocked.
 */
static void reset_group_without_domain(struct kunit *test)
{
	const struct kfake_cfg fcfg = {
		.release = KFAKE_RELEASE_BLOCKED,
		.no_identity_domain = true,
		.fail_paging_alloc = true,
		.max_pasids = 64,
		.unit1_max_pasids = 16,
	};
	/* Unit 0: not released by the failed registration of unit 1 */
	static const struct kpci_fn fns[] = { KPCI_FN(0, true, true) };
	struct kpci *kp;
	struct kfake_dev *kd;
	int err = 0;

	kp = kpci_create_iommu_late(test, &fcfg, fns, 1, &err);
	kd = kp->kd[0];
	KUNIT_EXPECT_LT(test, err, 0);
	KUNIT_ASSERT_TRUE(test, kd->probed);
	KUNIT_ASSERT_NOT_NULL(test, kd->dev->iommu_group);
	KUNIT_ASSERT_NULL(test, kfake_cur(kd));
	KUNIT_ASSERT_NULL(test, kd->rid);

	kfake_clear_log(kp->fake);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, NULL));
	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_cur(kd));
}

/*
 * DMA-aliased functions share a requester ID: the first done() leaves its
 * function blocked while the other one is still being reset, and the last
 * done() restores both. Fails if the first done() attaches the shared
 * requester ID during the other reset (mainline's FIXME in done(), kept by
 * v2).
 */
static void reset_dma_alias_siblings_one_by_one(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_alias, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_domain *def = kfake_cur(kd0);

	KUNIT_ASSERT_NOT_NULL(test, kp->pdev[1]->dma_alias_mask);
	KUNIT_ASSERT_TRUE(test, test_bit(0, kp->pdev[1]->dma_alias_mask));
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 1), 0);
	kfake_clear_log(kp->fake);

	kpci_reset_done(test, kp, 0);
	/* Function 1 still issues DMA as function 0: both stay blocked */
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, &kfake_blocked_domain);

	/* The last done restores both */
	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 1);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd1,
					   &kfake_blocked_domain),
			   KFAKE_ATTACH_EV(def, kd0,
					   &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);
}

/*
 * An alias shares the requester ID of the device being reset: attaching it
 * would program that ID, so the group refuses new domains until done().
 */
static void reset_attach_with_blocked_alias_busy(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_alias, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_group *group = kfake_group(test, kd0);
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd0);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, paging, group), -EBUSY);
	/* Tested first, so that a refusal gets its own code */
	if (kfake_base_has(KFAKE_DIFF_RESET_AS_V2))
		KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	else
		KFAKE_EXPECT_CALLS(test, kp->fake,
				   KFAKE_TEST_EV(paging, kd0, IOMMU_NO_PASID,
						 &kfake_blocked_domain),
				   KFAKE_TEST_EV(paging, kd1, IOMMU_NO_PASID,
						 def));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd0), def);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);

	/*
	 * A domain refused at any other time gets the refusal's code. Fails if
	 * the alias is checked before the tests, as on v2: -EBUSY.
	 */
	if (!kfake_base_has(KFAKE_DIFF_RESET_AS_V2)) {
		kd1->refuse_domain = paging;
		kd1->refuse_err = -EINVAL;
		KUNIT_EXPECT_EQ(test, kfake_attach_group(test, paging, group),
				-EINVAL);
		kd1->refuse_domain = NULL;
	}

	kpci_reset_done(test, kp, 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, paging, group), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(paging, kd0, IOMMU_NO_PASID, def),
			   KFAKE_TEST_EV(paging, kd1, IOMMU_NO_PASID, def),
			   KFAKE_ATTACH_EV(paging, kd0, def),
			   KFAKE_ATTACH_EV(paging, kd1, def));
}

/*
 * A change that must succeed goes through while a DMA alias of a device of
 * the group is being reset: the alias is parked on the blocking domain, off
 * the domain about to be freed, and done() restores both. Fails if the alias
 * programs the shared requester ID during the reset, as on v2.
 */
static void reset_detach_with_blocked_alias(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_alias, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_group *group = kfake_group(test, kd0);
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd0);

	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	kfake_detach_group(test, paging, group);
	/* The alias is parked off the domain about to be freed */
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd1,
					   paging));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd0), def);
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, &kfake_blocked_domain);

	/* ... and done() restores both */
	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd0,
					   &kfake_blocked_domain),
			   KFAKE_ATTACH_EV(def, kd1,
					   &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);
}

/* The same for a PASID: attach and replace are refused until done() */
static void reset_pasid_with_blocked_alias_busy(struct kunit *test)
{
	static const struct kpci_fn fns[] = {
		KPCI_FN(0, true, true, .group = 1),
		{ .devfn = 1, .ats = true, .pasid = true, .alias = 0,
		  .cfg = { .group = 1 } },
	};
	struct kpci *kp = kpci_new(test, fns, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_group *group = kfake_group(test, kd0);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd0);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd0);
	struct iommu_attach_handle *h1;

	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, p1, kd1, 1), 0);
	h1 = kfake_pasid_handle(kd1, 1);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);

	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, p2, kd1, 2), -EBUSY);
	KUNIT_EXPECT_EQ(test, kfake_replace_pasid(test, p2, kd1, 1), -EBUSY);
	/* Tested first, so that a refusal gets its own code */
	if (kfake_base_has(KFAKE_DIFF_RESET_AS_V2))
		KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	else
		KFAKE_EXPECT_CALLS(test, kp->fake,
				   KFAKE_TEST_EV(p2, kd0, 2, NULL),
				   KFAKE_TEST_EV(p2, kd1, 2, NULL),
				   KFAKE_TEST_EV(p2, kd0, 1, NULL),
				   KFAKE_TEST_EV(p2, kd1, 1, p1));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0), h1);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 2, 0),
			    ERR_PTR(-ENOENT));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd1, 1), p1);

	kpci_reset_done(test, kp, 0);
	KUNIT_EXPECT_EQ(test, kfake_replace_pasid(test, p2, kd1, 1), 0);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd0, 1), p2);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd1, 1), p2);
}

/*
 * A deferred attach of the alias would program the shared requester ID too:
 * it is tested as at any other time, then refused until done().
 */
static void reset_deferred_attach_of_blocked_alias_busy(struct kunit *test)
{
	static const struct kpci_fn fns[] = {
		KPCI_FN(0, true, false, .group = 1),
		{ .devfn = 1, .ats = true, .alias = 0,
		  .cfg = { .group = 1, .deferred = true } },
	};
	struct kpci *kp = kpci_new(test, fns, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_domain *def = kfake_cur(kd0);

	KUNIT_ASSERT_NULL(test, kd1->rid);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd1->dev, def), -EBUSY);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(def, kd1, IOMMU_NO_PASID, NULL));
	KUNIT_EXPECT_NULL(test, kd1->rid);

	kpci_reset_done(test, kp, 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd1->dev, def), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(def, kd1, IOMMU_NO_PASID, NULL),
			   KFAKE_ATTACH_EV(def, kd1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);
}

static void reset_driver_sees_blocking_domain(struct kunit *test)
{
	const struct kfake_cfg fcfg = {
		.release = KFAKE_RELEASE_BLOCKED,
		.max_pasids = 64,
		.query_driver_domain = true,
	};
	struct kpci *kp = kpci_create(test, &fcfg, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);
	struct kfake_event *ev = kp->fake->events;
	int i;

	kfake_skip_base(test, KFAKE_DIFF_SMMU_GETTER_OLD);

	kfake_clear_log(kp->fake);
	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, paging, kd, 1), 0);
	i = kfake_event_index(kp->fake, KFAKE_SET_PASID, kd->dev);
	KUNIT_ASSERT_GE(test, i, 0);
	KUNIT_EXPECT_PTR_EQ(test, ev[i].drv_cur, def);

	kfake_clear_log(kp->fake);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KUNIT_ASSERT_EQ(test, kp->fake->nr_events, 2);
	/* The PASID goes first, while the RID still translates with def ... */
	KUNIT_EXPECT_EQ(test, ev[0].op, KFAKE_SET_PASID);
	KUNIT_EXPECT_PTR_EQ(test, ev[0].drv_cur, def);
	/* ... which the RID then leaves */
	KUNIT_EXPECT_EQ(test, ev[1].op, KFAKE_ATTACH);
	KUNIT_EXPECT_PTR_EQ(test, ev[1].drv_cur, def);

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KUNIT_ASSERT_EQ(test, kp->fake->nr_events, 2);
	/* Re-attaching the RID starts from the blocking domain */
	KUNIT_EXPECT_PTR_EQ(test, ev[0].drv_cur, &kfake_blocked_domain);
	KUNIT_EXPECT_PTR_EQ(test, ev[1].drv_cur, def);
}

/*
 * A group owned for user space is on its blocking domain already: only the
 * PASIDs its owner (iommufd) attached are removed and restored.
 */
static void reset_group_already_blocked(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *pd = kfake_alloc_paging(test, kd);
	int ret;

	KUNIT_ASSERT_EQ(test, kfake_claim_dma_owner(test, group), 0);
	KUNIT_ASSERT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	ret = kfake_attach_pasid(test, pd, kd, 1);
	/* AMD frees the PASID table of a blocked RID: no PASID to test */
	if (kpci_is(kp, KFAKE_AMD)) {
		KUNIT_EXPECT_EQ(test, ret, -EINVAL);
		kfake_skip(test, "amd: no PASID while the RID is blocked");
	}
	KUNIT_ASSERT_EQ(test, ret, 0);

	kfake_clear_log(kp->fake);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_PASID_EV(&kfake_blocked_domain, kd, 1, pd));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_PASID_EV(pd, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), pd);
}

static void reset_without_blocked_domain(struct kunit *test)
{
	const struct kfake_cfg fcfg = { .no_blocked_domain = true };
	struct kpci *kp = kpci_create(test, &fcfg, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *blocking;

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KUNIT_ASSERT_EQ(test, kfake_count(kp->fake, KFAKE_ALLOC, NULL), 1);
	blocking = kd->rid;
	KUNIT_EXPECT_PTR_NE(test, blocking, def);
	KUNIT_EXPECT_TRUE(test, blocking->type & __IOMMU_DOMAIN_PAGING);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(blocking, kd, def),
			   KFAKE_ATTACH_EV(def, kd, blocking));
}

/*
 * Without a static blocked domain, prepare allocates the blocking domain;
 * when it cannot, it fails and leaves no reset pending: the next prepare
 * blocks.
 */
static void reset_blocking_domain_alloc_fails(struct kunit *test)
{
	const struct kfake_cfg fcfg = { .no_blocked_domain = true };
	struct kpci *kp = kpci_create(test, &fcfg, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *blocking;

	kp->fake->cfg.fail_paging_alloc = true;
	KUNIT_EXPECT_EQ(test, kpci_reset_prepare(test, kp, 0), -ENOMEM);
	kp->fake->cfg.fail_paging_alloc = false;
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	blocking = kd->rid;
	KUNIT_EXPECT_PTR_NE(test, blocking, def);
	KFAKE_EXPECT_CALLS(test, kp->fake, KFAKE_ATTACH_EV(blocking, kd, def));
	kpci_reset_done(test, kp, 0);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
}

/*
 * The attach handle of a group is kept in the PASID array at IOMMU_NO_PASID:
 * done() restores the PASIDs of the array from PASID 1, never that entry.
 */
static void reset_group_handle_is_not_a_pasid(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, kfake_attach_group_handle(test, paging, group), 0);
	kfake_clear_log(kp->fake);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, paging),
			   KFAKE_ATTACH_EV(paging, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, paging);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, IOMMU_NO_PASID));
}

/*
 * A failed prepare leaves no state for done() (which warns) and does not
 * break the next reset. It calls the unbalanced done() itself.
 */
static void reset_prepare_failure_rolls_back(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	kd->fail_domain = &kfake_blocked_domain;
	kd->fail_err = -EIO;
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kpci_reset_prepare(test, kp, 0), -EIO);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_FAIL_EV(&kfake_blocked_domain, kd, def,
						-EIO));
	/*
	 * VT-d blocks the device before it fails: the device stays blocked
	 * while the core keeps it on def. Current behaviour: the core does not
	 * re-attach def after a failed prepare.
	 */
	KUNIT_EXPECT_PTR_EQ(test, kd->rid,
			    kpci_is(kp, KFAKE_VTD) ? &kfake_blocked_domain : def);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);

	kfake_clear_log(kp->fake);
	kunit_warning_suppress(test) {
		pci_dev_reset_iommu_done(kp->pdev[0]);
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 1);
	}
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);

	/* Nor did it break the next reset, or attach */
	kd->fail_domain = NULL;
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kpci_reset_done(test, kp, 0);
	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def),
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			   KFAKE_TEST_EV(paging, kd, IOMMU_NO_PASID, def),
			   KFAKE_ATTACH_EV(paging, kd, def));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, paging);
}

/* A function without PASIDs leaves the group's PASIDs to its siblings */
static void reset_ats_only_function_skips_pasids(struct kunit *test)
{
	static const struct kpci_fn fns[] = {
		KPCI_FN(0, true, true, .group = 1),
		KPCI_FN(1, true, false, .group = 1),
	};
	struct kpci *kp = kpci_new(test, fns, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd0);

	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, paging, kd0, 2), 0);
	kfake_clear_log(kp->fake);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 1), 0);
	kpci_reset_done(test, kp, 1);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd1, def),
			   KFAKE_ATTACH_EV(def, kd1, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd0, 2), paging);
}

/*
 * Attach, replace and detach during a reset: the core tests the domain as at
 * any other time, records it and attaches it to the devices not being reset;
 * the device being reset gets it from done(), and nothing before.
 */
static void reset_attach_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	kreset_need_tested(test, kp->fake);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, paging, group), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(paging, kd, IOMMU_NO_PASID,
					 &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), paging);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(paging, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, paging);

	kfake_detach_group(test, paging, group);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
}

/* An incompatible domain fails with the code it gets outside a reset */
static void reset_attach_refused_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);
	struct iommu_domain *other = kfake_alloc_paging(test, kd);
	struct iommu_domain *foreign = kfake_alloc_foreign(test);

	kd->refuse_domain = paging;
	kd->refuse_err = -EINVAL;
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, paging, group), -EINVAL);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, paging, kd, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, foreign, group),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, foreign, kd, 1),
			-EINVAL);
	/* Beyond the PASID width; the core refuses it before test_dev() */
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, other, kd, KPCI_PASIDS),
			-EINVAL);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_FAIL_EV(paging, kd, IOMMU_NO_PASID,
					      &kfake_blocked_domain, -EINVAL),
			   KFAKE_TEST_FAIL_EV(paging, kd, 1,
					      NULL, -EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0),
			    ERR_PTR(-ENOENT));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, KPCI_PASIDS, 0),
			    ERR_PTR(-ENOENT));

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
}

/* Only the domain last asked for reaches the device, once */
static void reset_replace_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p3 = kfake_alloc_paging(test, kd);
	struct iommu_attach_handle *handle;

	kreset_need_tested(test, kp->fake);

	KUNIT_ASSERT_EQ(test, kfake_attach_group_handle(test, p1, group), 0);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_replace_group_handle(test, group, p2), 0);
	KUNIT_EXPECT_EQ(test, kfake_replace_group_handle(test, group, p3), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(p2, kd, IOMMU_NO_PASID,
					 &kfake_blocked_domain),
			   KFAKE_TEST_EV(p3, kd, IOMMU_NO_PASID,
					 &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), p3);
	handle = iommu_attach_handle_get(group, IOMMU_NO_PASID, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(handle));
	KUNIT_EXPECT_PTR_EQ(test, handle->domain, p3);

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(p3, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, p3);
}

/* A PASID attached during the reset is attached at done(), after the RID */
static void reset_pasid_attach_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	kreset_need_tested(test, kp->fake);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, paging, kd, 1), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(paging, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0),
			    kfake_pasid_handle(kd, 1));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			   KFAKE_PASID_EV(paging, kd, 1,
					  NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), paging);
}

/* The same for a replace, which done() makes as a new attach */
static void reset_pasid_replace_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd);

	kreset_need_tested(test, kp->fake);

	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, p1, kd, 1), 0);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_replace_pasid(test, p2, kd, 1), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(p2, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0),
			    kfake_pasid_handle(kd, 1));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			   KFAKE_PASID_EV(p2, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), p2);
}

/* The sibling not being reset is attached at once, the other one at done() */
static void reset_group_attach_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_group_pasid, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_group *group = kfake_group(test, kd0);
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd0);

	kfake_need_test_dev(test, kp->fake);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);

	/* A refusal by the device being reset stops its sibling too */
	kd0->refuse_domain = paging;
	kd0->refuse_err = -EINVAL;
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, paging, group), -EINVAL);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, paging, kd1, 5),
			-EINVAL);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_FAIL_EV(paging, kd0, IOMMU_NO_PASID,
					      &kfake_blocked_domain, -EINVAL),
			   KFAKE_TEST_FAIL_EV(paging, kd0, 5,
					      NULL, -EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);

	kd0->refuse_domain = NULL;
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, paging, group), 0);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, paging, kd1, 5), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(paging, kd0, IOMMU_NO_PASID,
					 &kfake_blocked_domain),
			   KFAKE_TEST_EV(paging, kd1, IOMMU_NO_PASID, def),
			   KFAKE_ATTACH_EV(paging, kd1, def),
			   KFAKE_TEST_EV(paging, kd0, 5, NULL),
			   KFAKE_TEST_EV(paging, kd1, 5, NULL),
			   KFAKE_PASID_EV(paging, kd1, 5, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd0, 5));

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(paging, kd0, &kfake_blocked_domain),
			   KFAKE_PASID_EV(paging, kd0, 5,
					  NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd0, 5), paging);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd1, 5), paging);
}

/* A failure on the sibling is unwound without touching the blocked device */
static void reset_attach_failure_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_group_pasid, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_group *group = kfake_group(test, kd0);
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd0);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kd1->fail_domain = paging;
	kd1->fail_err = -ENOMEM;
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, paging, group), -ENOMEM);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, paging, kd1, 5),
			-ENOMEM);
	if (kfake_base_has(KFAKE_DIFF_REVERT_FAILED_DEV))
		KFAKE_EXPECT_CALLS(test, kp->fake,
				   KFAKE_TEST_EV(paging, kd0, IOMMU_NO_PASID,
						 &kfake_blocked_domain),
				   KFAKE_TEST_EV(paging, kd1, IOMMU_NO_PASID, def),
				   KFAKE_ATTACH_FAIL_EV(paging, kd1, def, -ENOMEM),
				   KFAKE_ATTACH_EV(def, kd1, paging),
				   KFAKE_TEST_EV(paging, kd0, 5, NULL),
				   KFAKE_TEST_EV(paging, kd1, 5, NULL),
				   KFAKE_PASID_FAIL_EV(paging, kd1, 5, NULL,
						       -ENOMEM));
	else
		KFAKE_EXPECT_CALLS(test, kp->fake,
				   KFAKE_TEST_EV(paging, kd0, IOMMU_NO_PASID,
						 &kfake_blocked_domain),
				   KFAKE_TEST_EV(paging, kd1, IOMMU_NO_PASID, def),
				   KFAKE_ATTACH_FAIL_EV(paging, kd1, def, -ENOMEM),
				   KFAKE_TEST_EV(paging, kd0, 5, NULL),
				   KFAKE_TEST_EV(paging, kd1, 5, NULL),
				   KFAKE_PASID_FAIL_EV(paging, kd1, 5, NULL,
						       -ENOMEM));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd0), def);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 5, 0),
			    ERR_PTR(-ENOENT));

	kd1->fail_domain = NULL;
	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd0, &kfake_blocked_domain));
}

/* With resets nested, the outer done() attaches what was last asked for */
static void reset_nested_attach_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	kreset_need_tested(test, kp->fake);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, paging, group), 0);
	kpci_reset_done(test, kp, 0);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, paging, kd, 2), 0);
	kfake_detach_group(test, paging, group);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(paging, kd, IOMMU_NO_PASID,
					 &kfake_blocked_domain),
			   KFAKE_TEST_EV(paging, kd, 2, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			   KFAKE_PASID_EV(paging, kd, 2, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 2), paging);
}

/*
 * A driver that has not opted in to the blocking (6.12's block_on_reset: one
 * that takes the old domain of an attach from iommu_get_domain_for_dev(),
 * which does not know about it) keeps translating the device being reset,
 * and takes domains at once, as before the series.
 */
static void reset_driver_not_opted_in_left_alone(struct kunit *test)
{
	const struct kfake_cfg fcfg = {
		.release = KFAKE_RELEASE_BLOCKED,
		.max_pasids = 64,
		.no_reset_block = true,
	};
	struct kpci *kp;
	struct kfake_dev *kd;
	struct iommu_group *group;
	struct iommu_domain *rid, *pd, *other;

	kfake_need_reset_opt_in(test);
	kp = kpci_create(test, &fcfg, kpci_one_pasid, 1);
	kd = kp->kd[0];
	group = kfake_group(test, kd);
	rid = kfake_alloc_paging(test, kd);
	pd = kfake_alloc_paging(test, kd);
	other = kfake_alloc_paging(test, kd);
	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, rid, group), 0);
	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, pd, kd, 1), 0);
	kfake_clear_log(kp->fake);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, rid);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), pd);

	kfake_detach_group(test, rid, group);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, other, group), 0);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, other);

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, other);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), pd);
}

/* Releasing DMA ownership cannot fail: done() restores the new domain */
static void reset_dma_owner_released_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);

	KUNIT_ASSERT_EQ(test, kfake_claim_dma_owner(test, group), 0);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	kfake_release_dma_owner(test, group);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);

	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
}

/*
 * Claiming DMA ownership during a reset succeeds (it was -EBUSY before the
 * series): the sibling is blocked at once, the device being reset stays on
 * the blocking domain, which done() then has no reason to leave.
 */
static void reset_dma_owner_claimed_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_group_ats, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_group *group = kfake_group(test, kd0);
	struct iommu_domain *def = kfake_cur(kd0);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_claim_dma_owner(test, group), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(&kfake_blocked_domain, kd0,
					 IOMMU_NO_PASID, &kfake_blocked_domain),
			   KFAKE_TEST_EV(&kfake_blocked_domain, kd1,
					 IOMMU_NO_PASID, def),
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd1, def));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd0), &kfake_blocked_domain);
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, &kfake_blocked_domain);

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, &kfake_blocked_domain);

	/* Released after the reset: both go back to the default domain */
	kfake_release_dma_owner(test, group);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd0, &kfake_blocked_domain),
			   KFAKE_ATTACH_EV(def, kd1, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, def);
}

/*
 * A function removed while it is being reset: it is released without a
 * warning, on the release domain, and its sibling keeps working. The helper
 * owes no done() to a removed function.
 */
static void reset_release_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_group_ats, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_group *group = kfake_group(test, kd0);
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	kfake_warning_free(test) {
		pci_stop_and_remove_bus_device_locked(kp->pdev[0]);
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 0);
	}
	kp->pdev[0] = NULL;
	/*
	 * Current behaviour: the driver is told the device leaves def, while
	 * the device is on the blocking domain.
	 */
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd0, def));
	KUNIT_EXPECT_EQ(test, kfake_count(kp->fake, KFAKE_RELEASE, NULL), 1);
	KUNIT_EXPECT_FALSE(test, kd0->probed);
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, &kfake_blocked_domain);

	/* The group goes on with the sibling alone */
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, paging, group), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(paging, kd1, IOMMU_NO_PASID, def),
			   KFAKE_ATTACH_EV(paging, kd1, def));
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, paging);
}

/*
 * Claiming DMA ownership attaches the group's blocking domain, which a reset
 * takes whatever its driver: 0 during a reset with a driver without test_dev,
 * and done() leaves the device blocked as the owner wants it.
 */
static void reset_claim_with_untested_driver(struct kunit *test)
{
	const struct kfake_cfg fcfg = {
		.personality = KFAKE_SMMUV3,
		.release = KFAKE_RELEASE_BLOCKED,
	};
	struct kpci *kp = kpci_create(test, &fcfg, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);

	kfake_skip_base(test, KFAKE_DIFF_RESET_AS_V2);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_claim_dma_owner(test, group), 0);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), &kfake_blocked_domain);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
}

/*
 * A function removed while it is being reset, with a DMA alias parked for its
 * reset: the alias no longer waits, and is attached to the group's domain.
 */
static void reset_release_with_parked_alias(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_alias, 2);
	struct kfake_dev *kd1 = kp->kd[1];
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *def = kfake_cur(kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_detach_group(test, paging, group);
	KUNIT_ASSERT_PTR_EQ(test, kd1->rid, &kfake_blocked_domain);

	kfake_clear_log(kp->fake);
	pci_stop_and_remove_bus_device_locked(kp->pdev[0]);
	kp->pdev[0] = NULL;
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);
	KUNIT_EXPECT_EQ(test, kfake_count(kp->fake, KFAKE_RELEASE, NULL), 1);
}

/*
 * Hot-add function @devfn to the bridge, a copy of the first function in
 * configuration space, for the fake to translate with @cfg. It goes with the
 * bridge.
 */
static struct kfake_dev *kpci_hot_add(struct kunit *test, struct kpci *kp,
				      unsigned int devfn,
				      const struct kfake_dev_cfg *cfg)
{
	struct pci_bus *bus = kp->bridge->bus;
	struct kfake_dev *kd;
	struct pci_dev *pdev;

	KUNIT_ASSERT_LT(test, devfn, KPCI_NR_FN);
	KUNIT_ASSERT_FALSE(test, kp->present[devfn]);
	kd = kfake_dev_expect_pci(kp->fake, pci_domain_nr(bus), bus->number,
				  devfn, cfg);
	memcpy(kp->cfg[devfn], kp->cfg[kp->fns[0].devfn],
	       sizeof(kp->cfg[devfn]));
	kp->present[devfn] = true;
	pci_lock_rescan_remove();
	pdev = pci_scan_single_device(bus, devfn);
	if (pdev)
		pci_bus_add_device(pdev);
	pci_unlock_rescan_remove();
	KUNIT_ASSERT_NOT_NULL(test, pdev);
	KUNIT_ASSERT_PTR_EQ(test, kd->dev, &pdev->dev);
	return kd;
}

/*
 * A function hot-added to the group of a device being reset is tested and
 * attached to the group's domain at once; the device being reset stays
 * blocked.
 */
static void reset_device_joins_group_during_reset(struct kunit *test)
{
	static const struct kpci_fn fns[] = {
		KPCI_FN(0, true, false, .group = 1),
	};
	static const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kpci *kp = kpci_new(test, fns, 1);
	struct kfake_dev *kd0 = kp->kd[0], *kd2;
	struct iommu_group *group = kfake_group(test, kd0);
	struct iommu_domain *def = kfake_cur(kd0);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	kd2 = kpci_hot_add(test, kp, 2, &cfg);
	KUNIT_EXPECT_PTR_EQ(test, kfake_group(test, kd2), group);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(def, kd2, IOMMU_NO_PASID, NULL),
			   KFAKE_ATTACH_EV(def, kd2, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, &kfake_blocked_domain);

	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd0, &kfake_blocked_domain));
}

/*
 * The same for a function whose requester ID the device being reset also
 * issues DMA with: it is tested, then parked with the device being reset until
 * done(), which restores both. Fails if the probe path has no alias check,
 * as on v2: the shared requester ID is then programmed during the reset.
 */
static void reset_dma_alias_joins_group_during_reset(struct kunit *test)
{
	static const struct kpci_fn fns[] = {
		{ .devfn = 0, .ats = true, .alias = 2, .cfg = { .group = 1 } },
	};
	static const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kpci *kp = kpci_new(test, fns, 1);
	struct kfake_dev *kd0 = kp->kd[0], *kd2;
	struct iommu_domain *def = kfake_cur(kd0);

	KUNIT_ASSERT_TRUE(test, test_bit(2, kp->pdev[0]->dma_alias_mask));
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	kd2 = kpci_hot_add(test, kp, 2, &cfg);
	/* Tested, then parked until done(), which restores both */
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(def, kd2, IOMMU_NO_PASID, NULL),
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd2,
					   NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, &kfake_blocked_domain);
	kfake_clear_log(kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd0,
					   &kfake_blocked_domain),
			   KFAKE_ATTACH_EV(def, kd2,
					   &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, def);
}

/*
 * A PASID attached during the reset, with a domain whose driver has test_dev(),
 * is set up on no device that shares the requester ID of the device being
 * reset: not on one that joined the group meanwhile and is parked with it.
 * Fails if the PASID attach skips only the devices being reset.
 */
static void reset_pasid_attach_skips_parked_alias(struct kunit *test)
{
	static const struct kpci_fn fns[] = {
		{ .devfn = 0, .ats = true, .pasid = true, .alias = 2,
		  .cfg = { .group = 1 } },
	};
	static const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kpci *kp = kpci_new(test, fns, 1);
	struct kfake_dev *kd0 = kp->kd[0], *kd2;
	struct iommu_domain *pd = kfake_alloc_paging(test, kd0);

	kfake_need_test_dev(test, kp->fake);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kd2 = kpci_hot_add(test, kp, 2, &cfg);
	KUNIT_ASSERT_PTR_EQ(test, kd2->rid, &kfake_blocked_domain);

	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, pd, kd0, 1), 0);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd0, 1));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd2, 1));
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, &kfake_blocked_domain);

	kpci_reset_done(test, kp, 0);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd0, 1), pd);
}

/*
 * done() of a device whose group is on its blocking domain (its DMA owner
 * claimed it) attaches no RID; when a PASID then fails, the device stays
 * blocked all the same, and the owner's next attach attaches the RID and then
 * the PASID. Fails if the device is not marked blocked then: that attach
 * attaches the RID and leaves the PASID removed for good.
 */
static void reset_done_pasid_fails_on_blocked_group(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);
	struct iommu_domain *pd = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, kfake_claim_dma_owner(test, group), 0);
	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, pd, kd, 1), 0);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kd->fail_domain = pd;
	kd->fail_err = -ENOMEM;
	kfake_warning_free(test) {
		kpci_reset_done(test, kp, 0);
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 0);
	}
	kd->fail_domain = NULL;
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));

	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, paging, group), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(paging, kd, IOMMU_NO_PASID,
					 &kfake_blocked_domain),
			   KFAKE_ATTACH_EV(paging, kd, &kfake_blocked_domain),
			   KFAKE_PASID_EV(pd, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, paging);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), pd);
}

/*
 * What done() cannot attach again for lack of resources stays on the blocking
 * domain, RID and PASIDs, without a WARN, and the core knows it: the next
 * change of the group's domain attaches the device from the blocking domain,
 * then its PASIDs. Fails, as on v2, if done() warns, if the core holds the
 * device on paging and attaches its PASIDs behind the blocked RID, or if the
 * next change tells the driver "old = paging".
 */
static void reset_done_rid_reattach_fails(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);
	struct iommu_domain *pd = kfake_alloc_paging(test, kd);

	kfake_skip_base(test, KFAKE_DIFF_RESET_AS_V2);

	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, pd, kd, 1), 0);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kd->fail_domain = paging;
	kd->fail_err = -ENOMEM;
	kfake_clear_log(kp->fake);
	kfake_warning_free(test) {
		kpci_reset_done(test, kp, 0);
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 0);
	}
	kd->fail_domain = NULL;
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_FAIL_EV(paging, kd,
						&kfake_blocked_domain,
						-ENOMEM));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), paging);

	kfake_clear_log(kp->fake);
	kfake_detach_group(test, paging, group);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			   KFAKE_PASID_EV(pd, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), pd);
}

/*
 * A PASID done() cannot attach again blocks the RID again too, so that the
 * device is wholly on the blocking domain, and the next reset attaches both.
 * Fails, as on v2, if done() warns, or leaves the device on def with the core
 * holding PASID 1 on pd, which its detach would then tell the driver.
 */
static void reset_done_pasid_reattach_fails(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *pd = kfake_alloc_paging(test, kd);

	kfake_skip_base(test, KFAKE_DIFF_RESET_AS_V2);

	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, pd, kd, 1), 0);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kd->fail_domain = pd;
	kd->fail_err = -ENOMEM;
	kfake_clear_log(kp->fake);
	kfake_warning_free(test) {
		kpci_reset_done(test, kp, 0);
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 0);
	}
	kd->fail_domain = NULL;
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			   KFAKE_PASID_FAIL_EV(pd, kd, 1, NULL, -ENOMEM),
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0),
			    kfake_pasid_handle(kd, 1));

	/* Nothing to block at the next prepare; its done() attaches both */
	kfake_clear_log(kp->fake);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			   KFAKE_PASID_EV(pd, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), pd);
}

/*
 * A domain accepted during the reset whose first attach, in done(), fails (a
 * domain ID allocation, say): as above. While the device is left blocked, a
 * PASID detach has nothing to remove from it, and the next reset attaches the
 * group's domain. Fails, as on v2, if done() warns, or if the core holds the
 * device on paging with PASID 1 attached.
 */
static void reset_done_attach_of_new_domain_fails(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);
	struct iommu_domain *pd = kfake_alloc_paging(test, kd);

	kfake_skip_base(test, KFAKE_DIFF_RESET_AS_V2);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, paging, group), 0);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, pd, kd, 1), 0);
	kfake_fail_nth(kp->fake, KFAKE_ATTACH, 1, -ENOSPC);
	kfake_clear_log(kp->fake);
	kfake_warning_free(test) {
		kpci_reset_done(test, kp, 0);
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 0);
	}
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_FAIL_EV(paging, kd,
						&kfake_blocked_domain,
						-ENOSPC));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), paging);

	kfake_clear_log(kp->fake);
	kfake_detach_pasid(test, kd, 1);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0),
			    ERR_PTR(-ENOENT));

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(paging, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, paging);
}

/*
 * During a reset, a domain whose driver has no test_dev() gets -EBUSY on every
 * attach path, before the driver is asked anything; the core's own refusals
 * keep their codes. done() restores what the device had, and the domain
 * attaches after the reset. Fails if the attach returns 0 untested, as on v2:
 * done() then meets the driver's refusal with a WARN while the core holds the
 * device on the domain.
 */
static void reset_untested_domain_waits(struct kunit *test)
{
	const struct kfake_cfg fcfg = {
		.personality = kfake_param_personality(test),
		.release = KFAKE_RELEASE_BLOCKED,
		.max_pasids = 64,
		.no_test_dev = true,
	};
	struct kpci *kp = kpci_create(test, &fcfg, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd);
	struct iommu_domain *foreign = kfake_alloc_foreign(test);

	kfake_skip_base(test, KFAKE_DIFF_RESET_AS_V2);

	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, p1, kd, 1), 0);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, paging, group), -EBUSY);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, p2, kd, 2), -EBUSY);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, foreign, group),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, p2, kd, 64), -EINVAL);
	/* A kernel without PASID replace skips the case here */
	KUNIT_EXPECT_EQ(test, kfake_replace_pasid(test, p2, kd, 1), -EBUSY);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 2, 0),
			    ERR_PTR(-ENOENT));

	kfake_warning_free(test) {
		kpci_reset_done(test, kp, 0);
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 0);
	}
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			   KFAKE_PASID_EV(p1, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), p1);

	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, paging, group), 0);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, paging);
}

/*
 * arm-smmu-v3 ties the RID to the PASIDs: a stage-2 RID excludes a CD table of
 * PASIDs (-EBUSY), and a PASID needs a RID with a CD table (-EINVAL behind a
 * stage-2 RID). A reset removes the PASIDs and blocks the RID in the hardware,
 * so a test_dev() reading the hardware would accept both during a reset and
 * done() would then fail to restore what the core records. Its test_dev()
 * reads the core's record: each request gets the answer it gets outside the
 * reset, and a stage-1 domain is accepted and attached by done(), the PASIDs
 * after it. Fails on v2, which accepted the stage-2 domain untested during the
 * reset, and if iommu_test_dev_has_pasids() or iommu_test_dev_rid_domain()
 * answer what the hardware has during a reset.
 */
static void reset_smmu_rules_read_the_record(struct kunit *test)
{
	const struct kfake_cfg fcfg = {
		.personality = KFAKE_SMMUV3,
		.release = KFAKE_RELEASE_BLOCKED,
		.max_pasids = 64,
	};
	struct kpci *kp = kpci_create(test, &fcfg, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *pd = kfake_alloc_paging(test, kd);
	struct iommu_domain *pd2 = kfake_alloc_paging(test, kd);
	struct iommu_domain *s2 = kfake_alloc_s2(test, kd);

	kfake_need_test_dev(test, kp->fake);

	/* The RID: a stage-2 domain with PASID 1 in use */
	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, pd, kd, 1), 0);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, s2, group), -EBUSY);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, s2, group), -EBUSY);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_FAIL_EV(s2, kd, IOMMU_NO_PASID,
					      &kfake_blocked_domain, -EBUSY));
	KUNIT_EXPECT_EQ(test, kfake_attach_group(test, pd2, group), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_FAIL_EV(s2, kd, IOMMU_NO_PASID,
					      &kfake_blocked_domain, -EBUSY),
			   KFAKE_TEST_EV(pd2, kd, IOMMU_NO_PASID,
					 &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	kfake_clear_log(kp->fake);
	kfake_warning_free(test) {
		kpci_reset_done(test, kp, 0);
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 0);
	}
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(pd2, kd, &kfake_blocked_domain),
			   KFAKE_PASID_EV(pd, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, pd2);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), pd);

	/*
	 * A PASID behind a stage-2 RID. The RID is attached as iommufd does
	 * it, with a handle, which the pasid_array keeps at IOMMU_NO_PASID:
	 * not a PASID in use.
	 */
	kfake_detach_pasid(test, kd, 1);
	kfake_detach_group(test, pd2, group);
	KUNIT_ASSERT_EQ(test, kfake_attach_group_handle(test, s2, group), 0);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, pd, kd, 2), -EINVAL);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, pd, kd, 2), -EINVAL);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_FAIL_EV(pd, kd, 2, NULL, -EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 2, 0),
			    ERR_PTR(-ENOENT));
	kfake_warning_free(test) {
		kpci_reset_done(test, kp, 0);
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 0);
	}
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, s2);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 2));
}

/*
 * AMD frees the PASID table of a device when its RID is blocked, and refuses a
 * PASID without one (-EINVAL). A reset blocks the RID, but done() attaches it
 * again and with it a table: a PASID attached during the reset is accepted,
 * as it is outside one, and done() attaches it. Behind a RID blocked for its
 * owner (DMA ownership claimed) a PASID is refused, during a reset as outside.
 * Fails on v2, which accepted the PASID untested, and if test_dev() is told the
 * blocked RID of the hardware during a reset (iommu_test_dev_rid_domain()
 * answering the blocking domain).
 */
static void reset_amd_pasid_table_from_the_record(struct kunit *test)
{
	const struct kfake_cfg fcfg = {
		.personality = KFAKE_AMD,
		.release = KFAKE_RELEASE_BLOCKED,
		.max_pasids = 64,
	};
	struct kpci *kp = kpci_create(test, &fcfg, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *pd = kfake_alloc_paging(test, kd);

	kfake_need_test_dev(test, kp->fake);

	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, pd, kd, 1), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake, KFAKE_TEST_EV(pd, kd, 1, NULL));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
	kfake_clear_log(kp->fake);
	kfake_warning_free(test) {
		kpci_reset_done(test, kp, 0);
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 0);
	}
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			   KFAKE_PASID_EV(pd, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), pd);
	kfake_detach_pasid(test, kd, 1);

	/* Behind a RID blocked for the owner of the group */
	KUNIT_ASSERT_EQ(test, kfake_claim_dma_owner(test, group), 0);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, pd, kd, 2), -EINVAL);
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, kfake_attach_pasid(test, pd, kd, 2), -EINVAL);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_FAIL_EV(pd, kd, 2, NULL, -EINVAL));
	kpci_reset_done(test, kp, 0);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 2));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 2, 0),
			    ERR_PTR(-ENOENT));
}

/*
 * The error code of every attach path for every reason to refuse a domain,
 * with and without a reset of function 0 of a group of two: outside a reset,
 * each code is the one the base kernel (mainline v7.3) returns; during a reset,
 * a refusal by the core or the driver keeps that code, and only an attach that
 * must wait for done() gets -EBUSY (the base returns -EBUSY for every row with
 * a reset). The refusing device is function 1, which is not being reset.
 * Fails, as on v2, if the PASID in use is checked before the owner (row
 * "foreign, PASID in use": -EBUSY), if the alias is checked before the tests
 * ("alias, refused": -EBUSY) or if an untested domain is accepted during a
 * reset ("untested": 0).
 */
enum errno_path {
	EP_ATTACH,		/* iommu_attach_group() */
	EP_REPLACE,		/* iommu_replace_group_handle() */
	EP_CLAIM,		/* iommu_group_claim_dma_owner() */
	EP_PASID,		/* iommu_attach_device_pasid() */
	EP_PASID_REPLACE,	/* iommu_replace_device_pasid() */
};

enum errno_reason {
	ER_NONE,		/* a compatible domain */
	ER_FOREIGN,		/* a domain of another driver */
	ER_DRIVER,		/* refused by test_dev() */
	ER_UNTESTED,		/* refused by attach_dev(), no test_dev() */
	ER_DIRECT,		/* the blocking domain for a require_direct device */
	ER_WIDTH,		/* a PASID beyond the width of the device */
	ER_BUSY,		/* a PASID in use */
	ER_FOREIGN_BUSY,	/* a domain of another driver, PASID in use */
	ER_ALIAS,		/* compatible; function 1 aliases function 0 */
	ER_ALIAS_DRIVER,	/* refused by test_dev(); function 1 aliases 0 */
};

struct errno_case {
	enum errno_path path;
	enum errno_reason reason;
	bool reset;
	int err;
};

static const char * const errno_path_names[] = {
	[EP_ATTACH] = "attach", [EP_REPLACE] = "replace",
	[EP_CLAIM] = "DMA owner claim", [EP_PASID] = "PASID attach",
	[EP_PASID_REPLACE] = "PASID replace",
};

static const char * const errno_reason_names[] = {
	[ER_NONE] = "compatible", [ER_FOREIGN] = "foreign",
	[ER_DRIVER] = "refused by test_dev", [ER_UNTESTED] = "untested",
	[ER_DIRECT] = "require_direct", [ER_WIDTH] = "beyond the width",
	[ER_BUSY] = "PASID in use", [ER_FOREIGN_BUSY] = "foreign, PASID in use",
	[ER_ALIAS] = "alias", [ER_ALIAS_DRIVER] = "alias, refused",
};

static const struct errno_case errno_cases[] = {
	{ EP_ATTACH, ER_NONE, false, 0 },
	{ EP_ATTACH, ER_NONE, true, 0 },
	{ EP_ATTACH, ER_FOREIGN, false, -EINVAL },
	{ EP_ATTACH, ER_FOREIGN, true, -EINVAL },
	{ EP_ATTACH, ER_DRIVER, false, -EINVAL },
	{ EP_ATTACH, ER_DRIVER, true, -EINVAL },
	{ EP_ATTACH, ER_UNTESTED, false, -EINVAL },
	{ EP_ATTACH, ER_UNTESTED, true, -EBUSY },
	{ EP_ATTACH, ER_DIRECT, false, -EINVAL },
	{ EP_ATTACH, ER_DIRECT, true, -EINVAL },
	{ EP_ATTACH, ER_ALIAS, false, 0 },
	{ EP_ATTACH, ER_ALIAS, true, -EBUSY },
	{ EP_ATTACH, ER_ALIAS_DRIVER, false, -EINVAL },
	{ EP_ATTACH, ER_ALIAS_DRIVER, true, -EINVAL },
	{ EP_REPLACE, ER_NONE, false, 0 },
	{ EP_REPLACE, ER_NONE, true, 0 },
	{ EP_REPLACE, ER_FOREIGN, false, -EINVAL },
	{ EP_REPLACE, ER_FOREIGN, true, -EINVAL },
	{ EP_REPLACE, ER_DRIVER, false, -EINVAL },
	{ EP_REPLACE, ER_DRIVER, true, -EINVAL },
	{ EP_REPLACE, ER_UNTESTED, false, -EINVAL },
	{ EP_REPLACE, ER_UNTESTED, true, -EBUSY },
	{ EP_CLAIM, ER_NONE, false, 0 },
	{ EP_CLAIM, ER_NONE, true, 0 },
	{ EP_CLAIM, ER_DIRECT, false, -EINVAL },
	{ EP_CLAIM, ER_DIRECT, true, -EINVAL },
	{ EP_PASID, ER_NONE, false, 0 },
	{ EP_PASID, ER_NONE, true, 0 },
	{ EP_PASID, ER_FOREIGN, false, -EINVAL },
	{ EP_PASID, ER_FOREIGN, true, -EINVAL },
	{ EP_PASID, ER_DRIVER, false, -EINVAL },
	{ EP_PASID, ER_DRIVER, true, -EINVAL },
	{ EP_PASID, ER_UNTESTED, false, -EINVAL },
	{ EP_PASID, ER_UNTESTED, true, -EBUSY },
	{ EP_PASID, ER_WIDTH, false, -EINVAL },
	{ EP_PASID, ER_WIDTH, true, -EINVAL },
	{ EP_PASID, ER_BUSY, false, -EBUSY },
	{ EP_PASID, ER_BUSY, true, -EBUSY },
	{ EP_PASID, ER_FOREIGN_BUSY, false, -EINVAL },
	{ EP_PASID, ER_FOREIGN_BUSY, true, -EINVAL },
	{ EP_PASID_REPLACE, ER_NONE, false, 0 },
	{ EP_PASID_REPLACE, ER_NONE, true, 0 },
	{ EP_PASID_REPLACE, ER_FOREIGN, false, -EINVAL },
	{ EP_PASID_REPLACE, ER_FOREIGN, true, -EINVAL },
	{ EP_PASID_REPLACE, ER_DRIVER, false, -EINVAL },
	{ EP_PASID_REPLACE, ER_DRIVER, true, -EINVAL },
	{ EP_PASID_REPLACE, ER_UNTESTED, false, -EINVAL },
	{ EP_PASID_REPLACE, ER_UNTESTED, true, -EBUSY },
};

static void errno_case_desc(const struct errno_case *c, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s, %s%s",
		 errno_path_names[c->path], errno_reason_names[c->reason],
		 c->reset ? ", reset" : "");
}

KUNIT_ARRAY_PARAM(errno_cases, errno_cases, errno_case_desc);

static void reset_errno_table(struct kunit *test)
{
	const struct errno_case *c = test->param_value;
	const struct kfake_cfg fcfg = {
		.release = KFAKE_RELEASE_BLOCKED,
		.max_pasids = 64,
		.no_test_dev = c->reason == ER_UNTESTED,
	};
	const bool alias = c->reason == ER_ALIAS ||
			   c->reason == ER_ALIAS_DRIVER;
	const struct kpci_fn fns[] = {
		KPCI_FN(0, true, true, .group = 1),
		{ .devfn = 1, .ats = true, .pasid = true, .alias = alias ? 0 : -1,
		  .cfg = { .group = 1, .direct = c->reason == ER_DIRECT } },
	};
	struct kpci *kp = kpci_create(test, &fcfg, fns, 2);
	struct kfake_dev *kd1 = kp->kd[1];
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd1);
	struct iommu_domain *domain = kfake_alloc_paging(test, kd1);
	ioasid_t pasid = 1;
	int err;

	if (c->reset)
		kfake_skip_base(test, KFAKE_DIFF_RESET_AS_V2);
	if (c->reason == ER_FOREIGN_BUSY)
		kfake_skip_base(test, KFAKE_DIFF_PASID_TESTED_WHEN_BUSY);

	/* What the path replaces, in place before the reset */
	if (c->path == EP_REPLACE)
		KUNIT_ASSERT_EQ(test, kfake_attach_group_handle(test, p1, group),
				0);
	if (c->path == EP_PASID_REPLACE || c->reason == ER_BUSY ||
	    c->reason == ER_FOREIGN_BUSY)
		KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, p1, kd1, pasid),
				0);

	switch (c->reason) {
	case ER_FOREIGN:
	case ER_FOREIGN_BUSY:
		domain = kfake_alloc_foreign(test);
		break;
	case ER_DRIVER:
	case ER_ALIAS_DRIVER:
		kd1->refuse_domain = domain;
		kd1->refuse_err = -EINVAL;
		break;
	case ER_UNTESTED:
		kd1->fail_domain = domain;
		kd1->fail_err = -EINVAL;
		break;
	case ER_DIRECT:
		domain = &kfake_blocked_domain;
		break;
	case ER_WIDTH:
		pasid = KPCI_PASIDS;
		break;
	default:
		break;
	}

	if (c->reset)
		KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);

	switch (c->path) {
	case EP_ATTACH:
		err = kfake_attach_group(test, domain, group);
		break;
	case EP_REPLACE:
		err = kfake_replace_group_handle(test, group, domain);
		break;
	case EP_CLAIM:
		err = kfake_claim_dma_owner(test, group);
		break;
	case EP_PASID:
		err = kfake_attach_pasid(test, domain, kd1, pasid);
		break;
	case EP_PASID_REPLACE:
		err = kfake_replace_pasid(test, domain, kd1, pasid);
		break;
	}
	KUNIT_EXPECT_EQ(test, err, c->err);
}

static struct kunit_case iommu_reset_cases[] = {
	KUNIT_CASE(reset_without_ats_is_noop),
	KUNIT_CASE_PARAM(reset_blocks_and_restores_rid,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(reset_blocks_and_restores_pasids,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(reset_nested, kfake_personality_gen_params),
	KUNIT_CASE(reset_unbalanced_done_warns),
	KUNIT_CASE_PARAM(reset_two_devices_of_group,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(reset_attach_during_reset,
			 kfake_personality_gen_params),
	KUNIT_CASE(reset_attach_refused_during_reset),
	KUNIT_CASE_PARAM(reset_replace_during_reset,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(reset_pasid_attach_during_reset,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(reset_pasid_replace_during_reset,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(reset_group_attach_during_reset,
			 kfake_personality_gen_params),
	KUNIT_CASE(reset_attach_failure_during_reset),
	KUNIT_CASE_PARAM(reset_nested_attach_during_reset,
			 kfake_personality_gen_params),
	KUNIT_CASE(reset_driver_not_opted_in_left_alone),
	KUNIT_CASE(reset_dma_owner_released_during_reset),
	KUNIT_CASE(reset_dma_owner_claimed_during_reset),
	KUNIT_CASE(reset_release_during_reset),
	KUNIT_CASE(reset_claim_with_untested_driver),
	KUNIT_CASE(reset_release_with_parked_alias),
	KUNIT_CASE(reset_device_joins_group_during_reset),
	KUNIT_CASE(reset_dma_alias_joins_group_during_reset),
	KUNIT_CASE(reset_ats_only_function_skips_pasids),
	KUNIT_CASE_PARAM(reset_detach_during_reset,
			 kfake_personality_gen_params),
	KUNIT_CASE_PARAM(reset_pasid_detach_during_reset,
			 kfake_personality_gen_params),
	KUNIT_CASE(reset_deferred_device),
	KUNIT_CASE(reset_deferred_attach_still_pending),
	KUNIT_CASE(reset_group_without_domain),
	KUNIT_CASE(reset_dma_alias_siblings_one_by_one),
	KUNIT_CASE(reset_attach_with_blocked_alias_busy),
	KUNIT_CASE(reset_detach_with_blocked_alias),
	KUNIT_CASE(reset_pasid_with_blocked_alias_busy),
	KUNIT_CASE(reset_deferred_attach_of_blocked_alias_busy),
	KUNIT_CASE(reset_driver_sees_blocking_domain),
	KUNIT_CASE_PARAM(reset_group_already_blocked,
			 kfake_personality_gen_params),
	KUNIT_CASE(reset_without_blocked_domain),
	KUNIT_CASE(reset_blocking_domain_alloc_fails),
	KUNIT_CASE(reset_group_handle_is_not_a_pasid),
	KUNIT_CASE_PARAM(reset_prepare_failure_rolls_back,
			 kfake_personality_gen_params),
	KUNIT_CASE(reset_pasid_attach_skips_parked_alias),
	KUNIT_CASE(reset_done_pasid_fails_on_blocked_group),
	KUNIT_CASE(reset_done_rid_reattach_fails),
	KUNIT_CASE(reset_done_pasid_reattach_fails),
	KUNIT_CASE(reset_done_attach_of_new_domain_fails),
	KUNIT_CASE_PARAM(reset_untested_domain_waits,
			 kfake_personality_gen_params),
	KUNIT_CASE(reset_smmu_rules_read_the_record),
	KUNIT_CASE(reset_amd_pasid_table_from_the_record),
	KUNIT_CASE_PARAM(reset_errno_table, errno_cases_gen_params),
	{}
};

static struct kunit_suite iommu_reset_suite = {
	.name = "iommu_pci_reset",
	.test_cases = iommu_reset_cases,
};

kunit_test_suite(iommu_reset_suite);
