// SPDX-License-Identifier: MIT
/* Opening a device: pick the backend, count what goes through it. */
#include <stdlib.h>
#include <string.h>

#include "lumen_internal.h"

int lumen_backend_from_name(const char *name)
{
	if (!name)
		return lumen_fail(LUMEN_E_INVAL, "no backend name");
	if (!strcmp(name, "cpu"))
		return LUMEN_BACKEND_CPU;
	if (!strcmp(name, "npu"))
		return LUMEN_BACKEND_NPU;
	if (!strcmp(name, "auto"))
		return LUMEN_BACKEND_AUTO;
	return lumen_fail(LUMEN_E_INVAL, "'%s' is not a backend (cpu, npu, auto)",
			  name);
}

int lumen_device_open(struct lumen_device **out,
		      const struct lumen_device_options *opt)
{
	static const struct lumen_device_options defaults = {
		.backend = LUMEN_BACKEND_CPU,
	};
	struct lumen_device *dev;
	const char *silicon;
	int ret;

	*out = NULL;
	if (!opt)
		opt = &defaults;
	if (opt->backend == LUMEN_BACKEND_AUTO) {
		struct lumen_device_options o = *opt;

		o.backend = LUMEN_BACKEND_NPU;
		if (!lumen_device_open(out, &o))
			return 0;
		o.backend = LUMEN_BACKEND_CPU;
		return lumen_device_open(out, &o);
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return lumen_fail(LUMEN_E_NOMEM, "out of memory");
	switch (opt->backend) {
	case LUMEN_BACKEND_CPU:
		dev->ops = &lumen_cpu_backend;
		break;
	case LUMEN_BACKEND_NPU:
		dev->ops = &lumen_npu_backend;
		break;
	default:
		free(dev);
		return lumen_fail(LUMEN_E_INVAL, "unknown backend %d",
				  (int)opt->backend);
	}
	dev->backend = opt->backend;
	silicon = opt->silicon ? opt->silicon : getenv("LUMEN_SILICON");
	dev->silicon = lumen_silicon_find(silicon && *silicon ? silicon : "glasses");
	if (!dev->silicon) {
		free(dev);
		return lumen_fail(LUMEN_E_INVAL,
				  "'%s' is not a modeled NPU (glasses, phone)",
				  silicon);
	}
	ret = dev->ops->open(dev, opt);
	if (ret) {
		free(dev);
		return ret;
	}
	*out = dev;
	return 0;
}

void lumen_device_close(struct lumen_device *dev)
{
	if (!dev)
		return;
	dev->ops->close(dev);
	free(dev);
}

void lumen_device_get_info(const struct lumen_device *dev,
			   struct lumen_device_info *info)
{
	memset(info, 0, sizeof(*info));
	info->backend = dev->ops->name;
	dev->ops->get_info((struct lumen_device *)dev, info);
	info->silicon = dev->silicon->name;
	info->silicon_summary = dev->silicon->summary;
	info->silicon_memory = dev->silicon->memory_bytes;
}

void lumen_device_get_counters(struct lumen_device *dev,
			       struct lumen_counters *c)
{
	memset(c, 0, sizeof(*c));
	if (dev->ops->get_counters)
		dev->ops->get_counters(dev, c);
	c->submissions = dev->submissions;
	c->modeled_ns = (uint64_t)(dev->modeled.seconds * 1e9);
	c->modeled_energy_nj = (uint64_t)(dev->modeled.joules * 1e9);
}
