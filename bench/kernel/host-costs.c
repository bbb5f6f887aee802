/*
 * The C side of bench/kernel/host-costs.ts: the same system calls without N-API or JavaScript.
 * close(-1) (EBADF at once) and ioctl(2) of an IOAS_MAP-sized struct on /dev/null (ENOTTY at
 * once); best of ROUNDS (5) rounds of CALLS (200,000) calls, ns per call.
 *   cc -O2 -o /tmp/host-costs bench/kernel/host-costs.c && /tmp/host-costs [CALLS] [ROUNDS]
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>


static double now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
	long CALLS = argc > 1 ? atol(argv[1]) : 200000;
	int ROUNDS = argc > 2 ? atoi(argv[2]) : 5;
	if (CALLS <= 0 || ROUNDS <= 0)
		return 2;
	int fd = open("/dev/null", O_RDONLY);
	double best_close = 1e30, best_ioctl = 1e30;
	for (int r = 0; r < ROUNDS; r++) {
		double start = now_ns();
		for (long i = 0; i < CALLS; i++)
			close(-1);
		double mid = now_ns();
		for (long i = 0; i < CALLS; i++) {
			struct { uint32_t size, flags, ioas_id, reserved; uint64_t user_va, length, iova; } map = {
				40, 7, 1, 0, 0x7f0000000000ull, 4096, 0x100000 };
			ioctl(fd, 0x3b85, &map);
		}
		double end = now_ns();
		if ((mid - start) / CALLS < best_close) best_close = (mid - start) / CALLS;
		if ((end - mid) / CALLS < best_ioctl) best_ioctl = (end - mid) / CALLS;
	}
	printf("C close(-1)                                %6.0f ns/call\n", best_close);
	printf("C ioctl /dev/null (IOAS_MAP struct)        %6.0f ns/call\n", best_ioctl);
	return 0;
}
