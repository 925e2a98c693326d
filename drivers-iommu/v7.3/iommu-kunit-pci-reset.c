// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the PCI reset methods that call pci_dev_reset_iommu_prepare()
 * and pci_dev_reset_iommu_done() themselves (drivers/pci/pci.c): pcie_flr(),
 * the af_flr, pm and bus methods, through pci_reset_function() with the
 * method chosen as the sysfs reset_method attribute chooses it. The emulated
 * function records what the fake IOMMU held when it was reset
 * (struct kpci_seen).
 */
#include <kunit/test.h>
#include <linux/iommu-kunit.h>
#include <linux/pci.h>
#include <linux/pci_hotplug.h>

/* The PASID the cases attach */
#define KPCI_RESET_PASID	1

KFAKE_PERSONALITY_PARAMS();

static const struct kpci_fn kpci_resettable[] = {
	{ .devfn = 0, .ats = true, .pasid = true, .resets = true,
	  .alias = -1 },
};

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

/* The reset_method attribute of PCI devices in sysfs */
static struct device_attribute *kpci_reset_method_attr(struct kunit *test)
{
	const struct attribute_group *const *groups = pci_bus_type.dev_groups;
	unsigned int i, j;

	for (i = 0; groups && groups[i]; i++)
		for (j = 0; groups[i]->attrs && groups[i]->attrs[j]; j++)
			if (!strcmp(groups[i]->attrs[j]->name, "reset_method"))
				return container_of(groups[i]->attrs[j],
						    struct device_attribute,
						    attr);
	KUNIT_FAIL_AND_ABORT(test, "no reset_method attribute");
	return NULL;
}

/*
 * Choose the reset methods of @pdev by writing @methods to its reset_method
 * attribute, with the store of its sysfs file.
 */
static ssize_t kpci_set_reset_methods(struct kunit *test, struct pci_dev *pdev,
				      const char *methods)
{
	struct device_attribute *attr = kpci_reset_method_attr(test);

	return attr->store(&pdev->dev, attr, methods, strlen(methods));
}

/*
 * Give function 0 a paging domain on its RID and another on
 * KPCI_RESET_PASID, for a reset method to block and restore, and let only
 * @method reset it (NULL: keep the methods the PCI core found).
 */
static void kpci_translate(struct kunit *test, struct kpci *kp,
			   const char *method, struct iommu_domain **rid,
			   struct iommu_domain **pasid)
{
	struct kfake_dev *kd = kp->kd[0];

	*rid = kfake_alloc_paging(test, kd);
	*pasid = kfake_alloc_paging(test, kd);
	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, *rid,
						 kfake_group(test, kd)), 0);
	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, *pasid, kd,
						 KPCI_RESET_PASID), 0);
	if (method)
		KUNIT_ASSERT_EQ(test, kpci_set_reset_methods(test, kp->pdev[0],
							     method),
				strlen(method));
	kfake_clear_log(kp->fake);
	kpci_clear_seen(kp);
}

/*
 * Function 0 was reset once, by @kind, while its RID was on the blocking
 * domain and its PASIDs removed: after the callbacks that block it, before
 * those that restore it. group->domain stayed @rid all along.
 */
static void kpci_expect_blocked_reset(struct kunit *test, struct kpci *kp,
				      enum kpci_reset_kind kind,
				      struct iommu_domain *rid,
				      struct iommu_domain *pasid)
{
	const struct kpci_seen *seen = &kp->seen[0];
	struct kfake_dev *kd = kp->kd[0];

	KUNIT_EXPECT_EQ(test, seen->nr, 1);
	KUNIT_EXPECT_EQ(test, seen->kind, kind);
	KUNIT_EXPECT_PTR_EQ(test, seen->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_FALSE(test, seen->pasids);
	/* The two restoring callbacks come last */
	KUNIT_EXPECT_EQ(test, seen->nr_events, kp->fake->nr_events - 2);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_PASID_EV(&kfake_blocked_domain, kd,
					  KPCI_RESET_PASID, pasid),
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, rid),
			   KFAKE_ATTACH_EV(rid, kd, &kfake_blocked_domain),
			   KFAKE_PASID_EV(pasid, kd, KPCI_RESET_PASID,
					  NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, rid);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, KPCI_RESET_PASID),
			    pasid);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), rid);
}

/* The PCI core found the methods of the emulated function */
static void reset_methods_found(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_resettable, 1);
	struct device_attribute *attr = kpci_reset_method_attr(test);
	/* sysfs_emit_at() wants a page */
	char *buf = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	attr->show(&kp->pdev[0]->dev, attr, buf);
	KUNIT_EXPECT_STREQ(test, buf, "flr af_flr pm\n");
}

/* FLR through pci_reset_function(), waiting 100 ms as without imm_ready */
static void reset_method_flr(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_resettable, 1);
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, "flr", &rid, &pasid);
	kp->pdev[0]->imm_ready = 0;
	KUNIT_EXPECT_EQ(test, pci_reset_function(kp->pdev[0]), 0);
	kpci_expect_blocked_reset(test, kp, KPCI_RESET_FLR, rid, pasid);
}

/*
 * pcie_flr(), exported to drivers and their device-specific resets, for every
 * personality
 */
static void reset_method_pcie_flr(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_resettable, 1);
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, NULL, &rid, &pasid);
	kp->pdev[0]->imm_ready = 1;
	KUNIT_EXPECT_EQ(test, pcie_flr(kp->pdev[0]), 0);
	kpci_expect_blocked_reset(test, kp, KPCI_RESET_FLR, rid, pasid);
}

static void reset_method_af_flr(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_resettable, 1);
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, "af_flr", &rid, &pasid);
	kp->pdev[0]->imm_ready = 1;
	KUNIT_EXPECT_EQ(test, pci_reset_function(kp->pdev[0]), 0);
	kpci_expect_blocked_reset(test, kp, KPCI_RESET_AF_FLR, rid, pasid);
}

/* D0 -> D3hot -> D0; the reset is the function entering D3hot */
static void reset_method_pm(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_resettable, 1);
	struct iommu_domain *rid, *pasid;
	u16 pmcsr;

	kpci_translate(test, kp, "pm", &rid, &pasid);
	KUNIT_EXPECT_EQ(test, pci_reset_function(kp->pdev[0]), 0);
	kpci_expect_blocked_reset(test, kp, KPCI_RESET_PM, rid, pasid);
	pci_read_config_word(kp->pdev[0], kp->pdev[0]->pm_cap + PCI_PM_CTRL,
			     &pmcsr);
	KUNIT_EXPECT_EQ(test, pmcsr & PCI_PM_CTRL_STATE_MASK,
			(__force u16)PCI_D0);
}

struct kpci_slot {
	struct pci_slot slot;
	struct hotplug_slot hotplug;
	struct kpci *kp;
	int ret;
	/* What the fake held for function 0 when the slot was reset */
	unsigned int nr_reset;
	struct iommu_domain *rid;
	struct iommu_domain *pasid;
};

static int kpci_reset_slot(struct hotplug_slot *hotplug, bool probe)
{
	struct kpci_slot *ks = container_of(hotplug, struct kpci_slot, hotplug);
	struct kfake_dev *kd = ks->kp->kd[0];

	if (probe)
		return 0;
	ks->nr_reset++;
	ks->rid = kd->rid;
	ks->pasid = kfake_pasid_domain(kd, KPCI_RESET_PASID);
	return ks->ret;
}

static const struct hotplug_slot_ops kpci_slot_ops = {
	.reset_slot = kpci_reset_slot,
};

static void kpci_slot_remove(void *data)
{
	struct pci_dev *pdev = data;

	pdev->slot = NULL;
}

/* Put function 0 in a hotplug slot that resets it */
static struct kpci_slot *kpci_add_slot(struct kunit *test, struct kpci *kp)
{
	struct pci_dev *pdev = kp->pdev[0];
	struct kpci_slot *ks;

	KUNIT_ASSERT_NULL(test, pdev->slot);
	ks = kunit_kzalloc(test, sizeof(*ks), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ks);
	ks->kp = kp;
	ks->hotplug.ops = &kpci_slot_ops;
	ks->hotplug.owner = THIS_MODULE;
	ks->hotplug.pci_slot = &ks->slot;
	ks->slot.bus = pdev->bus;
	ks->slot.hotplug = &ks->hotplug;
	ks->slot.number = PCI_SLOT(pdev->devfn);
	pdev->slot = &ks->slot;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kpci_slot_remove,
							pdev), 0);
	return ks;
}

/* The bus method of a function in a hotplug slot: a slot reset */
static void reset_method_slot(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_resettable, 1);
	struct kpci_slot *ks = kpci_add_slot(test, kp);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, "bus", &rid, &pasid);
	KUNIT_EXPECT_EQ(test, pci_reset_function(kp->pdev[0]), 0);
	KUNIT_EXPECT_EQ(test, ks->nr_reset, 1);
	KUNIT_EXPECT_PTR_EQ(test, ks->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, ks->pasid);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_PASID_EV(&kfake_blocked_domain, kd,
					  KPCI_RESET_PASID, pasid),
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, rid),
			   KFAKE_ATTACH_EV(rid, kd, &kfake_blocked_domain),
			   KFAKE_PASID_EV(pasid, kd, KPCI_RESET_PASID,
					  NULL));

	/* A failed slot reset is reported, and the device restored too */
	ks->ret = -EIO;
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, pci_reset_function(kp->pdev[0]), -EIO);
	KUNIT_EXPECT_EQ(test, ks->nr_reset, 2);
	KUNIT_EXPECT_PTR_EQ(test, ks->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, rid);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, KPCI_RESET_PASID),
			    pasid);
}

/*
 * Probing whether a method applies, as the reset_method attribute does for
 * each method written to it (and pci_init_reset_methods() for "default"),
 * resets nothing, so it has no reason to block the function (as
 * pci_reset_bus_function() did before it looked at @probe).
 */
static void reset_method_probe_leaves_iommu_alone(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_resettable, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, NULL, &rid, &pasid);
	/* No slot and a root bus: the bus method does not apply */
	KUNIT_EXPECT_EQ(test, kpci_set_reset_methods(test, kp->pdev[0], "bus"),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, kpci_set_reset_methods(test, kp->pdev[0],
						     "default"),
			strlen("default"));
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_EQ(test, kp->seen[0].nr, 0);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, rid);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, KPCI_RESET_PASID),
			    pasid);
}

/* A function without ATS is reset without any IOMMU callback */
static void reset_method_flr_without_ats(struct kunit *test)
{
	static const struct kpci_fn fns[] = {
		{ .devfn = 0, .resets = true, .alias = -1 },
	};
	struct kpci *kp = kpci_new(test, fns, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, kfake_attach_group(test, paging,
						 kfake_group(test, kd)), 0);
	kp->pdev[0]->imm_ready = 1;
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, pcie_flr(kp->pdev[0]), 0);
	KUNIT_EXPECT_EQ(test, kp->seen[0].nr, 1);
	KUNIT_EXPECT_PTR_EQ(test, kp->seen[0].rid, paging);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, paging);
}

/* A reset method inside a prepare of the caller's leaves the device blocked */
static void reset_method_flr_nested(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_resettable, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, NULL, &rid, &pasid);
	kp->pdev[0]->imm_ready = 1;
	KUNIT_ASSERT_EQ(test, kpci_reset_prepare(test, kp, 0), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_PASID_EV(&kfake_blocked_domain, kd,
					  KPCI_RESET_PASID, pasid),
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, rid));

	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, pcie_flr(kp->pdev[0]), 0);
	KUNIT_EXPECT_EQ(test, kp->seen[0].nr, 1);
	KUNIT_EXPECT_PTR_EQ(test, kp->seen[0].rid, &kfake_blocked_domain);
	KUNIT_EXPECT_FALSE(test, kp->seen[0].pasids);
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, KPCI_RESET_PASID));

	kpci_reset_done(test, kp, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(rid, kd, &kfake_blocked_domain),
			   KFAKE_PASID_EV(pasid, kd, KPCI_RESET_PASID,
					  NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), rid);
}

/*
 * pcie_flr() and pci_af_flr() first wait for the function's pending
 * transactions, which complete through the domains they were issued with,
 * and only then block its translation ("Have to call it after waiting for
 * pending DMA transaction").
 */
static void reset_method_blocks_after_pending_wait(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_resettable, 1);
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, NULL, &rid, &pasid);
	kp->pdev[0]->imm_ready = 1;
	KUNIT_EXPECT_EQ(test, pcie_flr(kp->pdev[0]), 0);
	KUNIT_EXPECT_TRUE(test, kp->seen[0].polled);
	KUNIT_EXPECT_PTR_EQ_MSG(test, kp->seen[0].polled_rid, rid,
				"FLR: RID blocked while transactions pend");
	KUNIT_EXPECT_PTR_EQ(test, kp->seen[0].rid, &kfake_blocked_domain);

	kpci_clear_seen(kp);
	KUNIT_ASSERT_EQ(test, kpci_set_reset_methods(test, kp->pdev[0],
						     "af_flr"),
			strlen("af_flr"));
	KUNIT_EXPECT_EQ(test, pci_reset_function(kp->pdev[0]), 0);
	KUNIT_EXPECT_TRUE(test, kp->seen[0].polled);
	KUNIT_EXPECT_PTR_EQ_MSG(test, kp->seen[0].polled_rid, rid,
				"AF FLR: RID blocked while transactions pend");
	KUNIT_EXPECT_PTR_EQ(test, kp->seen[0].rid, &kfake_blocked_domain);
}

/*
 * A method whose prepare fails reports the error and does not reset the
 * function: it would otherwise reset it with ATS and translation live.
 */
static void reset_method_prepare_failure_no_reset(struct kunit *test)
{
	struct kpci *kp = kpci_new(test, kpci_resettable, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, "flr", &rid, &pasid);
	kp->pdev[0]->imm_ready = 1;
	/* Blocking the RID fails; the PASID, removed first, comes back */
	kd->cfg.fail_kind = KFAKE_KIND_BLOCKED;
	kd->cfg.fail_err = -EIO;
	KUNIT_EXPECT_EQ(test, pcie_flr(kp->pdev[0]), -EIO);
	KUNIT_EXPECT_EQ(test, pci_reset_function(kp->pdev[0]), -EIO);
	kd->cfg.fail_kind = KFAKE_KIND_NONE;
	KUNIT_EXPECT_EQ(test, kp->seen[0].nr, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_PASID_EV(&kfake_blocked_domain, kd,
					  KPCI_RESET_PASID, pasid),
			   KFAKE_ATTACH_FAIL_EV(&kfake_blocked_domain, kd, rid,
						-EIO),
			   KFAKE_PASID_EV(pasid, kd, KPCI_RESET_PASID,
					  NULL),
			   KFAKE_PASID_EV(&kfake_blocked_domain, kd,
					  KPCI_RESET_PASID, pasid),
			   KFAKE_ATTACH_FAIL_EV(&kfake_blocked_domain, kd, rid,
						-EIO),
			   KFAKE_PASID_EV(pasid, kd, KPCI_RESET_PASID,
					  NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, rid);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, KPCI_RESET_PASID),
			    pasid);
}

static struct kunit_case iommu_pci_reset_method_cases[] = {
	KUNIT_CASE(reset_methods_found),
	KUNIT_CASE(reset_method_flr),
	KUNIT_CASE_PARAM(reset_method_pcie_flr, kfake_personality_gen_params),
	KUNIT_CASE(reset_method_af_flr),
	KUNIT_CASE(reset_method_pm),
	KUNIT_CASE(reset_method_slot),
	KUNIT_CASE(reset_method_probe_leaves_iommu_alone),
	KUNIT_CASE(reset_method_flr_without_ats),
	KUNIT_CASE(reset_method_flr_nested),
	KUNIT_CASE(reset_method_blocks_after_pending_wait),
	KUNIT_CASE(reset_method_prepare_failure_no_reset),
	{}
};

static struct kunit_suite iommu_pci_reset_method_suite = {
	.name = "iommu_pci_reset_methods",
	.test_cases = iommu_pci_reset_method_cases,
};

kunit_test_suite(iommu_pci_reset_method_suite);
