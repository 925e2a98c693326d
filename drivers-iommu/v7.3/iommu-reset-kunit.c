// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of pci_dev_reset_iommu_prepare() and pci_dev_reset_iommu_done()
 * on real struct pci_devs. A software host bridge emulates the configuration
 * space of PCIe functions with and without ATS and PASID, and the fake IOMMU
 * driver of iommu-kunit-fake.c translates for them.
 */
#include <kunit/test.h>
#include <linux/bitfield.h>
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/pci-ats.h>

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
#define KPCI_VENDOR	0xabcd
#define KPCI_DEVICE	0x1234

#define KPCI_EXP_CAP	0x40
#define KPCI_ATS_CAP	0x100
#define KPCI_PASID_CAP	0x110
#define KPCI_PASID_BITS	5

static struct kpci *kpci_current;
static int kpci_owner;

static bool kpci_writable(int where)
{
	/* IDs, class, header type, BARs, ROM and capability pointer are RO */
	if (where < PCI_COMMAND ||
	    (where >= PCI_CLASS_REVISION && where < PCI_CACHE_LINE_SIZE) ||
	    where == PCI_HEADER_TYPE ||
	    (where >= PCI_BASE_ADDRESS_0 && where < PCI_CARDBUS_CIS) ||
	    (where >= PCI_ROM_ADDRESS && where <= PCI_CAPABILITY_LIST))
		return false;
	/* Capability headers and capability registers are RO too */
	if (where >= KPCI_EXP_CAP && where < KPCI_EXP_CAP + PCI_EXP_DEVCTL)
		return false;
	/* Below their control words, the ATS and PASID capabilities are RO */
	if (where >= KPCI_ATS_CAP && where < KPCI_ATS_CAP + PCI_ATS_CTRL)
		return false;
	if (where >= KPCI_PASID_CAP &&
	    where < KPCI_PASID_CAP + PCI_PASID_CTRL)
		return false;
	return true;
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
	return PCIBIOS_SUCCESSFUL;
}

static int kpci_write(struct pci_bus *bus, unsigned int devfn, int where,
		      int size, u32 val)
{
	struct kpci *kp = kpci_current;
	int i;

	if (!kp || devfn >= KPCI_NR_FN || !kp->present[devfn] ||
	    where + size > PCI_CFG_SPACE_EXP_SIZE)
		return PCIBIOS_DEVICE_NOT_FOUND;
	for (i = 0; i < size; i++, val >>= 8)
		if (kpci_writable(where + i))
			kp->cfg[devfn][where + i] = val & 0xff;
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

/* A PCIe root complex integrated endpoint, optionally with ATS and PASID */
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

struct kpci *kpci_create(struct kunit *test, const struct kfake_cfg *fcfg,
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
	}
	kfake_clear_log(kp->fake);
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
			KFAKE_PASID_EV(&kfake_blocked_domain, kd, 1, p1),
			KFAKE_PASID_EV(&kfake_blocked_domain, kd, 2, p2));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 2));
	/* ... while the core keeps what the PASIDs go back to */
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0), &h1);
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 2, 0), &h2);

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			KFAKE_PASID_EV(p1, kd, 1, &kfake_blocked_domain),
			KFAKE_PASID_EV(p2, kd, 2, &kfake_blocked_domain));
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
			KFAKE_PASID_EV(&kfake_blocked_domain, kd, 3, paging));

	/* The inner done leaves the device blocked */
	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);

	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			KFAKE_PASID_EV(paging, kd, 3, &kfake_blocked_domain));

	iommu_detach_device_pasid(paging, kd->dev, 3);
	iommu_domain_free(paging);
}

static void reset_unbalanced_done_warns(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_domain *def = kfake_cur(kd);

	kunit_warning_suppress(test) {
		pci_dev_reset_iommu_done(kp->pdev[0]);
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 1);
	}
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);

	/* The state is intact: a balanced reset still works */
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def),
			KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
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
			KFAKE_PASID_EV(&kfake_blocked_domain, kd0, 5, paging),
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd1, def),
			KFAKE_PASID_EV(&kfake_blocked_domain, kd1, 5, paging));

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd0, &kfake_blocked_domain),
			KFAKE_PASID_EV(paging, kd0, 5, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd1, 5));

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[1]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd1, &kfake_blocked_domain),
			KFAKE_PASID_EV(paging, kd1, 5, &kfake_blocked_domain));

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

	/* Blocking the RID is the device's first attach, ending the deferral */
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(&kfake_blocked_domain, kd, def));

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

	/* Refused as at any other time ... */
	kd->refuse_domain = &kfake_blocked_domain;
	kd->refuse_err = -EINVAL;
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev,
						    &kfake_blocked_domain),
			-EINVAL);
	/* ... or accepted, but the device waits for done() */
	kd->refuse_domain = NULL;
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_deferred_attach(kd->dev,
						    &kfake_blocked_domain), 0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(&kfake_blocked_domain, kd,
					 IOMMU_NO_PASID, NULL));

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
 * DMA-aliased functions share a requester ID. done() only warns that the
 * sibling may be unblocked early; what it must not do is touch the sibling.
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

	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd0, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, &kfake_blocked_domain);

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[1]);
	KFAKE_EXPECT_HW(test, kp->fake,
			KFAKE_ATTACH_EV(def, kd1, &kfake_blocked_domain));
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
	KFAKE_EXPECT_NO_CALLS(test, kp->fake);
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

	kfake_clear_log(kp->fake);
	KUNIT_ASSERT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 1,
							NULL), 0);
	/* test_dev(), then set_dev_pasid() */
	KUNIT_ASSERT_EQ(test, kp->fake->nr_events, 2);
	KUNIT_EXPECT_PTR_EQ(test, ev[1].drv_cur, def);

	kfake_clear_log(kp->fake);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	KUNIT_ASSERT_EQ(test, kp->fake->nr_events, 2);
	/* Blocking the RID moves the driver's view of it ... */
	KUNIT_EXPECT_PTR_EQ(test, ev[0].drv_cur, def);
	/* ... so the PASID callbacks see the RID blocked */
	KUNIT_EXPECT_PTR_EQ(test, ev[1].drv_cur, &kfake_blocked_domain);

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KUNIT_ASSERT_EQ(test, kp->fake->nr_events, 2);
	/* Re-attaching the RID starts from the blocking domain */
	KUNIT_EXPECT_PTR_EQ(test, ev[0].drv_cur, &kfake_blocked_domain);
	KUNIT_EXPECT_PTR_EQ(test, ev[1].drv_cur, def);

	/* The device leaves its group before release: stop asking */
	kp->fake->cfg.query_driver_domain = false;
	iommu_detach_device_pasid(paging, kd->dev, 1);
	iommu_domain_free(paging);
}

static void reset_group_already_blocked(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_ats, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);

	KUNIT_ASSERT_EQ(test, iommu_group_claim_dma_owner(group, &kpci_owner),
			0);
	kfake_clear_log(kp->fake);
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_NO_HW(test, kp->fake);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);
	iommu_group_release_dma_owner(group);
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

	/* A failed prepare leaves nothing for done() to undo */
	kfake_clear_log(kp->fake);
	kunit_warning_suppress(test) {
		pci_dev_reset_iommu_done(kp->pdev[0]);
		KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, 1);
	}
	KFAKE_EXPECT_NO_HW(test, kp->fake);

	/* Nor did it break the next reset, or attach */
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
 * Attach, replace and detach during a reset: the core tests the domain as at
 * any other time, records it and attaches it to the devices not being reset;
 * the device being reset gets it from done(), and nothing before.
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
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(paging, kd, IOMMU_NO_PASID,
					 &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), paging);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, &kfake_blocked_domain);

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(paging, kd, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, paging);

	iommu_detach_group(paging, group);
	KUNIT_EXPECT_PTR_EQ(test, kd->rid, def);
	iommu_domain_free(paging);
}

/* An incompatible domain fails with the code it gets outside a reset */
static void reset_attach_refused_during_reset(struct kunit *test)
{
	struct kpci *kp = kpci_create(test, &kpci_dflt, kpci_one_pasid, 1);
	struct kfake_dev *kd = kp->kd[0];
	struct iommu_group *group = kfake_group(test, kd);
	struct iommu_domain *def = kfake_cur(kd);
	struct iommu_domain *paging = kfake_alloc_paging(test, kd);
	struct iommu_domain *foreign = kfake_alloc_foreign(test);

	kd->refuse_domain = paging;
	kd->refuse_err = -EINVAL;
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), -EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd->dev, 1,
							NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(foreign, group), -EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(foreign, kd->dev, 1,
							NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(def, kd->dev,
							1U << KPCI_PASID_BITS,
							NULL),
			def->ops->set_dev_pasid ? -EINVAL : -EOPNOTSUPP);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_FAIL_EV(paging, kd, IOMMU_NO_PASID,
					      &kfake_blocked_domain, -EINVAL),
			   KFAKE_TEST_FAIL_EV(paging, kd, 1,
					      &kfake_blocked_domain, -EINVAL));
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
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(p2, kd, IOMMU_NO_PASID,
					 &kfake_blocked_domain),
			   KFAKE_TEST_EV(p3, kd, IOMMU_NO_PASID,
					 &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kfake_cur(kd), p3);
	KUNIT_EXPECT_PTR_EQ(test,
			    iommu_attach_handle_get(group, IOMMU_NO_PASID, 0),
			    &h3);

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_CALLS(test, kp->fake,
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
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(paging, kd, 1, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0), &h);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd, 1));

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			   KFAKE_PASID_EV(paging, kd, 1,
					  &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), paging);
	iommu_detach_device_pasid(paging, kd->dev, 1);
	iommu_domain_free(paging);
}

static void reset_pasid_replace_during_reset(struct kunit *test)
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
	KUNIT_ASSERT_EQ(test, pci_dev_reset_iommu_prepare(kp->pdev[0]), 0);
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_replace_device_pasid(p2, kd->dev, 1, &h2),
			0);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_EV(p2, kd, 1, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, iommu_attach_handle_get(group, 1, 0), &h2);

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(def, kd, &kfake_blocked_domain),
			   KFAKE_PASID_EV(p2, kd, 1, &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd, 1), p2);
	iommu_detach_device_pasid(p2, kd->dev, 1);
	iommu_domain_free(p1);
	iommu_domain_free(p2);
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

	/* A refusal by the device being reset stops its sibling too */
	kd0->refuse_domain = paging;
	kd0->refuse_err = -EINVAL;
	kfake_clear_log(kp->fake);
	KUNIT_EXPECT_EQ(test, iommu_attach_group(paging, group), -EINVAL);
	KUNIT_EXPECT_EQ(test, iommu_attach_device_pasid(paging, kd1->dev, 5,
							NULL), -EINVAL);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_TEST_FAIL_EV(paging, kd0, IOMMU_NO_PASID,
					      &kfake_blocked_domain, -EINVAL),
			   KFAKE_TEST_FAIL_EV(paging, kd0, 5,
					      &kfake_blocked_domain, -EINVAL));
	KUNIT_EXPECT_PTR_EQ(test, kd1->rid, def);

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
			   KFAKE_TEST_EV(paging, kd0, 5, &kfake_blocked_domain),
			   KFAKE_TEST_EV(paging, kd1, 5, NULL),
			   KFAKE_PASID_EV(paging, kd1, 5, NULL));
	KUNIT_EXPECT_PTR_EQ(test, kd0->rid, &kfake_blocked_domain);
	KUNIT_EXPECT_NULL(test, kfake_pasid_domain(kd0, 5));

	kfake_clear_log(kp->fake);
	pci_dev_reset_iommu_done(kp->pdev[0]);
	KFAKE_EXPECT_CALLS(test, kp->fake,
			   KFAKE_ATTACH_EV(paging, kd0, &kfake_blocked_domain),
			   KFAKE_PASID_EV(paging, kd0, 5,
					  &kfake_blocked_domain));
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd0, 5), paging);
	KUNIT_EXPECT_PTR_EQ(test, kfake_pasid_domain(kd1, 5), paging);

	iommu_detach_device_pasid(paging, kd1->dev, 5);
	iommu_detach_group(paging, group);
	iommu_domain_free(paging);
}

/* A failure on the sibling is unwound without touching the blocked device */
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
			KFAKE_PASID_EV(paging, kd, 2, &kfake_blocked_domain));
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

static struct kunit_case iommu_reset_cases[] = {
	KUNIT_CASE(reset_without_ats_is_noop),
	KUNIT_CASE(reset_blocks_and_restores_rid),
	KUNIT_CASE(reset_blocks_and_restores_pasids),
	KUNIT_CASE(reset_nested),
	KUNIT_CASE(reset_unbalanced_done_warns),
	KUNIT_CASE(reset_two_devices_of_group),
	KUNIT_CASE(reset_attach_during_reset),
	KUNIT_CASE(reset_attach_refused_during_reset),
	KUNIT_CASE(reset_replace_during_reset),
	KUNIT_CASE(reset_pasid_attach_during_reset),
	KUNIT_CASE(reset_pasid_replace_during_reset),
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
	KUNIT_CASE(reset_attach_with_blocked_alias_busy),
	KUNIT_CASE(reset_driver_sees_blocking_domain),
	KUNIT_CASE(reset_group_already_blocked),
	KUNIT_CASE(reset_without_blocked_domain),
	KUNIT_CASE(reset_prepare_failure_rolls_back),
	{}
};

static struct kunit_suite iommu_reset_suite = {
	.name = "iommu_pci_reset",
	.test_cases = iommu_reset_cases,
};

kunit_test_suite(iommu_reset_suite);
