// SPDX-License-Identifier: MIT
#include "tests/lib/lumen_test.h"

int main(int argc, char **argv)
{
	return lumen_test_main(argc, argv);
}
