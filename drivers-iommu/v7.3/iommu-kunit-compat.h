/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the IOMMU KUnit helpers need of the kernel they are built in: the API
 * differences between the trees they are kept for, and nothing else. Only
 * this file differs between those trees; this one is for mainline (v7.3).
 * It is included by iommu-kunit-helpers.c only, whose functions it calls.
 */
#ifndef __IOMMU_KUNIT_COMPAT_H
#define __IOMMU_KUNIT_COMPAT_H

#include <linux/iommu.h>
#include <linux/slab.h>

/* iommu_replace_device_pasid() exists */
#define KFAKE_HAS_PASID_REPLACE		1
#define kfake_core_replace_pasid(_domain, _dev, _pasid, _handle)	\
	iommu_replace_device_pasid(_domain, _dev, _pasid, _handle)

/* Mainline's pci_reset_bus() does not block the devices it resets */
#define KFAKE_HAS_BUS_RESET_BLOCK	0

#define kfake_zalloc_obj(_p)		kzalloc_obj(*(_p))

#define KFAKE_IMPORT_NS(_ns)		MODULE_IMPORT_NS(#_ns)

/*
 * The domain a driver asking the core believes the device is on; what
 * arm-smmu-v3 re-installs when the last PASID of a device goes away.
 */
#define kfake_driver_domain(_dev)	iommu_driver_get_domain_for_dev(_dev)

/*
 * The core's record for test_dev(): arm-smmu-v3 and AMD judge a PASID by the
 * domain of the RID, and the RID by the PASIDs in use, which a reset removes
 * from the hardware; their test_dev() reads them from the core.
 */
#define KFAKE_HAS_TEST_DEV_RECORD	1
#define kfake_record_rid(_dev)		iommu_test_dev_rid_domain(_dev)
#define kfake_record_has_pasids(_dev)	iommu_test_dev_has_pasids(_dev)

/* attach_dev() is told the old domain ... */
#define KFAKE_ATTACH_DEV_PARAMS						\
	struct iommu_domain *domain, struct device *dev,		\
	struct iommu_domain *old
#define KFAKE_ATTACH_DEV_OLD		old
#define KFAKE_ATTACH_HAS_OLD		1

/* ... and arm-smmu-v3 moves the device, or a PASID, off that one */
static inline struct iommu_domain *kfake_smmu_old(struct device *dev,
						  struct iommu_domain *old)
{
	return old;
}

static inline struct iommu_domain *
kfake_smmu_pasid_old(struct iommu_domain *old)
{
	return old;
}

/* The blocked domain's set_dev_pasid() removes a PASID */
#define KFAKE_BLOCKED_PASID_OP		.set_dev_pasid = kfake_set_dev_pasid,

static inline void kfake_set_remove_pasid_op(struct iommu_ops *ops)
{
}

/* The core blocks the devices of every driver around a reset */
#define KFAKE_HAS_RESET_OPT_IN		0
static inline void kfake_set_reset_ops(struct iommu_ops *ops, bool block)
{
}

/* domain_alloc_paging_flags() and domain_alloc_identity() */
static struct iommu_domain *kfake_domain_alloc_paging(struct device *dev);
static struct iommu_domain *kfake_domain_alloc_identity(struct device *dev);

static struct iommu_domain *
kfake_domain_alloc_paging_flags(struct device *dev, u32 flags,
				const struct iommu_user_data *user_data)
{
	if (user_data || (flags & ~IOMMU_HWPT_ALLOC_PASID))
		return ERR_PTR(-EOPNOTSUPP);
	return kfake_domain_alloc_paging(dev);
}

static inline void kfake_set_alloc_ops(struct iommu_ops *ops, bool identity)
{
	ops->domain_alloc_paging_flags = kfake_domain_alloc_paging_flags;
	if (identity)
		ops->domain_alloc_identity = kfake_domain_alloc_identity;
}

/* iommu_device_register_bus() makes the fwnode of the fake bus's IOMMU */
#define KFAKE_BUS_NEEDS_FWNODE		false

/* Mainline with this series: the reference the suites are written for */
#define KFAKE_BASE_DIFFS		0

#endif /* __IOMMU_KUNIT_COMPAT_H */
