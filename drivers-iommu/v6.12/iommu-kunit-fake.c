// SPDX-License-Identifier: GPL-2.0-only
/*
 * A fake IOMMU driver for the KUnit tests of the IOMMU core. See
 * iommu-kunit.h for what it keeps and records.
 */
#include <kunit/test.h>
#include <linux/device.h>
#include <linux/pci.h>
#include <linux/property.h>
#include <linux/slab.h>

#include "iommu-kunit.h"
#include "iommu-priv.h"

#define KFAKE_DIRECT_BASE	0x100000
#define KFAKE_DIRECT_SIZE	SZ_64K

/* The callbacks of static domains find the one registered instance here */
static struct kfake *kfake_current;
static atomic_t kfake_dev_ids = ATOMIC_INIT(0);

/* Every caller runs in the test's thread: no locking */
static void kfake_log(struct kfake *fake, const struct kfake_event *ev)
{
	if (fake->nr_events < KFAKE_MAX_EVENTS)
		fake->events[fake->nr_events++] = *ev;
	else
		fake->overflow = true;
}

/* Tells, and logs; the log is the test's, not a side effect for the core */
static int kfake_test_dev(struct iommu_domain *domain, struct device *dev,
			  ioasid_t pasid, struct iommu_domain *old)
{
	struct kfake_dev *kd = dev_iommu_priv_get(dev);
	struct kfake_event ev = {
		.op = KFAKE_TEST,
		.dev = dev,
		.domain = domain,
		.old = old,
		.pasid = pasid,
		.ret = kd->refuse_domain == domain ? kd->refuse_err : 0,
	};

	kfake_log(kfake_current, &ev);
	return ev.ret;
}

/* attach_dev() is not told the old domain: the hardware knows it */
static int kfake_attach_dev(struct iommu_domain *domain, struct device *dev)
{
	struct kfake_dev *kd = dev_iommu_priv_get(dev);
	struct kfake *fake = kfake_current;
	struct kfake_event ev = {
		.op = KFAKE_ATTACH,
		.dev = dev,
		.domain = domain,
		.old = kd->rid,
	};

	if (kd->fail_domain == domain)
		ev.ret = kd->fail_err;
	else
		kd->rid = domain;
	kfake_log(fake, &ev);
	return ev.ret;
}

static int kfake_set_dev_pasid(struct iommu_domain *domain, struct device *dev,
			       ioasid_t pasid, struct iommu_domain *old)
{
	struct kfake_dev *kd = dev_iommu_priv_get(dev);
	struct kfake *fake = kfake_current;
	struct kfake_event ev = {
		.op = KFAKE_SET_PASID,
		.dev = dev,
		.domain = domain,
		.old = old,
		.pasid = pasid,
	};

	if (kd->fail_domain == domain)
		ev.ret = kd->fail_err;
	else
		ev.ret = xa_err(xa_store(&kd->pasids, pasid, domain,
					 GFP_KERNEL));
	kfake_log(fake, &ev);
	return ev.ret;
}

/* The core removes a PASID's domain here, not with the blocked domain */
static void kfake_remove_dev_pasid(struct device *dev, ioasid_t pasid,
				   struct iommu_domain *domain)
{
	struct kfake_dev *kd = dev_iommu_priv_get(dev);
	struct kfake_event ev = {
		.op = KFAKE_PASID_REMOVE,
		.dev = dev,
		.old = domain,
		.pasid = pasid,
	};

	xa_erase(&kd->pasids, pasid);
	kfake_log(kfake_current, &ev);
}

static int kfake_map_pages(struct iommu_domain *domain, unsigned long iova,
			   phys_addr_t paddr, size_t pgsize, size_t pgcount,
			   int prot, gfp_t gfp, size_t *mapped)
{
	struct kfake_paging *paging =
		container_of(domain, struct kfake_paging, domain);

	paging->mapped += pgsize * pgcount;
	*mapped = pgsize * pgcount;
	return 0;
}

static size_t kfake_unmap_pages(struct iommu_domain *domain,
				unsigned long iova, size_t pgsize,
				size_t pgcount,
				struct iommu_iotlb_gather *iotlb_gather)
{
	struct kfake_paging *paging =
		container_of(domain, struct kfake_paging, domain);
	size_t size = min(pgsize * pgcount, (size_t)paging->mapped);

	paging->mapped -= size;
	return size;
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
	struct kfake_event ev = { .op = KFAKE_FREE, .domain = domain };

	if (kfake_current)
		kfake_log(kfake_current, &ev);
	kfree(container_of(domain, struct kfake_paging, domain));
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

static const struct iommu_domain_ops kfake_blocked_ops = {
	.test_dev = kfake_test_dev,
	.attach_dev = kfake_attach_dev,
};

struct iommu_domain kfake_blocked_domain = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &kfake_blocked_ops,
};

static const struct iommu_domain_ops kfake_identity_ops = {
	.test_dev = kfake_test_dev,
	.attach_dev = kfake_attach_dev,
};

struct iommu_domain kfake_identity_domain = {
	.type = IOMMU_DOMAIN_IDENTITY,
	.ops = &kfake_identity_ops,
};

static void kfake_identity_free(struct iommu_domain *domain)
{
	struct kfake_event ev = { .op = KFAKE_FREE, .domain = domain };

	if (kfake_current)
		kfake_log(kfake_current, &ev);
	kfree(domain);
}

static const struct iommu_domain_ops kfake_alloc_identity_ops = {
	.test_dev = kfake_test_dev,
	.attach_dev = kfake_attach_dev,
	.free = kfake_identity_free,
};

/* Legacy domain_alloc(), only ever asked for identity domains */
static struct iommu_domain *kfake_domain_alloc_identity(unsigned int type)
{
	struct kfake_event ev = { .op = KFAKE_ALLOC };
	struct iommu_domain *domain;

	if (type != IOMMU_DOMAIN_IDENTITY)
		return ERR_PTR(-EOPNOTSUPP);
	domain = kzalloc(sizeof(*domain), GFP_KERNEL);
	if (!domain)
		return ERR_PTR(-ENOMEM);
	domain->ops = &kfake_alloc_identity_ops;
	ev.domain = domain;
	kfake_log(kfake_current, &ev);
	return domain;
}

/* The owner of domains that belong to some other IOMMU driver */
const struct iommu_ops kfake_foreign_ops = {};

static struct iommu_domain *kfake_domain_alloc_paging(struct device *dev)
{
	struct kfake *fake = kfake_current;
	struct kfake_event ev = { .op = KFAKE_ALLOC, .dev = dev };
	struct kfake_paging *paging;

	if (fake->cfg.fail_paging_alloc) {
		ev.ret = -ENOMEM;
		kfake_log(fake, &ev);
		return ERR_PTR(-ENOMEM);
	}

	paging = kzalloc(sizeof(*paging), GFP_KERNEL);
	if (!paging)
		return ERR_PTR(-ENOMEM);
	paging->domain.ops = fake->cfg.no_test_dev ?
			     &kfake_paging_untested_ops : &kfake_paging_ops;
	paging->domain.pgsize_bitmap = SZ_4K;
	paging->domain.geometry.aperture_end = DMA_BIT_MASK(39);
	paging->domain.geometry.force_aperture = true;
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
	return &fake->iommu;
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

static void kfake_destroy(void *data)
{
	struct kfake *fake = data;
	struct kfake_dev *kd, *next;

	/* The core must forget every device before the IOMMU goes away */
	list_for_each_entry_reverse(kd, &fake->devs, node)
		if (kd->added)
			kfake_remove_dev(fake, kd);

	if (fake->registered && fake->bus)
		iommu_device_unregister_bus(&fake->iommu, fake->bus, &fake->nb);
	if (fake->registered && !fake->bus)
		iommu_device_unregister(&fake->iommu);
	if (fake->fwnode)
		fwnode_remove_software_node(fake->fwnode);
	iommu_device_sysfs_remove(&fake->iommu);
	kfake_current = NULL;

	list_for_each_entry_safe(kd, next, &fake->devs, node) {
		xa_destroy(&kd->pasids);
		list_del(&kd->node);
		kfree(kd);
	}
}

struct kfake *kfake_create(struct kunit *test, const struct bus_type *bus,
			   const struct kfake_cfg *cfg)
{
	struct kfake *fake;
	int ret;

	KUNIT_ASSERT_NULL(test, kfake_current);

	fake = kunit_kzalloc(test, sizeof(*fake), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fake);
	fake->test = test;
	fake->bus = bus;
	fake->cfg = *cfg;
	INIT_LIST_HEAD(&fake->devs);

	fake->ops.probe_device = kfake_probe_device;
	fake->ops.release_device = kfake_release_device;
	fake->ops.device_group = kfake_device_group;
	fake->ops.get_resv_regions = kfake_get_resv_regions;
	fake->ops.is_attach_deferred = kfake_is_attach_deferred;
	fake->ops.def_domain_type = kfake_def_domain_type;
	fake->ops.domain_alloc_paging = kfake_domain_alloc_paging;
	fake->ops.remove_dev_pasid = kfake_remove_dev_pasid;
	fake->ops.owner = THIS_MODULE;
	if (!cfg->no_blocked_domain)
		fake->ops.blocked_domain = &kfake_blocked_domain;
	if (cfg->alloc_identity)
		fake->ops.domain_alloc = kfake_domain_alloc_identity;
	else if (!cfg->no_identity_domain)
		fake->ops.identity_domain = &kfake_identity_domain;
	if (cfg->blocked_default)
		fake->ops.default_domain = &kfake_blocked_domain;
	if (cfg->release == KFAKE_RELEASE_BLOCKED)
		fake->ops.release_domain = &kfake_blocked_domain;
	else if (cfg->release == KFAKE_RELEASE_IDENTITY)
		fake->ops.release_domain = &kfake_identity_domain;
	fake->iommu.max_pasids = cfg->max_pasids;

	ret = iommu_device_sysfs_add(&fake->iommu, NULL, NULL, "kfake-iommu");
	KUNIT_ASSERT_EQ(test, ret, 0);

	kfake_current = fake;
	ret = kunit_add_action_or_reset(test, kfake_destroy, fake);
	KUNIT_ASSERT_EQ(test, ret, 0);

	/*
	 * Devices are ours through a fwspec naming a fwnode of our own
	 * (iommu_mock_device_set_fwspec()). Without it, the core would look
	 * the fwspec's ops up by a NULL fwnode and find the first IOMMU
	 * registered without one, such as the iommufd selftest's mock.
	 */
	fake->fwnode = fwnode_create_software_node(NULL, NULL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, fake->fwnode);
	fake->iommu.fwnode = fake->fwnode;

	if (bus) {
		ret = iommu_device_register_bus(&fake->iommu, &fake->ops, bus,
						&fake->nb);
		KUNIT_ASSERT_EQ(test, ret, 0);
		fake->registered = true;
		return fake;
	}

	/*
	 * On the buses the core already watches, register like a real driver:
	 * only devices given our fwspec are ours, never the platform's.
	 */
	ret = iommu_device_register(&fake->iommu, &fake->ops, NULL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	fake->registered = true;
	return fake;
}

static struct kfake_dev *kfake_new_dev(struct kfake *fake,
				       const struct kfake_dev_cfg *cfg)
{
	struct kfake_dev *kd;

	/* kfake_destroy() frees it: it runs after later kunit allocations go */
	kd = kzalloc(sizeof(*kd), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(fake->test, kd);
	kd->cfg = *cfg;
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

/* A device of the fake bus, not added yet */
static struct kfake_dev *kfake_new_bus_dev(struct kfake *fake,
					   const struct kfake_dev_cfg *cfg)
{
	struct kunit *test = fake->test;
	struct kfake_dev *kd = kfake_new_dev(fake, cfg);
	struct device *dev;
	int ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
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
	if (ret) {
		put_device(dev);
		KUNIT_FAIL_AND_ABORT(test, "making a fake device: %d", ret);
	}
	/* probe_device() looks the device up by it */
	kd->owned = dev;
	return kd;
}

struct kfake_dev *kfake_add_dev(struct kfake *fake,
				const struct kfake_dev_cfg *cfg)
{
	struct kfake_dev *kd = kfake_new_bus_dev(fake, cfg);
	int ret;

	kd->added = true;
	ret = iommu_mock_device_add(kd->owned, &fake->iommu);
	if (ret) {
		kd->added = false;
		put_device(kd->owned);
		KUNIT_FAIL_AND_ABORT(fake->test, "adding a fake device: %d", ret);
	}
	return kd;
}

/*
 * Add a device of the fake bus while the fake is not registered, then
 * register it again: the core probes the device as it does those of a
 * driver registering late, in bus_iommu_probe(). Returns what registering
 * returned; *kdp is the device, probed or not.
 */
int kfake_add_dev_before_iommu(struct kfake *fake,
			       const struct kfake_dev_cfg *cfg,
			       struct kfake_dev **kdp)
{
	struct kfake_dev *kd = kfake_new_bus_dev(fake, cfg);
	int ret;

	KUNIT_ASSERT_TRUE(fake->test, fake->registered && fake->bus);
	ret = iommu_mock_device_set_fwspec(kd->owned, &fake->iommu);
	if (ret) {
		put_device(kd->owned);
		KUNIT_FAIL_AND_ABORT(fake->test, "naming the fake IOMMU: %d", ret);
	}
	iommu_device_unregister_bus(&fake->iommu, fake->bus, &fake->nb);
	fake->registered = false;

	kd->added = true;
	ret = device_add(kd->owned);
	if (ret) {
		kd->added = false;
		put_device(kd->owned);
		KUNIT_FAIL_AND_ABORT(fake->test, "adding a fake device: %d", ret);
	}
	*kdp = kd;

	ret = iommu_device_register_bus(&fake->iommu, &fake->ops, fake->bus,
					&fake->nb);
	fake->registered = !ret;
	return ret;
}

void kfake_remove_dev(struct kfake *fake, struct kfake_dev *kd)
{
	if (!kd->added)
		return;
	kd->added = false;
	/*
	 * Without the fake registered, the core does not see the device go
	 * from the bus (kfake_add_dev_before_iommu() may leave it so).
	 */
	if (!fake->registered)
		iommu_group_remove_device(kd->owned);
	device_del(kd->owned);
	put_device(kd->owned);
}

struct kfake_dev *kfake_find(struct kfake *fake, struct device *dev)
{
	return kfake_match(fake, dev);
}

struct iommu_group *kfake_group(struct kunit *test, struct kfake_dev *kd)
{
	struct iommu_group *group = iommu_group_get(kd->dev);

	KUNIT_ASSERT_NOT_NULL(test, group);
	/* The device holds a reference for as long as the test uses it */
	iommu_group_put(group);
	return group;
}

struct iommu_domain *kfake_alloc_paging(struct kunit *test,
					struct kfake_dev *kd)
{
	struct iommu_domain *domain = iommu_paging_domain_alloc(kd->dev);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, domain);
	return domain;
}

struct iommu_domain *kfake_alloc_foreign(struct kunit *test)
{
	struct kfake_paging *paging;

	paging = kunit_kzalloc(test, sizeof(*paging), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, paging);
	paging->domain.type = IOMMU_DOMAIN_UNMANAGED;
	paging->domain.ops = &kfake_paging_ops;
	paging->domain.owner = &kfake_foreign_ops;
	paging->domain.pgsize_bitmap = SZ_4K;
	return &paging->domain;
}

struct iommu_domain *kfake_pasid_domain(struct kfake_dev *kd, ioasid_t pasid)
{
	return xa_load(&kd->pasids, pasid);
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

static void kfake_expect_ops(struct kunit *test, struct kfake *fake,
			     const struct kfake_event *want, unsigned int nr,
			     bool tests)
{
	unsigned int i, n = 0;

	KUNIT_EXPECT_FALSE(test, fake->overflow);
	for (i = 0; i < fake->nr_events; i++) {
		const struct kfake_event *ev = &fake->events[i];

		if (ev->op != KFAKE_ATTACH && ev->op != KFAKE_SET_PASID &&
		    ev->op != KFAKE_PASID_REMOVE &&
		    (!tests || ev->op != KFAKE_TEST))
			continue;
		if (n < nr) {
			const struct kfake_event *w = &want[n];

			KUNIT_EXPECT_EQ_MSG(test, ev->op, w->op,
					    "call %u", n);
			KUNIT_EXPECT_PTR_EQ_MSG(test, ev->dev, w->dev,
						"call %u: device", n);
			KUNIT_EXPECT_PTR_EQ_MSG(test, ev->domain, w->domain,
						"call %u: domain", n);
			KUNIT_EXPECT_PTR_EQ_MSG(test, ev->old, w->old,
						"call %u: old domain", n);
			KUNIT_EXPECT_EQ_MSG(test, ev->pasid, w->pasid,
					    "call %u: pasid", n);
			KUNIT_EXPECT_EQ_MSG(test, ev->ret, w->ret,
					    "call %u: result", n);
		}
		n++;
	}
	KUNIT_EXPECT_EQ_MSG(test, n, nr, tests ?
			    "test_dev/attach/set_dev_pasid/remove_dev_pasid calls" :
			    "attach/set_dev_pasid/remove_dev_pasid calls");
}

void kfake_expect_log(struct kunit *test, struct kfake *fake,
		      const struct kfake_event *want, unsigned int nr)
{
	kfake_expect_ops(test, fake, want, nr, false);
}

void kfake_expect_calls(struct kunit *test, struct kfake *fake,
			const struct kfake_event *want, unsigned int nr)
{
	kfake_expect_ops(test, fake, want, nr, true);
}

bool kfake_default_is_dma(void)
{
	return IS_ENABLED(CONFIG_IOMMU_DMA) && !iommu_default_passthrough();
}
