// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the IOMMU core: probe and release of devices, driven through
 * the fake IOMMU driver of <linux/iommu-kunit.h> on a bus of its own.
 */
#include <kunit/test.h>
#include <linux/device.h>
#include <linux/iommu-kunit.h>
#include <linux/module.h>

KFAKE_PERSONALITY_PARAMS();

/* Probe */

/* Each ungrouped device gets a group and a default domain of its own */
static void probe_attaches_default_domain(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { };
	struct kfake *fake = kfake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct kfake_dev *other = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);

	kfake_expect_default_type(test, def);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	KUNIT_EXPECT_PTR_NE(test, kfake_group(test, kd),
			    kfake_group(test, other));
	/* Only allocated default domains can tell two groups apart */
	if (kfake_default_is_dma())
		KUNIT_EXPECT_PTR_NE(test, kfake_cur(other), def);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_PROBE, kd->dev), 1);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_ALLOC, NULL),
			kfake_default_is_dma() ? 2 : 0);
	/* The first attach of a group must succeed: the driver is not asked */
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_EV(def, kd, NULL),
			   KFAKE_ATTACH_EV(kfake_cur(other), other, NULL));
}

static void probe_identity_requested(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .identity = true };
	struct kfake *fake = kfake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);

	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), &kfake_identity_domain);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_ALLOC, NULL), 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_EV(&kfake_identity_domain, kd, NULL));
}

/* Devices joining the group are tested against its domain, then attached */
static void probe_group_shares_default_domain(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd3 = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd1);

	kfake_expect_default_type(test, def);
	KUNIT_EXPECT_PTR_EQ(test, kfake_group(test, kd1),
			    kfake_group(test, kd2));
	KUNIT_EXPECT_PTR_EQ(test, kfake_group(test, kd1),
			    kfake_group(test, kd3));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd2), def);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd3), def);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_ALLOC, NULL),
			kfake_default_is_dma() ? 1 : 0);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_EV(def, kd1, NULL),
			   KFAKE_TEST_EV(def, kd2, IOMMU_NO_PASID, NULL),
			   KFAKE_ATTACH_EV(def, kd2, NULL),
			   KFAKE_TEST_EV(def, kd3, IOMMU_NO_PASID, NULL),
			   KFAKE_ATTACH_EV(def, kd3, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd3->rid, def);
}

/*
 * A driver's own static default domain of another type than identity or
 * blocked (fsl_pamu's platform domain) has no owner, and is the driver's all
 * the same: every device of the group joins it. Fails if the owner check
 * refuses it to the second device, which then fails its probe (as on v2).
 */
static void probe_group_shares_own_default_domain(struct kunit *test)
{
	const struct kfake_cfg fcfg = { .own_default = true };
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = kfake_new(test, &fcfg);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);

	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd1), &kfake_platform_domain);
	KUNIT_EXPECT_PTR_EQ(test, kfake_group(test, kd1),
			    kfake_group(test, kd2));
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, &kfake_platform_domain);
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, &kfake_platform_domain);
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_EV(&kfake_platform_domain, kd1, NULL),
			   KFAKE_ATTACH_EV(&kfake_platform_domain, kd2, NULL));
}

static void probe_driver_refuses_device(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .probe_err = -ENODEV };
	struct kfake *fake = kfake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);

	KUNIT_EXPECT_NULL(test, iommu_group_get(kd->owned));
	KUNIT_EXPECT_FALSE(test, device_iommu_mapped(kd->owned));
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_PROBE, NULL), 1);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_RELEASE, NULL), 0);
	KFAKE_EXPECT_NO_CALLS(test, fake);
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
	struct kfake *fake = kfake_new(test, &cfg);
	const struct kfake_dev_cfg dcfg = { };
	struct kfake_dev *kd = kfake_add_dev(fake, &dcfg);

	KUNIT_EXPECT_NULL(test, iommu_group_get(kd->owned));
	KUNIT_EXPECT_NULL(test, kd->owned->iommu);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_PROBE, kd->dev), 1);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_RELEASE, kd->dev), 1);
	/* Parked on the release domain, the domain never set is not "old" */
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, NULL));
}

static void probe_deferred_attach_waits(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .deferred = true };
	struct kfake *fake = kfake_new(test, NULL);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);

	kfake_expect_default_type(test, kfake_cur(kd));
	KUNIT_EXPECT_NULL(test, kd->rid);
	KFAKE_EXPECT_NO_CALLS(test, fake);
}

/* Release */

/**
 * struct release_case - a device released on its own
 * @name: description.
 * @release: the driver's release_domain.
 * @alloc_identity: identity domains are allocated, there is no static one.
 * @direct: the device has an IOMMU_RESV_DIRECT region (require_direct).
 * @deferred: its attach is deferred...
 * @attached: ... and iommu_deferred_attach() ran before the release.
 * @want: the domain attached before release_device(), NULL for none.
 * @want_any_blocked: @want where KFAKE_DIFF_RELEASE_ANY_BLOCKED applies, if
 *	different.
 */
struct release_case {
	const char *name;
	enum kfake_release release;
	bool alloc_identity;
	bool direct;
	bool deferred;
	bool attached;
	struct iommu_domain *want;
	struct iommu_domain *want_any_blocked;
};

static const struct release_case release_cases[] = {
	{
		.name = "blocked release domain",
		.release = KFAKE_RELEASE_BLOCKED,
		.want = &kfake_blocked_domain,
	},
	{
		/* The override of iommu_deinit_device() */
		.name = "blocked release domain, direct device",
		.release = KFAKE_RELEASE_BLOCKED,
		.direct = true,
		.want = &kfake_identity_domain,
	},
	{
		.name = "blocked, no static identity",
		.release = KFAKE_RELEASE_BLOCKED,
		.alloc_identity = true,
		.want = &kfake_blocked_domain,
	},
	{
		/*
		 * Current behaviour, not a requirement: the override needs a
		 * static identity domain to park on; without one the release
		 * domain is used as is, and the direct mappings are lost.
		 */
		.name = "blocked, no static identity, direct device",
		.release = KFAKE_RELEASE_BLOCKED,
		.alloc_identity = true,
		.direct = true,
		.want = &kfake_blocked_domain,
	},
	{
		.name = "identity release domain",
		.release = KFAKE_RELEASE_IDENTITY,
		.want = &kfake_identity_domain,
	},
	{
		.name = "identity release domain, direct device",
		.release = KFAKE_RELEASE_IDENTITY,
		.direct = true,
		.want = &kfake_identity_domain,
	},
	{
		.name = "no release domain",
		.release = KFAKE_RELEASE_NONE,
	},
	{
		.name = "no release domain, direct device",
		.release = KFAKE_RELEASE_NONE,
		.direct = true,
	},
	{
		.name = "separate blocked release domain",
		.release = KFAKE_RELEASE_SEPARATE_BLOCKED,
		.want = &kfake_release_blocked_domain,
	},
	{
		/*
		 * Current behaviour: mainline overrides only a release domain
		 * that is ops->blocked_domain (iommu_deinit_device()), so a
		 * direct device is parked on a separate static domain of type
		 * BLOCKED (AMD's release_domain of several releases) and loses
		 * its direct mappings. The 6.12 series overrides any domain of
		 * type BLOCKED (KFAKE_DIFF_RELEASE_ANY_BLOCKED).
		 */
		.name = "separate blocked release domain, direct device",
		.release = KFAKE_RELEASE_SEPARATE_BLOCKED,
		.direct = true,
		.want = &kfake_release_blocked_domain,
		.want_any_blocked = &kfake_identity_domain,
	},
	{
		/* A delayed attach that never occurred: the hardware is alone */
		.name = "deferred, never attached",
		.release = KFAKE_RELEASE_BLOCKED,
		.deferred = true,
	},
	{
		.name = "deferred, never attached, direct device",
		.release = KFAKE_RELEASE_BLOCKED,
		.deferred = true,
		.direct = true,
	},
	{
		.name = "deferred, attached",
		.release = KFAKE_RELEASE_BLOCKED,
		.deferred = true,
		.attached = true,
		.want = &kfake_blocked_domain,
	},
	{
		.name = "deferred, attached, direct device",
		.release = KFAKE_RELEASE_BLOCKED,
		.deferred = true,
		.attached = true,
		.direct = true,
		.want = &kfake_identity_domain,
	},
};

KUNIT_ARRAY_PARAM_DESC(release_cases, release_cases, name);

/*
 * The release domain is attached before release_device(), and the driver is
 * told the domain the device leaves; every domain of the group goes with its
 * last device.
 */
static void release_device_alone(struct kunit *test)
{
	const struct release_case *c = test->param_value;
	const struct kfake_cfg fcfg = {
		.release = c->release,
		.alloc_identity = c->alloc_identity,
		.max_pasids = 64,
	};
	const struct kfake_dev_cfg cfg = {
		.direct = c->direct,
		.deferred = c->deferred,
	};
	struct kfake *fake = kfake_new(test, &fcfg);
	struct kfake_dev *kd = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *want = c->want;
	unsigned int allocs;
	int attach, release;

	if (c->want_any_blocked &&
	    kfake_base_has(KFAKE_DIFF_RELEASE_ANY_BLOCKED))
		want = c->want_any_blocked;

	KUNIT_ASSERT_NOT_NULL(test, def);
	if (c->alloc_identity)
		KUNIT_ASSERT_PTR_NE(test, def, &kfake_identity_domain);
	if (c->attached)
		KUNIT_ASSERT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	allocs = kfake_count(fake, KFAKE_ALLOC, NULL);
	kfake_clear_log(fake);
	kfake_remove_dev(fake, kd);

	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_RELEASE, kd->dev), 1);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_FREE, NULL), allocs);
	if (!want) {
		KFAKE_EXPECT_NO_CALLS(test, fake);
		if (c->deferred)
			KUNIT_EXPECT_NULL(test, kd->rid);
		return;
	}
	KFAKE_EXPECT_CALLS(test, fake, KFAKE_ATTACH_EV(want, kd, def));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, want);
	attach = kfake_event_index(fake, KFAKE_ATTACH, kd->dev);
	release = kfake_event_index(fake, KFAKE_RELEASE, kd->dev);
	KUNIT_EXPECT_GE(test, attach, 0);
	KUNIT_EXPECT_GT(test, release, attach);
}

static void release_while_attached_to_paging(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = kfake_new_as(test, kfake_param_personality(test));
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd1);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd1);

	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging, group), 0);
	kfake_clear_log(fake);
	kfake_remove_dev(fake, kd2);

	/* The core passes the group's domain as the one the device leaves */
	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd2, paging));
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, paging);
	KUNIT_EXPECT_PTR_EQ(test, kd2->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_FALSE(test, kfake_domain_has_dev(paging, kd2,
						      IOMMU_NO_PASID));
}

static void release_one_device_of_group(struct kunit *test)
{
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = kfake_new(test, NULL);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct iommu_domain *def = kfake_cur(kd1);

	kfake_clear_log(fake);
	kfake_remove_dev(fake, kd2);

	KFAKE_EXPECT_CALLS(test, fake,
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd2, def));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd1), def);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_FREE, NULL), 0);
}

static void release_last_device_frees_domains(struct kunit *test)
{
	const struct kfake_cfg fcfg = { .no_blocked_domain = true };
	const struct kfake_dev_cfg cfg = { .group = 1 };
	struct kfake *fake = kfake_new(test, &fcfg);
	struct kfake_dev *kd1 = kfake_add_dev(fake, &cfg);
	struct kfake_dev *kd2 = kfake_add_dev(fake, &cfg);
	struct iommu_group *group = kfake_group(test, kd1);
	unsigned int nr = kfake_default_is_dma() ? 2 : 1;

	/* Makes the core allocate a paging domain to block DMA with */
	KUNIT_ASSERT_EQ(test, kfake_claim_dma_owner(test, group), 0);
	kfake_release_dma_owner(test, group);

	kfake_remove_dev(fake, kd1);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_FREE, NULL), 0);
	kfake_remove_dev(fake, kd2);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_FREE, NULL), nr);
	KUNIT_EXPECT_EQ(test, kfake_count(fake, KFAKE_ALLOC, NULL), nr);
}

static struct kunit_case iommu_probe_cases[] = {
	KUNIT_CASE(probe_attaches_default_domain),
	KUNIT_CASE(probe_identity_requested),
	KUNIT_CASE_PARAM(probe_group_shares_default_domain,
			 kfake_personality_gen_params),
	KUNIT_CASE(probe_group_shares_own_default_domain),
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
	KUNIT_CASE_PARAM(release_device_alone, release_cases_gen_params),
	KUNIT_CASE_PARAM(release_while_attached_to_paging,
			 kfake_personality_gen_params),
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

kunit_test_suites(&iommu_probe_suite, &iommu_release_suite);
