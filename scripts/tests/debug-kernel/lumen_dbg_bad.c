// SPDX-License-Identifier: GPL-2.0
/*
 * A deliberately bad module for the debug-kernel smoke suite: on load it
 * leaks a kmalloc'd buffer (leak=1), takes two mutexes in both orders
 * (lockdep=1), frees an armed timer (odebug=1) and reads a kmalloc'd
 * buffer after freeing it (uaf=1), so that kmemleak, lockdep,
 * DEBUG_OBJECTS and KASAN report them and scripts/check-dmesg fails the
 * guest's log. None of it hangs or crashes the guest: the inversion
 * happens in one thread, and DEBUG_OBJECTS deactivates the freed timer.
 * Never load it elsewhere.
 */
#include <linux/compiler.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timer.h>

static bool uaf = true;
module_param(uaf, bool, 0444);
MODULE_PARM_DESC(uaf, "read a kmalloc'd buffer after kfree (KASAN)");

static bool leak;
module_param(leak, bool, 0444);
MODULE_PARM_DESC(leak, "lose the only pointer to a kmalloc'd buffer (kmemleak)");

static bool lockdep;
module_param(lockdep, bool, 0444);
MODULE_PARM_DESC(lockdep, "take two mutexes in both orders (lockdep)");

static bool odebug;
module_param(odebug, bool, 0444);
MODULE_PARM_DESC(odebug, "kfree an armed timer (DEBUG_OBJECTS)");

static DEFINE_MUTEX(lumen_dbg_lock_a);
static DEFINE_MUTEX(lumen_dbg_lock_b);

static void lumen_dbg_timer_fn(struct timer_list *t)
{
}

static int __init lumen_dbg_bad_init(void)
{
	char *p;

	if (leak) {
		p = kmalloc(200, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		memset(p, 0x5a, 200);
		pr_info("lumen_dbg_bad: leaking a 200-byte buffer\n");
		p = NULL;
	}
	if (lockdep) {
		mutex_lock(&lumen_dbg_lock_a);
		mutex_lock(&lumen_dbg_lock_b);
		mutex_unlock(&lumen_dbg_lock_b);
		mutex_unlock(&lumen_dbg_lock_a);
		mutex_lock(&lumen_dbg_lock_b);
		mutex_lock(&lumen_dbg_lock_a);
		mutex_unlock(&lumen_dbg_lock_a);
		mutex_unlock(&lumen_dbg_lock_b);
	}
	if (odebug) {
		struct timer_list *t = kmalloc(sizeof(*t), GFP_KERNEL);

		if (!t)
			return -ENOMEM;
		timer_setup(t, lumen_dbg_timer_fn, 0);
		mod_timer(t, jiffies + 600 * HZ);
		kfree(t);
	}
	if (uaf) {
		p = kmalloc(64, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		memset(p, 0x11, 64);
		kfree(p);
		/* Keep the compiler from seeing (and warning about) the bug. */
		OPTIMIZER_HIDE_VAR(p);
		pr_info("lumen_dbg_bad: read after free: %d\n", READ_ONCE(p[8]));
	}
	return 0;
}

static void __exit lumen_dbg_bad_exit(void)
{
}

module_init(lumen_dbg_bad_init);
module_exit(lumen_dbg_bad_exit);
MODULE_DESCRIPTION("Lumen debug-kernel smoke test: a use-after-free and a leak on purpose");
MODULE_LICENSE("GPL");
