// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of pci_dev_reset_iommu_prepare() and pci_dev_reset_iommu_done(),
 * and of the PCI reset methods that call them, on real struct pci_devs. A
 * software host bridge emulates the configuration space of PCIe functions with
 * and without ATS, PASID and the capabilities of the reset methods, and the
 * fake IOMMU driver of iommu-kunit-fake.c translates for them.
 */
#include <kunit/test.h>
#include <linux/bitfield.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pci-ats.h>
#include <linux/pci_hotplug.h>

#include "iommu-kunit.h"
#include "iommu-priv.h"

/*
 * On x86 the bridge gets a PCI domain of its own above 0xffff, out of the way
 * of anything the firmware describes, as VMD does. UML has a single domain,
 * whose bus 00 its own virtual PCI owns.
 */
#ifdef CONFIG_X86
#define KPCI_DOMAIN	0x1abcd
#define KPCI_BUSNR	0x00
#else
#define KPCI_DOMAIN	0
#define KPCI_BUSNR	0x20
#endif
#define KPCI_NR_FN	4
#define KPCI_VENDOR	0xabcd
#define KPCI_DEVICE	0x1234

#define KPCI_EXP_CAP	0x40
#define KPCI_PM_CAP	0x80
#define KPCI_AF_CAP	0x88
#define KPCI_ATS_CAP	0x100
#define KPCI_PASID_CAP	0x110
#define KPCI_PASID_BITS	5

/* Indices of the reset methods in pci_reset_fn_methods[] (drivers/pci/pci.c) */
#define KPCI_METHOD_FLR		3
#define KPCI_METHOD_AF_FLR	4
#define KPCI_METHOD_PM		5
#define KPCI_METHOD_BUS		6

/* The PASID the reset method cases attach */
#define KPCI_RESET_PASID	1

struct kpci_fn {
	unsigned int devfn;
	bool ats;
	bool pasid;
	/* Width of the PASID capability, 0 for the default of 5 bits */
	unsigned int pasid_bits;
	/* FLR in DEVCAP, an AF capability with FLR and a PM capability */
	bool resets;
	/* devfn this function also issues DMA as, or -1 */
	int alias;
	struct kfake_dev_cfg cfg;
};

#define KPCI_FN(_devfn, _ats, _pasid, ...)				\
	{ .devfn = (_devfn), .ats = (_ats), .pasid = (_pasid),		\
	  .alias = -1, .cfg = { __VA_ARGS__ } }

enum kpci_reset_kind {
	KPCI_RESET_NONE,
	KPCI_RESET_FLR,		/* PCI_EXP_DEVCTL_BCR_FLR written */
	KPCI_RESET_AF_FLR,	/* PCI_AF_CTRL_FLR written */
	KPCI_RESET_PM,		/* PCI_PM_CTRL set to D3hot */
	KPCI_RESET_SLOT,	/* hotplug_slot_ops->reset_slot() called */
};

/* What the fake IOMMU held for a function at the moment it was reset */
struct kpci_reset {
	unsigned int nr;
	enum kpci_reset_kind kind;
	struct iommu_domain *rid;
	struct iommu_domain *pasid;	/* of KPCI_RESET_PASID */
	struct iommu_domain *group_domain;
	/* Callbacks the fake had logged by then */
	unsigned int nr_events;
	/* The RID's domain when pending transactions were last polled */
	bool polled;
	struct iommu_domain *polled_rid;
};

struct kpci {
	struct kfake *fake;
	struct pci_host_bridge *bridge;
	struct notifier_block nb;
#ifdef CONFIG_X86
	struct pci_sysdata sysdata;
#endif
	struct resource busn;
	const struct kpci_fn *fns;
	unsigned int nr_fns;
	struct pci_dev *pdev[KPCI_NR_FN];
	struct kfake_dev *kd[KPCI_NR_FN];
	u8 cfg[KPCI_NR_FN][PCI_CFG_SPACE_EXP_SIZE];
	bool present[KPCI_NR_FN];
	/* Indexed like @pdev */
	struct kpci_reset reset[KPCI_NR_FN];
	bool polled[KPCI_NR_FN];
	struct iommu_domain *polled_rid[KPCI_NR_FN];
};

static struct kpci *kpci_current;
static int kpci_owner;

static bool kpci_writable(int where)
{
	/* IDs, status, class, header type, BARs, ROM and capability pointer */
	if (where < PCI_COMMAND || where == PCI_STATUS ||
	    where == PCI_STATUS + 1 ||
	    (where >= PCI_CLASS_REVISION && where < PCI_CACHE_LINE_SIZE) ||
	    where == PCI_HEADER_TYPE ||
	    (where >= PCI_BASE_ADDRESS_0 && where < PCI_CARDBUS_CIS) ||
	    (where >= PCI_ROM_ADDRESS && where <= PCI_CAPABILITY_LIST))
		return false;
	/* Capability headers and capability registers are RO too */
	if (where >= KPCI_EXP_CAP && where < KPCI_EXP_CAP + PCI_EXP_DEVCTL)
		return false;
	if (where >= KPCI_PM_CAP && where < KPCI_PM_CAP + PCI_PM_CTRL)
		return false;
	if (where >= KPCI_PM_CAP + PCI_PM_CTRL + 2 &&
	    where < KPCI_PM_CAP + PCI_PM_SIZEOF)
		return false;
	if (where >= KPCI_AF_CAP && where < KPCI_AF_CAP + PCI_AF_CTRL)
		return false;
	if (where == KPCI_AF_CAP + PCI_AF_STATUS)
		return false;
	/* Below their control words, the ATS and PASID capabilities are RO */
	if (where >= KPCI_ATS_CAP && where < KPCI_ATS_CAP + PCI_ATS_CTRL)
		return false;
	if (where >= KPCI_PASID_CAP &&
	    where < KPCI_PASID_CAP + PCI_PASID_CTRL)
		return false;
	return true;
}

static int kpci_index(struct kpci *kp, unsigned int devfn)
{
	unsigned int i;

	for (i = 0; i < kp->nr_fns; i++)
		if (kp->fns[i].devfn == devfn)
			return i;
	return -1;
}

/*
 * Record what the fake IOMMU holds for function @devfn as it is reset. Called
 * from the configuration accessors, under pci_lock: nothing here sleeps.
 */
static void kpci_reset_seen(struct kpci *kp, unsigned int devfn,
			    enum kpci_reset_kind kind)
{
	int i = kpci_index(kp, devfn);
	struct kpci_reset *r;
	struct kfake_dev *kd;

	if (i < 0)
		return;
	kd = kp->kd[i];
	r = &kp->reset[i];
	r->nr++;
	r->kind = kind;
	r->rid = kd->rid;
	r->pasid = kfake_pasid_domain(kd, KPCI_RESET_PASID);
	r->group_domain = kd->dev ? iommu_get_domain_for_dev(kd->dev) : NULL;
	r->nr_events = kp->fake->nr_events;
	r->polled = kp->polled[i];
	r->polled_rid = kp->polled_rid[i];
}

/* The function reports whether transactions are pending */
static void kpci_poll_seen(struct kpci *kp, unsigned int devfn)
{
	int i = kpci_index(kp, devfn);

	if (i < 0)
		return;
	kp->polled[i] = true;
	kp->polled_rid[i] = kp->kd[i]->rid;
}

static void kpci_clear_resets(struct kpci *kp)
{
	memset(kp->reset, 0, sizeof(kp->reset));
	memset(kp->polled, 0, sizeof(kp->polled));
	memset(kp->polled_rid, 0, sizeof(kp->polled_rid));
}

static int kpci_read(struct pci_bus *bus, unsigned int devfn, int where,
		     int size, u32 *val)
{
	struct kpci *kp = kpci_current;
	int i;

	if (!kp || devfn >= KPCI_NR_FN || !kp->present[devfn] ||
	    where + size > PCI_CFG_SPACE_EXP_SIZE) {
		PCI_SET_ERROR_RESPONSE(val);
		return PCIBIOS_DEVICE_NOT_FOUND;
	}
	*val = 0;
	for (i = size - 1; i >= 0; i--)
		*val = (*val << 8) | kp->cfg[devfn][where + i];

	/* pcie_flr() and pci_af_flr() wait for the pending transactions */
	if (where == KPCI_EXP_CAP + PCI_EXP_DEVSTA ||
	    where == KPCI_AF_CAP + PCI_AF_CTRL)
		kpci_poll_seen(kp, devfn);
	return PCIBIOS_SUCCESSFUL;
}

static int kpci_write(struct pci_bus *bus, unsigned int devfn, int where,
		      int size, u32 val)
{
	struct kpci *kp = kpci_current;
	u8 *cfg;
	int i;
	u32 v;

	if (!kp || devfn >= KPCI_NR_FN || !kp->present[devfn] ||
	    where + size > PCI_CFG_SPACE_EXP_SIZE)
		return PCIBIOS_DEVICE_NOT_FOUND;
	cfg = kp->cfg[devfn];
	for (i = 0, v = val; i < size; i++, v >>= 8)
		if (kpci_writable(where + i))
			cfg[where + i] = v & 0xff;

	/* The writes that reset the function; the FLR bits read as 0 */
	if (where == KPCI_EXP_CAP + PCI_EXP_DEVCTL && size >= 2 &&
	    (val & PCI_EXP_DEVCTL_BCR_FLR)) {
		cfg[where + 1] &= ~(PCI_EXP_DEVCTL_BCR_FLR >> 8);
		kpci_reset_seen(kp, devfn, KPCI_RESET_FLR);
	}
	if (where == KPCI_AF_CAP + PCI_AF_CTRL && (val & PCI_AF_CTRL_FLR)) {
		cfg[where] &= ~PCI_AF_CTRL_FLR;
		kpci_reset_seen(kp, devfn, KPCI_RESET_AF_FLR);
	}
	if (where == KPCI_PM_CAP + PCI_PM_CTRL && size >= 2 &&
	    (val & PCI_PM_CTRL_STATE_MASK) == (__force u16)PCI_D3hot)
		kpci_reset_seen(kp, devfn, KPCI_RESET_PM);
	return PCIBIOS_SUCCESSFUL;
}

static struct pci_ops kpci_ops = {
	.read = kpci_read,
	.write = kpci_write,
};

static unsigned int kpci_pasid_bits(const struct kpci_fn *fn)
{
	return fn->pasid_bits ? fn->pasid_bits : KPCI_PASID_BITS;
}

static void kpci_put16(u8 *cfg, int where, u16 val)
{
	cfg[where] = val & 0xff;
	cfg[where + 1] = val >> 8;
}

static void kpci_put32(u8 *cfg, int where, u32 val)
{
	kpci_put16(cfg, where, val & 0xffff);
	kpci_put16(cfg, where + 2, val >> 16);
}

/*
 * A PCIe root complex integrated endpoint, optionally with ATS and PASID, and
 * with what the FLR, AF FLR and PM reset methods look for
 */
static void kpci_build_fn(struct kpci *kp, const struct kpci_fn *fn,
			  bool multifunction)
{
	u8 *cfg = kp->cfg[fn->devfn];

	kpci_put16(cfg, PCI_VENDOR_ID, KPCI_VENDOR);
	kpci_put16(cfg, PCI_DEVICE_ID, KPCI_DEVICE);
	kpci_put16(cfg, PCI_STATUS, PCI_STATUS_CAP_LIST);
	kpci_put32(cfg, PCI_CLASS_REVISION, PCI_CLASS_OTHERS << 16);
	cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL |
			       (multifunction ? PCI_HEADER_TYPE_MFD : 0);
	cfg[PCI_CAPABILITY_LIST] = KPCI_EXP_CAP;

	cfg[KPCI_EXP_CAP] = PCI_CAP_ID_EXP;
	kpci_put16(cfg, KPCI_EXP_CAP + PCI_EXP_FLAGS,
		   FIELD_PREP(PCI_EXP_FLAGS_VERS, 2) |
		   FIELD_PREP(PCI_EXP_FLAGS_TYPE, PCI_EXP_TYPE_RC_END));

	if (fn->resets) {
		kpci_put32(cfg, KPCI_EXP_CAP + PCI_EXP_DEVCAP,
			   PCI_EXP_DEVCAP_FLR);
		cfg[KPCI_EXP_CAP + PCI_CAP_LIST_NEXT] = KPCI_PM_CAP;

		/* PM version 3, resets on D3hot->D0 (no NO_SOFT_RESET) */
		cfg[KPCI_PM_CAP] = PCI_CAP_ID_PM;
		cfg[KPCI_PM_CAP + PCI_CAP_LIST_NEXT] = KPCI_AF_CAP;
		kpci_put16(cfg, KPCI_PM_CAP + PCI_PM_PMC, 3);

		cfg[KPCI_AF_CAP] = PCI_CAP_ID_AF;
		cfg[KPCI_AF_CAP + PCI_AF_LENGTH] = 6;
		cfg[KPCI_AF_CAP + PCI_AF_CAP] = PCI_AF_CAP_TP | PCI_AF_CAP_FLR;
	}

	/* Extended capability header: ID, version 1, next capability */
	if (fn->ats)
		kpci_put32(cfg, KPCI_ATS_CAP,
			   PCI_EXT_CAP_ID_ATS | (1 << 16) |
			   ((fn->pasid ? KPCI_PASID_CAP : 0) << 20));
	if (fn->ats && fn->pasid) {
		kpci_put32(cfg, KPCI_PASID_CAP,
			   PCI_EXT_CAP_ID_PASID | (1 << 16));
		kpci_put16(cfg, KPCI_PASID_CAP + PCI_PASID_CAP,
			   FIELD_PREP(PCI_PASID_CAP_WIDTH,
				      kpci_pasid_bits(fn)));
	}
	kp->present[fn->devfn] = true;
}

/* Runs ahead of the core's notifier to point our functions at the fake */
static int kpci_notify(struct notifier_block *nb, unsigned long action,
		       void *data)
{
	struct kpci *kp = container_of(nb, struct kpci, nb);
	struct device *dev = data;
	struct pci_dev *pdev;
	unsigned int i;

	if (action != BUS_NOTIFY_ADD_DEVICE || !dev_is_pci(dev))
		return NOTIFY_DONE;
	pdev = to_pci_dev(dev);
	if (pdev->bus->ops != &kpci_ops)
		return NOTIFY_DONE;

	for (i = 0; i < kp->nr_fns; i++) {
		if (kp->fns[i].devfn != pdev->devfn)
			continue;
		if (kp->fns[i].alias >= 0)
			pci_add_dma_alias(pdev, kp->fns[i].alias, 1);
	}
	WARN_ON(iommu_mock_device_set_fwspec(dev, &kp->fake->iommu));
	return NOTIFY_DONE;
}

static void kpci_destroy(void *data)
{
	struct kpci *kp = data;
	struct pci_bus *bus = kp->bridge->bus;

	if (bus) {
		pci_lock_rescan_remove();
		pci_stop_root_bus(bus);
		pci_remove_root_bus(bus);
		pci_unlock_rescan_remove();
	}
	pci_free_host_bridge(kp->bridge);
	bus_unregister_notifier(&pci_bus_type, &kp->nb);
	kpci_current = NULL;
}

/*
 * Register a fake IOMMU driver with @fcfg and a host bridge with the @nr
 * functions @fns, which the PCI core then adds and the IOMMU core probes.
 * Skips the test where they cannot be emulated. Everything is torn down when
 * the test ends.
 */
static struct kpci *kpci_create(struct kunit *test,
				const struct kfake_cfg *fcfg,
				const struct kpci_fn *fns, unsigned int nr)
{
	struct pci_dev *pdev;
	struct kpci *kp;
	unsigned int i;
	bool mfd = false;
	int ret;

	/* Other architectures want their own host bridge sysdata */
	if (!IS_ENABLED(CONFIG_X86) && !IS_ENABLED(CONFIG_UML))
		kunit_skip(test, "no software host bridge on this arch");
	if (!IS_ENABLED(CONFIG_PCI_ATS) || pci_ats_disabled())
		kunit_skip(test, "needs ATS");
	for (i = 0; i < nr; i++)
		if (fns[i].pasid && !IS_ENABLED(CONFIG_PCI_PASID))
			kunit_skip(test, "needs CONFIG_PCI_PASID");
	if (pci_find_bus(KPCI_DOMAIN, KPCI_BUSNR))
		kunit_skip(test, "PCI bus %04x:%02x exists", KPCI_DOMAIN,
			   KPCI_BUSNR);

	kp = kunit_kzalloc(test, sizeof(*kp), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, kp);
	kp->fns = fns;
	kp->nr_fns = nr;

	kp->fake = kfake_create(test, NULL, fcfg);
	for (i = 0; i < nr; i++) {
		KUNIT_ASSERT_LT(test, fns[i].devfn, KPCI_NR_FN);
		if (PCI_FUNC(fns[i].devfn))
			mfd = true;
		kp->kd[i] = kfake_dev_expect_pci(kp->fake, KPCI_DOMAIN,
						 KPCI_BUSNR, fns[i].devfn,
						 &fns[i].cfg);
	}
	for (i = 0; i < nr; i++)
		kpci_build_fn(kp, &fns[i], mfd);

	kp->bridge = pci_alloc_host_bridge(0);
	KUNIT_ASSERT_NOT_NULL(test, kp->bridge);
#ifdef CONFIG_X86
	kp->sysdata.domain = KPCI_DOMAIN;
	kp->sysdata.node = NUMA_NO_NODE;
	kp->bridge->sysdata = &kp->sysdata;
#endif
	kp->busn.name = "iommu-kunit";
	kp->busn.start = KPCI_BUSNR;
	kp->busn.end = KPCI_BUSNR;
	kp->busn.flags = IORESOURCE_BUS;
	pci_add_resource(&kp->bridge->windows, &kp->busn);
	kp->bridge->ops = &kpci_ops;

	kp->nb.notifier_call = kpci_notify;
	kp->nb.priority = 1;
	ret = bus_register_notifier(&pci_bus_type, &kp->nb);
	if (ret)
		pci_free_host_bridge(kp->bridge);
	KUNIT_ASSERT_EQ(test, ret, 0);
	kpci_current = kp;

	ret = pci_host_probe(kp->bridge);
	if (ret) {
		bus_unregister_notifier(&pci_bus_type, &kp->nb);
		pci_free_host_bridge(kp->bridge);
		kpci_current = NULL;
		KUNIT_FAIL_AND_ABORT(test, "pci_host_probe: %d", ret);
	}
	ret = kunit_add_action_or_reset(test, kpci_destroy, kp);
	KUNIT_ASSERT_EQ(test, ret, 0);

	list_for_each_entry(pdev, &kp->bridge->bus->devices, bus_list)
		for (i = 0; i < nr; i++)
			if (pdev->devfn == fns[i].devfn)
				kp->pdev[i] = pdev;
	for (i = 0; i < nr; i++) {
		KUNIT_ASSERT_NOT_NULL(test, kp->pdev[i]);
		KUNIT_ASSERT_EQ(test, pci_ats_supported(kp->pdev[i]),
				fns[i].ats);
		if (fns[i].pasid && kp->pdev[i]->dev.iommu)
			KUNIT_ASSERT_EQ(test,
					kp->pdev[i]->dev.iommu->max_pasids,
					min(1U << kpci_pasid_bits(&fns[i]),
					    fcfg->max_pasids));
		/* The PCI core found the methods where the cases expect them */
		if (fns[i].resets) {
			KUNIT_ASSERT_EQ(test, kp->pdev[i]->reset_methods[0],
					KPCI_METHOD_FLR);
			KUNIT_ASSERT_EQ(test, kp->pdev[i]->reset_methods[1],
					KPCI_METHOD_AF_FLR);
			KUNIT_ASSERT_EQ(test, kp->pdev[i]->reset_methods[2],
					KPCI_METHOD_PM);
			KUNIT_ASSERT_EQ(test, kp->pdev[i]->reset_methods[3], 0);
		}
	}
	kfake_clear_log(kp->fake);
	kpci_clear_resets(kp);
	return kp;
}

static const struct kfake_cfg kpci_dflt = {
	.release = KFAKE_RELEASE_BLOCKED,
	.max_pasids = 64,
};

static const struct kpci_fn kpci_one_ats[] = { KPCI_FN(0, true, false) };
static const struct kpci_fn kpci_one_pasid[] = { KPCI_FN(0, true, true) };
static const struct kpci_fn kpci_group_pasid[] = {
	KPCI_FN(0, true, true, .group = 1),
	KPCI_FN(1, true, true, .group = 1),
};

static void reset_without_ats_is_noop(struct kunit *test)
{
	static const struct kpci_fn fns[] = { KPCI_FN(0, false, false) };
	struct kpci *kp = kpci_create(test, &kpci_dflt, fns, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);

	KUNIT_ASSERT_PTR_EQ(test, kd->dev, &kp->pdev[0]->dev);
	KUNIT_EXPECT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
}

static void reset_blocks_and_restores_rid(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);

	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	/* The core keeps the domain the device returns to */
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
}

/* PASIDs are removed at prepare and set again, from no domain, at done */
static void reset_blocks_and_restores_pasids(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd);
	struct iommu_attach_handle h1 = {}, h2 = {};

	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(p1, kd->dev, 1, &h1),
			0);
	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(p2, kd->dev, 2, &h2),
			0);
	kfake_clear_log(kp->fake);

	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def),
			KFAKE_PASID_REMOVE_EV(kd, 1, p1),
			KFAKE_PASID_REMOVE_EV(kd, 2, p2));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 2));
	/* ... while the core keeps what the PASIDs go back to */
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0), &h1);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 2, 0), &h2);

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			KFAKE_PASID_EV(p1, kd, 1, NULL),
			KFAKE_PASID_EV(p2, kd, 2, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), p1);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 2), p2);

	iommu_detach_device_pasid(p1, kd->dev, 1);
	iommu_detach_device_pasid(p2, kd->dev, 2);
	iommu_domain_free(p1);
	iommu_domain_free(p2);
}

static void reset_nested(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 3,
							NULL), 0);
	kfake_clear_log(kp->fake);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def),
			KFAKE_PASID_REMOVE_EV(kd, 3, paging));

	/* The inner done leaves the device blocked */
	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);

	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			KFAKE_PASID_EV(paging, kd, 3, NULL));

	iommu_detach_device_pasid(paging, kd->dev, 3);
	iommu_domain_free(paging);
}

static void reset_two_devices_of_group(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_group_pasid, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd0);

	KUNIT_ASSERT_PTR_EQ(test, kfake_group(test, kd0),
			    kfake_group(test, kd1));
	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(paging, kd0->dev, 5,
							NULL), 0);
	kfake_clear_log(kp->fake);

	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[1]), 0);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd0, def),
			KFAKE_PASID_REMOVE_EV(kd0, 5, paging),
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd1, def),
			KFAKE_PASID_REMOVE_EV(kd1, 5, paging));

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd0, &kfake_blocked_domain),
			KFAKE_PASID_EV(paging, kd0, 5, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd1, 5));

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[1]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd1, &kfake_blocked_domain),
			KFAKE_PASID_EV(paging, kd1, 5, NULL));

	iommu_detach_device_pasid(paging, kd0->dev, 5);
	iommu_domain_free(paging);
}

static void reset_detach_during_reset(struct kunit *test)
{
	static const struct kpci_fn fns[] = {
		KPCI_FN(0, true, false, .group = 1),
		KPCI_FN(1, true, false, .group = 1),
	};
	struct kpci *kp = kpci_create(test, &kpci_dflt, fns, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_group *group = kfake_group(test, kd0);
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd0);

	KUNIT_ASSERT_EQ(test, iommu_attach_group(paging, group), 0);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kfake_clear_log(kp->fake);

	/* Detach cannot fail; the device under reset stays blocked */
	iommu_detach_group(paging, group);
	KFAKE_EXPECT_HW(test, kp->fake, KFAKE_ATTACH_EV(def, kd1, paging));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd0), def);
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, &kfake_blocked_domain);

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd0, &kfake_blocked_domain));
	iommu_domain_free(paging);
}

static void reset_pasid_detach_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 6,
							NULL), 0);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kfake_clear_log(kp->fake);
	iommu_detach_device_pasid(paging, kd->dev, 6);
	KFAKE_EXPECT_NO_HW(test, kp->fake);

	/* done() restores the RID only: the PASID is gone */
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 6));
	iommu_domain_free(paging);
}

static void reset_deferred_device(struct kunit *test)
{
	static const struct kpci_fn fns[] = {
		KPCI_FN(0, true, false, .deferred = true),
	};
	struct kpci *kp = kpci_create(test, &kpci_dflt, fns, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);

	/*
	 * Blocking the RID is the device's first attach, ending the deferral:
	 * the hardware had no domain of ours until then.
	 */
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, NULL));

	/* The DMA API's deferred attach must not unblock the device */
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev, def), 0);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);

	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
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
		kunit_skip(test, "a blocked default domain needs IOMMU_DMA");

	kp = kpci_create(test, &fcfg, fns, 1);
	kd = kp->kd[0];
	KUNIT_ASSERT_PTR_EQ(test, kfake_cur(kd), &kfake_blocked_domain);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	KFAKE_EXPECT_NO_HW(test, kp->fake);

	/* Refused as at any other time ... */
	kd->refuse_domain = &kfake_blocked_domain;
	kd->refuse_err = -EINVAL;
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev,
						    &kfake_blocked_domain),
			-EINVAL);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_FAIL_EV(&kfake_blocked_domain, kd,
					      IOMMU_NO_PASID, NULL, -EINVAL));

	/* ... or accepted, but the device waits for done() */
	kd->refuse_domain = NULL;
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev,
						    &kfake_blocked_domain), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(&kfake_blocked_domain, kd,
					 IOMMU_NO_PASID, NULL));
	kfake_clear_log(kp->fake);

	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev,
						    &kfake_blocked_domain), 0);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, NULL));
}

/*
 * A device hot-added while no default domain can be allocated is unwound: it
 * never gets a group, so reset has nothing to do for it.
 */
static void reset_without_default_domain(struct kunit *test)
{
	const struct kfake_cfg fcfg = {
		.release = KFAKE_RELEASE_BLOCKED,
		.no_identity_domain = true,
		.fail_paging_alloc = true,
	};
	struct kpci *kp = kpci_create(test, &fcfg, kpci_one_ats, 1);

	KUNIT_EXPECT_NULL(test, kp->pdev[0]->dev.iommu_group);
	KUNIT_EXPECT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
}

/*
 * DMA-aliased functions share a requester ID. done() of one of them must not
 * touch the other, which is still being reset.
 */
static void reset_dma_alias_siblings_one_by_one(struct kunit *test)
{
	static const struct kpci_fn fns[] = {
		KPCI_FN(0, true, false, .group = 1),
		{ .devfn = 1, .ats = true, .alias = 0, .cfg = { .group = 1 } },
	};
	struct kpci *kp = kpci_create(test, &kpci_dflt, fns, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_domain *def = kfake_cur(kd0);

	KUNIT_ASSERT_NOT_NULL(test, kp->pdev[1]->dma_alias_mask);
	KUNIT_ASSERT_TRUE(test, test_bit(0, kp->pdev[1]->dma_alias_mask));
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[1]), 0);
	kfake_clear_log(kp->fake);

	/* Function 1 still issues DMA as function 0: the RID stays blocked */
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, &kfake_blocked_domain);

	/* The last done restores both */
	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[1]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd1, &kfake_blocked_domain),
			KFAKE_ATTACH_EV(def, kd0, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd0), def);
}

/*
 * A detach during the reset, which must succeed, parks the device sharing the
 * requester ID of the device being reset on the blocking domain too, off the
 * domain about to be freed, and done() restores both.
 */
static void reset_detach_parks_dma_alias(struct kunit *test)
{
	static const struct kpci_fn fns[] = {
		KPCI_FN(0, true, false, .group = 1),
		{ .devfn = 1, .ats = true, .alias = 0, .cfg = { .group = 1 } },
	};
	struct kpci *kp = kpci_create(test, &kpci_dflt, fns, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_group *group = kfake_group(test, kd0);
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd0);

	KUNIT_ASSERT_EQ(test, iommu_attach_group(paging, group), 0);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kfake_clear_log(kp->fake);
	iommu_detach_group(paging, group);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd1, paging));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd0), def);
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, &kfake_blocked_domain);
	iommu_domain_free(paging);

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd0, &kfake_blocked_domain),
			KFAKE_ATTACH_EV(def, kd1, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);
}

/*
 * An alias shares the requester ID of the device being reset: attaching it
 * would program that ID, so the group refuses new domains until done().
 */
static void reset_attach_with_blocked_alias_busy(struct kunit *test)
{
	static const struct kpci_fn fns[] = {
		KPCI_FN(0, true, false, .group = 1),
		{ .devfn = 1, .ats = true, .alias = 0, .cfg = { .group = 1 } },
	};
	struct kpci *kp = kpci_create(test, &kpci_dflt, fns, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_group *group = kfake_group(test, kd0);
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd0);

	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), -EBUSY);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd0), def);
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);

	pci_dev_reset_iommu_done(kp->pdev[0]);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), 0);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(paging, kd0, def),
			KFAKE_ATTACH_EV(paging, kd1, def));
	iommu_detach_group(paging, group);
	iommu_domain_free(paging);
}

static void reset_group_already_blocked(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *pd = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, iommu_group_claim_dma_owner(group, &kpci_owner),
			0);
	/* The owner, iommufd for one, may use PASIDs of a blocked RID */
	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(pd, kd->dev, 1, NULL),
			0);
	kfake_clear_log(kp->fake);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	/* The RID is blocked already, its PASIDs are not */
	KFAKE_EXPECT_HW(test, kp->fake, KFAKE_PASID_REMOVE_EV(kd, 1, pd));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake, KFAKE_PASID_EV(pd, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), pd);

	iommu_detach_device_pasid(pd, kd->dev, 1);
	iommu_group_release_dma_owner(group);
	iommu_domain_free(pd);
}

static void reset_without_blocked_domain(struct kunit *test)
{
	const struct kfake_cfg fcfg = { .no_blocked_domain = true };
	struct kpci *kp = kpci_create(test, &fcfg, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *blocking;

	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	KUNIT_ASSERT_EQ(test, kfake_count(kp->fake, KFAKE_ALLOC, NULL), 1);
	blocking = kd->rid;
	KUNIT_EXPECT_PTR_NE(test, blocking, def);
	KUNIT_EXPECT_TRUE(test, blocking->type & __IOMMU_DOMAIN_PAGING);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(blocking, kd, def),
			KFAKE_ATTACH_EV(def, kd, blocking));
}

static void reset_prepare_failure_rolls_back(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	kd->fail_domain = &kfake_blocked_domain;
	kd->fail_err = -EIO;
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), -EIO);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_FAIL_EV(&kfake_blocked_domain, kd, def,
					     -EIO));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);

	/* Nor did it break the next reset, or attach */
	kfake_clear_log(kp->fake);
	kd->fail_domain = NULL;
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KUNIT_ASSERT_EQ(test, iommu_attach_group(paging, kfake_group(test, kd)),
			0);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def),
			KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			KFAKE_ATTACH_EV(paging, kd, def));
	iommu_detach_group(paging, kfake_group(test, kd));
	iommu_domain_free(paging);
}

/*
 * What done() cannot attach again stays blocked, with an error in the log; the
 * core still holds it, and the next attach or reset starts from there.
 */
static void reset_done_failure_leaves_blocked(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);
	struct iommu_attach_handle h = {};

	/* A PASID fails: the RID is restored, the PASID stays removed */
	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 1, &h),
			0);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kd->fail_domain = paging;
	kd->fail_err = -ENOMEM;
	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			KFAKE_PASID_FAIL_EV(paging, kd, 1, NULL, -ENOMEM));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0), &h);
	kd->fail_domain = NULL;
	iommu_detach_device_pasid(paging, kd->dev, 1);

	/* The RID fails: the whole device stays blocked, its PASID too */
	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 1, &h),
			0);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kd->fail_domain = def;
	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_FAIL_EV(def, kd, &kfake_blocked_domain,
					     -ENOMEM));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0), &h);
	iommu_detach_device_pasid(paging, kd->dev, 1);

	/* No reset is pending: attach reaches the device */
	kd->fail_domain = NULL;
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), 0);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(paging, kd, &kfake_blocked_domain));
	iommu_detach_group(paging, group);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	iommu_domain_free(paging);
}

/* A function without PASIDs leaves the group's PASIDs to its siblings */
static void reset_ats_only_function_skips_pasids(struct kunit *test)
{
	static const struct kpci_fn fns[] = {
		KPCI_FN(0, true, true, .group = 1),
		KPCI_FN(1, true, false, .group = 1),
	};
	struct kpci *kp = kpci_create(test, &kpci_dflt, fns, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd0);

	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(paging, kd0->dev, 2,
							NULL), 0);
	kfake_clear_log(kp->fake);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[1]), 0);
	pci_dev_reset_iommu_done(kp->pdev[1]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd1, def),
			KFAKE_ATTACH_EV(def, kd1, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd0, 2), paging);

	iommu_detach_device_pasid(paging, kd0->dev, 2);
	iommu_domain_free(paging);
}

/*
 * Attach, replace and detach during a reset: the core records the domain and
 * attaches it to the devices not being reset; the device being reset gets it
 * from done(), and nothing before.
 */
static void reset_attach_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), 0);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), paging);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(paging, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, paging);

	iommu_detach_group(paging, group);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	iommu_domain_free(paging);
}

/* What the core rejects at any time, it rejects during a reset too */
/* test_dev() decides during a reset too, for the device being reset as well */
static void reset_attach_refused_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	kd->refuse_domain = paging;
	kd->refuse_err = -EINVAL;
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), -EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 1,
							NULL), -EINVAL);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_FAIL_EV(paging, kd, IOMMU_NO_PASID,
					      &kfake_blocked_domain, -EINVAL),
			   KFAKE_TEST_FAIL_EV(paging, kd, 1, NULL, -EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0),
			    ERR_PTR(-ENOENT));

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
	iommu_domain_free(paging);
}

/*
 * A refusal by the device being reset stops its sibling too; what both accept
 * is attached to the sibling at once and, untested again, by done().
 */
static void reset_test_dev_of_group_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_group_pasid, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_group *group = kfake_group(test, kd0);
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd0);

	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kd0->refuse_domain = paging;
	kd0->refuse_err = -EINVAL;
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), -EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd1->dev, 5,
							NULL), -EINVAL);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_FAIL_EV(paging, kd0, IOMMU_NO_PASID,
					      &kfake_blocked_domain, -EINVAL),
			   KFAKE_TEST_FAIL_EV(paging, kd0, 5, NULL, -EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd1, 5));

	kd0->refuse_domain = NULL;
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), 0);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd1->dev, 5,
							NULL), 0);
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
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(paging, kd0, &kfake_blocked_domain),
			   KFAKE_PASID_EV(paging, kd0, 5, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd0, 5), paging);

	iommu_detach_device_pasid(paging, kd1->dev, 5);
	iommu_detach_group(paging, group);
	iommu_domain_free(paging);
}

static void reset_attach_invalid_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *foreign = kfake_alloc_foreign(test);

	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(foreign, group), -EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(foreign, kd->dev, 1,
							NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(def, kd->dev,
							1U << KPCI_PASID_BITS,
							NULL),
			def->ops->set_dev_pasid ? -EINVAL : -EOPNOTSUPP);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0),
			    ERR_PTR(-ENOENT));

	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
}

/* Only the domain last asked for reaches the device, once */
static void reset_replace_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *p1 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p2 = kfake_alloc_paging(test, kd);
	struct iommu_domain *p3 = kfake_alloc_paging(test, kd);
	struct iommu_attach_handle h1 = {}, h2 = {}, h3 = {};

	KUNIT_ASSERT_EQ(test, iommu_attach_group_handle(p1, group, &h1), 0);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_replace_group_handle(group, p2, &h2), 0);
	KUNIT_EXPECT_EQ(test, iommu_replace_group_handle(group, p3, &h3), 0);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), p3);
	KUNIT_EXPECT_PTR_EQ(test,
			    iommu_attach_handle_get(group, IOMMU_NO_PASID, 0),
			    &h3);

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(p3, kd, &kfake_blocked_domain));
	iommu_detach_group_handle(p3, group);
	iommu_domain_free(p1);
	iommu_domain_free(p2);
	iommu_domain_free(p3);
}

static void reset_pasid_attach_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);
	struct iommu_attach_handle h = {};

	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 1,
							&h), 0);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0), &h);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			KFAKE_PASID_EV(paging, kd, 1, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), paging);
	iommu_detach_device_pasid(paging, kd->dev, 1);
	iommu_domain_free(paging);
}

/* The sibling not being reset is attached at once, the other one at done() */
static void reset_group_attach_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_group_pasid, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_group *group = kfake_group(test, kd0);
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd0);

	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), 0);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd1->dev, 5,
							NULL), 0);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(paging, kd1, def),
			KFAKE_PASID_EV(paging, kd1, 5, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd0, 5));

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(paging, kd0, &kfake_blocked_domain),
			KFAKE_PASID_EV(paging, kd0, 5, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd0, 5), paging);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd1, 5), paging);

	iommu_detach_device_pasid(paging, kd1->dev, 5);
	iommu_detach_group(paging, group);
	iommu_domain_free(paging);
}

/*
 * A failure on the sibling is unwound without touching the blocked device.
 * 6.12 unwinds a failed group attach by attaching the old domain again to
 * every device up to and including the one that failed.
 */
static void reset_attach_failure_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_group_pasid, 2);
	struct kfake_dev *kd0 = kp->kd[0], *kd1 = kp->kd[1];
	struct iommu_group *group = kfake_group(test, kd0);
	struct iommu_domain *def = kfake_cur(kd0);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd0);

	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kd1->fail_domain = paging;
	kd1->fail_err = -ENOMEM;
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), -ENOMEM);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd1->dev, 5,
							NULL), -ENOMEM);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_FAIL_EV(paging, kd1, def, -ENOMEM),
			KFAKE_ATTACH_EV(def, kd1, def),
			KFAKE_PASID_FAIL_EV(paging, kd1, 5, NULL, -ENOMEM));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd0), def);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 5, 0),
			    ERR_PTR(-ENOENT));

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd0, &kfake_blocked_domain));
	iommu_domain_free(paging);
}

/* With resets nested, the outer done() attaches what was last asked for */
static void reset_nested_attach_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), 0);
	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 2,
							NULL), 0);
	iommu_detach_group(paging, group);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);

	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			KFAKE_PASID_EV(paging, kd, 2, NULL));
	iommu_detach_device_pasid(paging, kd->dev, 2);
	iommu_domain_free(paging);
}

/* Releasing DMA ownership cannot fail: done() restores the new domain */
static void reset_dma_owner_released_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);

	KUNIT_ASSERT_EQ(test, iommu_group_claim_dma_owner(group, &kpci_owner),
			0);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kfake_clear_log(kp->fake);
	iommu_group_release_dma_owner(group);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), def);

	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
}

/* The PCI reset methods */

static const struct kpci_fn kpci_resettable[] = {
	{ .devfn = 0, .ats = true, .pasid = true, .resets = true,
	  .alias = -1 },
};

/*
 * Give function 0 a paging domain on its RID and another on KPCI_RESET_PASID,
 * for a reset method to block and restore, and let only @method reset it.
 */
static void kpci_translate(struct kunit *test, struct kpci *kp, u8 method,
			   struct iommu_domain **rid,
			   struct iommu_domain **pasid)
{
	struct kfake_dev *kd = kp->kd[0];

	*rid = kfake_alloc_paging(test, kd);
	*pasid = kfake_alloc_paging(test, kd);
	KUNIT_ASSERT_EQ(test, iommu_attach_group(*rid, kfake_group(test, kd)),
			0);
	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(*pasid, kd->dev,
							KPCI_RESET_PASID,
							NULL), 0);
	kp->pdev[0]->reset_methods[0] = method;
	kp->pdev[0]->reset_methods[1] = 0;
	kfake_clear_log(kp->fake);
	kpci_clear_resets(kp);
}

static void kpci_untranslate(struct kpci *kp, struct iommu_domain *rid,
			     struct iommu_domain *pasid)
{
	struct kfake_dev *kd = kp->kd[0];

	iommu_detach_device_pasid(pasid, kd->dev, KPCI_RESET_PASID);
	iommu_detach_group(rid, kfake_group(kp->fake->test, kd));
	iommu_domain_free(pasid);
	iommu_domain_free(rid);
}

/*
 * Function 0 was reset once, by @kind, while its RID was on the blocking
 * domain and its PASID removed, between the callbacks that block it and
 * those that restore it. group->domain stayed @rid all along.
 */
static void kpci_expect_blocked_reset(struct kunit *test, struct kpci *kp,
				      enum kpci_reset_kind kind,
				      struct iommu_domain *rid,
				      struct iommu_domain *pasid)
{
	const struct kpci_reset *r = &kp->reset[0];
	struct kfake_dev *kd = kp->kd[0];

	KUNIT_EXPECT_EQ(test, r->nr, 1);
	KUNIT_EXPECT_EQ(test, r->kind, kind);
	KUNIT_EXPECT_PTR_EQ(test, r->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, r->pasid);
	KUNIT_EXPECT_PTR_EQ(test, r->group_domain, rid);
	KUNIT_EXPECT_EQ(test, r->nr_events, 2);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, rid),
			KFAKE_PASID_REMOVE_EV(kd, KPCI_RESET_PASID, pasid),
			KFAKE_ATTACH_EV(rid, kd, &kfake_blocked_domain),
			KFAKE_PASID_EV(pasid, kd, KPCI_RESET_PASID, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, rid);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, KPCI_RESET_PASID),
			    pasid);
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), rid);
}

/* FLR through pci_reset_function(), waiting 100 ms as without imm_ready */
static void reset_method_flr(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_resettable, 1);
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, KPCI_METHOD_FLR, &rid, &pasid);
	kp->pdev[0]->imm_ready = 0;
	KUNIT_EXPECT_EQ(test, pci_reset_function(kp->pdev[0]), 0);
	kpci_expect_blocked_reset(test, kp, KPCI_RESET_FLR, rid, pasid);
	kpci_untranslate(kp, rid, pasid);
}

/* pcie_flr(), exported to drivers and their device-specific resets */
static void reset_method_pcie_flr(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_resettable, 1);
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, KPCI_METHOD_FLR, &rid, &pasid);
	kp->pdev[0]->imm_ready = 1;
	KUNIT_EXPECT_EQ(test, pcie_flr(kp->pdev[0]), 0);
	kpci_expect_blocked_reset(test, kp, KPCI_RESET_FLR, rid, pasid);
	kpci_untranslate(kp, rid, pasid);
}

static void reset_method_af_flr(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_resettable, 1);
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, KPCI_METHOD_AF_FLR, &rid, &pasid);
	kp->pdev[0]->imm_ready = 1;
	KUNIT_EXPECT_EQ(test, pci_reset_function(kp->pdev[0]), 0);
	kpci_expect_blocked_reset(test, kp, KPCI_RESET_AF_FLR, rid, pasid);
	kpci_untranslate(kp, rid, pasid);
}

/* D0 -> D3hot -> D0; the reset is the function entering D3hot */
static void reset_method_pm(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_resettable, 1);
	struct iommu_domain *rid, *pasid;
	u16 pmcsr;

	kpci_translate(test, kp, KPCI_METHOD_PM, &rid, &pasid);
	KUNIT_EXPECT_EQ(test, pci_reset_function(kp->pdev[0]), 0);
	kpci_expect_blocked_reset(test, kp, KPCI_RESET_PM, rid, pasid);
	pci_read_config_word(kp->pdev[0], KPCI_PM_CAP + PCI_PM_CTRL, &pmcsr);
	KUNIT_EXPECT_EQ(test, pmcsr & PCI_PM_CTRL_STATE_MASK,
			(__force u16)PCI_D0);
	kpci_untranslate(kp, rid, pasid);
}

struct kpci_slot {
	struct pci_slot slot;
	struct hotplug_slot hotplug;
	struct kpci *kp;
	struct pci_dev *pdev;
	int ret;
	unsigned int nr_probe;
};

static int kpci_reset_slot(struct hotplug_slot *hotplug, bool probe)
{
	struct kpci_slot *ks = container_of(hotplug, struct kpci_slot, hotplug);

	if (probe) {
		ks->nr_probe++;
		return 0;
	}
	kpci_reset_seen(ks->kp, ks->pdev->devfn, KPCI_RESET_SLOT);
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
	ks->pdev = pdev;
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

/* The "bus" method of a function in a slot: a slot reset */
/* Without a slot or a bus to reset, the bus method blocks nothing */
static void reset_method_bus_not_applicable(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_resettable, 1);
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, KPCI_METHOD_BUS, &rid, &pasid);
	KUNIT_EXPECT_EQ(test, pci_reset_function(kp->pdev[0]), -ENOTTY);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kp->kd[0]->rid, rid);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kp->kd[0],
						     KPCI_RESET_PASID), pasid);
	kpci_untranslate(kp, rid, pasid);
}

static void reset_method_slot(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_resettable, 1);
	struct kpci_slot *ks = kpci_add_slot(test, kp);
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, KPCI_METHOD_BUS, &rid, &pasid);
	KUNIT_EXPECT_EQ(test, pci_reset_function(kp->pdev[0]), 0);
	/* The method makes sure the slot can be reset before it blocks */
	KUNIT_EXPECT_EQ(test, ks->nr_probe, 1);
	kpci_expect_blocked_reset(test, kp, KPCI_RESET_SLOT, rid, pasid);

	/* A failed slot reset is reported, and the device restored too */
	ks->ret = -EIO;
	kfake_clear_log(kp->fake);
	kpci_clear_resets(kp);
	KUNIT_EXPECT_EQ(test, pci_reset_function(kp->pdev[0]), -EIO);
	kpci_expect_blocked_reset(test, kp, KPCI_RESET_SLOT, rid, pasid);
	kpci_untranslate(kp, rid, pasid);
}

/* A function without ATS is reset without any IOMMU callback */
static void reset_method_flr_without_ats(struct kunit *test)
{
	static const struct kpci_fn fns[] = {
		{ .devfn = 0, .resets = true, .alias = -1 },
	};
	struct kpci *kp = kpci_create(test, &kpci_dflt, fns, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);

	KUNIT_ASSERT_EQ(test, iommu_attach_group(paging, kfake_group(test, kd)),
			0);
	kp->pdev[0]->imm_ready = 1;
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, pcie_flr(kp->pdev[0]), 0);
	KUNIT_EXPECT_EQ(test, kp->reset[0].nr, 1);
	KUNIT_EXPECT_PTR_EQ(test, kp->reset[0].rid, paging);
	KUNIT_EXPECT_EQ(test, kp->fake->nr_events, 0);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, paging);

	iommu_detach_group(paging, kfake_group(test, kd));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	iommu_domain_free(paging);
}

/* A reset method inside a prepare of the caller's leaves the device blocked */
static void reset_method_flr_nested(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_resettable, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, KPCI_METHOD_FLR, &rid, &pasid);
	kp->pdev[0]->imm_ready = 1;
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, rid),
			KFAKE_PASID_REMOVE_EV(kd, KPCI_RESET_PASID, pasid));

	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, pcie_flr(kp->pdev[0]), 0);
	KUNIT_EXPECT_EQ(test, kp->reset[0].nr, 1);
	KUNIT_EXPECT_PTR_EQ(test, kp->reset[0].rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kp->reset[0].pasid);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, KPCI_RESET_PASID));

	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(rid, kd, &kfake_blocked_domain),
			KFAKE_PASID_EV(pasid, kd, KPCI_RESET_PASID, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), rid);
	kpci_untranslate(kp, rid, pasid);
}

/*
 * pcie_flr() and pci_af_flr() first wait for the function's pending
 * transactions, which must complete through the domains they were issued
 * with, and only then block its translation (as in mainline: "Have to call it
 * after waiting for pending DMA transaction").
 */
static void reset_flr_blocks_after_pending_wait(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_resettable, 1);
	struct iommu_domain *rid, *pasid;

	kpci_translate(test, kp, KPCI_METHOD_FLR, &rid, &pasid);
	kp->pdev[0]->imm_ready = 1;
	KUNIT_EXPECT_EQ(test, pcie_flr(kp->pdev[0]), 0);
	KUNIT_EXPECT_TRUE(test, kp->reset[0].polled);
	KUNIT_EXPECT_PTR_EQ_MSG(test, kp->reset[0].polled_rid, rid,
				"FLR: RID blocked while transactions pend");
	KUNIT_EXPECT_PTR_EQ(test, kp->reset[0].rid, &kfake_blocked_domain);

	kpci_clear_resets(kp);
	kp->pdev[0]->reset_methods[0] = KPCI_METHOD_AF_FLR;
	KUNIT_EXPECT_EQ(test, pci_reset_function(kp->pdev[0]), 0);
	KUNIT_EXPECT_TRUE(test, kp->reset[0].polled);
	KUNIT_EXPECT_PTR_EQ_MSG(test, kp->reset[0].polled_rid, rid,
				"AF FLR: RID blocked while transactions pend");
	KUNIT_EXPECT_PTR_EQ(test, kp->reset[0].rid, &kfake_blocked_domain);
	kpci_untranslate(kp, rid, pasid);
}

static struct kunit_case iommu_reset_cases[] = {
	KUNIT_CASE(reset_without_ats_is_noop),
	KUNIT_CASE(reset_blocks_and_restores_rid),
	KUNIT_CASE(reset_blocks_and_restores_pasids),
	KUNIT_CASE(reset_nested),
	KUNIT_CASE(reset_two_devices_of_group),
	KUNIT_CASE(reset_attach_during_reset),
	KUNIT_CASE(reset_attach_refused_during_reset),
	KUNIT_CASE(reset_test_dev_of_group_during_reset),
	KUNIT_CASE(reset_attach_invalid_during_reset),
	KUNIT_CASE(reset_replace_during_reset),
	KUNIT_CASE(reset_pasid_attach_during_reset),
	KUNIT_CASE(reset_group_attach_during_reset),
	KUNIT_CASE(reset_attach_failure_during_reset),
	KUNIT_CASE(reset_nested_attach_during_reset),
	KUNIT_CASE(reset_dma_owner_released_during_reset),
	KUNIT_CASE(reset_ats_only_function_skips_pasids),
	KUNIT_CASE(reset_detach_during_reset),
	KUNIT_CASE(reset_pasid_detach_during_reset),
	KUNIT_CASE(reset_deferred_device),
	KUNIT_CASE(reset_deferred_attach_still_pending),
	KUNIT_CASE(reset_without_default_domain),
	KUNIT_CASE(reset_dma_alias_siblings_one_by_one),
	KUNIT_CASE(reset_detach_parks_dma_alias),
	KUNIT_CASE(reset_attach_with_blocked_alias_busy),
	KUNIT_CASE(reset_group_already_blocked),
	KUNIT_CASE(reset_without_blocked_domain),
	KUNIT_CASE(reset_prepare_failure_rolls_back),
	KUNIT_CASE(reset_done_failure_leaves_blocked),
	KUNIT_CASE(reset_method_flr),
	KUNIT_CASE(reset_method_pcie_flr),
	KUNIT_CASE(reset_method_af_flr),
	KUNIT_CASE(reset_method_pm),
	KUNIT_CASE(reset_method_slot),
	KUNIT_CASE(reset_method_bus_not_applicable),
	KUNIT_CASE(reset_method_flr_without_ats),
	KUNIT_CASE(reset_method_flr_nested),
	KUNIT_CASE(reset_flr_blocks_after_pending_wait),
	{}
};

static struct kunit_suite iommu_reset_suite = {
	.name = "iommu_pci_reset",
	.test_cases = iommu_reset_cases,
};

kunit_test_suite(iommu_reset_suite);
