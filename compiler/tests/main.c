// SPDX-License-Identifier: MIT
#include "lumen_test.h"

int main(int argc, char **argv)
{
	return lumen_test_main(argc, argv);
}
