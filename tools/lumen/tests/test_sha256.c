// SPDX-License-Identifier: MIT
/* SHA-256 against FIPS 180-4's examples and a long input split unevenly. */
#include "sha256.h"
#include "lumen_test.h"

#include <stdlib.h>

static void hex_of(const void *data, size_t n, char hex[65])
{
	struct lumen_sha256 c;
	uint8_t d[32];

	lumen_sha256_init(&c);
	lumen_sha256_update(&c, data, n);
	lumen_sha256_final(&c, d);
	lumen_sha256_hex(d, hex);
}

TEST(sha256_fips_examples)
{
	char hex[65];

	hex_of("abc", 3, hex);
	CHECK(!strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	hex_of("", 0, hex);
	CHECK(!strcmp(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	hex_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	CHECK(!strcmp(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
}

TEST(sha256_million_a_in_pieces)
{
	struct lumen_sha256 c;
	uint8_t d[32];
	char hex[65];
	char *a = malloc(1000000);
	size_t done = 0, step = 1;

	REQUIRE(a);
	memset(a, 'a', 1000000);
	lumen_sha256_init(&c);
	while (done < 1000000) {
		size_t n = 1000000 - done < step ? 1000000 - done : step;

		lumen_sha256_update(&c, a + done, n);
		done += n;
		step = step * 3 % 997 + 1;
	}
	lumen_sha256_final(&c, d);
	lumen_sha256_hex(d, hex);
	CHECK(!strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
	free(a);
}
