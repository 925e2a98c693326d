// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit helpers for the IOMMU core's tests: the fake IOMMU driver with the
 * personalities of real drivers, the software PCIe host bridge, and helpers
 * whose changes are undone when the test ends. See <linux/iommu-kunit.h>.
 */
#include <kunit/test.h>
#include <linux/bitfield.h>
#include <linux/device.h>
#include <linux/iommu-kunit.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pci-ats.h>
#include <linux/property.h>
#include <linux/slab.h>

#include "iommu-kunit-compat.h"
#include "iommu-priv.h"

#define KFAKE_DIRECT_BASE	0x100000
#define KFAKE_DIRECT_SIZE	SZ_64K
/* Address width of paging domains of each unit; unit 1 is the narrower */
#define KFAKE_UNIT0_BITS	48
#define KFAKE_UNIT1_BITS	39
/* Key of a RID or PASID in a domain's device list */
#define KFAKE_USER_SHIFT	20
#define KFAKE_USER(_kd, _pasid)	\
	(((unsigned long)(_kd)->id << KFAKE_USER_SHIFT) | (_pasid))

/* The callbacks of static domains find the one registered instance here */
static struct kfake *kfake_current;
static atomic_t kfake_dev_ids = ATOMIC_INIT(0);

struct kfake_paging {
	struct iommu_domain domain;
	unsigned int unit;
	bool s2;
	/* RIDs and PASIDs an invalidation of this domain reaches */
	struct xarray users;
	/* In kfake_pagings while allocated */
	struct list_head node;
};

/* Every paging domain of the fake, for kfake_expect_lists() */
static LIST_HEAD(kfake_pagings);

enum kfake_hold_kind {
	KFAKE_HOLD_GROUP,
	KFAKE_HOLD_GROUP_HANDLE,
	KFAKE_HOLD_PASID,
	KFAKE_HOLD_OWNER,
	KFAKE_HOLD_RESET,
};

/* A change of the core's state that a helper made and owes an undo of */
struct kfake_hold {
	struct list_head node;
	enum kfake_hold_kind kind;
	struct iommu_domain *domain;
	struct iommu_group *group;
	struct kfake_dev *kd;
	ioasid_t pasid;
	struct iommu_attach_handle *handle;
	void *kp;
	unsigned int fn;
	struct pci_dev *pdev;
};

static const char *const kfake_personality_names[] = {
	[KFAKE_PLAIN] = "plain",
	[KFAKE_VTD] = "vt-d",
	[KFAKE_SMMUV3] = "smmuv3",
	[KFAKE_AMD] = "amd",
};

const char *kfake_personality_name(enum kfake_personality p)
{
	return p < KFAKE_NR_PERSONALITIES ? kfake_personality_names[p] : "?";
}

static bool kfake_is(struct kfake *fake, enum kfake_personality p)
{
	return fake->cfg.personality == p;
}

/* Every caller runs in the test's thread: no locking */
static void kfake_log(struct kfake *fake, const struct kfake_event *ev)
{
	if (fake->cfg.no_log)
		return;
	if (fake->nr_events < KFAKE_MAX_EVENTS)
		fake->events[fake->nr_events++] = *ev;
	else
		fake->overflow = true;
}

static struct iommu_domain *kfake_drv_cur(struct kfake *fake,
					  struct device *dev)
{
	if (!fake->cfg.query_driver_domain)
		return NULL;
	return kfake_driver_domain(dev);
}

static const struct iommu_domain_ops kfake_paging_ops;
static const struct iommu_domain_ops kfake_paging_untested_ops;

static struct kfake_paging *to_kfake_paging(struct iommu_domain *domain)
{
	if (!domain || (domain->ops != &kfake_paging_ops &&
			domain->ops != &kfake_paging_untested_ops))
		return NULL;
	return container_of(domain, struct kfake_paging, domain);
}

static bool kfake_kind_is(enum kfake_kind kind, struct iommu_domain *domain)
{
	switch (kind) {
	case KFAKE_KIND_NONE:
		return false;
	case KFAKE_KIND_ANY:
		return true;
	case KFAKE_KIND_BLOCKED:
		return domain->type == IOMMU_DOMAIN_BLOCKED;
	case KFAKE_KIND_IDENTITY:
		return domain->type == IOMMU_DOMAIN_IDENTITY;
	case KFAKE_KIND_PAGING:
		return domain->type & __IOMMU_DOMAIN_PAGING;
	}
	return false;
}

/* Device lists: the driver moves a RID or PASID from @old's list to @new's */
/*
 * A domain's device list holds an entry per attach, as SMMUv3's does: an
 * attach of the domain the device is already on adds a second entry, and a
 * removal takes one away.
 */
static unsigned long kfake_list_count(struct kfake_paging *paging,
				      struct kfake_dev *kd, ioasid_t pasid)
{
	void *entry = xa_load(&paging->users, KFAKE_USER(kd, pasid));

	return entry ? xa_to_value(entry) : 0;
}

static void kfake_list_add(struct iommu_domain *domain, struct kfake_dev *kd,
			   ioasid_t pasid)
{
	struct kfake_paging *paging = to_kfake_paging(domain);

	if (paging)
		xa_store(&paging->users, KFAKE_USER(kd, pasid),
			 xa_mk_value(kfake_list_count(paging, kd, pasid) + 1),
			 GFP_KERNEL);
}

static void kfake_list_del(struct iommu_domain *domain, struct kfake_dev *kd,
			   ioasid_t pasid)
{
	struct kfake_paging *paging = to_kfake_paging(domain);
	unsigned long n;

	if (!paging)
		return;
	n = kfake_list_count(paging, kd, pasid);
	if (n > 1)
		xa_store(&paging->users, KFAKE_USER(kd, pasid),
			 xa_mk_value(n - 1), GFP_KERNEL);
	else
		xa_erase(&paging->users, KFAKE_USER(kd, pasid));
}

bool kfake_domain_has_dev(struct iommu_domain *domain, struct kfake_dev *kd,
			  ioasid_t pasid)
{
	struct kfake_paging *paging = to_kfake_paging(domain);

	return paging && xa_load(&paging->users, KFAKE_USER(kd, pasid));
}

/* Whether @domain of another IOMMU unit can be attached to @kd */
static int kfake_unit_compatible(struct kfake *fake, struct iommu_domain *domain,
				 struct kfake_dev *kd)
{
	struct kfake_paging *paging = to_kfake_paging(domain);

	if (!paging || paging->domain.owner != &fake->ops ||
	    paging->unit == kd->cfg.unit)
		return 0;
	/* VT-d: the unit's address width must cover the domain's */
	if (kfake_is(fake, KFAKE_VTD) && paging->unit == 0)
		return -EINVAL;
	/* SMMUv3: a domain belongs to one SMMU */
	if (kfake_is(fake, KFAKE_SMMUV3))
		return -EINVAL;
	return 0;
}

static bool kfake_has_pasids(struct kfake_dev *kd)
{
	unsigned long index;
	void *entry;

	xa_for_each(&kd->pasids, index, entry)
		return true;
	return false;
}

static bool kfake_is_s2(struct iommu_domain *domain)
{
	struct kfake_paging *paging = to_kfake_paging(domain);

	return paging && paging->s2;
}

/*
 * Where the rules of a driver read the domain of the RID and the PASIDs in use:
 * the hardware for an attach, the core's record for test_dev(), as the real
 * drivers read them.
 */
enum kfake_view {
	KFAKE_VIEW_HW,
	KFAKE_VIEW_RECORD,
};

static struct iommu_domain *kfake_view_rid(struct kfake_dev *kd,
					   enum kfake_view view)
{
	return view == KFAKE_VIEW_RECORD ? kfake_record_rid(kd->dev) : kd->rid;
}

static bool kfake_view_has_pasids(struct kfake_dev *kd, enum kfake_view view)
{
	return view == KFAKE_VIEW_RECORD ? kfake_record_has_pasids(kd->dev) :
					   kfake_has_pasids(kd);
}

/* What the driver says about @domain on @kd, without changing anything */
static int kfake_judge(struct kfake *fake, struct kfake_dev *kd,
		       struct iommu_domain *domain, ioasid_t pasid,
		       struct iommu_domain *old, enum kfake_view view)
{
	int ret = kfake_unit_compatible(fake, domain, kd);
	struct iommu_domain *rid;

	if (ret)
		return ret;
	if (kfake_is(fake, KFAKE_SMMUV3)) {
		/* A stage-2 RID and a CD table of PASIDs exclude each other */
		if (pasid == IOMMU_NO_PASID && kfake_is_s2(domain) &&
		    kfake_view_has_pasids(kd, view))
			return -EBUSY;
		if (pasid != IOMMU_NO_PASID &&
		    domain->type != IOMMU_DOMAIN_BLOCKED &&
		    kfake_is_s2(kfake_view_rid(kd, view)))
			return -EINVAL;
	}
	if (kfake_is(fake, KFAKE_AMD) && pasid != IOMMU_NO_PASID &&
	    domain->type != IOMMU_DOMAIN_BLOCKED) {
		/* Blocking the RID freed the PASID table */
		rid = kfake_view_rid(kd, view);
		if (rid && rid->type == IOMMU_DOMAIN_BLOCKED)
			return -EINVAL;
		/* AMD's set_dev_pasid() does not replace */
		if (old)
			return -EOPNOTSUPP;
	}
	return 0;
}

/* Tells, and logs; the log is the test's, not a side effect for the core */
static int kfake_test_dev(struct iommu_domain *domain, struct device *dev,
			  ioasid_t pasid, struct iommu_domain *old)
{
	struct kfake_dev *kd = dev_iommu_priv_get(dev);
	struct kfake *fake = kfake_current;
	int ret;

	if (kd->refuse_domain == domain)
		ret = kd->refuse_err;
	else if (kfake_kind_is(kd->cfg.refuse_kind, domain))
		ret = kd->cfg.refuse_err;
	else
		ret = kfake_judge(fake, kd, domain, pasid, old,
				  KFAKE_HAS_TEST_DEV_RECORD ? KFAKE_VIEW_RECORD :
							      KFAKE_VIEW_HW);

	/*
	 * Built only when logged. The benchmark compares kernels with and
	 * without this op: its cost there should be the core's call of it,
	 * not the fake's log (attach_dev() and set_dev_pasid() build theirs
	 * in both kernels).
	 */
	if (!fake->cfg.no_log) {
		struct kfake_event ev = {
			.op = KFAKE_TEST,
			.dev = dev,
			.domain = domain,
			.old = old,
			.pasid = pasid,
			.ret = ret,
		};

		kfake_log(fake, &ev);
	}
	return ret;
}

/* An injected failure of this call, or 0 */
static int kfake_injected(struct kfake *fake, struct kfake_dev *kd,
			  enum kfake_op op, struct iommu_domain *domain)
{
	if (fake->fail_nth && fake->fail_nth_op == op && !--fake->fail_nth)
		return fake->fail_nth_err;
	if (kd->fail_domain == domain)
		return kd->fail_err;
	if (op == KFAKE_ATTACH && kfake_kind_is(kd->cfg.fail_kind, domain))
		return kd->cfg.fail_err;
	return 0;
}

static bool kfake_dirty(struct kfake *fake)
{
	return fake->cfg.dirty_failures || kfake_is(fake, KFAKE_VTD);
}

/* The RID of @kd now translates with @domain, moved off @from's list */
static void kfake_set_rid(struct kfake *fake, struct kfake_dev *kd,
			  struct iommu_domain *domain, struct iommu_domain *from)
{
	/* SMMUv3 adds the new entry before it removes the old one */
	kfake_list_add(domain, kd, IOMMU_NO_PASID);
	kfake_list_del(from, kd, IOMMU_NO_PASID);
	kd->rid = domain;

	if (!kfake_is(fake, KFAKE_AMD))
		return;
	if (domain->type == IOMMU_DOMAIN_BLOCKED) {
		unsigned long pasid;
		void *entry;

		/* AMD: detaching the device frees its PASID table */
		kd->pasid_table_freed = true;
		xa_for_each(&kd->pasids, pasid, entry)
			kfake_list_del(entry, kd, pasid);
		xa_destroy(&kd->pasids);
	} else if (kd->pasid_table_freed) {
		kd->pasid_table_freed = false;
	}
}

static int kfake_attach(struct iommu_domain *domain, struct device *dev,
			struct iommu_domain *old)
{
	struct kfake_dev *kd = dev_iommu_priv_get(dev);
	struct kfake *fake = kfake_current;
	struct kfake_event ev = {
		.op = KFAKE_ATTACH,
		.dev = dev,
		.domain = domain,
		.old = old,
	};
	/* The domain the driver moves the device from, by its own reckoning */
	struct iommu_domain *from = kfake_is(fake, KFAKE_SMMUV3) ?
				    kfake_smmu_old(dev, old) : kd->rid;

	ev.drv_cur = kfake_drv_cur(fake, dev);
	/* VT-d blocks the device before it looks at the domain */
	if (kfake_is(fake, KFAKE_VTD) && kd->rid != &kfake_blocked_domain) {
		kfake_set_rid(fake, kd, &kfake_blocked_domain, kd->rid);
		from = kd->rid;
	}
	ev.ret = kfake_injected(fake, kd, KFAKE_ATTACH, domain);
	if (!ev.ret)
		ev.ret = kfake_judge(fake, kd, domain, IOMMU_NO_PASID, old,
				     KFAKE_VIEW_HW);
	if (!ev.ret)
		kfake_set_rid(fake, kd, domain, from);
	else if (kfake_dirty(fake) && kd->rid != &kfake_blocked_domain)
		kfake_set_rid(fake, kd, &kfake_blocked_domain, kd->rid);
	kfake_log(fake, &ev);
	return ev.ret;
}

static int kfake_attach_dev(KFAKE_ATTACH_DEV_PARAMS)
{
	return kfake_attach(domain, dev, KFAKE_ATTACH_DEV_OLD);
}

/* SMMUv3: without PASIDs the STE drops its CD table and is rewritten */
static void kfake_smmu_last_pasid(struct kfake *fake, struct kfake_dev *kd)
{
	struct iommu_domain *sid = kfake_driver_domain(kd->dev);
	struct kfake_event ev = {
		.op = KFAKE_ATTACH,
		.dev = kd->dev,
		.domain = sid,
		.old = sid,
		.ret = 1,	/* not a call of the core: never matched */
	};

	if (kfake_has_pasids(kd) || !sid ||
	    (sid->type != IOMMU_DOMAIN_IDENTITY &&
	     sid->type != IOMMU_DOMAIN_BLOCKED))
		return;
	kfake_set_rid(fake, kd, sid, kd->rid);
	kfake_log(fake, &ev);
}

static int kfake_set_dev_pasid(struct iommu_domain *domain, struct device *dev,
			       ioasid_t pasid, struct iommu_domain *old)
{
	struct kfake_dev *kd = dev_iommu_priv_get(dev);
	struct kfake *fake = kfake_current;
	struct kunit *test = fake->test;
	struct kfake_event ev = {
		.op = KFAKE_SET_PASID,
		.dev = dev,
		.domain = domain,
		.old = old,
		.pasid = pasid,
	};
	struct iommu_domain *from = xa_load(&kd->pasids, pasid);

	ev.drv_cur = kfake_drv_cur(fake, dev);
	if (kfake_is(fake, KFAKE_AMD) && kd->pasid_table_freed &&
	    domain->type == IOMMU_DOMAIN_BLOCKED) {
		KUNIT_FAIL(test,
			   "amd: PASID %u of %s removed through the PASID table freed when its RID was blocked",
			   pasid, dev_name(dev));
		kfake_log(fake, &ev);
		return 0;
	}
	/* SMMUv3 removes a PASID from the list of the domain it is given */
	if (kfake_is(fake, KFAKE_SMMUV3))
		from = domain->type == IOMMU_DOMAIN_BLOCKED ?
		       old : kfake_smmu_pasid_old(old);
	ev.ret = kfake_injected(fake, kd, KFAKE_SET_PASID, domain);
	if (!ev.ret)
		ev.ret = kfake_judge(fake, kd, domain, pasid, old,
				     KFAKE_VIEW_HW);
	if (ev.ret) {
		if (kfake_dirty(fake)) {
			kfake_list_del(xa_load(&kd->pasids, pasid), kd, pasid);
			xa_erase(&kd->pasids, pasid);
		}
	} else if (domain->type == IOMMU_DOMAIN_BLOCKED) {
		kfake_list_del(from, kd, pasid);
		xa_erase(&kd->pasids, pasid);
	} else {
		ev.ret = xa_err(xa_store(&kd->pasids, pasid, domain,
					 GFP_KERNEL));
		if (!ev.ret) {
			kfake_list_add(domain, kd, pasid);
			kfake_list_del(from, kd, pasid);
		}
	}
	kfake_log(fake, &ev);
	if (!ev.ret && domain->type == IOMMU_DOMAIN_BLOCKED &&
	    kfake_is(fake, KFAKE_SMMUV3))
		kfake_smmu_last_pasid(fake, kd);
	return ev.ret;
}

static int kfake_map_pages(struct iommu_domain *domain, unsigned long iova,
			   phys_addr_t paddr, size_t pgsize, size_t pgcount,
			   int prot, gfp_t gfp, size_t *mapped)
{
	*mapped = pgsize * pgcount;
	return 0;
}

static size_t kfake_unmap_pages(struct iommu_domain *domain,
				unsigned long iova, size_t pgsize,
				size_t pgcount,
				struct iommu_iotlb_gather *iotlb_gather)
{
	return pgsize * pgcount;
}

static phys_addr_t kfake_iova_to_phys(struct iommu_domain *domain,
				      dma_addr_t iova)
{
	return 0;
}

static void kfake_flush_iotlb_all(struct iommu_domain *domain)
{
}

static void kfake_iotlb_sync(struct iommu_domain *domain,
			     struct iommu_iotlb_gather *iotlb_gather)
{
}

static void kfake_domain_free(struct iommu_domain *domain)
{
	struct kfake_paging *paging = to_kfake_paging(domain);
	struct kfake_event ev = { .op = KFAKE_FREE, .domain = domain };

	if (kfake_current)
		kfake_log(kfake_current, &ev);
	list_del(&paging->node);
	xa_destroy(&paging->users);
	kfree(paging);
}

static const struct iommu_domain_ops kfake_paging_ops = {
	.test_dev = kfake_test_dev,
	.attach_dev = kfake_attach_dev,
	.set_dev_pasid = kfake_set_dev_pasid,
	.map_pages = kfake_map_pages,
	.unmap_pages = kfake_unmap_pages,
	.iova_to_phys = kfake_iova_to_phys,
	.flush_iotlb_all = kfake_flush_iotlb_all,
	.iotlb_sync = kfake_iotlb_sync,
	.free = kfake_domain_free,
};

/* Those of a driver without test_dev() */
static const struct iommu_domain_ops kfake_paging_untested_ops = {
	.attach_dev = kfake_attach_dev,
	.set_dev_pasid = kfake_set_dev_pasid,
	.map_pages = kfake_map_pages,
	.unmap_pages = kfake_unmap_pages,
	.iova_to_phys = kfake_iova_to_phys,
	.flush_iotlb_all = kfake_flush_iotlb_all,
	.iotlb_sync = kfake_iotlb_sync,
	.free = kfake_domain_free,
};

/*
 * The static domains' ops: kfake_create() gives them test_dev() only for
 * the plain personality, as no real driver has it on static domains.
 */
static struct iommu_domain_ops kfake_blocked_ops = {
	.attach_dev = kfake_attach_dev,
	KFAKE_BLOCKED_PASID_OP
};

struct iommu_domain kfake_blocked_domain = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &kfake_blocked_ops,
};

/* AMD's release_domain of several releases: BLOCKED, not ops->blocked */
struct iommu_domain kfake_release_blocked_domain = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &kfake_blocked_ops,
};

static struct iommu_domain_ops kfake_identity_ops = {
	.attach_dev = kfake_attach_dev,
};

struct iommu_domain kfake_identity_domain = {
	.type = IOMMU_DOMAIN_IDENTITY,
	.ops = &kfake_identity_ops,
};

/* A driver's own static default domain, as fsl_pamu's */
static const struct iommu_domain_ops kfake_platform_ops = {
	.attach_dev = kfake_attach_dev,
};

struct iommu_domain kfake_platform_domain = {
	.type = IOMMU_DOMAIN_PLATFORM,
	.ops = &kfake_platform_ops,
};

static void kfake_identity_free(struct iommu_domain *domain)
{
	struct kfake_event ev = { .op = KFAKE_FREE, .domain = domain };

	if (kfake_current)
		kfake_log(kfake_current, &ev);
	kfree(domain);
}

static struct iommu_domain_ops kfake_alloc_identity_ops = {
	.attach_dev = kfake_attach_dev,
	.free = kfake_identity_free,
};

static struct iommu_domain *kfake_domain_alloc_identity(struct device *dev)
{
	struct kfake_event ev = { .op = KFAKE_ALLOC, .dev = dev };
	struct iommu_domain *domain;

	domain = kfake_zalloc_obj(domain);
	if (!domain)
		return ERR_PTR(-ENOMEM);
	domain->ops = &kfake_alloc_identity_ops;
	ev.domain = domain;
	kfake_log(kfake_current, &ev);
	return domain;
}

/* The owner of domains that belong to some other IOMMU driver */
const struct iommu_ops kfake_foreign_ops = {};

static struct kfake_paging *kfake_new_paging(struct kfake *fake,
					     unsigned int unit)
{
	struct kfake_paging *paging = kfake_zalloc_obj(paging);

	if (!paging)
		return NULL;
	xa_init(&paging->users);
	list_add_tail(&paging->node, &kfake_pagings);
	paging->unit = unit;
	paging->domain.ops = kfake_has_test_dev(fake) ?
			     &kfake_paging_ops : &kfake_paging_untested_ops;
	paging->domain.pgsize_bitmap = SZ_4K;
	paging->domain.geometry.aperture_end =
		DMA_BIT_MASK(unit ? KFAKE_UNIT1_BITS : KFAKE_UNIT0_BITS);
	paging->domain.geometry.force_aperture = true;
	return paging;
}

static struct iommu_domain *kfake_domain_alloc_paging(struct device *dev)
{
	struct kfake_dev *kd = dev_iommu_priv_get(dev);
	struct kfake *fake = kfake_current;
	struct kfake_event ev = { .op = KFAKE_ALLOC, .dev = dev };
	struct kfake_paging *paging;

	if (fake->cfg.fail_paging_alloc) {
		ev.ret = -ENOMEM;
		kfake_log(fake, &ev);
		return ERR_PTR(-ENOMEM);
	}

	paging = kfake_new_paging(fake, kd->cfg.unit);
	if (!paging)
		return ERR_PTR(-ENOMEM);
	ev.domain = &paging->domain;
	kfake_log(fake, &ev);
	return &paging->domain;
}

static struct kfake_dev *kfake_match(struct kfake *fake, struct device *dev)
{
	struct kfake_dev *kd;

	list_for_each_entry(kd, &fake->devs, node) {
		if (kd->added && kd->owned == dev)
			return kd;
		if (kd->is_pci && dev_is_pci(dev) &&
		    pci_domain_nr(to_pci_dev(dev)->bus) == kd->domain &&
		    to_pci_dev(dev)->bus->number == kd->busnr &&
		    to_pci_dev(dev)->devfn == kd->devfn)
			return kd;
	}
	return NULL;
}

static struct iommu_device *kfake_probe_device(struct device *dev)
{
	struct kfake *fake = kfake_current;
	struct kfake_event ev = { .op = KFAKE_PROBE, .dev = dev };
	struct kfake_dev *kd = kfake_match(fake, dev);

	if (!kd)
		return ERR_PTR(-ENODEV);

	ev.ret = kd->cfg.probe_err;
	kfake_log(fake, &ev);
	if (ev.ret)
		return ERR_PTR(ev.ret);

	kd->dev = dev;
	kd->probed = true;
	dev_iommu_priv_set(dev, kd);
	return &fake->iommu[kd->cfg.unit];
}

static void kfake_release_device(struct device *dev)
{
	struct kfake_dev *kd = dev_iommu_priv_get(dev);
	struct kfake_event ev = { .op = KFAKE_RELEASE, .dev = dev };

	kd->probed = false;
	kfake_log(kfake_current, &ev);
}

static struct iommu_group *kfake_device_group(struct device *dev)
{
	struct kfake_dev *kd = dev_iommu_priv_get(dev);
	struct kfake_dev *sibling;

	if (kd->cfg.group) {
		list_for_each_entry(sibling, &kfake_current->devs, node) {
			struct iommu_group *group;

			if (sibling == kd || !sibling->probed ||
			    sibling->cfg.group != kd->cfg.group)
				continue;
			group = iommu_group_get(sibling->dev);
			if (group)
				return group;
		}
	}
	return iommu_group_alloc();
}

static void kfake_get_resv_regions(struct device *dev, struct list_head *head)
{
	struct kfake_dev *kd = dev_iommu_priv_get(dev);
	struct iommu_resv_region *region;

	if (!kd->cfg.direct)
		return;
	region = iommu_alloc_resv_region(KFAKE_DIRECT_BASE, KFAKE_DIRECT_SIZE,
					 IOMMU_READ | IOMMU_WRITE,
					 IOMMU_RESV_DIRECT, GFP_KERNEL);
	if (region)
		list_add_tail(&region->list, head);
}

static bool kfake_is_attach_deferred(struct device *dev)
{
	struct kfake_dev *kd = dev_iommu_priv_get(dev);

	return kd->cfg.deferred;
}

static int kfake_def_domain_type(struct device *dev)
{
	struct kfake_dev *kd = dev_iommu_priv_get(dev);

	return kd->cfg.identity ? IOMMU_DOMAIN_IDENTITY : 0;
}

/* Holds: what the helpers changed, undone newest first */

static void kfake_undo(struct kfake *fake, struct kfake_hold *h)
{
	list_del(&h->node);
	switch (h->kind) {
	case KFAKE_HOLD_GROUP:
		iommu_detach_group(h->domain, h->group);
		break;
	case KFAKE_HOLD_GROUP_HANDLE:
		iommu_detach_group_handle(h->domain, h->group);
		break;
	case KFAKE_HOLD_PASID:
		iommu_detach_device_pasid(h->domain, h->kd->dev, h->pasid);
		break;
	case KFAKE_HOLD_OWNER:
		iommu_group_release_dma_owner(h->group);
		break;
	case KFAKE_HOLD_RESET:
#ifdef CONFIG_PCI
	{
		struct kpci *kp = h->kp;

		kp->resets[h->fn]--;
		/* Not to a function removed meanwhile: it left its group */
		if (device_is_registered(&h->pdev->dev))
			pci_dev_reset_iommu_done(h->pdev);
		pci_dev_put(h->pdev);
	}
#endif
		break;
	}
	kfree(h->handle);
	kfree(h);
}

static void kfake_undo_all(struct kfake *fake)
{
	struct kfake_hold *h, *prev;

	/* No driver query while devices leave their groups */
	fake->cfg.query_driver_domain = false;
	fake->fail_nth = 0;
	list_for_each_entry_safe_reverse(h, prev, &fake->holds, node)
		kfake_undo(fake, h);
}

/* A new hold, with an attach handle of its own for the kinds that need one */
static struct kfake_hold *kfake_new_hold(struct kunit *test,
					 enum kfake_hold_kind kind)
{
	struct kfake_hold *h = kfake_zalloc_obj(h);

	if (h && (kind == KFAKE_HOLD_GROUP_HANDLE || kind == KFAKE_HOLD_PASID)) {
		h->handle = kfake_zalloc_obj(h->handle);
		if (!h->handle) {
			kfree(h);
			h = NULL;
		}
	}
	KUNIT_ASSERT_NOT_NULL(test, h);
	h->kind = kind;
	return h;
}

static void kfake_add_hold(struct kfake_hold *h)
{
	list_add_tail(&h->node, &kfake_current->holds);
}

static struct kfake_hold *kfake_find_hold(enum kfake_hold_kind kind,
					  struct iommu_group *group,
					  struct kfake_dev *kd, ioasid_t pasid)
{
	struct kfake_hold *h;

	if (!kfake_current)
		return NULL;
	list_for_each_entry_reverse(h, &kfake_current->holds, node) {
		if (h->kind != kind)
			continue;
		if (kind == KFAKE_HOLD_PASID ?
		    h->kd == kd && h->pasid == pasid : h->group == group)
			return h;
	}
	return NULL;
}

static void kfake_destroy(void *data)
{
	struct kfake *fake = data;
	struct kfake_dev *kd, *next;
	unsigned int i;

	kfake_undo_all(fake);
	/* The core must forget every device before the IOMMU goes away */
	list_for_each_entry_reverse(kd, &fake->devs, node)
		if (kd->added)
			kfake_remove_dev(fake, kd);

	if (fake->registered && fake->bus)
		iommu_device_unregister_bus(&fake->iommu[0], fake->bus,
					    &fake->nb);
	if (fake->registered && !fake->bus)
		iommu_device_unregister(&fake->iommu[0]);
	if (fake->fwnode)
		fwnode_remove_software_node(fake->fwnode);
	for (i = 0; i < KFAKE_NR_UNITS; i++)
		iommu_device_sysfs_remove(&fake->iommu[i]);
	kfake_current = NULL;

	list_for_each_entry_safe(kd, next, &fake->devs, node) {
		xa_destroy(&kd->pasids);
		list_del(&kd->node);
		kfree(kd);
	}
}

static void kfake_setup_ops(struct kfake *fake)
{
	const struct kfake_cfg *cfg = &fake->cfg;
	bool static_test = !cfg->no_test_dev && kfake_is(fake, KFAKE_PLAIN);

	kfake_blocked_ops.test_dev = static_test ? kfake_test_dev : NULL;
	kfake_identity_ops.test_dev = static_test ? kfake_test_dev : NULL;
	kfake_alloc_identity_ops.test_dev = static_test ? kfake_test_dev : NULL;

	fake->ops.probe_device = kfake_probe_device;
	fake->ops.release_device = kfake_release_device;
	fake->ops.device_group = kfake_device_group;
	fake->ops.get_resv_regions = kfake_get_resv_regions;
	fake->ops.is_attach_deferred = kfake_is_attach_deferred;
	fake->ops.def_domain_type = kfake_def_domain_type;
	kfake_set_alloc_ops(&fake->ops, cfg->alloc_identity);
	kfake_set_remove_pasid_op(&fake->ops);
	kfake_set_reset_ops(&fake->ops, !cfg->no_reset_block);
	fake->ops.owner = THIS_MODULE;
	if (!cfg->no_blocked_domain)
		fake->ops.blocked_domain = &kfake_blocked_domain;
	if (!cfg->alloc_identity && !cfg->no_identity_domain)
		fake->ops.identity_domain = &kfake_identity_domain;
	if (cfg->blocked_default)
		fake->ops.default_domain = &kfake_blocked_domain;
	if (cfg->own_default)
		fake->ops.default_domain = &kfake_platform_domain;
	switch (cfg->release) {
	case KFAKE_RELEASE_NONE:
		break;
	case KFAKE_RELEASE_BLOCKED:
		fake->ops.release_domain = &kfake_blocked_domain;
		break;
	case KFAKE_RELEASE_IDENTITY:
		fake->ops.release_domain = &kfake_identity_domain;
		break;
	case KFAKE_RELEASE_SEPARATE_BLOCKED:
		fake->ops.release_domain = &kfake_release_blocked_domain;
		break;
	}
}

static int kfake_register(struct kfake *fake)
{
	int ret;

	if (fake->bus) {
		ret = iommu_device_register_bus(&fake->iommu[0], &fake->ops,
						fake->bus, &fake->nb);
	} else {
		/*
		 * On the buses the core already watches, register like a
		 * real driver, but with a fwnode of our own: only devices
		 * given a fwspec naming it (iommu_mock_device_set_fwspec())
		 * are ours, never the platform's.
		 */
		fake->iommu[0].fwnode = fake->fwnode;
		ret = iommu_device_register(&fake->iommu[0], &fake->ops, NULL);
	}
	fake->registered = !ret;
	return ret;
}

static struct kfake *kfake_create_unregistered(struct kunit *test,
					       const struct bus_type *bus,
					       const struct kfake_cfg *cfg)
{
	struct kfake *fake;
	unsigned int i;
	int ret;

	KUNIT_ASSERT_NULL_MSG(test, kfake_current,
			      "a fake IOMMU of an earlier case is still registered");

	fake = kunit_kzalloc(test, sizeof(*fake), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fake);
	fake->test = test;
	fake->bus = bus;
	fake->cfg = *cfg;
	INIT_LIST_HEAD(&fake->devs);
	INIT_LIST_HEAD(&fake->holds);
	kfake_setup_ops(fake);
	fake->iommu[0].max_pasids = cfg->max_pasids;
	fake->iommu[1].max_pasids = cfg->unit1_max_pasids;
	/* Unit 1 is not registered: its devices are probed through unit 0 */
	fake->iommu[1].ops = &fake->ops;

	for (i = 0; i < KFAKE_NR_UNITS; i++) {
		ret = iommu_device_sysfs_add(&fake->iommu[i], NULL, NULL,
					     "kfake-iommu%u", i);
		if (ret)
			break;
	}
	if (ret)
		while (i--)
			iommu_device_sysfs_remove(&fake->iommu[i]);
	KUNIT_ASSERT_EQ(test, ret, 0);

	kfake_current = fake;
	ret = kunit_add_action_or_reset(test, kfake_destroy, fake);
	KUNIT_ASSERT_EQ(test, ret, 0);

	if (!bus || KFAKE_BUS_NEEDS_FWNODE) {
		fake->fwnode = fwnode_create_software_node(NULL, NULL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fake->fwnode);
		fake->iommu[0].fwnode = fake->fwnode;
	}
	return fake;
}

struct kfake *kfake_create(struct kunit *test, const struct bus_type *bus,
			   const struct kfake_cfg *cfg)
{
	struct kfake *fake = kfake_create_unregistered(test, bus, cfg);

	KUNIT_ASSERT_EQ(test, kfake_register(fake), 0);
	return fake;
}

static struct kfake_dev *kfake_new_dev(struct kfake *fake,
				       const struct kfake_dev_cfg *cfg)
{
	struct kfake_dev *kd;

	KUNIT_ASSERT_LT(fake->test, cfg->unit, KFAKE_NR_UNITS);
	/* kfake_destroy() frees it: it runs after later kunit allocations go */
	kd = kfake_zalloc_obj(kd);
	KUNIT_ASSERT_NOT_NULL(fake->test, kd);
	kd->cfg = *cfg;
	kd->id = fake->nr_devs++;
	xa_init(&kd->pasids);
	list_add_tail(&kd->node, &fake->devs);
	return kd;
}

struct kfake_dev *kfake_dev_expect_pci(struct kfake *fake, int domain,
				       int busnr, unsigned int devfn,
				       const struct kfake_dev_cfg *cfg)
{
	struct kfake_dev *kd = kfake_new_dev(fake, cfg);

	kd->is_pci = true;
	kd->domain = domain;
	kd->busnr = busnr;
	kd->devfn = devfn;
	return kd;
}

static void kfake_dev_release(struct device *dev)
{
	kfree(dev);
}

struct kfake_dev *kfake_add_dev(struct kfake *fake,
				const struct kfake_dev_cfg *cfg)
{
	struct kunit *test = fake->test;
	struct kfake_dev *kd = kfake_new_dev(fake, cfg);
	struct device *dev;
	int ret;

	dev = kfake_zalloc_obj(dev);
	KUNIT_ASSERT_NOT_NULL(test, dev);
	device_initialize(dev);
	dev->bus = fake->bus;
	dev->release = kfake_dev_release;
	ret = dev_set_name(dev, "kfake%d", atomic_inc_return(&kfake_dev_ids));
	if (!ret && cfg->pasid_bits) {
		const struct property_entry props[] = {
			PROPERTY_ENTRY_U32("pasid-num-bits", cfg->pasid_bits),
			{ }
		};

		ret = device_create_managed_software_node(dev, props, NULL);
	}
	/* probe_device() looks the device up by these */
	kd->owned = dev;
	kd->added = true;
	if (!ret)
		ret = iommu_mock_device_add(dev, &fake->iommu[0]);
	if (ret) {
		kd->added = false;
		put_device(dev);
		KUNIT_FAIL_AND_ABORT(test, "adding a fake device: %d", ret);
	}
	return kd;
}

void kfake_remove_dev(struct kfake *fake, struct kfake_dev *kd)
{
	if (!kd->added)
		return;
	kd->added = false;
	device_del(kd->owned);
	put_device(kd->owned);
}

struct iommu_group *kfake_group(struct kunit *test, struct kfake_dev *kd)
{
	struct iommu_group *group;

	KUNIT_ASSERT_NOT_NULL_MSG(test, kd->dev, "device not probed");
	group = iommu_group_get(kd->dev);
	KUNIT_ASSERT_NOT_NULL(test, group);
	/* The device holds a reference for as long as the test uses it */
	iommu_group_put(group);
	return group;
}

/* Frees a domain of the helpers, after undoing the helpers' uses of it */
static void kfake_domain_action(void *data)
{
	struct iommu_domain *domain = data;
	struct kfake_hold *h, *prev;

	if (kfake_current)
		list_for_each_entry_safe_reverse(h, prev,
						 &kfake_current->holds, node)
			if (h->domain == domain)
				kfake_undo(kfake_current, h);
	iommu_domain_free(domain);
}

static struct iommu_domain *kfake_own_domain(struct kunit *test,
					     struct iommu_domain *domain)
{
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, domain);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							kfake_domain_action,
							domain), 0);
	return domain;
}

struct iommu_domain *kfake_alloc_paging(struct kunit *test,
					struct kfake_dev *kd)
{
	return kfake_own_domain(test, iommu_paging_domain_alloc(kd->dev));
}

struct iommu_domain *kfake_alloc_s2(struct kunit *test, struct kfake_dev *kd)
{
	struct iommu_domain *domain = kfake_alloc_paging(test, kd);

	/* What arm-smmu-v3 makes of IOMMU_HWPT_ALLOC_NEST_PARENT */
	to_kfake_paging(domain)->s2 = true;
	return domain;
}

void kfake_free_domain(struct kunit *test, struct iommu_domain *domain)
{
	kunit_release_action(test, kfake_domain_action, domain);
}

static void kfake_foreign_free(void *data)
{
	struct kfake_paging *paging = data;

	list_del(&paging->node);
	xa_destroy(&paging->users);
	kfree(paging);
}

struct iommu_domain *kfake_alloc_foreign(struct kunit *test)
{
	struct kfake_paging *paging = kfake_new_paging(kfake_current, 0);

	KUNIT_ASSERT_NOT_NULL(test, paging);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							kfake_foreign_free,
							paging), 0);
	paging->domain.type = IOMMU_DOMAIN_UNMANAGED;
	paging->domain.owner = &kfake_foreign_ops;
	return &paging->domain;
}

struct iommu_domain *kfake_pasid_domain(struct kfake_dev *kd, ioasid_t pasid)
{
	return xa_load(&kd->pasids, pasid);
}

/* The domain a RID or PASID of a device translates with, NULL if released */
static struct iommu_domain *kfake_user_domain(struct kfake *fake,
					      unsigned long user)
{
	ioasid_t pasid = user & (BIT(KFAKE_USER_SHIFT) - 1);
	struct kfake_dev *kd;

	list_for_each_entry(kd, &fake->devs, node) {
		if (kd->id != user >> KFAKE_USER_SHIFT)
			continue;
		if (!kd->probed)
			return NULL;
		return pasid == IOMMU_NO_PASID ? kd->rid :
						 xa_load(&kd->pasids, pasid);
	}
	return NULL;
}

/* Whether every device list of a domain is right; with @test, say where not */
static bool kfake_lists_right(struct kunit *test, struct kfake *fake)
{
	struct kfake_paging *paging;
	unsigned long pasid, user;
	struct kfake_dev *kd;
	bool right = true;
	void *entry;

	/* Every RID and PASID on a paging domain is on its list ... */
	list_for_each_entry(kd, &fake->devs, node) {
		if (!kd->probed)
			continue;
		if (to_kfake_paging(kd->rid) &&
		    !kfake_domain_has_dev(kd->rid, kd, IOMMU_NO_PASID)) {
			right = false;
			if (test)
				KUNIT_FAIL(test,
					   "%s: RID missing from its domain's device list",
					   dev_name(kd->dev));
		}
		xa_for_each(&kd->pasids, pasid, entry) {
			if (!to_kfake_paging(entry) ||
			    kfake_domain_has_dev(entry, kd, pasid))
				continue;
			right = false;
			if (test)
				KUNIT_FAIL(test,
					   "%s: PASID %lu missing from its domain's device list",
					   dev_name(kd->dev), pasid);
		}
	}

	/* ... once, and no list reaches a RID or PASID not on the domain */
	list_for_each_entry(paging, &kfake_pagings, node) {
		xa_for_each(&paging->users, user, entry) {
			struct iommu_domain *cur = kfake_user_domain(fake, user);

			if (cur == &paging->domain && xa_to_value(entry) == 1)
				continue;
			right = false;
			if (test)
				KUNIT_FAIL(test, "device %lu, PASID %lu: %s",
					   user >> KFAKE_USER_SHIFT,
					   user & (BIT(KFAKE_USER_SHIFT) - 1),
					   cur != &paging->domain ?
					   "on the list of a domain not its own" :
					   "listed more than once");
		}
	}
	return right;
}

void kfake_expect_lists(struct kunit *test, struct kfake *fake)
{
	if (kfake_lists_right(NULL, fake))
		return;
	/* A known bug of the driver this kernel has, not of the core */
	if (kfake_is(fake, KFAKE_SMMUV3))
		kfake_skip_base(test, KFAKE_DIFF_SMMU_GETTER_OLD);
	kfake_lists_right(test, fake);
}

void kfake_fail_nth(struct kfake *fake, enum kfake_op op, unsigned int nth,
		    int err)
{
	fake->fail_nth_op = op;
	fake->fail_nth = nth;
	fake->fail_nth_err = err;
}

int kfake_attach_group(struct kunit *test, struct iommu_domain *domain,
		       struct iommu_group *group)
{
	struct kfake_hold *h = kfake_new_hold(test, KFAKE_HOLD_GROUP);
	int ret = iommu_attach_group(domain, group);

	if (ret) {
		kfree(h);
		return ret;
	}
	h->domain = domain;
	h->group = group;
	kfake_add_hold(h);
	return 0;
}

int kfake_attach_group_handle(struct kunit *test, struct iommu_domain *domain,
			      struct iommu_group *group)
{
	struct kfake_hold *h = kfake_new_hold(test, KFAKE_HOLD_GROUP_HANDLE);
	int ret;

	ret = iommu_attach_group_handle(domain, group, h->handle);
	if (ret) {
		kfree(h->handle);
		kfree(h);
		return ret;
	}
	h->domain = domain;
	h->group = group;
	kfake_add_hold(h);
	return 0;
}

int kfake_replace_group_handle(struct kunit *test, struct iommu_group *group,
			       struct iommu_domain *domain)
{
	struct kfake_hold *h = kfake_find_hold(KFAKE_HOLD_GROUP_HANDLE, group,
					       NULL, 0);
	struct iommu_attach_handle *handle;
	int ret;

	KUNIT_ASSERT_NOT_NULL_MSG(test, h, "group not attached with a handle");
	handle = kfake_zalloc_obj(handle);
	KUNIT_ASSERT_NOT_NULL(test, handle);
	ret = iommu_replace_group_handle(group, domain, handle);
	if (ret) {
		kfree(handle);
		return ret;
	}
	kfree(h->handle);
	h->handle = handle;
	h->domain = domain;
	return 0;
}

void kfake_detach_group(struct kunit *test, struct iommu_domain *domain,
			struct iommu_group *group)
{
	struct kfake_hold *h = kfake_find_hold(KFAKE_HOLD_GROUP_HANDLE, group,
					       NULL, 0);

	if (!h)
		h = kfake_find_hold(KFAKE_HOLD_GROUP, group, NULL, 0);
	KUNIT_ASSERT_NOT_NULL_MSG(test, h, "group not attached by a helper");
	KUNIT_ASSERT_PTR_EQ(test, h->domain, domain);
	kfake_undo(kfake_current, h);
}

int kfake_attach_pasid(struct kunit *test, struct iommu_domain *domain,
		       struct kfake_dev *kd, ioasid_t pasid)
{
	struct kfake_hold *h = kfake_new_hold(test, KFAKE_HOLD_PASID);
	int ret;

	ret = iommu_attach_device_pasid(domain, kd->dev, pasid, h->handle);
	if (ret) {
		kfree(h->handle);
		kfree(h);
		return ret;
	}
	h->domain = domain;
	h->kd = kd;
	h->pasid = pasid;
	kfake_add_hold(h);
	return 0;
}

int kfake_replace_pasid(struct kunit *test, struct iommu_domain *domain,
			struct kfake_dev *kd, ioasid_t pasid)
{
	struct kfake_hold *h = kfake_find_hold(KFAKE_HOLD_PASID, NULL, kd,
					       pasid);
	struct kfake_hold *new = NULL;
	struct iommu_attach_handle *handle;
	bool nomem;
	int ret;

	if (!KFAKE_HAS_PASID_REPLACE)
		kfake_skip(test, "no iommu_replace_device_pasid() in this kernel");
	/* A PASID no helper attached: the core should refuse, or owes a detach */
	if (!h)
		new = kfake_new_hold(test, KFAKE_HOLD_PASID);
	handle = kfake_zalloc_obj(handle);
	nomem = !handle;
	ret = nomem ? 0 : kfake_core_replace_pasid(domain, kd->dev, pasid,
						   handle);
	if (nomem || ret) {
		kfree(handle);
		if (new) {
			kfree(new->handle);
			kfree(new);
		}
		KUNIT_ASSERT_FALSE_MSG(test, nomem, "out of memory");
		return ret;
	}
	if (new) {
		new->kd = kd;
		new->pasid = pasid;
		kfake_add_hold(new);
		h = new;
	}
	kfree(h->handle);
	h->handle = handle;
	h->domain = domain;
	return 0;
}

void kfake_detach_pasid(struct kunit *test, struct kfake_dev *kd,
			ioasid_t pasid)
{
	struct kfake_hold *h = kfake_find_hold(KFAKE_HOLD_PASID, NULL, kd,
					       pasid);

	KUNIT_ASSERT_NOT_NULL_MSG(test, h, "PASID %u not attached by a helper",
				  pasid);
	kfake_undo(kfake_current, h);
}

struct iommu_attach_handle *kfake_pasid_handle(struct kfake_dev *kd,
					       ioasid_t pasid)
{
	struct kfake_hold *h = kfake_find_hold(KFAKE_HOLD_PASID, NULL, kd,
					       pasid);

	return h ? h->handle : NULL;
}

int kfake_claim_dma_owner(struct kunit *test, struct iommu_group *group)
{
	static int kfake_owner_cookie;
	struct kfake_hold *h = kfake_new_hold(test, KFAKE_HOLD_OWNER);
	int ret = iommu_group_claim_dma_owner(group, &kfake_owner_cookie);

	if (ret) {
		kfree(h);
		return ret;
	}
	h->group = group;
	kfake_add_hold(h);
	return 0;
}

void kfake_release_dma_owner(struct kunit *test, struct iommu_group *group)
{
	struct kfake_hold *h = kfake_find_hold(KFAKE_HOLD_OWNER, group, NULL,
					       0);

	KUNIT_ASSERT_NOT_NULL_MSG(test, h, "group not claimed by a helper");
	kfake_undo(kfake_current, h);
}

void kfake_clear_log(struct kfake *fake)
{
	fake->nr_events = 0;
	fake->overflow = false;
}

unsigned int kfake_count(struct kfake *fake, enum kfake_op op,
			 struct device *dev)
{
	unsigned int i, n = 0;

	for (i = 0; i < fake->nr_events; i++)
		if (fake->events[i].op == op &&
		    (!dev || fake->events[i].dev == dev))
			n++;
	return n;
}

/* A logged call the matchers look at */
static bool kfake_matched(const struct kfake_event *ev, bool tests)
{
	/* The driver's own rewrites, not calls of the core */
	if (ev->op == KFAKE_ATTACH && ev->ret == 1)
		return false;
	return ev->op == KFAKE_ATTACH || ev->op == KFAKE_SET_PASID ||
	       (tests && ev->op == KFAKE_TEST);
}

/*
 * An expected test_dev() of a domain whose driver has none is not wanted, nor
 * the refusal by attach_dev() or set_dev_pasid() of a domain that has one
 */
static bool kfake_wanted(const struct kfake_event *w)
{
	if (w->untested_only)
		return !w->domain->ops->test_dev;
	return w->refused || w->op != KFAKE_TEST || w->domain->ops->test_dev;
}

/* The callback an expectation wants */
static enum kfake_op kfake_want_op(const struct kfake_event *w)
{
	if (!w->refused)
		return w->op;
	if (w->domain->ops->test_dev)
		return KFAKE_TEST;
	return w->pasid == IOMMU_NO_PASID ? KFAKE_ATTACH : KFAKE_SET_PASID;
}

static void kfake_expect_ops(struct kunit *test, struct kfake *fake,
			     const struct kfake_event *want, unsigned int nr,
			     bool tests)
{
	unsigned int i, n = 0, wanted = 0, w = 0;

	KUNIT_EXPECT_FALSE(test, fake->overflow);
	for (i = 0; i < nr; i++)
		if (kfake_wanted(&want[i]))
			wanted++;
	for (i = 0; i < fake->nr_events; i++) {
		const struct kfake_event *ev = &fake->events[i];

		if (!kfake_matched(ev, tests))
			continue;
		while (w < nr && !kfake_wanted(&want[w]))
			w++;
		if (w < nr) {
			const struct kfake_event *x = &want[w++];

			KUNIT_EXPECT_EQ_MSG(test, ev->op, kfake_want_op(x),
					    "call %u", n);
			KUNIT_EXPECT_PTR_EQ_MSG(test, ev->dev, x->dev,
						"call %u: device", n);
			KUNIT_EXPECT_PTR_EQ_MSG(test, ev->domain, x->domain,
						"call %u: domain", n);
			/* Where attach_dev() has no old domain, none is logged */
			if (KFAKE_ATTACH_HAS_OLD || ev->op != KFAKE_ATTACH)
				KUNIT_EXPECT_PTR_EQ_MSG(test, ev->old, x->old,
							"call %u: old domain",
							n);
			KUNIT_EXPECT_EQ_MSG(test, ev->pasid, x->pasid,
					    "call %u: pasid", n);
			KUNIT_EXPECT_EQ_MSG(test, ev->ret, x->ret,
					    "call %u: result", n);
		}
		n++;
	}
	KUNIT_EXPECT_EQ_MSG(test, n, wanted, tests ?
			    "test_dev/attach_dev/set_dev_pasid calls" :
			    "attach_dev/set_dev_pasid calls");
	/* Wherever the hardware changed, invalidations must still reach it */
	kfake_expect_lists(test, fake);
}

void kfake_expect_hw_only(struct kunit *test, struct kfake *fake,
			  const struct kfake_event *want, unsigned int nr)
{
	kfake_expect_ops(test, fake, want, nr, false);
}

void kfake_expect_calls(struct kunit *test, struct kfake *fake,
			const struct kfake_event *want, unsigned int nr)
{
	kfake_expect_ops(test, fake, want, nr, true);
}

void __noreturn kfake_skip(struct kunit *test, const char *fmt, ...)
{
	char why[128];
	va_list args;

	va_start(args, fmt);
	vsnprintf(why, sizeof(why), fmt, args);
	va_end(args);
	KUNIT_ASSERT_NE_MSG(test, test->status, KUNIT_FAILURE,
			    "failed before skip: %s", why);
	kunit_skip(test, "%s", why);
}

bool kfake_has_test_dev(struct kfake *fake)
{
	if (fake->cfg.no_test_dev)
		return false;
	/* arm-smmu-v3 and AMD have one where the core keeps a record for it */
	return KFAKE_HAS_TEST_DEV_RECORD ||
	       (!kfake_is(fake, KFAKE_SMMUV3) && !kfake_is(fake, KFAKE_AMD));
}

void kfake_need_test_dev(struct kunit *test, struct kfake *fake)
{
	if (!kfake_has_test_dev(fake))
		kfake_skip(test, "%s: no test_dev()",
			   kfake_personality_name(fake->cfg.personality));
}

void kfake_need_reset_opt_in(struct kunit *test)
{
	if (!KFAKE_HAS_RESET_OPT_IN)
		kfake_skip(test, "the core blocks the devices of every driver");
}

static const char * const kfake_diff_names[KFAKE_NR_DIFFS] = {
	[KFAKE_DIFF_REVERT_FAILED_DEV] =
		"a failed group change re-attaches the device that failed",
	[KFAKE_DIFF_PASID_WITHOUT_BLOCKED] =
		"a PASID is attached without a blocked domain",
	[KFAKE_DIFF_SMMU_GETTER_OLD] =
		"arm-smmu-v3 takes the old domain from iommu_get_domain_for_dev()",
	[KFAKE_DIFF_RELEASE_ANY_BLOCKED] =
		"a require_direct device is released to identity instead of any BLOCKED release_domain",
	[KFAKE_DIFF_PASID_TESTED_WHEN_BUSY] =
		"an attach to a busy PASID is tested first",
	[KFAKE_DIFF_RESET_AS_V2] =
		"attach during a reset as v2 of the mainline series",
	[KFAKE_DIFF_DIRECT_LEFT_ON_OLD] =
		"a forced change leaves a require_direct device on the old domain",
};

bool kfake_base_has(enum kfake_base_diff diff)
{
	return KFAKE_BASE_DIFFS & BIT(diff);
}

void kfake_skip_base(struct kunit *test, enum kfake_base_diff diff)
{
	if (kfake_base_has(diff))
		kfake_skip(test, "this kernel differs: %s",
			   kfake_diff_names[diff]);
}

bool kfake_default_is_dma(void)
{
	return IS_ENABLED(CONFIG_IOMMU_DMA) && !iommu_default_passthrough();
}

const struct bus_type kfake_bus = {
	.name = "iommu-kunit",
};

int kfake_bus_init(struct kunit_suite *suite)
{
	return bus_register(&kfake_bus);
}

void kfake_bus_exit(struct kunit_suite *suite)
{
	bus_unregister(&kfake_bus);
}

struct kfake *kfake_new(struct kunit *test, const struct kfake_cfg *cfg)
{
	static const struct kfake_cfg dflt = {
		.release = KFAKE_RELEASE_BLOCKED,
		.max_pasids = 64,
	};

	return kfake_create(test, &kfake_bus, cfg ? cfg : &dflt);
}

struct kfake *kfake_new_as(struct kunit *test, enum kfake_personality p)
{
	const struct kfake_cfg cfg = {
		.personality = p,
		.release = KFAKE_RELEASE_BLOCKED,
		.max_pasids = 64,
		.unit1_max_pasids = 16,
	};

	return kfake_new(test, &cfg);
}

void kfake_expect_default_type(struct kunit *test, struct iommu_domain *domain)
{
	KUNIT_ASSERT_NOT_NULL(test, domain);
	if (kfake_default_is_dma())
		KUNIT_EXPECT_TRUE(test, iommu_is_dma_domain(domain));
	else
		KUNIT_EXPECT_PTR_EQ(test, domain, &kfake_identity_domain);
}

int kfake_event_index(struct kfake *fake, enum kfake_op op,
		      struct device *dev)
{
	unsigned int i;

	for (i = 0; i < fake->nr_events; i++)
		if (fake->events[i].op == op && fake->events[i].dev == dev)
			return i;
	return -1;
}

#ifdef CONFIG_PCI
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
#define KPCI_PM_CAP	0x80
#define KPCI_AF_CAP	0x88
#define KPCI_ATS_CAP	0x100
#define KPCI_PASID_CAP	0x110
#define KPCI_PASID_BITS	5

static struct kpci *kpci_current;

static bool kpci_writable(int where)
{
	/* IDs, status, class, header type, BARs, ROM, capability pointer */
	if (where < PCI_COMMAND ||
	    (where >= PCI_STATUS && where < PCI_CACHE_LINE_SIZE) ||
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
	if ((where >= KPCI_AF_CAP && where < KPCI_AF_CAP + PCI_AF_CTRL) ||
	    where == KPCI_AF_CAP + PCI_AF_STATUS)
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
		if (kp->fns[i].devfn == devfn && kp->kd[i])
			return i;
	return -1;
}

/*
 * Record what the fake holds for function @devfn as it is reset. Called from
 * the configuration accessors, under pci_lock: nothing here sleeps.
 */
static void kpci_reset_seen(struct kpci *kp, unsigned int devfn,
			    enum kpci_reset_kind kind)
{
	int i = kpci_index(kp, devfn);
	struct kpci_seen *seen;

	if (i < 0)
		return;
	seen = &kp->seen[i];
	seen->nr++;
	seen->kind = kind;
	seen->rid = kp->kd[i]->rid;
	seen->pasids = kfake_has_pasids(kp->kd[i]);
	seen->nr_events = kp->fake->nr_events;
	seen->polled = kp->polled[i];
	seen->polled_rid = kp->polled_rid[i];
	if (kp->vanish[i]) {
		kp->vanish[i] = false;
		kp->pdev[i]->error_state = pci_channel_io_perm_failure;
	}
}

void kpci_clear_seen(struct kpci *kp)
{
	memset(kp->seen, 0, sizeof(kp->seen));
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

	/*
	 * pcie_flr() and pci_af_flr() poll for pending transactions (none:
	 * the bits read 0) before they reset the function.
	 */
	if (where == KPCI_EXP_CAP + PCI_EXP_DEVSTA ||
	    where == KPCI_AF_CAP + PCI_AF_CTRL) {
		i = kpci_index(kp, devfn);
		if (i >= 0) {
			kp->polled[i] = true;
			kp->polled_rid[i] = kp->kd[i]->rid;
		}
	}
	return PCIBIOS_SUCCESSFUL;
}

static int kpci_write(struct pci_bus *bus, unsigned int devfn, int where,
		      int size, u32 val)
{
	struct kpci *kp = kpci_current;
	u8 *cfg;
	u32 v;
	int i;

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

	kpci_put16(cfg, PCI_VENDOR_ID, fn->vendor ? fn->vendor : KPCI_VENDOR);
	kpci_put16(cfg, PCI_DEVICE_ID, fn->vendor ? fn->device : KPCI_DEVICE);
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

		/* PM version 3, reset by D3hot->D0 (no NO_SOFT_RESET) */
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
	int ret;

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
	/* Found later, by kpci_setup() */
	if (kp->late)
		return NOTIFY_DONE;
	/* The PCI core's context: kpci_create() fails the test for it */
	ret = iommu_mock_device_set_fwspec(dev, &kp->fake->iommu[0]);
	if (ret && !kp->notify_err)
		kp->notify_err = ret;
	return NOTIFY_DONE;
}

static void kpci_destroy(void *data)
{
	struct kpci *kp = data;
	struct pci_bus *bus = kp->bridge->bus;

	kfake_undo_all(kp->fake);
	if (bus) {
		pci_lock_rescan_remove();
		pci_stop_root_bus(bus);
		pci_remove_root_bus(bus);
		pci_unlock_rescan_remove();
	}
	pci_free_host_bridge(kp->bridge);
	bus_unregister_notifier(&pci_bus_type, &kp->nb);
	if (kp->late_registered)
		iommu_device_unregister(&kp->fake->iommu[1]);
	if (kp->late_fwnode)
		fwnode_remove_software_node(kp->late_fwnode);
	kpci_current = NULL;
}

/*
 * The late registration of kpci_create_iommu_late(): the functions exist but
 * no IOMMU has probed them (their fwspec is set only now, as firmware tables
 * would have named the IOMMU); registering unit 1 probes them all at once, as
 * any IOMMU driver's registration does (bus_iommu_probe()). Unit 1 has a
 * fwnode of its own, so that it claims no device of the platform.
 */
static int kpci_register_late(struct kunit *test, struct kpci *kp)
{
	struct kfake *fake = kp->fake;
	unsigned int i;
	int ret;

	for (i = 0; i < kp->nr_fns; i++) {
		KUNIT_ASSERT_NOT_NULL(test, kp->pdev[i]);
		KUNIT_ASSERT_EQ(test,
				iommu_mock_device_set_fwspec(&kp->pdev[i]->dev,
							     &fake->iommu[0]),
				0);
	}
	kp->late_fwnode = fwnode_create_software_node(NULL, NULL);
	if (IS_ERR(kp->late_fwnode)) {
		ret = PTR_ERR(kp->late_fwnode);
		kp->late_fwnode = NULL;
		KUNIT_FAIL_AND_ABORT(test, "unit 1 fwnode: %d", ret);
	}
	fake->iommu[1].fwnode = kp->late_fwnode;
	ret = iommu_device_register(&fake->iommu[1], &fake->ops, NULL);
	kp->late_registered = !ret;
	return ret;
}

static struct kpci *kpci_setup(struct kunit *test, const struct kfake_cfg *fcfg,
			       const struct kpci_fn *fns, unsigned int nr,
			       bool late, int *late_err)
{
	struct pci_dev *pdev;
	struct kpci *kp;
	unsigned int i;
	bool mfd = false;
	int ret;

	/* Other architectures want their own host bridge sysdata */
	if (!IS_ENABLED(CONFIG_X86) && !IS_ENABLED(CONFIG_UML))
		kfake_skip(test, "no software host bridge on this arch");
	if (!IS_ENABLED(CONFIG_PCI_ATS) || pci_ats_disabled())
		kfake_skip(test, "needs ATS");
	for (i = 0; i < nr; i++)
		if (fns[i].pasid && !IS_ENABLED(CONFIG_PCI_PASID))
			kfake_skip(test, "needs CONFIG_PCI_PASID");
	/* Left over by an earlier case: a failure, not a reason to skip */
	KUNIT_ASSERT_NULL_MSG(test, pci_find_bus(KPCI_DOMAIN, KPCI_BUSNR),
			      "PCI bus %04x:%02x exists", KPCI_DOMAIN,
			      KPCI_BUSNR);

	kp = kunit_kzalloc(test, sizeof(*kp), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, kp);
	kp->fns = fns;
	kp->nr_fns = nr;

	kp->late = late;
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
	KUNIT_ASSERT_EQ_MSG(test, kp->notify_err, 0,
			    "pointing a function at the fake IOMMU");

	list_for_each_entry(pdev, &kp->bridge->bus->devices, bus_list)
		for (i = 0; i < nr; i++)
			if (pdev->devfn == fns[i].devfn)
				kp->pdev[i] = pdev;
	if (late)
		*late_err = kpci_register_late(test, kp);
	for (i = 0; i < nr; i++) {
		KUNIT_ASSERT_NOT_NULL(test, kp->pdev[i]);
		KUNIT_ASSERT_EQ(test, pci_ats_supported(kp->pdev[i]),
				fns[i].ats);
		if (fns[i].cfg.probe_err)
			continue;
		KUNIT_ASSERT_PTR_EQ_MSG(test, kp->kd[i]->dev,
					&kp->pdev[i]->dev,
					"function %u not probed by the fake", i);
		/* Not a function a failed late registration released */
		if (fns[i].pasid && kp->pdev[i]->dev.iommu)
			KUNIT_ASSERT_EQ(test,
					kp->pdev[i]->dev.iommu->max_pasids,
					min(1U << kpci_pasid_bits(&fns[i]),
					    fns[i].cfg.unit ?
					    fcfg->unit1_max_pasids :
					    fcfg->max_pasids));
	}
	kfake_clear_log(kp->fake);
	kpci_clear_seen(kp);
	return kp;
}

struct kpci *kpci_create(struct kunit *test, const struct kfake_cfg *fcfg,
			 const struct kpci_fn *fns, unsigned int nr)
{
	return kpci_setup(test, fcfg, fns, nr, false, NULL);
}

struct kpci *kpci_create_iommu_late(struct kunit *test,
				    const struct kfake_cfg *fcfg,
				    const struct kpci_fn *fns, unsigned int nr,
				    int *err)
{
	return kpci_setup(test, fcfg, fns, nr, true, err);
}

int kpci_reset_prepare(struct kunit *test, struct kpci *kp, unsigned int i)
{
	struct kfake_hold *h;
	int ret;

	KUNIT_ASSERT_LT(test, i, kp->nr_fns);
	h = kfake_new_hold(test, KFAKE_HOLD_RESET);
	ret = pci_dev_reset_iommu_prepare(kp->pdev[i]);
	if (ret) {
		kfree(h);
		return ret;
	}
	h->kp = kp;
	h->fn = i;
	/* Its done() is skipped if it is removed meanwhile: keep it to see */
	h->pdev = pci_dev_get(kp->pdev[i]);
	kp->resets[i]++;
	kfake_add_hold(h);
	return 0;
}

void kpci_reset_done(struct kunit *test, struct kpci *kp, unsigned int i)
{
	struct kfake_hold *h;

	list_for_each_entry_reverse(h, &kp->fake->holds, node) {
		if (h->kind == KFAKE_HOLD_RESET && h->kp == kp && h->fn == i) {
			kfake_undo(kp->fake, h);
			return;
		}
	}
	KUNIT_FAIL_AND_ABORT(test, "no kpci_reset_prepare() of function %u", i);
}

void kpci_need_bus_reset_block(struct kunit *test)
{
	if (!KFAKE_HAS_BUS_RESET_BLOCK)
		kfake_skip(test, "pci_reset_bus() does not block their IOMMU");
}
#endif /* CONFIG_PCI */

MODULE_DESCRIPTION("KUnit tests of the IOMMU core");
MODULE_LICENSE("GPL");
KFAKE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
/* The attach handle API (iommu_attach_group_handle() ...) */
KFAKE_IMPORT_NS(IOMMUFD_INTERNAL);
