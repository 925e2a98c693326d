// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the PCI reset methods that call pci_dev_reset_iommu_prepare()
 * and pci_dev_reset_iommu_done() themselves (drivers/pci/pci.c, quirks.c):
 * pcie_flr(), the af_flr, pm, bus and device_specific methods, through
 * pci_reset_function() with the method chosen as the sysfs reset_method
 * attribute chooses it, and of pci_reset_bus(), which resets several
 * functions at once. The emulated function records what the fake IOMMU held
 * when it was reset (struct kpci_seen).
 *
 * Not emulated: ACPI _RST (pci_dev_acpi_reset()), which needs an ACPI
 * namespace node with a _RST method for the function, which neither UML nor
 * the software host bridge have; and the parent bus reset
 * (pci_parent_bus_reset()) and the secondary bus reset of __pci_reset_bus(),
 * which need a bridge above the functions (dev->bus->self): the functions
 * of the software host bridge are on its root bus. The bus method blocks
 * the function before it chooses between the slot and the parent bus, and
 * __pci_reset_bus() blocks its devices as __pci_reset_slot() does, which the
 * slot cases below reach.
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

/*
 * Function 0 with the IDs of the Intel 82599 SFP VF, whose device-specific
 * reset method (reset_intel_82599_sfp_virtfn()) is a bare pcie_flr() whose
 * return it ignores
 */
static const struct kpci_fn kpci_quirked[] = {
	{ .devfn = 0, .ats = true, .pasid = true, .resets = true,
	  .alias = -1, .vendor = PCI_VENDOR_ID_INTEL, .device = 0x10ed },
};

static struct kpci *kpci_new_as(struct kunit *test, const struct kpci_fn *fns,
				unsigned int nr, enum kfake_personality personality)
{
	const struct kfake_cfg cfg = {
		.personality = personality,
		.release = KFAKE_RELEASE_BLOCKED,
		.max_pasids = 64,
		.unit1_max_pasids = 16,
	};

	return kpci_create(test, &cfg, fns, nr);
}

/* The personality of the case's parameter, if it is one */
static struct kpci *kpci_new(struct kunit *test, const struct kpci_fn *fns,
			     unsigned int nr)
{
	return kpci_new_as(test, fns, nr, test->param_value ?
				  kfake_param_personality(test) : KFAKE_PLAIN);
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
	/* What the fake held for each function when the slot was reset */
	unsigned int nr_reset;
	unsigned int nr_events;
	struct iommu_domain *rid[KPCI_NR_FN];
	struct iommu_domain *pasid[KPCI_NR_FN];
};

static int kpci_reset_slot(struct hotplug_slot *hotplug, bool probe)
{
	struct kpci_slot *ks = container_of(hotplug, struct kpci_slot, hotplug);
	struct kpci *kp = ks->kp;
	unsigned int i;

	if (probe)
		return 0;
	ks->nr_reset++;
	ks->nr_events = kp->fake->nr_events;
	for (i = 0; i < kp->nr_fns; i++) {
		ks->rid[i] = kp->kd[i]->rid;
		ks->pasid[i] = kfake_pasid_domain(kp->kd[i], KPCI_RESET_PASID);
	}
	return ks->ret;
}

static const struct hotplug_slot_ops kpci_slot_ops = {
	.reset_slot = kpci_reset_slot,
};

static void kpci_slot_remove(void *data)
{
	struct kpci_slot *ks = data;
	unsigned int i;

	for (i = 0; i < ks->kp->nr_fns; i++)
		ks->kp->pdev[i]->slot = NULL;
}

/* Put the functions in a hotplug slot that resets them */
static struct kpci_slot *kpci_add_slot(struct kunit *test, struct kpci *kp)
{
	struct pci_dev *pdev = kp->pdev[0];
	struct kpci_slot *ks;
	unsigned int i;

	for (i = 0; i < kp->nr_fns; i++)
		KUNIT_ASSERT_NULL(test, kp->pdev[i]->slot);
	ks = kunit_kzalloc(test, sizeof(*ks), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ks);
	ks->kp = kp;
	ks->hotplug.ops = &kpci_slot_ops;
	ks->hotplug.owner = THIS_MODULE;
	ks->hotplug.pci_slot = &ks->slot;
	ks->slot.bus = pdev->bus;
	ks->slot.hotplug = &ks->hotplug;
	ks->slot.number = PCI_SLOT(pdev->devfn);
	for (i = 0; i < kp->nr_fns; i++)
		kp->pdev[i]->slot = &ks->slot;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kpci_slot_remove,
							ks), 0);
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
	KUNIT_EXPECT_PTR_EQ(test, ks->rid[0], &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, ks->pasid[0]);
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
	KUNIT_EXPECT_PTR_EQ(test, ks->rid[0], &kfake_blocked_domain);
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

/* A reset method, and how a case makes it reset function 0 */
struct kpci_method {
	const char *name;
	/* Written to reset_method; NULL: call pcie_flr() */
	const char *method;
	const struct kpci_fn *fns;
	/* Function 0 is in a hotplug slot, which the bus method resets */
	bool slot;
	enum kpci_reset_kind kind;
};

static const struct kpci_method kpci_methods[] = {
	{ "flr", "flr", kpci_resettable, false, KPCI_RESET_FLR },
	{ "pcie_flr", NULL, kpci_resettable, false, KPCI_RESET_FLR },
	{ "af_flr", "af_flr", kpci_resettable, false, KPCI_RESET_AF_FLR },
	{ "pm", "pm", kpci_resettable, false, KPCI_RESET_PM },
	{ "bus_slot", "bus", kpci_resettable, true, KPCI_RESET_NONE },
	{ "device_specific", "device_specific", kpci_quirked, false,
	  KPCI_RESET_FLR },
};

KUNIT_ARRAY_PARAM_DESC(kpci_methods, kpci_methods, name);

/* The methods whose reset pci_dev_wait() waits for the function after */
static const struct kpci_method kpci_waiting_methods[] = {
	{ "flr", "flr", kpci_resettable, false, KPCI_RESET_FLR },
	{ "af_flr", "af_flr", kpci_resettable, false, KPCI_RESET_AF_FLR },
	{ "pm", "pm", kpci_resettable, false, KPCI_RESET_PM },
};

KUNIT_ARRAY_PARAM_DESC(kpci_waiting_methods, kpci_waiting_methods, name);

static int kpci_method_reset(struct kpci *kp, const struct kpci_method *m)
{
	return m->method ? pci_reset_function(kp->pdev[0]) :
			   pcie_flr(kp->pdev[0]);
}

/*
 * A method whose prepare fails reports the error and does not reset the
 * function: it would otherwise reset it with ATS and translation live. A
 * device-specific method fails as a whole, even one that ignores what its
 * pcie_flr() returns.
 */
static void reset_method_prepare_failure_no_reset(struct kunit *test)
{
	const struct kpci_method *m = test->param_value;
	struct kpci *kp = kpci_new_as(test, m->fns, 1, KFAKE_PLAIN);
	struct kpci_slot *ks = m->slot ? kpci_add_slot(test, kp) : NULL;
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, m->method, &rid, &pasid);
	kp->pdev[0]->imm_ready = 1;
	/* Blocking the RID fails; the PASID, removed first, comes back */
	kd->cfg.fail_kind = KFAKE_KIND_BLOCKED;
	kd->cfg.fail_err = -EIO;
	KUNIT_EXPECT_EQ(test, kpci_method_reset(kp, m), -EIO);
	kd->cfg.fail_kind = KFAKE_KIND_NONE;
	KUNIT_EXPECT_EQ(test, kp->seen[0].nr, 0);
	if (ks)
		KUNIT_EXPECT_EQ(test, ks->nr_reset, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
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

/*
 * A device-specific reset method runs blocked as a whole, not only around
 * the pcie_flr() it ends with: what it does to the function before the FLR
 * (here the wait for its pending transactions, which that pcie_flr() does
 * first) happens with the translation blocked already, and the pcie_flr()
 * nests on the block without any callback of its own.
 */
static void reset_method_device_specific(struct kunit *test)
{
	struct kpci *kp = kpci_new_as(test, kpci_quirked, 1, KFAKE_PLAIN);
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, "device_specific", &rid, &pasid);
	kp->pdev[0]->imm_ready = 1;
	KUNIT_EXPECT_EQ(test, pci_reset_function(kp->pdev[0]), 0);
	kpci_expect_blocked_reset(test, kp, KPCI_RESET_FLR, rid, pasid);
	KUNIT_EXPECT_TRUE(test, kp->seen[0].polled);
	KUNIT_EXPECT_PTR_EQ_MSG(test, kp->seen[0].polled_rid,
				&kfake_blocked_domain,
				"device-specific reset: steps before the FLR run translating");
}

static void kpci_reconnect(void *data)
{
	struct pci_dev *pdev = data;

	pdev->error_state = pci_channel_io_normal;
}

/*
 * A function that does not come back from its reset (pci_dev_wait() gives
 * up: -ENOTTY, and __pci_reset_function_locked() would try the next method)
 * is let translate again all the same, as it is restored to its
 * configuration: left blocked, its block would stay unbalanced, so that the
 * next reset would only nest on it and it would never translate again. The
 * next reset blocks and restores it as any. pci_dev_wait() polls a function
 * for 60 s; one marked disconnected (struct kpci, @vanish) gives it up at
 * once, with the same -ENOTTY.
 */
static void reset_method_timeout_restores(struct kunit *test)
{
	const struct kpci_method *m = test->param_value;
	struct kpci *kp = kpci_new_as(test, m->fns, 1, KFAKE_PLAIN);
	struct pci_dev *pdev = kp->pdev[0];
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, m->method, &rid, &pasid);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kpci_reconnect,
							pdev), 0);
	/* Wait for the function, as without Immediate Readiness */
	pdev->imm_ready = 0;
	kp->vanish[0] = true;
	KUNIT_EXPECT_EQ(test, pci_reset_function(pdev), -ENOTTY);
	KUNIT_EXPECT_TRUE(test,
			  pdev->error_state == pci_channel_io_perm_failure);
	kpci_expect_blocked_reset(test, kp, m->kind, rid, pasid);

	pdev->error_state = pci_channel_io_normal;
	kfake_clear_log(kp->fake);
	kpci_clear_seen(kp);
	KUNIT_EXPECT_EQ(test, pci_reset_function(pdev), 0);
	kpci_expect_blocked_reset(test, kp, m->kind, rid, pasid);
}

/*
 * Three functions in one hotplug slot, each in its own group: function 0
 * with ATS and a PASID, function 1 with ATS, function 2 without ATS.
 */
static const struct kpci_fn kpci_slot_fns[] = {
	{ .devfn = 0, .ats = true, .pasid = true, .alias = -1 },
	{ .devfn = 1, .ats = true, .alias = -1 },
	{ .devfn = 2, .alias = -1 },
};

struct kpci_slot_domains {
	struct iommu_domain *rid[3];
	struct iommu_domain *pasid;
};

/*
 * Give each function of kpci_slot_fns a paging domain, and function 0
 * another on KPCI_RESET_PASID, and put them in a hotplug slot.
 */
static struct kpci_slot *kpci_slot_translate(struct kunit *test,
					     struct kpci *kp,
					     struct kpci_slot_domains *d)
{
	struct kpci_slot *ks = kpci_add_slot(test, kp);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(d->rid); i++) {
		d->rid[i] = kfake_alloc_paging(test, kp->kd[i]);
		KUNIT_ASSERT_EQ(test,
				kfake_attach_group(test, d->rid[i],
						   kfake_group(test, kp->kd[i])),
				0);
	}
	d->pasid = kfake_alloc_paging(test, kp->kd[0]);
	KUNIT_ASSERT_EQ(test, kfake_attach_pasid(test, d->pasid, kp->kd[0],
						 KPCI_RESET_PASID), 0);
	kfake_clear_log(kp->fake);
	return ks;
}

/* Every function translates with its domains again */
static void kpci_slot_expect_restored(struct kunit *test, struct kpci *kp,
				      const struct kpci_slot_domains *d)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(d->rid); i++) {
		KUNIT_EXPECT_PTR_EQ(test, kp->kd[i]->rid, d->rid[i]);
		KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kp->kd[i]), d->rid[i]);
	}
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kp->kd[0],
						     KPCI_RESET_PASID),
			    d->pasid);
}

/*
 * pci_reset_bus() of functions that share a slot, as VFIO's hot reset does:
 * a slot reset of them all, which blocks every function with ATS before and
 * restores it after, whether the reset succeeds or fails.
 */
static void bus_reset_blocks_every_function(struct kunit *test)
{
	/* The slot reset succeeds, then fails */
	static const int rets[] = { 0, -EIO };
	struct kpci *kp = kpci_new_as(test, kpci_slot_fns, 3, KFAKE_PLAIN);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct kpci_slot_domains d;
	struct kpci_slot *ks;
	unsigned int i;

	kpci_need_bus_reset_block(test);
	ks = kpci_slot_translate(test, kp, &d);
	for (i = 0; i < ARRAY_SIZE(rets); i++) {
		ks->ret = rets[i];
		ks->nr_reset = 0;
		kfake_clear_log(kp->fake);
		KUNIT_EXPECT_EQ(test, pci_reset_bus(kp->pdev[0]), rets[i]);
		KUNIT_EXPECT_EQ(test, ks->nr_reset, 1);
		KUNIT_EXPECT_PTR_EQ(test, ks->rid[0], &kfake_blocked_domain);
		KUNIT_EXPECT_NULL(test, ks->pasid[0]);
		KUNIT_EXPECT_PTR_EQ(test, ks->rid[1], &kfake_blocked_domain);
		/* Without ATS: not blocked */
		KUNIT_EXPECT_PTR_EQ(test, ks->rid[2], d.rid[2]);
		/* All blocked before the reset, restored after */
		KUNIT_EXPECT_EQ(test, ks->nr_events, 3);
		KFAKE_EXPECT_CALLS(test, kp->fake,
				   KFAKE_PASID_EV(&kfake_blocked_domain, kd0,
						  KPCI_RESET_PASID, d.pasid),
				   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd0,
						   d.rid[0]),
				   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd1,
						   d.rid[1]),
				   KFAKE_ATTACH_EV(d.rid[0], kd0,
						   &kfake_blocked_domain),
				   KFAKE_PASID_EV(d.pasid, kd0,
						  KPCI_RESET_PASID, NULL),
				   KFAKE_ATTACH_EV(d.rid[1], kd1,
						   &kfake_blocked_domain));
		kpci_slot_expect_restored(test, kp, &d);
	}
}

/*
 * A function of the slot that cannot be blocked fails pci_reset_bus() before
 * anything is reset, and the functions blocked before it are restored. The
 * blocks are balanced: the next pci_reset_bus() blocks them all again.
 */
static void bus_reset_prepare_failure_no_reset(struct kunit *test)
{
	struct kpci *kp = kpci_new_as(test, kpci_slot_fns, 3, KFAKE_PLAIN);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct kpci_slot_domains d;
	struct kpci_slot *ks;

	kpci_need_bus_reset_block(test);
	ks = kpci_slot_translate(test, kp, &d);
	kd1->cfg.fail_kind = KFAKE_KIND_BLOCKED;
	kd1->cfg.fail_err = -EIO;
	KUNIT_EXPECT_EQ(test, pci_reset_bus(kp->pdev[0]), -EIO);
	kd1->cfg.fail_kind = KFAKE_KIND_NONE;
	KUNIT_EXPECT_EQ(test, ks->nr_reset, 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_PASID_EV(&kfake_blocked_domain, kd0,
					  KPCI_RESET_PASID, d.pasid),
			   KFAKE_ATTACH_EV(&kfake_blocked_domain, kd0,
					   d.rid[0]),
			   KFAKE_ATTACH_FAIL_EV(&kfake_blocked_domain, kd1,
						d.rid[1], -EIO),
			   KFAKE_ATTACH_EV(d.rid[0], kd0,
					   &kfake_blocked_domain),
			   KFAKE_PASID_EV(d.pasid, kd0, KPCI_RESET_PASID,
					  NULL));
	kpci_slot_expect_restored(test, kp, &d);

	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, pci_reset_bus(kp->pdev[0]), 0);
	KUNIT_EXPECT_EQ(test, ks->nr_reset, 1);
	KUNIT_EXPECT_PTR_EQ(test, ks->rid[0], &kfake_blocked_domain);
	KUNIT_EXPECT_PTR_EQ(test, ks->rid[1], &kfake_blocked_domain);
	KUNIT_EXPECT_EQ(test, ks->nr_events, 3);
	kpci_slot_expect_restored(test, kp, &d);
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
	KUNIT_CASE_PARAM(reset_method_prepare_failure_no_reset,
			 kpci_methods_gen_params),
	KUNIT_CASE(reset_method_device_specific),
	KUNIT_CASE_PARAM(reset_method_timeout_restores,
			 kpci_waiting_methods_gen_params),
	KUNIT_CASE(bus_reset_blocks_every_function),
	KUNIT_CASE(bus_reset_prepare_failure_no_reset),
	{}
};

static struct kunit_suite iommu_pci_reset_method_suite = {
	.name = "iommu_pci_reset_methods",
	.test_cases = iommu_pci_reset_method_cases,
};

kunit_test_suite(iommu_pci_reset_method_suite);
