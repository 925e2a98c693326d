/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A fake IOMMU driver for the KUnit tests of the IOMMU core.
 *
 * The fake driver keeps what real hardware would keep, the domain each RID and
 * each PASID of a device translates with, and records every callback the core
 * makes, so a test can assert both what the hardware ends up with and how the
 * core got it there.
 */
#ifndef __IOMMU_KUNIT_H
#define __IOMMU_KUNIT_H

#include <kunit/test.h>
#include <linux/iommu.h>
#include <linux/xarray.h>

enum kfake_release {
	KFAKE_RELEASE_NONE,
	KFAKE_RELEASE_BLOCKED,
	KFAKE_RELEASE_IDENTITY,
};

/* What the driver as a whole supports, fixed when it registers */
struct kfake_cfg {
	bool no_blocked_domain;
	bool no_identity_domain;
	/* Allocate identity domains with domain_alloc() instead */
	bool alloc_identity;
	/* A legacy driver whose default domain is always its blocked one */
	bool blocked_default;
	enum kfake_release release;
	/* Number of PASIDs the fake IOMMU instance supports, 0 for none */
	u32 max_pasids;
	/* domain_alloc_paging() fails with -ENOMEM */
	bool fail_paging_alloc;
	/* Paging domains have no test_dev(), as in a driver without one */
	bool no_test_dev;
};

/* What one device looks like to the driver */
struct kfake_dev_cfg {
	/* Devices with the same non-zero key share an iommu_group */
	unsigned int group;
	/* The device has an IOMMU_RESV_DIRECT region */
	bool direct;
	/* is_attach_deferred() returns true */
	bool deferred;
	/* def_domain_type() asks for an identity domain */
	bool identity;
	/* probe_device() fails with this error, when non-zero */
	int probe_err;
	/* PASID width published by a fake-bus device, 0 for none */
	u32 pasid_bits;
};

enum kfake_op {
	KFAKE_ATTACH,
	KFAKE_SET_PASID,
	KFAKE_PASID_REMOVE,
	KFAKE_PROBE,
	KFAKE_RELEASE,
	KFAKE_ALLOC,
	KFAKE_FREE,
	KFAKE_TEST,
};

struct kfake_event {
	enum kfake_op op;
	struct device *dev;
	struct iommu_domain *domain;
	struct iommu_domain *old;
	ioasid_t pasid;
	int ret;
};

#define KFAKE_MAX_EVENTS 256

struct kfake_dev {
	struct list_head node;
	struct kfake_dev_cfg cfg;
	struct device *dev;
	/* Fake-bus device, NULL when the device belongs to a PCI bus */
	struct device *owned;
	/* PCI devices are matched by domain, bus number and devfn */
	bool is_pci;
	int domain;
	int busnr;
	unsigned int devfn;
	bool probed;
	/* The fake-bus device is still registered */
	bool added;

	/* "Hardware" state: the domain of the RID and of each PASID */
	struct iommu_domain *rid;
	struct xarray pasids;

	/* Error injection: attaching @fail_domain fails with @fail_err */
	struct iommu_domain *fail_domain;
	int fail_err;
	/* test_dev() of @refuse_domain fails with @refuse_err */
	struct iommu_domain *refuse_domain;
	int refuse_err;
};

struct kfake {
	struct kunit *test;
	struct iommu_device iommu;
	struct iommu_ops ops;
	struct notifier_block nb;
	/* Fake bus of our own, or NULL for the buses the core watches */
	const struct bus_type *bus;
	struct fwnode_handle *fwnode;
	struct kfake_cfg cfg;
	struct list_head devs;
	bool registered;

	unsigned int nr_events;
	bool overflow;
	struct kfake_event events[KFAKE_MAX_EVENTS];
};

struct kfake_paging {
	struct iommu_domain domain;
	unsigned long mapped;
};

extern struct iommu_domain kfake_blocked_domain;
extern struct iommu_domain kfake_identity_domain;
extern const struct iommu_ops kfake_foreign_ops;

struct kfake *kfake_create(struct kunit *test, const struct bus_type *bus,
			   const struct kfake_cfg *cfg);
struct kfake_dev *kfake_dev_expect_pci(struct kfake *fake, int domain,
				       int busnr, unsigned int devfn,
				       const struct kfake_dev_cfg *cfg);
struct kfake_dev *kfake_add_dev(struct kfake *fake,
				const struct kfake_dev_cfg *cfg);
int kfake_add_dev_before_iommu(struct kfake *fake,
			       const struct kfake_dev_cfg *cfg,
			       struct kfake_dev **kdp);
void kfake_remove_dev(struct kfake *fake, struct kfake_dev *kd);
struct kfake_dev *kfake_find(struct kfake *fake, struct device *dev);

struct iommu_domain *kfake_alloc_paging(struct kunit *test,
					struct kfake_dev *kd);
struct iommu_domain *kfake_alloc_foreign(struct kunit *test);
struct iommu_domain *kfake_pasid_domain(struct kfake_dev *kd, ioasid_t pasid);

void kfake_clear_log(struct kfake *fake);
unsigned int kfake_count(struct kfake *fake, enum kfake_op op,
			 struct device *dev);
void kfake_expect_log(struct kunit *test, struct kfake *fake,
		      const struct kfake_event *want, unsigned int nr);
void kfake_expect_calls(struct kunit *test, struct kfake *fake,
			const struct kfake_event *want, unsigned int nr);

/* The domain the core holds for the device's group */
static inline struct iommu_domain *kfake_cur(struct kfake_dev *kd)
{
	return iommu_get_domain_for_dev(kd->dev);
}

struct iommu_group *kfake_group(struct kunit *test, struct kfake_dev *kd);

/* Whether default domains are DMA API paging domains in this kernel */
bool kfake_default_is_dma(void);

/*
 * The attach and PASID callbacks, the calls that reach the hardware, recorded
 * since the last kfake_clear_log(), must be exactly these, in this order.
 * attach_dev() is not told the old domain: the fake records the domain its
 * "hardware" had for the RID. remove_dev_pasid() records as old the domain the
 * core says the PASID leaves.
 */
#define KFAKE_ATTACH_EV(_dom, _kd, _old)				\
	{ .op = KFAKE_ATTACH, .domain = (_dom), .dev = (_kd)->dev,	\
	  .old = (_old) }
#define KFAKE_ATTACH_FAIL_EV(_dom, _kd, _old, _err)			\
	{ .op = KFAKE_ATTACH, .domain = (_dom), .dev = (_kd)->dev,	\
	  .old = (_old), .ret = (_err) }
#define KFAKE_PASID_FAIL_EV(_dom, _kd, _pasid, _old, _err)		\
	{ .op = KFAKE_SET_PASID, .domain = (_dom), .dev = (_kd)->dev,	\
	  .pasid = (_pasid), .old = (_old), .ret = (_err) }
#define KFAKE_PASID_EV(_dom, _kd, _pasid, _old)				\
	{ .op = KFAKE_SET_PASID, .domain = (_dom), .dev = (_kd)->dev,	\
	  .pasid = (_pasid), .old = (_old) }
#define KFAKE_PASID_REMOVE_EV(_kd, _pasid, _old)			\
	{ .op = KFAKE_PASID_REMOVE, .dev = (_kd)->dev,			\
	  .pasid = (_pasid), .old = (_old) }
#define KFAKE_TEST_EV(_dom, _kd, _pasid, _old)				\
	{ .op = KFAKE_TEST, .domain = (_dom), .dev = (_kd)->dev,	\
	  .pasid = (_pasid), .old = (_old) }
#define KFAKE_TEST_FAIL_EV(_dom, _kd, _pasid, _old, _err)		\
	{ .op = KFAKE_TEST, .domain = (_dom), .dev = (_kd)->dev,	\
	  .pasid = (_pasid), .old = (_old), .ret = (_err) }
#define KFAKE_EXPECT_HW(_test, _fake, ...)				\
	do {								\
		const struct kfake_event __want[] = { __VA_ARGS__ };	\
									\
		kfake_expect_log(_test, _fake, __want,			\
				 ARRAY_SIZE(__want));			\
	} while (0)
#define KFAKE_EXPECT_NO_HW(_test, _fake)				\
	kfake_expect_log(_test, _fake, NULL, 0)

/* The same, test_dev() calls included */
#define KFAKE_EXPECT_CALLS(_test, _fake, ...)				\
	do {								\
		const struct kfake_event __want[] = { __VA_ARGS__ };	\
									\
		kfake_expect_calls(_test, _fake, __want,		\
				   ARRAY_SIZE(__want));			\
	} while (0)
#define KFAKE_EXPECT_NO_CALLS(_test, _fake)				\
	kfake_expect_calls(_test, _fake, NULL, 0)

#endif /* __IOMMU_KUNIT_H */
