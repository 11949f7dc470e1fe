/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "qemu/osdep.h"
#include "libqtest.h"

int main(int argc, char **argv)
{
    return 0;
}
