/* SPDX-License-Identifier: MIT */
#ifndef LUMENC_LNPU_WRITE_H
#define LUMENC_LNPU_WRITE_H

#include <stddef.h>

#include "lower.h"

struct lnpu_write_opts {
	int progress;		/* percentage of weights written, on stderr */
	int drop_source_pages;	/* sources are a read-only file map: release them as converted */
};

/* Write the compiled model @o to @path. 0, or -1 with @err set. */
int lnpu_write(const char *path, const struct lc_out *o,
	       const struct lnpu_write_opts *wo, char *err, size_t errlen);

#endif /* LUMENC_LNPU_WRITE_H */
