/*
 * The raw C baseline of the kernel micro-benchmark (issue 7 item 2, bench/kernel/README.md).
 * Opens /dev/iommu, allocates one IOAS, then N times: IOAS_MAP of a 4 KiB anonymous buffer at a
 * fixed IOVA, IOAS_IOVA_RANGES (room for 4 ranges), OPTION get HUGE_PAGES, IOAS_UNMAP of it;
 * DESTROY at the end. WARMUP untimed iterations run first (the JavaScript side needs them for
 * its JIT; both sides do the same). Only the N iterations are timed (CLOCK_MONOTONIC).
 *   raw-loop ITERATIONS WARMUP [DEVICE] bench/kernel/loop.ts makes the
 * same calls through openKernel() for the comparison. Prints one JSON line:
 *   {"impl":"c","iterations":N,"calls":4N,"seconds":S,"callsPerSecond":R,"nsPerCall":P,"bestChunkNsPerCall":B}
 * B is the per-call cost of the fastest run of CHUNK consecutive timed iterations: on a loaded
 * machine the VM's vCPUs are descheduled for whole chunks, and the least disturbed chunk is the
 * steadiest estimate of the code's own cost (loop.ts reports the same).
 * On a failing call it prints {"impl":"c","error":"<call>","errno":E} and exits 1.
 *
 * The structs are restated from include/uapi/linux/iommufd.h (6.12) so that the program builds
 * without kernel headers installed; the static asserts pin their sizes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define IOMMUFD_TYPE ';'
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, 0x80)
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, 0x81)
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, 0x84)
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, 0x85)
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, 0x86)
#define IOMMU_OPTION _IO(IOMMUFD_TYPE, 0x87)

#define IOMMU_IOAS_MAP_FIXED_IOVA (1u << 0)
#define IOMMU_IOAS_MAP_WRITEABLE (1u << 1)
#define IOMMU_IOAS_MAP_READABLE (1u << 2)
#define IOMMU_OPTION_HUGE_PAGES 1
#define IOMMU_OPTION_OP_GET 1

struct iommu_destroy { uint32_t size, id; };
struct iommu_ioas_alloc { uint32_t size, flags, out_ioas_id; };
struct iommu_iova_range { uint64_t start, last; };
struct iommu_ioas_iova_ranges { uint32_t size, ioas_id, num_iovas, reserved; uint64_t allowed_iovas, out_iova_alignment; };
struct iommu_ioas_map { uint32_t size, flags, ioas_id, reserved; uint64_t user_va, length, iova; };
struct iommu_ioas_unmap { uint32_t size, ioas_id; uint64_t iova, length; };
struct iommu_option { uint32_t size, option_id; uint16_t op, reserved; uint32_t object_id; uint64_t val64; };

_Static_assert(sizeof(struct iommu_destroy) == 8, "iommu_destroy");
_Static_assert(sizeof(struct iommu_ioas_alloc) == 12, "iommu_ioas_alloc");
_Static_assert(sizeof(struct iommu_ioas_iova_ranges) == 32, "iommu_ioas_iova_ranges");
_Static_assert(sizeof(struct iommu_ioas_map) == 40, "iommu_ioas_map");
_Static_assert(sizeof(struct iommu_ioas_unmap) == 24, "iommu_ioas_unmap");
_Static_assert(sizeof(struct iommu_option) == 24, "iommu_option");

/* The same constants as bench/kernel/loop.ts. */
#define BUFFER_SIZE 4096u
#define FIXED_IOVA 0x100000ull
#define RANGE_CAPACITY 4u
#define CHUNK 1000

static int fail(const char *call, int err)
{
	printf("{\"impl\":\"c\",\"error\":\"%s\",\"errno\":%d}\n", call, err);
	return 1;
}

int main(int argc, char **argv)
{
	long iterations = argc > 2 ? strtol(argv[1], NULL, 10) : 0;
	long warmup = argc > 2 ? strtol(argv[2], NULL, 10) : -1;
	if (iterations <= 0 || warmup < 0) {
		fprintf(stderr, "usage: raw-loop ITERATIONS WARMUP [DEVICE]\n");
		return 2;
	}
	const char *device = argc > 3 ? argv[3] : "/dev/iommu";
	int fd = open(device, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail("open", errno);
	void *buffer = mmap(NULL, BUFFER_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buffer == MAP_FAILED)
		return fail("mmap", errno);
	memset(buffer, 0, BUFFER_SIZE);

	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	if (ioctl(fd, IOMMU_IOAS_ALLOC, &alloc))
		return fail("IOAS_ALLOC", errno);
	uint32_t ioas = alloc.out_ioas_id;
	struct iommu_iova_range ranges[RANGE_CAPACITY];

	struct timespec start = {0}, end, chunk_start = {0}, now;
	double best_chunk = 0;
	for (long i = 0; i < warmup + iterations; i++) {
		if (i == warmup) {
			clock_gettime(CLOCK_MONOTONIC, &start);
			chunk_start = start;
		} else if (i > warmup && (i - warmup) % CHUNK == 0) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			double ns = (double)(now.tv_sec - chunk_start.tv_sec) * 1e9 + (double)(now.tv_nsec - chunk_start.tv_nsec);
			if (best_chunk == 0 || ns < best_chunk)
				best_chunk = ns;
			chunk_start = now;
		}
		/* Fresh structs every call, as the TypeScript side encodes fresh buffers. */
		struct iommu_ioas_map map = {
			.size = sizeof(map), .ioas_id = ioas,
			.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
			.user_va = (uintptr_t)buffer, .length = BUFFER_SIZE, .iova = FIXED_IOVA,
		};
		if (ioctl(fd, IOMMU_IOAS_MAP, &map))
			return fail("IOAS_MAP", errno);
		struct iommu_ioas_iova_ranges query = {
			.size = sizeof(query), .ioas_id = ioas, .num_iovas = RANGE_CAPACITY,
			.allowed_iovas = (uintptr_t)ranges,
		};
		if (ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &query))
			return fail("IOAS_IOVA_RANGES", errno);
		struct iommu_option option = {
			.size = sizeof(option), .option_id = IOMMU_OPTION_HUGE_PAGES,
			.op = IOMMU_OPTION_OP_GET, .object_id = ioas,
		};
		if (ioctl(fd, IOMMU_OPTION, &option))
			return fail("OPTION", errno);
		struct iommu_ioas_unmap unmap = { .size = sizeof(unmap), .ioas_id = ioas, .iova = FIXED_IOVA, .length = BUFFER_SIZE };
		if (ioctl(fd, IOMMU_IOAS_UNMAP, &unmap))
			return fail("IOAS_UNMAP", errno);
		if (unmap.length != BUFFER_SIZE)
			return fail("IOAS_UNMAP length", 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	if (iterations % CHUNK == 0) {
		double ns = (double)(end.tv_sec - chunk_start.tv_sec) * 1e9 + (double)(end.tv_nsec - chunk_start.tv_nsec);
		if (best_chunk == 0 || ns < best_chunk)
			best_chunk = ns;
	}

	struct iommu_destroy destroy = { .size = sizeof(destroy), .id = ioas };
	if (ioctl(fd, IOMMU_DESTROY, &destroy))
		return fail("DESTROY", errno);
	close(fd);

	double seconds = (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9;
	long calls = iterations * 4;
	/* Fewer than CHUNK iterations: the whole run is the only chunk. */
	double best = best_chunk > 0 ? best_chunk / (CHUNK * 4.0) : seconds * 1e9 / calls;
	printf("{\"impl\":\"c\",\"iterations\":%ld,\"calls\":%ld,\"seconds\":%.9f,\"callsPerSecond\":%.1f,\"nsPerCall\":%.1f,\"bestChunkNsPerCall\":%.1f}\n",
	       iterations, calls, seconds, calls / seconds, seconds * 1e9 / calls, best);
	return 0;
}
