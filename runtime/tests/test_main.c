// SPDX-License-Identifier: MIT
/* The runtime unit test binary: each TEST() registers itself. */
#include "lumen_test.h"

int main(int c, char **v)
{
	return lumen_test_main(c, v);
}
