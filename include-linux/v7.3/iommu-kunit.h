/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * KUnit helpers for tests of the IOMMU core: a fake IOMMU driver, a software
 * PCIe host bridge whose functions the fake translates for, and helpers that
 * change the core's state and undo it when the test ends.
 *
 * The fake keeps what hardware would keep, the domain each RID and each PASID
 * of a device translates with, and logs every callback the core makes, so a
 * test asserts both what the hardware ends up with and how the core got it
 * there. It behaves like a real driver when asked to (enum kfake_personality):
 * the bugs a polite driver hides are those real drivers expose.
 *
 * Everything a helper creates, a domain, an attach, a PASID, DMA ownership, a
 * reset in progress, is undone by a KUnit action it registers, in the order
 * the core needs, so a case that stops at a failed assertion leaves nothing
 * behind for the next one.
 */
#ifndef _LINUX_IOMMU_KUNIT_H
#define _LINUX_IOMMU_KUNIT_H

#include <kunit/test.h>
#include <linux/iommu.h>
#include <linux/pci.h>
#include <linux/xarray.h>

/**
 * kfake_skip() - kunit_skip(), except that a case that already failed stays
 * failed (a skip would hide the failure) and stops there
 * @test: the test.
 * @fmt: printf()-style reason.
 */
__printf(2, 3) __noreturn void kfake_skip(struct kunit *test,
					  const char *fmt, ...);

/*
 * Kernels whose KUnit cannot suppress a WARN skip, where it would start, a
 * case that expects one, rather than print a splat the run counts as a bug.
 */
#ifdef kunit_warning_suppress
static inline void kfake_need_warn_suppress(struct kunit *test)
{
}

/* A block that must not WARN: suppress any, and count them after it */
#define kfake_warning_free(test)	kunit_warning_suppress(test)
#else
static inline void kfake_need_warn_suppress(struct kunit *test)
{
	kfake_skip(test, "this KUnit cannot suppress the WARN expected here");
}

static inline void kfake_no_warn_count(struct kunit *test, int expected)
{
}

/* The body never runs: the case is skipped first */
#define kunit_warning_suppress(test)					\
	for (kfake_need_warn_suppress(test); false; )
/*
 * A block that must not WARN runs once: a WARN is a splat in the kernel log,
 * which fails the run, where it cannot be counted.
 */
#define kfake_warning_free(test)					\
	for (int __kfake_once = ((void)(test), 1); __kfake_once;	\
	     __kfake_once = 0)
#define KUNIT_EXPECT_SUPPRESSED_WARNING_COUNT(test, expected)		\
	kfake_no_warn_count(test, expected)
#endif

/**
 * enum kfake_personality - the real driver the fake behaves like
 * @KFAKE_PLAIN: a polite driver: test_dev() on every domain, a failed attach
 *	leaves the device where it was.
 * @KFAKE_VTD: Intel VT-d: several IOMMU units with different address widths;
 *	test_dev() on paging domains only; attach_dev() blocks the device before
 *	it checks the domain, so a failed attach leaves the device blocked.
 * @KFAKE_SMMUV3: Arm SMMUv3: the driver keeps, per paging domain, the list
 *	of devices an invalidation walks, and moves a device between lists by
 *	the old domain it is given; a stage-2 RID domain and PASIDs exclude
 *	each other (-EBUSY); when the last PASID goes, the RID is re-attached to
 *	the driver's idea of its static domain. Where the core has a record
 *	for test_dev() (kfake_has_test_dev()), test_dev() judges these rules on
 *	it, as the driver does, and attach_dev() on the hardware.
 * @KFAKE_AMD: AMD-Vi: blocking the RID frees the device's PASID table, so a
 *	PASID callback after it uses freed state, which fails the test; a
 *	paging or identity RID domain allocates a new, empty table;
 *	set_dev_pasid() does not replace: it refuses any old domain. test_dev()
 *	as for %KFAKE_SMMUV3.
 * @KFAKE_NR_PERSONALITIES: number of personalities.
 */
enum kfake_personality {
	KFAKE_PLAIN,
	KFAKE_VTD,
	KFAKE_SMMUV3,
	KFAKE_AMD,
	KFAKE_NR_PERSONALITIES,
};

/**
 * enum kfake_release - the release_domain of the fake driver
 * @KFAKE_RELEASE_NONE: none.
 * @KFAKE_RELEASE_BLOCKED: the static blocked domain, as VT-d and SMMUv3.
 * @KFAKE_RELEASE_IDENTITY: the static identity domain.
 * @KFAKE_RELEASE_SEPARATE_BLOCKED: a static domain of type BLOCKED that is
 *	not ops->blocked_domain, as AMD had in several releases.
 */
enum kfake_release {
	KFAKE_RELEASE_NONE,
	KFAKE_RELEASE_BLOCKED,
	KFAKE_RELEASE_IDENTITY,
	KFAKE_RELEASE_SEPARATE_BLOCKED,
};

/**
 * enum kfake_kind - a kind of domain, to inject failures before probe
 * @KFAKE_KIND_NONE: no injection.
 * @KFAKE_KIND_ANY: any domain.
 * @KFAKE_KIND_BLOCKED: a domain of type BLOCKED.
 * @KFAKE_KIND_IDENTITY: a domain of type IDENTITY.
 * @KFAKE_KIND_PAGING: a paging domain (default DMA domains included).
 */
enum kfake_kind {
	KFAKE_KIND_NONE,
	KFAKE_KIND_ANY,
	KFAKE_KIND_BLOCKED,
	KFAKE_KIND_IDENTITY,
	KFAKE_KIND_PAGING,
};

#define KFAKE_NR_UNITS	2

/**
 * struct kfake_cfg - what the fake driver as a whole is, fixed at registration
 * @personality: the real driver it behaves like.
 * @no_blocked_domain: no static blocked domain (the core makes a paging one).
 * @no_identity_domain: no identity domain at all.
 * @alloc_identity: identity domains come from domain_alloc_identity().
 * @blocked_default: a legacy driver whose default domain is its blocked one.
 * @own_default: a driver whose ops->default_domain is a static domain of its
 *	own that is neither identity nor blocked (fsl_pamu's platform domain).
 * @release: its release_domain.
 * @no_log: callbacks keep the "hardware" state but log nothing (benchmark).
 * @max_pasids: PASIDs of IOMMU unit 0, 0 for none.
 * @unit1_max_pasids: PASIDs of IOMMU unit 1 (kfake_dev_cfg.unit).
 * @query_driver_domain: callbacks log iommu_driver_get_domain_for_dev().
 * @fail_paging_alloc: domain_alloc_paging fails with -ENOMEM.
 * @no_test_dev: no domain has test_dev(), as in a driver without it.
 * @no_reset_block: the driver does not let the core block its devices around
 *	a reset (6.12: it does not set block_on_reset in its iommu_ops; mainline
 *	blocks the devices of every driver).
 * @dirty_failures: a failed attach_dev() or set_dev_pasid() leaves the RID or
 *	PASID blocked (always so for %KFAKE_VTD).
 */
struct kfake_cfg {
	enum kfake_personality personality;
	bool no_blocked_domain;
	bool no_identity_domain;
	bool alloc_identity;
	bool blocked_default;
	bool own_default;
	enum kfake_release release;
	bool no_log;
	u32 max_pasids;
	u32 unit1_max_pasids;
	bool query_driver_domain;
	bool fail_paging_alloc;
	bool no_test_dev;
	bool no_reset_block;
	bool dirty_failures;
};

/**
 * struct kfake_dev_cfg - what one device looks like to the fake driver
 * @group: devices with the same non-zero key share an iommu_group.
 * @direct: the device has an IOMMU_RESV_DIRECT region (require_direct).
 * @deferred: is_attach_deferred() says so.
 * @identity: def_domain_type() asks for an identity domain.
 * @probe_err: probe_device() fails with this error, when non-zero.
 * @pasid_bits: PASID width published by a fake-bus device, 0 for none.
 * @unit: the IOMMU unit (0 or 1) the device sits behind.
 * @fail_kind: attaching a domain of this kind to the RID fails with
 *	@fail_err, from the first attach at probe on.
 * @fail_err: see @fail_kind.
 * @refuse_kind: test_dev() refuses domains of this kind with @refuse_err,
 *	from probe on (a device joining a group).
 * @refuse_err: see @refuse_kind.
 */
struct kfake_dev_cfg {
	unsigned int group;
	bool direct;
	bool deferred;
	bool identity;
	int probe_err;
	u32 pasid_bits;
	unsigned int unit;
	enum kfake_kind fail_kind;
	int fail_err;
	enum kfake_kind refuse_kind;
	int refuse_err;
};

/**
 * enum kfake_op - the callbacks the fake logs
 * @KFAKE_ATTACH: attach_dev().
 * @KFAKE_SET_PASID: set_dev_pasid().
 * @KFAKE_PROBE: probe_device().
 * @KFAKE_RELEASE: release_device().
 * @KFAKE_ALLOC: a domain allocation.
 * @KFAKE_FREE: a domain free.
 * @KFAKE_TEST: test_dev().
 */
enum kfake_op {
	KFAKE_ATTACH,
	KFAKE_SET_PASID,
	KFAKE_PROBE,
	KFAKE_RELEASE,
	KFAKE_ALLOC,
	KFAKE_FREE,
	KFAKE_TEST,
};

/**
 * struct kfake_event - one logged callback
 * @op: which callback.
 * @dev: the device.
 * @domain: the domain.
 * @old: the old domain the core passed, or for a driver that takes it from
 *	the core's getter, the domain the getter returned.
 * @pasid: the PASID, IOMMU_NO_PASID for the RID.
 * @ret: what the callback returned.
 * @drv_cur: iommu_driver_get_domain_for_dev() when
 *	&kfake_cfg.query_driver_domain is set.
 * @untested_only: in an expectation, wanted only if @domain has no
 *	test_dev() (KFAKE_UNTESTED_ATTACH_EV()).
 * @refused: in an expectation, a refusal (KFAKE_REFUSED_EV()): by test_dev()
 *	if @domain has it, else by attach_dev() or set_dev_pasid(); @op is not
 *	used.
 */
struct kfake_event {
	enum kfake_op op;
	struct device *dev;
	struct iommu_domain *domain;
	struct iommu_domain *old;
	ioasid_t pasid;
	int ret;
	struct iommu_domain *drv_cur;
	bool untested_only;
	bool refused;
};

#define KFAKE_MAX_EVENTS 256

/**
 * struct kfake_dev - a device of the fake driver
 * @node: in &kfake.devs.
 * @cfg: its configuration.
 * @id: index among the fake's devices, for the SMMUv3 device lists.
 * @dev: the device, once probed.
 * @owned: the fake-bus device, NULL for a PCI function.
 * @is_pci: a PCI function, matched by @domain, @busnr and @devfn.
 * @domain: PCI domain.
 * @busnr: PCI bus number.
 * @devfn: PCI device and function.
 * @probed: probe_device() succeeded and release_device() has not run.
 * @added: the fake-bus device is registered.
 * @rid: "hardware": the domain the RID translates with.
 * @pasids: "hardware": the domain of each PASID.
 * @pasid_table_freed: AMD: the PASID table was freed by blocking the RID.
 * @fail_domain: attaching this domain (RID or PASID) fails with @fail_err.
 * @fail_err: see @fail_domain.
 * @refuse_domain: test_dev() of this domain fails with @refuse_err.
 * @refuse_err: see @refuse_domain.
 */
struct kfake_dev {
	struct list_head node;
	struct kfake_dev_cfg cfg;
	unsigned int id;
	struct device *dev;
	struct device *owned;
	bool is_pci;
	int domain;
	int busnr;
	unsigned int devfn;
	bool probed;
	bool added;

	struct iommu_domain *rid;
	struct xarray pasids;
	bool pasid_table_freed;

	struct iommu_domain *fail_domain;
	int fail_err;
	struct iommu_domain *refuse_domain;
	int refuse_err;
};

/**
 * struct kfake - one fake IOMMU driver, registered with the core
 * @test: the test it belongs to.
 * @iommu: its IOMMU units; unit 0 is registered, unit 1 shares its ops.
 * @ops: its iommu_ops.
 * @nb: bus notifier of a fake bus.
 * @bus: fake bus of our own, or NULL for the buses the core watches.
 * @fwnode: fwnode of unit 0 on the buses the core watches.
 * @cfg: its configuration.
 * @devs: its devices.
 * @nr_devs: devices made so far.
 * @registered: registered with the core.
 * @holds: state the helpers changed and undo at the end (struct kfake_hold).
 * @fail_nth_op: with @fail_nth, the op (%KFAKE_ATTACH or %KFAKE_SET_PASID)
 *	whose @fail_nth-th next call fails with @fail_nth_err.
 * @fail_nth: see @fail_nth_op; 0 when disarmed.
 * @fail_nth_err: see @fail_nth_op.
 * @nr_events: events logged since kfake_clear_log().
 * @overflow: more than %KFAKE_MAX_EVENTS were logged.
 * @events: the log.
 */
struct kfake {
	struct kunit *test;
	struct iommu_device iommu[KFAKE_NR_UNITS];
	struct iommu_ops ops;
	struct notifier_block nb;
	const struct bus_type *bus;
	struct fwnode_handle *fwnode;
	struct kfake_cfg cfg;
	struct list_head devs;
	unsigned int nr_devs;
	bool registered;
	struct list_head holds;

	enum kfake_op fail_nth_op;
	unsigned int fail_nth;
	int fail_nth_err;

	unsigned int nr_events;
	bool overflow;
	struct kfake_event events[KFAKE_MAX_EVENTS];
};

extern struct iommu_domain kfake_blocked_domain;
extern struct iommu_domain kfake_identity_domain;
extern struct iommu_domain kfake_release_blocked_domain;
extern struct iommu_domain kfake_platform_domain;
extern const struct iommu_ops kfake_foreign_ops;

/**
 * kfake_create() - register a fake IOMMU driver for the test
 * @test: the test; the driver and its devices go when it ends.
 * @bus: a bus of the test's own to register on, or NULL to register like a
 *	real driver on the buses the core watches (only devices given a
 *	fwspec naming the fake are its own).
 * @cfg: what the driver is.
 *
 * Fails the test if another fake is registered.
 *
 * Return: the fake.
 */
struct kfake *kfake_create(struct kunit *test, const struct bus_type *bus,
			   const struct kfake_cfg *cfg);

/* A bus of the tests' own, registered by kfake_bus_init() */
extern const struct bus_type kfake_bus;

/**
 * kfake_bus_init() - register kfake_bus, as a suite's suite_init
 * @suite: the suite.
 *
 * Return: 0 or the error of bus_register().
 */
int kfake_bus_init(struct kunit_suite *suite);

/**
 * kfake_bus_exit() - unregister kfake_bus, as a suite's suite_exit
 * @suite: the suite.
 */
void kfake_bus_exit(struct kunit_suite *suite);

/**
 * kfake_new() - kfake_create() on kfake_bus
 * @test: the test.
 * @cfg: what the driver is, NULL for a plain driver with a blocked
 *	release_domain and 64 PASIDs.
 *
 * Return: the fake.
 */
struct kfake *kfake_new(struct kunit *test, const struct kfake_cfg *cfg);

/**
 * kfake_new_as() - kfake_new() of the default driver with a personality
 * @test: the test.
 * @p: the personality.
 *
 * Return: the fake.
 */
struct kfake *kfake_new_as(struct kunit *test, enum kfake_personality p);

/**
 * kfake_expect_default_type() - check a domain is of the default type
 * @test: the test.
 * @domain: the domain: a DMA domain where the kernel's default domains are
 *	(kfake_default_is_dma()), else the static identity domain.
 */
void kfake_expect_default_type(struct kunit *test, struct iommu_domain *domain);

/**
 * kfake_event_index() - where the first @op of @dev is in the log
 * @fake: the fake.
 * @op: the callback.
 * @dev: the device.
 *
 * Return: its index, or -1.
 */
int kfake_event_index(struct kfake *fake, enum kfake_op op,
		      struct device *dev);

/**
 * kfake_dev_expect_pci() - make the fake translate for a PCI function
 * @fake: the fake.
 * @domain: PCI domain of the function.
 * @busnr: its bus number.
 * @devfn: its device and function.
 * @cfg: what it looks like to the driver.
 *
 * Return: the device, probed once the PCI core adds the function.
 */
struct kfake_dev *kfake_dev_expect_pci(struct kfake *fake, int domain,
				       int busnr, unsigned int devfn,
				       const struct kfake_dev_cfg *cfg);

/**
 * kfake_add_dev() - add a device on the fake's bus, which the core probes
 * @fake: the fake.
 * @cfg: what the device looks like to the driver.
 *
 * Return: the device; kfake_dev.dev is NULL when probe failed.
 */
struct kfake_dev *kfake_add_dev(struct kfake *fake,
				const struct kfake_dev_cfg *cfg);

/**
 * kfake_remove_dev() - remove a device added by kfake_add_dev()
 * @fake: the fake.
 * @kd: the device; the core releases it.
 */
void kfake_remove_dev(struct kfake *fake, struct kfake_dev *kd);

/**
 * kfake_group() - the iommu_group of a probed device
 * @test: the test, failed when the device has none.
 * @kd: the device.
 *
 * Return: the group, valid while the device is.
 */
struct iommu_group *kfake_group(struct kunit *test, struct kfake_dev *kd);

/**
 * kfake_alloc_paging() - allocate a paging domain for a device
 * @test: the test; the domain is freed when it ends, after every helper's
 *	attach of it is undone.
 * @kd: the device (its IOMMU unit owns the domain).
 *
 * Return: the domain.
 */
struct iommu_domain *kfake_alloc_paging(struct kunit *test,
					struct kfake_dev *kd);

/**
 * kfake_alloc_s2() - allocate a stage-2 paging domain (%KFAKE_SMMUV3)
 * @test: the test, as for kfake_alloc_paging().
 * @kd: the device.
 *
 * With %KFAKE_SMMUV3 a device whose RID is on such a domain takes no PASID,
 * and a device with PASIDs cannot take such a domain on its RID.
 *
 * Return: the domain.
 */
struct iommu_domain *kfake_alloc_s2(struct kunit *test, struct kfake_dev *kd);

/**
 * kfake_free_domain() - free a domain of kfake_alloc_paging() now
 * @test: the test.
 * @domain: the domain; helpers' attaches of it are undone first.
 */
void kfake_free_domain(struct kunit *test, struct iommu_domain *domain);

/**
 * kfake_alloc_foreign() - a paging domain of some other IOMMU driver
 * @test: the test; freed when it ends.
 *
 * Return: the domain.
 */
struct iommu_domain *kfake_alloc_foreign(struct kunit *test);

/**
 * kfake_pasid_domain() - the domain a PASID of a device translates with
 * @kd: the device.
 * @pasid: the PASID.
 *
 * Return: the domain, NULL when the PASID is blocked.
 */
struct iommu_domain *kfake_pasid_domain(struct kfake_dev *kd, ioasid_t pasid);

/**
 * kfake_domain_has_dev() - whether a paging domain's device list has a device
 * @domain: a paging domain of the fake.
 * @kd: the device.
 * @pasid: the PASID, IOMMU_NO_PASID for the RID.
 *
 * The list is what an IOTLB or ATC invalidation of the domain walks (SMMUv3
 * keeps it per domain; the fake keeps it for every personality).
 *
 * Return: true when the device (at @pasid) is on the list.
 */
bool kfake_domain_has_dev(struct iommu_domain *domain, struct kfake_dev *kd,
			  ioasid_t pasid);

/**
 * kfake_expect_lists() - check every device is on the lists of its domains
 * @test: the test, failed for each RID or PASID on a paging domain whose
 *	device list misses it, or on a list of a domain it is not on.
 * @fake: the fake.
 */
void kfake_expect_lists(struct kunit *test, struct kfake *fake);

/**
 * kfake_fail_nth() - make the @nth next call of @op fail
 * @fake: the fake.
 * @op: %KFAKE_ATTACH or %KFAKE_SET_PASID.
 * @nth: 1 for the next call.
 * @err: what it returns.
 */
void kfake_fail_nth(struct kfake *fake, enum kfake_op op, unsigned int nth,
		    int err);

/**
 * kfake_attach_group() - attach a domain to a group, detached at the end
 * @test: the test.
 * @domain: the domain.
 * @group: the group.
 *
 * Return: what iommu_attach_group() returns; the detach is registered only
 * on success.
 */
int kfake_attach_group(struct kunit *test, struct iommu_domain *domain,
		       struct iommu_group *group);

/**
 * kfake_attach_group_handle() - the same with an attach handle
 * @test: the test.
 * @domain: the domain.
 * @group: the group.
 *
 * Return: what iommu_attach_group_handle() returns.
 */
int kfake_attach_group_handle(struct kunit *test, struct iommu_domain *domain,
			      struct iommu_group *group);

/**
 * kfake_replace_group_handle() - replace the domain of a group
 * @test: the test.
 * @group: the group, attached by kfake_attach_group_handle().
 * @domain: the new domain.
 *
 * Return: what iommu_replace_group_handle() returns; on success the undo
 * detaches @domain.
 */
int kfake_replace_group_handle(struct kunit *test, struct iommu_group *group,
			       struct iommu_domain *domain);

/**
 * kfake_detach_group() - undo kfake_attach_group() or its handle variant now
 * @test: the test, failed when no helper attached @domain to @group.
 * @domain: the domain.
 * @group: the group.
 */
void kfake_detach_group(struct kunit *test, struct iommu_domain *domain,
			struct iommu_group *group);

/**
 * kfake_attach_pasid() - attach a domain to a PASID, detached at the end
 * @test: the test.
 * @domain: the domain.
 * @kd: the device.
 * @pasid: the PASID.
 *
 * The attach handle is the helper's (kfake_pasid_handle()).
 *
 * Return: what iommu_attach_device_pasid() returns.
 */
int kfake_attach_pasid(struct kunit *test, struct iommu_domain *domain,
		       struct kfake_dev *kd, ioasid_t pasid);

/**
 * kfake_replace_pasid() - replace the domain of an attached PASID
 * @test: the test, skipped when the kernel has no iommu_replace_device_pasid().
 * @domain: the new domain.
 * @kd: the device.
 * @pasid: the PASID, attached by kfake_attach_pasid(), or not attached at all
 *	to see the core refuse it (if it does not, the PASID is detached at the
 *	end of the test).
 *
 * Return: what iommu_replace_device_pasid() returns.
 */
int kfake_replace_pasid(struct kunit *test, struct iommu_domain *domain,
			struct kfake_dev *kd, ioasid_t pasid);

/**
 * kfake_detach_pasid() - undo kfake_attach_pasid() now
 * @test: the test, failed when no helper attached the PASID.
 * @kd: the device.
 * @pasid: the PASID.
 */
void kfake_detach_pasid(struct kunit *test, struct kfake_dev *kd,
			ioasid_t pasid);

/**
 * kfake_pasid_handle() - the attach handle of a helper's PASID attach
 * @kd: the device.
 * @pasid: the PASID.
 *
 * Return: the handle, NULL when no helper attached the PASID.
 */
struct iommu_attach_handle *kfake_pasid_handle(struct kfake_dev *kd,
					       ioasid_t pasid);

/**
 * kfake_claim_dma_owner() - claim DMA ownership of a group, released at the
 * end
 * @test: the test.
 * @group: the group.
 *
 * Return: what iommu_group_claim_dma_owner() returns.
 */
int kfake_claim_dma_owner(struct kunit *test, struct iommu_group *group);

/**
 * kfake_release_dma_owner() - undo kfake_claim_dma_owner() now
 * @test: the test, failed when no helper claimed @group.
 * @group: the group.
 */
void kfake_release_dma_owner(struct kunit *test, struct iommu_group *group);

/**
 * kfake_clear_log() - forget the logged callbacks
 * @fake: the fake.
 */
void kfake_clear_log(struct kfake *fake);

/**
 * kfake_count() - count logged callbacks
 * @fake: the fake.
 * @op: the callback.
 * @dev: the device, NULL for any.
 *
 * Return: how many.
 */
unsigned int kfake_count(struct kfake *fake, enum kfake_op op,
			 struct device *dev);

/**
 * kfake_expect_calls() - check the logged test_dev, attach and PASID calls
 * @test: the test.
 * @fake: the fake.
 * @want: the calls, in order.
 * @nr: their number.
 *
 * An expected test_dev() of a domain whose driver has none (a static domain
 * of %KFAKE_VTD, a driver with &kfake_cfg.no_test_dev) is dropped from @want:
 * one expectation serves every personality.
 */
void kfake_expect_calls(struct kunit *test, struct kfake *fake,
			const struct kfake_event *want, unsigned int nr);

/**
 * kfake_expect_hw_only() - check only the attach and PASID calls
 * @test: the test.
 * @fake: the fake.
 * @want: the calls, in order.
 * @nr: their number.
 *
 * For the few cases that must ignore test_dev(); each says why.
 */
void kfake_expect_hw_only(struct kunit *test, struct kfake *fake,
			  const struct kfake_event *want, unsigned int nr);

/**
 * kfake_cur() - the domain the core holds for a device's group
 * @kd: the device.
 *
 * Return: iommu_get_domain_for_dev().
 */
static inline struct iommu_domain *kfake_cur(struct kfake_dev *kd)
{
	return iommu_get_domain_for_dev(kd->dev);
}

/**
 * kfake_has_test_dev() - whether the fake's paging domains have test_dev()
 * @fake: the fake.
 *
 * Return: false with &kfake_cfg.no_test_dev; otherwise true for the plain and
 * VT-d personalities, and for SMMUv3 and AMD where the core gives test_dev()
 * its record of the device (iommu_test_dev_rid_domain(),
 * iommu_test_dev_has_pasids()), which their rules need during a reset.
 */
bool kfake_has_test_dev(struct kfake *fake);

/**
 * kfake_need_test_dev() - skip a case that needs test_dev() where the fake's
 * paging domains have none
 * @test: the test.
 * @fake: the fake.
 */
void kfake_need_test_dev(struct kunit *test, struct kfake *fake);

/**
 * kfake_need_reset_opt_in() - skip a case of a driver that the core does not
 * block around a reset, where the core blocks the devices of every driver
 * @test: the test.
 */
void kfake_need_reset_opt_in(struct kunit *test);

/**
 * enum kfake_base_diff - what the kernel under test does unlike mainline with
 * this series, where the suites cannot share an expectation. The compat
 * header of each tree says which apply; a case adapts to one, or skips
 * saying why (kfake_skip_base()).
 * @KFAKE_DIFF_REVERT_FAILED_DEV: a failed change of a group's domain
 *	re-attaches the old domain to the device that failed too (6.12).
 * @KFAKE_DIFF_PASID_WITHOUT_BLOCKED: a PASID can be attached with no
 *	blocked domain to remove it with (6.12).
 * @KFAKE_DIFF_SMMU_GETTER_OLD: arm-smmu-v3 takes the old domain of an
 *	attach from iommu_get_domain_for_dev(), which answers group->domain
 *	even where the device is on another domain: its device lists then miss
 *	or keep an entry (6.12).
 * @KFAKE_DIFF_RELEASE_ANY_BLOCKED: a require_direct device is released to
 *	the identity domain instead of any release_domain of type BLOCKED, not
 *	only instead of ops->blocked_domain (the 6.12 series).
 * @KFAKE_DIFF_PASID_TESTED_WHEN_BUSY: the domain of an attach to a PASID in
 *	use is tested before the core finds the PASID busy (the 6.12 series).
 * @KFAKE_DIFF_RESET_AS_V2: attach during a reset as v2 of the mainline
 *	series did it (the 6.12 series): a domain whose driver has no
 *	test_dev() is accepted untested, a failed attach in done() warns and
 *	unblocks the device all the same, and a group with a DMA alias of a
 *	device under reset refuses a domain before it tests it.
 * @KFAKE_DIFF_DIRECT_LEFT_ON_OLD: a require_direct device that cannot take
 *	the domain of a change that must succeed stays on the old domain, which
 *	the caller may free (6.12).
 * @KFAKE_NR_DIFFS: number of differences.
 */
enum kfake_base_diff {
	KFAKE_DIFF_REVERT_FAILED_DEV,
	KFAKE_DIFF_PASID_WITHOUT_BLOCKED,
	KFAKE_DIFF_SMMU_GETTER_OLD,
	KFAKE_DIFF_RELEASE_ANY_BLOCKED,
	KFAKE_DIFF_PASID_TESTED_WHEN_BUSY,
	KFAKE_DIFF_RESET_AS_V2,
	KFAKE_DIFF_DIRECT_LEFT_ON_OLD,
	KFAKE_NR_DIFFS,
};

/**
 * kfake_base_has() - whether the kernel under test has a difference
 * @diff: the difference.
 *
 * Return: true if it has.
 */
bool kfake_base_has(enum kfake_base_diff diff);

/**
 * kfake_skip_base() - skip the case on a kernel with a difference
 * @test: the test, skipped with the difference named when the kernel has it.
 * @diff: the difference.
 */
void kfake_skip_base(struct kunit *test, enum kfake_base_diff diff);

/**
 * kfake_default_is_dma() - whether default domains are DMA API domains
 *
 * Return: true when the kernel's default domains are paging (DMA) domains.
 */
bool kfake_default_is_dma(void);

/**
 * kfake_personality_name() - the name of a personality, for case names
 * @p: the personality.
 *
 * Return: its name.
 */
const char *kfake_personality_name(enum kfake_personality p);

/**
 * KFAKE_PERSONALITY_PARAMS() - define a parameter generator over every
 * personality, named kfake_personality_gen_params, for KUNIT_CASE_PARAM()
 */
#define KFAKE_PERSONALITY_PARAMS()					\
	static const enum kfake_personality kfake_personalities[] = {	\
		KFAKE_PLAIN, KFAKE_VTD, KFAKE_SMMUV3, KFAKE_AMD,	\
	};								\
	static void kfake_personality_desc(const enum kfake_personality *p, \
					   char *desc)			\
	{								\
		strscpy(desc, kfake_personality_name(*p),		\
			KUNIT_PARAM_DESC_SIZE);				\
	}								\
	KUNIT_ARRAY_PARAM(kfake_personality, kfake_personalities,	\
			  kfake_personality_desc)

/**
 * kfake_param_personality() - the personality of a parameterised case
 * @test: the test, run by KUNIT_CASE_PARAM() with
 *	kfake_personality_gen_params.
 *
 * Return: the personality.
 */
static inline enum kfake_personality kfake_param_personality(struct kunit *test)
{
	return *(const enum kfake_personality *)test->param_value;
}

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
#define KFAKE_TEST_EV(_dom, _kd, _pasid, _old)				\
	{ .op = KFAKE_TEST, .domain = (_dom), .dev = (_kd)->dev,	\
	  .pasid = (_pasid), .old = (_old) }
#define KFAKE_TEST_FAIL_EV(_dom, _kd, _pasid, _old, _err)		\
	{ .op = KFAKE_TEST, .domain = (_dom), .dev = (_kd)->dev,	\
	  .pasid = (_pasid), .old = (_old), .ret = (_err) }

/*
 * A single device's refusal of @_dom for @_pasid with @_err: by test_dev() if
 * the domain has it, else by attach_dev() or set_dev_pasid()
 */
/* An attach_dev() of a domain without test_dev(), the revert of a refusal */
#define KFAKE_UNTESTED_ATTACH_EV(_dom, _kd, _old)			\
	{ .op = KFAKE_ATTACH, .domain = (_dom), .dev = (_kd)->dev,	\
	  .old = (_old), .untested_only = true }

/*
 * A single device's refusal of @_dom for @_pasid with @_err: by test_dev() if
 * the domain has it, else by attach_dev() or set_dev_pasid()
 */
#define KFAKE_REFUSED_EV(_dom, _kd, _pasid, _old, _err)			\
	{ .refused = true, .domain = (_dom), .dev = (_kd)->dev,	\
	  .pasid = (_pasid), .old = (_old), .ret = (_err) }

/* Every test_dev, attach_dev and set_dev_pasid call since the last clear */
#define KFAKE_EXPECT_CALLS(_test, _fake, ...)				\
	do {								\
		const struct kfake_event __want[] = { __VA_ARGS__ };	\
									\
		kfake_expect_calls(_test, _fake, __want,		\
				   ARRAY_SIZE(__want));			\
	} while (0)
#define KFAKE_EXPECT_NO_CALLS(_test, _fake)				\
	kfake_expect_calls(_test, _fake, NULL, 0)

/* Only attach_dev and set_dev_pasid: opt-in, the case says why */
#define KFAKE_EXPECT_HW_ONLY(_test, _fake, ...)				\
	do {								\
		const struct kfake_event __want[] = { __VA_ARGS__ };	\
									\
		kfake_expect_hw_only(_test, _fake, __want,		\
				     ARRAY_SIZE(__want));		\
	} while (0)
#define KFAKE_EXPECT_NO_HW(_test, _fake)				\
	kfake_expect_hw_only(_test, _fake, NULL, 0)

#define KPCI_NR_FN	4

/**
 * struct kpci_fn - one function behind the software host bridge
 * @devfn: its device and function number.
 * @ats: it has an ATS capability.
 * @pasid: it has a PASID capability too.
 * @pasid_bits: width of the PASID capability, 0 for 5 bits.
 * @alias: devfn it also issues DMA as, or -1.
 * @resets: it has FLR in its Device Capabilities, an AF capability with FLR
 *	and a PM capability: the flr, af_flr and pm reset methods apply.
 * @vendor: its Vendor ID, 0 for the bridge's own.
 * @device: its Device ID, with a non-zero @vendor: a device that a
 *	device-specific reset method of drivers/pci/quirks.c matches.
 * @cfg: what it looks like to the fake driver.
 */
struct kpci_fn {
	unsigned int devfn;
	bool ats;
	bool pasid;
	unsigned int pasid_bits;
	int alias;
	bool resets;
	u16 vendor;
	u16 device;
	struct kfake_dev_cfg cfg;
};

/**
 * enum kpci_reset_kind - how an emulated function was reset
 * @KPCI_RESET_NONE: it was not.
 * @KPCI_RESET_FLR: PCI_EXP_DEVCTL_BCR_FLR was written.
 * @KPCI_RESET_AF_FLR: PCI_AF_CTRL_FLR was written.
 * @KPCI_RESET_PM: PCI_PM_CTRL was set to D3hot.
 */
enum kpci_reset_kind {
	KPCI_RESET_NONE,
	KPCI_RESET_FLR,
	KPCI_RESET_AF_FLR,
	KPCI_RESET_PM,
};

/**
 * struct kpci_seen - what the fake held for a function when it was reset
 * @nr: resets of the function since kpci_create() or kpci_clear_seen().
 * @kind: the last one.
 * @rid: the domain its RID translated with at the last one.
 * @pasids: some PASID of it translated at the last one.
 * @nr_events: callbacks the fake had logged by then.
 * @polled: its pending transactions had been polled before the last one.
 * @polled_rid: the domain its RID translated with at the last such poll.
 */
struct kpci_seen {
	unsigned int nr;
	enum kpci_reset_kind kind;
	struct iommu_domain *rid;
	bool pasids;
	unsigned int nr_events;
	bool polled;
	struct iommu_domain *polled_rid;
};

/**
 * struct kpci - a software PCIe host bridge and its functions
 * @fake: the fake IOMMU driver translating for them.
 * @bridge: the host bridge.
 * @nb: notifier that points the functions at the fake.
 * @sysdata: x86's host bridge data.
 * @busn: the bus number range.
 * @fns: the functions.
 * @nr_fns: their number.
 * @pdev: the PCI device of each function.
 * @kd: the fake's device of each function.
 * @cfg: configuration space of each devfn.
 * @present: which devfns exist.
 * @notify_err: the first error of the notifier.
 * @late: made by kpci_create_iommu_late().
 * @late_fwnode: the fwnode of IOMMU unit 1 registered late.
 * @late_registered: IOMMU unit 1 is registered.
 * @resets: depth of the helpers' kpci_reset_prepare() of each function.
 * @seen: the resets each function saw, indexed like @pdev.
 * @polled: its pending transactions were polled, indexed like @pdev.
 * @polled_rid: the domain of its RID then.
 * @vanish: the function does not come back from its next reset: it is then
 *	marked disconnected, which pci_dev_wait() reports at once as it would
 *	a function that timed out (-ENOTTY), instead of polling it for 60 s.
 *	The test sets &pci_dev.error_state back.
 */
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
	int notify_err;
	bool late;
	struct fwnode_handle *late_fwnode;
	bool late_registered;
	unsigned int resets[KPCI_NR_FN];
	struct kpci_seen seen[KPCI_NR_FN];
	bool polled[KPCI_NR_FN];
	struct iommu_domain *polled_rid[KPCI_NR_FN];
	bool vanish[KPCI_NR_FN];
};

#define KPCI_FN(_devfn, _ats, _pasid, ...)				\
	{ .devfn = (_devfn), .ats = (_ats), .pasid = (_pasid),		\
	  .alias = -1, .cfg = { __VA_ARGS__ } }

/**
 * kpci_create() - a fake IOMMU driver and a host bridge with functions
 * @test: the test; both go when it ends.
 * @fcfg: the fake driver.
 * @fns: the functions, which the PCI core adds and the IOMMU core probes.
 * @nr: their number.
 *
 * Skips the test where the bridge cannot be emulated (architecture, no ATS).
 *
 * Return: the bridge.
 */
struct kpci *kpci_create(struct kunit *test, const struct kfake_cfg *fcfg,
			 const struct kpci_fn *fns, unsigned int nr);

/**
 * kpci_create_iommu_late() - kpci_create() with the IOMMU registered after
 * the PCI core added the functions, as when an IOMMU driver probes late
 * @test: the test.
 * @fcfg: the fake driver.
 * @fns: the functions.
 * @nr: their number.
 * @err: what registering the IOMMU returned.
 *
 * The functions are probed together by the registration of IOMMU unit 1
 * (bus_iommu_probe()), as those of a driver with several IOMMU units are by
 * the registration of its first one. When it fails, the core releases the
 * functions behind unit 1 (&kfake_dev_cfg.unit) and leaves the others as they
 * are: in their group, with or without a domain.
 *
 * Return: the bridge.
 */
struct kpci *kpci_create_iommu_late(struct kunit *test,
				    const struct kfake_cfg *fcfg,
				    const struct kpci_fn *fns, unsigned int nr,
				    int *err);

/**
 * kpci_clear_seen() - forget the resets the functions saw
 * @kp: the bridge.
 */
void kpci_clear_seen(struct kpci *kp);

/**
 * kpci_reset_prepare() - pci_dev_reset_iommu_prepare(), done at the end
 * @test: the test.
 * @kp: the bridge.
 * @i: index of the function in &kpci.fns.
 *
 * Return: what pci_dev_reset_iommu_prepare() returns; done() is owed only on
 * success, and not to a function removed meanwhile.
 */
int kpci_reset_prepare(struct kunit *test, struct kpci *kp, unsigned int i);

/**
 * kpci_reset_done() - pci_dev_reset_iommu_done() of a kpci_reset_prepare()
 * @test: the test, failed when no prepare is owed one.
 * @kp: the bridge.
 * @i: index of the function.
 */
void kpci_reset_done(struct kunit *test, struct kpci *kp, unsigned int i);

/**
 * kpci_need_bus_reset_block() - skip a case that needs pci_reset_bus() to
 * block the IOMMU translation of every device it resets, where the kernel
 * under test does not
 * @test: the test.
 */
void kpci_need_bus_reset_block(struct kunit *test);

#endif /* _LINUX_IOMMU_KUNIT_H */
