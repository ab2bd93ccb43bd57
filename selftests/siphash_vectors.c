// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* siphash_vectors.c: prints SipHash-2-4 (include/siphash.h, the code the CMM runs)
 * of the reference messages 00, 00 01, ... under key 00 01 .. 0f, as hex bytes in
 * the order the reference vectors list them. siphash.t compares them with the
 * published vectors and with OpenSSL's own implementation. */
#include <stdio.h>
#include <stdint.h>
#include "cmm.h"

int main(void)
{
	uint8_t key[16], msg[64];

	for (int i = 0; i < 16; i++)
		key[i] = i;
	for (int i = 0; i < 64; i++)
		msg[i] = i;
	for (int len = 0; len < 64; len++) {
		uint64_t h = siphash24(key, msg, len);

		printf("%d ", len);
		for (int b = 0; b < 8; b++)
			printf("%02x", (unsigned)(h >> (8 * b)) & 0xff);
		putchar('\n');
	}
	return 0;
}
