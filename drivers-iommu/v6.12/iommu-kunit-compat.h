/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the IOMMU KUnit helpers need of the kernel they are built in: the API
 * differences between the trees they are kept for, and nothing else. Only
 * this file differs between those trees; this one is for 6.12.
 * It is included by iommu-kunit-helpers.c only, whose functions it calls.
 */
#ifndef __IOMMU_KUNIT_COMPAT_H
#define __IOMMU_KUNIT_COMPAT_H

#include <linux/iommu.h>
#include <linux/slab.h>

/* No iommu_replace_device_pasid(): PASID replace cases are skipped */
#define KFAKE_HAS_PASID_REPLACE		0
static inline int kfake_core_replace_pasid(struct iommu_domain *domain,
					   struct device *dev, ioasid_t pasid,
					   struct iommu_attach_handle *handle)
{
	return -EOPNOTSUPP;
}

/*
 * pci_reset_bus() blocks the IOMMU translation of every device it resets
 * (pci_bus_save_and_disable_locked(), pci_slot_save_and_disable_locked())
 */
#define KFAKE_HAS_BUS_RESET_BLOCK	1

#define kfake_zalloc_obj(_p)		kzalloc(sizeof(*(_p)), GFP_KERNEL)

#define KFAKE_IMPORT_NS(_ns)		MODULE_IMPORT_NS(_ns)

/* The domain a driver asking the core believes the device is on */
#define kfake_driver_domain(_dev)	iommu_driver_get_domain_for_dev(_dev)

/* The core blocks the devices of a driver around a reset if it opts in */
#define KFAKE_HAS_RESET_OPT_IN		1
static inline void kfake_set_reset_ops(struct iommu_ops *ops, bool block)
{
	ops->block_on_reset = block;
}

/*
 * No record of the core for test_dev(): the fakes of arm-smmu-v3 and AMD, whose
 * rules need it during a reset, have no test_dev(), as their 6.12 drivers.
 */
#define KFAKE_HAS_TEST_DEV_RECORD	0

static inline struct iommu_domain *kfake_record_rid(struct device *dev)
{
	return NULL;
}

static inline bool kfake_record_has_pasids(struct device *dev)
{
	return false;
}

/*
 * attach_dev() is not told the old domain: the fake logs none and the
 * matchers do not compare it ...
 */
#define KFAKE_ATTACH_DEV_PARAMS						\
	struct iommu_domain *domain, struct device *dev
#define KFAKE_ATTACH_DEV_OLD		NULL
#define KFAKE_ATTACH_HAS_OLD		0

/*
 * ... and arm-smmu-v3 moves the RID off the domain the core's getter for
 * drivers answers. Its set_dev_pasid() takes a PASID off no domain's list,
 * as the core attaches only a free PASID; remove_dev_pasid() takes it off
 * the domain it is given.
 */
static inline struct iommu_domain *kfake_smmu_old(struct device *dev,
						  struct iommu_domain *old)
{
	return iommu_driver_get_domain_for_dev(dev);
}

static inline struct iommu_domain *
kfake_smmu_pasid_old(struct iommu_domain *old)
{
	return NULL;
}

/* The core removes a PASID with ops->remove_dev_pasid() */
#define KFAKE_BLOCKED_PASID_OP

static int kfake_set_dev_pasid(struct iommu_domain *domain, struct device *dev,
			       ioasid_t pasid, struct iommu_domain *old);

static void kfake_remove_dev_pasid(struct device *dev, ioasid_t pasid,
				   struct iommu_domain *domain)
{
	kfake_set_dev_pasid(&kfake_blocked_domain, dev, pasid, domain);
}

static inline void kfake_set_remove_pasid_op(struct iommu_ops *ops)
{
	ops->remove_dev_pasid = kfake_remove_dev_pasid;
}

/* domain_alloc_paging() and, for identity, the legacy domain_alloc() */
static struct iommu_domain *kfake_domain_alloc_paging(struct device *dev);
static struct iommu_domain *kfake_domain_alloc_identity(struct device *dev);

static struct iommu_domain *kfake_domain_alloc(unsigned int type)
{
	if (type != IOMMU_DOMAIN_IDENTITY)
		return ERR_PTR(-EOPNOTSUPP);
	return kfake_domain_alloc_identity(NULL);
}

static inline void kfake_set_alloc_ops(struct iommu_ops *ops, bool identity)
{
	ops->domain_alloc_paging = kfake_domain_alloc_paging;
	if (identity)
		ops->domain_alloc = kfake_domain_alloc;
}

/*
 * The fake bus's IOMMU needs a fwnode of its own: without one, the core
 * would look the fwspec's ops up by a NULL fwnode and find the first IOMMU
 * registered without one, such as the iommufd selftest's mock.
 */
#define KFAKE_BUS_NEEDS_FWNODE		true

/*
 * Where 6.12 and this series on it do not behave as mainline with the v7.3
 * series: the core reverts a failed change on the device that failed too and
 * attaches PASIDs without a blocked domain (later mainline does neither), and
 * the series tests a domain before it finds a PASID busy and leaves a
 * require_direct device that a forced change cannot move on the old domain.
 */
#define KFAKE_BASE_DIFFS						\
	(BIT(KFAKE_DIFF_REVERT_FAILED_DEV) |				\
	 BIT(KFAKE_DIFF_PASID_WITHOUT_BLOCKED) |			\
	 BIT(KFAKE_DIFF_PASID_TESTED_WHEN_BUSY) |			\
	 BIT(KFAKE_DIFF_DIRECT_LEFT_ON_OLD))

#endif /* __IOMMU_KUNIT_COMPAT_H */
