// SPDX-License-Identifier: GPL-2.0-only OR MIT
/* Copyright 2026 The Lumen Authors */

/*
 * The io_uring request's cancel against its fence callback: a cancel that
 * arrives before the callback is armed (an IOSQE_ASYNC submission raced by
 * ring exit) must find nothing to remove; once armed, the cancel removes
 * it exactly once.
 */

#include <kunit/test.h>
#include <linux/dma-fence.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "../lumen_uring.h"

static const char *stub_name(struct dma_fence *fence)
{
	return "lumen-kunit";
}

static const struct dma_fence_ops stub_fence_ops = {
	.get_driver_name = stub_name,
	.get_timeline_name = stub_name,
};

static DEFINE_SPINLOCK(stub_fence_lock);

static void stub_cb(struct dma_fence *fence, struct dma_fence_cb *cb)
{
}

static void uring_cancel_before_armed(struct kunit *test)
{
	struct lumen_uring_req *req;
	struct dma_fence fence;

	dma_fence_init(&fence, &stub_fence_ops, &stub_fence_lock,
		       dma_fence_context_alloc(1), 1);
	req = lumen_uring_req_alloc(NULL);
	KUNIT_ASSERT_NOT_NULL(test, req);
	req->done = &fence;

	/* Not armed: nothing to remove, the callback will own the CQE. */
	KUNIT_EXPECT_FALSE(test, lumen_uring_req_cancel(req));
	KUNIT_EXPECT_TRUE(test, list_empty(&req->cb.node));

	KUNIT_ASSERT_EQ(test, dma_fence_add_callback(&fence, &req->cb, stub_cb), 0);
	KUNIT_EXPECT_TRUE(test, lumen_uring_req_cancel(req));
	/* Removed once: a second cancel owns nothing. */
	KUNIT_EXPECT_FALSE(test, lumen_uring_req_cancel(req));

	dma_fence_signal(&fence);
	kfree(req);
}

static void uring_cancel_after_signal(struct kunit *test)
{
	struct lumen_uring_req *req;
	struct dma_fence fence;

	dma_fence_init(&fence, &stub_fence_ops, &stub_fence_lock,
		       dma_fence_context_alloc(1), 1);
	req = lumen_uring_req_alloc(NULL);
	KUNIT_ASSERT_NOT_NULL(test, req);
	req->done = &fence;
	KUNIT_ASSERT_EQ(test, dma_fence_add_callback(&fence, &req->cb, stub_cb), 0);
	dma_fence_signal(&fence);
	/* The callback ran and owns the CQE. */
	KUNIT_EXPECT_FALSE(test, lumen_uring_req_cancel(req));
	kfree(req);
}

static struct kunit_case lumen_uring_cases[] = {
	KUNIT_CASE(uring_cancel_before_armed),
	KUNIT_CASE(uring_cancel_after_signal),
	{}
};

static struct kunit_suite lumen_uring_suite = {
	.name = "lumen_uring",
	.test_cases = lumen_uring_cases,
};

kunit_test_suite(lumen_uring_suite);
