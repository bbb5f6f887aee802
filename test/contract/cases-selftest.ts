// The kernel's own selftests for a plain IOAS, transcribed step by step from
// tools/testing/selftests/iommu/iommufd.c (Linux 6.12): the `iommufd` fixture and the
// `no_domain` variant of `iommufd_ioas` (base_iova = 0, buffer = a hugepage-aligned VA,
// MOCK_APERTURE_START = 1 << 24, MOCK_PAGE_SIZE = PAGE_SIZE / 2, BUFFER_SIZE = 16 pages).
// Parts that need a struct-level backend (EFAULT, E2BIG, ENOTTY, short sizes) are left out:
// the uapi-level interface cannot express them.
import {
  alignedToLengthLowBit,
  alloc,
  allow,
  autoMap,
  BUF,
  copy,
  destroy,
  fails,
  FIXED,
  fixedMap,
  GET,
  HUGE,
  iovaRanges,
  ok,
  option,
  PAGE,
  range,
  reserved,
  RLIMIT,
  SET,
  U64,
  unmap,
  W,
  type ContractCase,
  type Step,
} from './contract-dsl.js';

const MOCK_APERTURE_START = 1n << 24n;
const MOCK_PAGE_SIZE = PAGE / 2n;
const BUFFER_SIZE = PAGE * 16n;
const IOAS = 1;
/** FIXTURE_SETUP(iommufd_ioas): one IOAS, id 1. */
const setupIoas: Step = ok('ioasAlloc', alloc(), { outIoasId: IOAS });

function times(n: number, make: (i: number) => Step | Step[]): Step[] {
  return Array.from({ length: n }, (_, i) => make(i)).flat();
}

const P = (k: bigint | number) => PAGE * BigInt(k);

export const selftestCases: ContractCase[] = [
  { name: 'iommufd.simple_close', steps: [ok('option', option(RLIMIT, GET, 0, 0n), { val64: 0n })] },
  {
    name: 'iommufd.cmd_fail',
    // object id is invalid (the EFAULT/ENOTTY parts need raw ioctls)
    steps: [fails('ENOENT', 'destroy', destroy(0))],
  },
  { name: 'iommufd.cmd_ex_fail', steps: [fails('ENOENT', 'destroy', destroy(0))] },
  {
    name: 'iommufd.global_options',
    needs: ['capSysResource'],
    steps: [
      ok('option', option(RLIMIT, GET, 0, 1n), { val64: 0n }),
      ok('option', option(RLIMIT, SET, 0, 1n), { val64: 1n }),
      fails('EINVAL', 'option', option(RLIMIT, SET, 0, 2n)),
      ok('option', option(RLIMIT, GET, 0, 2n), { val64: 1n }),
      ok('option', option(RLIMIT, SET, 0, 0n)),
      fails('ENOENT', 'option', option(HUGE, GET, 0, 0n)),
      fails('ENOENT', 'option', option(HUGE, SET, 0, 0n)),
    ],
  },
  { name: 'iommufd_ioas.no_domain.ioas_auto_destroy', steps: [setupIoas] },
  { name: 'iommufd_ioas.no_domain.ioas_destroy', steps: [setupIoas, ok('destroy', destroy(IOAS))] },
  {
    name: 'iommufd_ioas.no_domain.ioas_area_destroy',
    steps: [setupIoas, ok('ioasMap', fixedMap(IOAS, BUF, PAGE, 0n)), ok('destroy', destroy(IOAS))],
  },
  {
    name: 'iommufd_ioas.no_domain.ioas_area_auto_destroy',
    steps: [setupIoas, ...times(10, (i) => ok('ioasMap', fixedMap(IOAS, BUF, PAGE, P(i)), { iova: P(i) }))],
  },
  {
    name: 'iommufd_ioas.no_domain.area',
    steps: [
      setupIoas,
      // Unmap fails if nothing is mapped
      ...times(10, (i) => fails('ENOENT', 'ioasUnmap', unmap(IOAS, P(i), PAGE))),
      // Unmap works
      ...times(10, (i) => ok('ioasMap', fixedMap(IOAS, BUF, PAGE, P(i)))),
      ...times(10, (i) => ok('ioasUnmap', unmap(IOAS, P(i), PAGE), { length: PAGE })),
      // Split fails
      ok('ioasMap', fixedMap(IOAS, BUF, P(2), P(16))),
      fails('ENOENT', 'ioasUnmap', unmap(IOAS, P(16), PAGE)),
      fails('ENOENT', 'ioasUnmap', unmap(IOAS, P(17), PAGE)),
      // Over map fails
      fails('EEXIST', 'ioasMap', fixedMap(IOAS, BUF, P(2), P(16))),
      fails('EEXIST', 'ioasMap', fixedMap(IOAS, BUF, PAGE, P(16))),
      fails('EEXIST', 'ioasMap', fixedMap(IOAS, BUF, PAGE, P(17))),
      fails('EEXIST', 'ioasMap', fixedMap(IOAS, BUF, P(2), P(15))),
      fails('EEXIST', 'ioasMap', fixedMap(IOAS, BUF, P(3), P(15))),
      // unmap all works
      ok('ioasUnmap', unmap(IOAS, 0n, U64), { length: P(2) }),
      // Unmap all succeeds on an empty IOAS
      ok('ioasUnmap', unmap(IOAS, 0n, U64), { length: 0n }),
    ],
  },
  {
    name: 'iommufd_ioas.no_domain.unmap_fully_contained_areas',
    steps: [
      setupIoas,
      // base_iova += 4 pages
      ...times(4, (i) => ok('ioasMap', fixedMap(IOAS, BUF, P(8), P(4) + P(i * 16)))),
      fails('ENOENT', 'ioasUnmap', unmap(IOAS, P(4) - P(4), P(8))),
      fails('ENOENT', 'ioasUnmap', unmap(IOAS, P(4) + P(3 * 16) + P(8) - P(4), P(8))),
      ok('ioasUnmap', unmap(IOAS, P(4) - P(4), P(3 * 16) + P(8) + P(4)), { length: P(32) }),
    ],
  },
  {
    name: 'iommufd_ioas.no_domain.area_auto_iova',
    needs: ['reserved'],
    steps: [
      setupIoas,
      // Simple 4k pages
      ...times(10, (i) => ok('ioasMap', autoMap(IOAS, BUF, PAGE), undefined, { save: { [`a${i}`]: 'iova' } })),
      ...times(10, (i) => ok('ioasUnmap', (v) => unmap(IOAS, v[`a${i}`] as bigint, PAGE), { length: PAGE })),
      // Kernel automatically aligns IOVAs properly
      ...times(10, (i) =>
        ok('ioasMap', autoMap(IOAS, 1n << 31n, P(i + 1)), undefined, {
          save: { [`b${i}`]: 'iova' },
          check: alignedToLengthLowBit(`b${i}`, P(i + 1)),
        }),
      ),
      ...times(10, (i) => ok('ioasUnmap', (v) => unmap(IOAS, v[`b${i}`] as bigint, P(i + 1)))),
      // Avoids a reserved region
      ok('addReserved', reserved(IOAS, P(4), P(4) + P(100) - 1n)),
      ...times(10, (i) =>
        ok('ioasMap', autoMap(IOAS, BUF, P(i + 1)), undefined, {
          save: { [`c${i}`]: 'iova' },
          check: (r, v) => {
            const iova = r.iova as bigint;
            const aligned = alignedToLengthLowBit(`c${i}`, P(i + 1))!(r, v);
            if (aligned !== null) return aligned;
            return iova > P(4) && iova < P(104) ? `iova ${iova.toString(16)} inside the reserved region` : null;
          },
        }),
      ),
      ...times(10, (i) => ok('ioasUnmap', (v) => unmap(IOAS, v[`c${i}`] as bigint, P(i + 1)))),
      // Allowed region intersects with a reserved region
      fails('EADDRINUSE', 'ioasAllowIovas', allow(IOAS, [range(PAGE, P(600))])),
      // Allocate from an allowed region
      ok('ioasAllowIovas', allow(IOAS, [range(P(200), P(600) - 1n)])),
      ...times(10, (i) =>
        ok('ioasMap', autoMap(IOAS, BUF, P(i + 1)), undefined, {
          save: { [`d${i}`]: 'iova' },
          check: (r, v) => {
            const iova = r.iova as bigint;
            const length = P(i + 1);
            const aligned = alignedToLengthLowBit(`d${i}`, length)!(r, v);
            if (aligned !== null) return aligned;
            const inside = iova >= P(200) && iova <= P(600) - 1n && iova + length > P(200) && iova + length <= P(600);
            return inside ? null : `iova ${iova.toString(16)} outside the allowed range`;
          },
        }),
      ),
      ...times(10, (i) => ok('ioasUnmap', (v) => unmap(IOAS, v[`d${i}`] as bigint, P(i + 1)))),
    ],
  },
  {
    name: 'iommufd_ioas.no_domain.area_allowed',
    needs: ['reserved'],
    steps: [
      setupIoas,
      // Reserved intersects an allowed
      ok('ioasAllowIovas', allow(IOAS, [range(0n, P(600))])),
      fails('EADDRINUSE', 'addReserved', reserved(IOAS, PAGE, P(2) - 1n)),
      ok('ioasAllowIovas', allow(IOAS, [])),
      // Allowed intersects a reserved
      ok('addReserved', reserved(IOAS, PAGE, P(2) - 1n)),
      fails('EADDRINUSE', 'ioasAllowIovas', allow(IOAS, [range(0n, P(600))])),
    ],
  },
  {
    name: 'iommufd_ioas.no_domain.copy_area',
    steps: [
      setupIoas,
      ok('ioasMap', fixedMap(IOAS, BUF, PAGE, 0n)),
      // Copy inside a single IOAS
      ok('ioasCopy', copy({ flags: FIXED | W, dst: IOAS, src: IOAS, length: PAGE, srcIova: 0n, dstIova: PAGE }), {
        dstIova: PAGE,
      }),
      // Copy between IOAS's
      ok('ioasAlloc', alloc(), { outIoasId: 2 }),
      ok('ioasCopy', copy({ flags: FIXED | W, dst: 2, src: IOAS, length: PAGE, srcIova: 0n, dstIova: 0n }), { dstIova: 0n }),
    ],
  },
  {
    name: 'iommufd_ioas.no_domain.iova_ranges',
    needs: ['reserved'],
    steps: [
      setupIoas,
      // Range can be read
      ok('ioasIovaRanges', iovaRanges(IOAS, Number(BUFFER_SIZE / 16n)), {
        numIovas: 1,
        ranges: [range(0n, U64)],
        outIovaAlignment: 1n,
      }),
      // Buffer too small
      fails('EMSGSIZE', 'ioasIovaRanges', iovaRanges(IOAS, 0), { numIovas: 1, ranges: [] }),
      // 2 ranges
      ok('addReserved', reserved(IOAS, PAGE, P(2) - 1n)),
      ok('ioasIovaRanges', iovaRanges(IOAS, Number(BUFFER_SIZE / 16n)), {
        numIovas: 2,
        ranges: [range(0n, PAGE - 1n), range(P(2), U64)],
      }),
      // Buffer too small
      fails('EMSGSIZE', 'ioasIovaRanges', iovaRanges(IOAS, 1), { numIovas: 2, ranges: [range(0n, PAGE - 1n)] }),
    ],
  },
  {
    name: 'iommufd_ioas.no_domain.ioas_option_huge_pages',
    steps: [
      setupIoas,
      ok('option', option(HUGE, GET, IOAS, 3n), { val64: 1n }),
      ok('option', option(HUGE, SET, IOAS, 0n)),
      ok('option', option(HUGE, GET, IOAS, 3n), { val64: 0n }),
      fails('EINVAL', 'option', option(HUGE, SET, IOAS, 2n)),
      ok('option', option(HUGE, SET, IOAS, 1n)),
    ],
  },
  {
    name: 'iommufd_ioas.no_domain.ioas_iova_alloc',
    steps: [
      setupIoas,
      ...times(Number(PAGE * 2n) - 1, (i) => {
        const length = BigInt(i + 1);
        return [
          ok('ioasMap', autoMap(IOAS, BUF, length), undefined, { save: { iova: 'iova' } }),
          ok('ioasUnmap', (v: Record<string, bigint | number>) => unmap(IOAS, v.iova as bigint, length), { length }),
        ];
      }),
    ],
  },
  {
    name: 'iommufd_ioas.no_domain.ioas_align_change',
    steps: [
      setupIoas,
      // We can upgrade to PAGE_SIZE alignment when things are aligned right
      ok('ioasMap', fixedMap(IOAS, BUF, PAGE, MOCK_APERTURE_START)),
      ok('option', option(HUGE, SET, IOAS, 0n)),
      // Misalignment is rejected at map time
      fails('EINVAL', 'ioasMap', fixedMap(IOAS, BUF + MOCK_PAGE_SIZE, PAGE, MOCK_APERTURE_START + PAGE)),
      ok('option', option(HUGE, SET, IOAS, 0n)),
      // Reduce alignment
      ok('option', option(HUGE, SET, IOAS, 1n)),
      // Confirm misalignment is rejected during alignment upgrade
      ok('ioasMap', fixedMap(IOAS, BUF + MOCK_PAGE_SIZE, PAGE, MOCK_APERTURE_START + PAGE)),
      fails('EADDRINUSE', 'option', option(HUGE, SET, IOAS, 0n)),
      ok('ioasUnmap', unmap(IOAS, MOCK_APERTURE_START + PAGE, PAGE)),
      ok('ioasUnmap', unmap(IOAS, MOCK_APERTURE_START, PAGE)),
    ],
  },
  {
    name: 'iommufd_ioas.no_domain.copy_sweep',
    steps: (() => {
      const steps: Step[] = [setupIoas, ok('ioasAlloc', alloc(), { outIoasId: 2 })];
      const lastIova = MOCK_APERTURE_START + BUFFER_SIZE - 2n;
      steps.push(ok('ioasMap', fixedMap(IOAS, BUF, lastIova - MOCK_APERTURE_START + 1n, MOCK_APERTURE_START)));
      for (let iova = MOCK_APERTURE_START - PAGE; iova <= lastIova; iova += 511n) {
        const args = copy({
          flags: FIXED | W,
          dst: 2,
          src: IOAS,
          length: MOCK_PAGE_SIZE,
          srcIova: iova,
          dstIova: MOCK_APERTURE_START,
        });
        if (iova < MOCK_APERTURE_START || iova + MOCK_PAGE_SIZE - 1n > lastIova) {
          steps.push(fails('ENOENT', 'ioasCopy', args));
        } else {
          steps.push(ok('ioasCopy', args, { dstIova: MOCK_APERTURE_START }));
          steps.push(ok('ioasUnmap', unmap(2, MOCK_APERTURE_START, MOCK_PAGE_SIZE), { length: MOCK_PAGE_SIZE }));
        }
      }
      steps.push(ok('destroy', destroy(2)));
      return steps;
    })(),
  },
];
