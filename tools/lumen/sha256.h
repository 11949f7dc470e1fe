/* SPDX-License-Identifier: MIT */
/* SHA-256 (FIPS 180-4): names the compiled-model cache entries. */
#ifndef LUMEN_SHA256_H
#define LUMEN_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct lumen_sha256 {
	uint32_t h[8];
	uint64_t len;		/* bytes hashed */
	uint8_t buf[64];
	size_t fill;
};

void lumen_sha256_init(struct lumen_sha256 *c);
void lumen_sha256_update(struct lumen_sha256 *c, const void *data, size_t n);
void lumen_sha256_final(struct lumen_sha256 *c, uint8_t digest[32]);
/* 64 lowercase hex digits and a NUL */
void lumen_sha256_hex(const uint8_t digest[32], char hex[65]);

#endif /* LUMEN_SHA256_H */
