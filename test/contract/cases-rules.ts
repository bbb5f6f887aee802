// One case (or more) per rule of the spec (../shared/spec/iommufd-ioas-semantics.md), named
// `rule.<section>.<rule>`. Each case is built so that a plausible wrong implementation fails it:
// the check order is probed by calls that violate two rules at once, the allocator by inputs
// where OR and ADD (or pre/post-backport rules) give different IOVAs, and so on.
import {
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
  R,
  range,
  reserved,
  RLIMIT,
  RW,
  SET,
  U64,
  unmap,
  W,
  type ContractCase,
  type Step,
} from './contract-dsl.js';

const IOAS = 1;
const newIoas = (id = IOAS): Step => ok('ioasAlloc', alloc(), { outIoasId: id });
const hugePagesOff = (id = IOAS): Step => ok('option', option(HUGE, SET, id, 0n), { val64: 0n });
const MOCK_FLAGS_ACCESS_SYZ = 1 << 16;

/** §6 worked examples: a fresh IOAS, then automatic MAPs (and setup) with the IOVA each returns. */
const allocatorTable: ContractCase[] = [
  {
    name: 'rule.6.table.page_sized_maps_fill_lowest_holes',
    steps: [
      newIoas(),
      ok('ioasMap', autoMap(IOAS, BUF, 0x1000n), { iova: 0x1000n }),
      ok('ioasMap', autoMap(IOAS, BUF, 0x1000n), { iova: 0x2000n }),
      ok('ioasMap', autoMap(IOAS, BUF, 0x3000n), { iova: 0x4000n }),
      ok('ioasMap', autoMap(IOAS, BUF, 0x1000n), { iova: 0x3000n }),
      ok('ioasMap', autoMap(IOAS, BUF + 0x30n, 0x1000n), { iova: 0x7030n }),
    ],
  },
  {
    name: 'rule.6.table.byte_maps_null_va_and_2MiB_cap',
    steps: [
      newIoas(),
      ok('ioasMap', autoMap(IOAS, BUF, 1n), { iova: 0x1000n }),
      ok('ioasMap', autoMap(IOAS, BUF, 1n), { iova: 0x1001n }),
      ok('ioasMap', autoMap(IOAS, 0n, 0x3000n), { iova: 0x4000n }),
      ok('ioasMap', autoMap(IOAS, BUF, 4n << 20n), { iova: 0x200000n }),
    ],
  },
  {
    name: 'rule.6.table.page_offset_is_ORed_not_added',
    steps: [
      newIoas(),
      ok('ioasMap', autoMap(IOAS, 0x55555555a2a0n, 0x100n), { iova: 0x12a0n }),
      ok('ioasMap', autoMap(IOAS, 0x55555555a2a0n, 0x100n), { iova: 0x13a0n }),
      ok('ioasMap', autoMap(IOAS, 0x55555555a2a0n, 0x100n), { iova: 0x16a0n }),
    ],
  },
  {
    name: 'rule.6.table.allowed_window',
    steps: [
      newIoas(),
      ok('ioasAllowIovas', allow(IOAS, [range(0x10000n, 0x1ffffn)])),
      ok('ioasMap', autoMap(IOAS, BUF, 0x2000n), { iova: 0x10000n }),
      ok('ioasMap', autoMap(IOAS, BUF, 0x2000n), { iova: 0x12000n }),
    ],
  },
  {
    name: 'rule.6.table.adjacent_allowed_ranges_merge',
    steps: [
      newIoas(),
      ok('ioasAllowIovas', allow(IOAS, [range(0x10000n, 0x11fffn), range(0x12000n, 0x13fffn)])),
      ok('ioasMap', autoMap(IOAS, BUF, 0x4000n), { iova: 0x10000n }),
    ],
  },
  {
    name: 'rule.6.table.window_below_page_size_is_clipped_away',
    steps: [
      newIoas(),
      ok('ioasAllowIovas', allow(IOAS, [range(0n, 0xfffn)])),
      fails('ENOSPC', 'ioasMap', autoMap(IOAS, BUF, 0x1000n)),
    ],
  },
  {
    name: 'rule.6.table.one_byte_never_takes_last_byte_of_hole',
    steps: [
      newIoas(),
      ok('ioasAllowIovas', allow(IOAS, [range(0x1000n, 0x1fffn)])),
      ok('ioasMap', fixedMap(IOAS, BUF, 0xfffn, 0x1000n)),
      fails('ENOSPC', 'ioasMap', autoMap(IOAS, BUF, 1n)),
    ],
  },
];

const idRules: ContractCase[] = [
  {
    name: 'rule.4.1.lowest_free_id_reused',
    steps: [
      newIoas(1),
      newIoas(2),
      newIoas(3),
      ok('destroy', destroy(2)),
      newIoas(2),
      newIoas(4),
      ok('destroy', destroy(1)),
      ok('destroy', destroy(3)),
      newIoas(1),
      newIoas(3),
    ],
  },
  {
    name: 'rule.4.2.alloc_flags_eopnotsupp_consumes_no_id',
    steps: [fails('EOPNOTSUPP', 'ioasAlloc', alloc(1)), fails('EOPNOTSUPP', 'ioasAlloc', alloc(0x80000000)), newIoas(1)],
  },
  {
    name: 'rule.4.3.destroy_enoent_for_free_and_zero_ids',
    steps: [
      fails('ENOENT', 'destroy', destroy(0)),
      fails('ENOENT', 'destroy', destroy(1)),
      newIoas(),
      ok('destroy', destroy(IOAS)),
      fails('ENOENT', 'destroy', destroy(IOAS)),
    ],
  },
  {
    name: 'rule.4.3.destroy_with_areas_and_copies_succeeds',
    steps: [
      newIoas(1),
      newIoas(2),
      ok('ioasMap', fixedMap(1, BUF, 0x4000n, 0x10000n)),
      ok('ioasCopy', copy({ flags: FIXED | RW, dst: 2, src: 1, length: 0x4000n, srcIova: 0x10000n, dstIova: 0x10000n })),
      ok('destroy', destroy(1)),
      // The copy keeps its pages: the area in IOAS 2 is intact and unmaps whole.
      ok('ioasUnmap', unmap(2, 0x10000n, 0x4000n), { length: 0x4000n }),
      fails('ENOENT', 'ioasMap', fixedMap(1, BUF, 0x1000n, 0x1000n)),
    ],
  },
];

const mapRules: ContractCase[] = [
  {
    name: 'rule.5.1.check_order_flags_overflow_prot_ioas',
    steps: [
      newIoas(),
      // 1. unknown flag beats everything after it
      fails('EOPNOTSUPP', 'ioasMap', { flags: RW | 8, ioasId: 99, userVa: BUF, length: U64, iova: U64 }),
      // 2. EOVERFLOW beats missing R/W and a bad IOAS; the iova is checked even for automatic MAP
      fails('EOVERFLOW', 'ioasMap', { flags: 0, ioasId: 99, userVa: BUF, length: PAGE, iova: U64 }),
      fails('EOVERFLOW', 'ioasMap', { flags: FIXED, ioasId: 99, userVa: BUF, length: U64, iova: 0n }),
      // 3. no R/W beats a bad IOAS; FIXED alone is not enough
      fails('EINVAL', 'ioasMap', { flags: FIXED, ioasId: 99, userVa: BUF, length: PAGE, iova: 0n }),
      // 4. a bad IOAS beats length 0
      fails('ENOENT', 'ioasMap', autoMap(99, BUF, 0n)),
      // 5. length 0
      fails('EINVAL', 'ioasMap', autoMap(IOAS, BUF, 0n)),
      fails('EINVAL', 'ioasMap', fixedMap(IOAS, BUF, 0n, 0x1000n)),
    ],
  },
  {
    name: 'rule.5.1.either_read_or_write_suffices',
    steps: [
      newIoas(),
      ok('ioasMap', fixedMap(IOAS, BUF, PAGE, 0x1000n, FIXED | R), { iova: 0x1000n }),
      ok('ioasMap', fixedMap(IOAS, BUF, PAGE, 0x2000n, FIXED | W), { iova: 0x2000n }),
      ok('ioasMap', autoMap(IOAS, BUF, PAGE, W), { iova: 0x3000n }),
    ],
  },
  {
    name: 'rule.5.1.automatic_map_rejects_iova_u64_max_but_ignores_other_iova',
    steps: [
      newIoas(),
      fails('EOVERFLOW', 'ioasMap', autoMap(IOAS, BUF, PAGE, RW, U64)),
      ok('ioasMap', autoMap(IOAS, BUF, PAGE, RW, U64 - 1n), { iova: 0x1000n }),
    ],
  },
  {
    name: 'rule.5.1.length_limit_size_max_minus_page',
    steps: [
      newIoas(),
      fails('EINVAL', 'ioasMap', fixedMap(IOAS, 0n, U64 - PAGE + 1n, 0n)),
      // The largest legal length works with FIXED_IOVA (but is too long for automatic placement).
      fails('EOVERFLOW', 'ioasMap', autoMap(IOAS, 0n, U64 - PAGE)),
      ok('ioasMap', fixedMap(IOAS, 0n, U64 - PAGE, 0n), { iova: 0n }),
      ok('ioasUnmap', unmap(IOAS, 0n, U64), { length: U64 - PAGE }),
    ],
  },
  {
    name: 'rule.5.1.user_va_plus_length_must_not_wrap',
    steps: [
      newIoas(),
      fails('EOVERFLOW', 'ioasMap', fixedMap(IOAS, (1n << 64n) - 0x100n, 0x100n, 0x1000n)),
      ok('ioasMap', fixedMap(IOAS, (1n << 64n) - 0x101n, 0x100n, 0x1000n)),
    ],
  },
  {
    name: 'rule.5.1.npages_wraps_like_the_kernel',
    steps: [
      newIoas(),
      // DIV_ROUND_UP(length + page_offset, PAGE_SIZE) wraps for page offset >= 2: EOVERFLOW.
      fails('EOVERFLOW', 'ioasMap', fixedMap(IOAS, 2n, 0xffffffffffffefffn, 0n)),
      ok('ioasMap', fixedMap(IOAS, 1n, 0xffffffffffffefffn, 0n)),
    ],
  },
  {
    name: 'rule.5.1.fixed_iova_plus_length_wraps',
    steps: [
      newIoas(),
      fails('EOVERFLOW', 'ioasMap', fixedMap(IOAS, BUF, 0x1001n, U64 - 0xfffn)),
      // A mapping may end exactly at U64_MAX.
      ok('ioasMap', fixedMap(IOAS, BUF, 0x1000n, U64 - 0xfffn), { iova: U64 - 0xfffn }),
    ],
  },
  {
    name: 'rule.5.1.reserved_is_einval_and_checked_before_areas',
    needs: ['reserved'],
    steps: [
      newIoas(),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x1000n, 0x10000n)),
      ok('addReserved', reserved(IOAS, 0x11000n, 0x11fffn)),
      fails('EINVAL', 'ioasMap', fixedMap(IOAS, BUF, 0x1000n, 0x11000n)),
      // Overlaps both an area and the reserved range: EINVAL (reserved first), not EEXIST.
      fails('EINVAL', 'ioasMap', fixedMap(IOAS, BUF, 0x2000n, 0x10000n)),
      fails('EEXIST', 'ioasMap', fixedMap(IOAS, BUF, 0x1000n, 0x10000n)),
      // ADD_RESERVED over an area: EADDRINUSE
      fails('EADDRINUSE', 'addReserved', reserved(IOAS, 0x10800n, 0x10800n)),
    ],
  },
  {
    name: 'rule.5.1.fixed_map_ignores_allowed_list',
    steps: [
      newIoas(),
      ok('ioasAllowIovas', allow(IOAS, [range(0x10000n, 0x1ffffn)])),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x1000n, 0x100000n), { iova: 0x100000n }),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x1000n, 0n), { iova: 0n }),
    ],
  },
  {
    name: 'rule.5.2.areas_never_merge',
    steps: [
      newIoas(),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x1000n, 0x1000n)),
      ok('ioasMap', fixedMap(IOAS, BUF + 0x1000n, 0x1000n, 0x2000n)),
      ok('ioasUnmap', unmap(IOAS, 0x1000n, 0x1000n), { length: 0x1000n }),
      ok('ioasUnmap', unmap(IOAS, 0x2000n, 0x1000n), { length: 0x1000n }),
    ],
  },
  {
    name: 'rule.5.3.plain_ioas_alignment_is_one_byte_and_user_va_unchecked',
    steps: [
      newIoas(),
      ok('ioasMap', fixedMap(IOAS, 0n, 3n, 0x1001n), { iova: 0x1001n }),
      ok('ioasMap', fixedMap(IOAS, 0xffff800000000123n, 0x10n, 0x1004n), { iova: 0x1004n }),
      ok('ioasMap', fixedMap(IOAS, 0x7n, 1n, 0n), { iova: 0n }),
      ok('ioasUnmap', unmap(IOAS, 0x1001n, 0x13n), { length: 0x13n }),
    ],
  },
  {
    name: 'rule.5.3.huge_pages_off_requires_page_alignment',
    steps: [
      newIoas(),
      ok('ioasMap', fixedMap(IOAS, BUF, PAGE, 0x10000n)),
      hugePagesOff(),
      fails('EINVAL', 'ioasMap', fixedMap(IOAS, BUF, PAGE, 0x20001n)),
      fails('EINVAL', 'ioasMap', fixedMap(IOAS, BUF, PAGE + 1n, 0x20000n)),
      fails('EINVAL', 'ioasMap', fixedMap(IOAS, BUF + 0x10n, PAGE, 0x20000n)),
      // Misaligned iova is checked before overlap (EINVAL, not EEXIST) ...
      fails('EINVAL', 'ioasMap', fixedMap(IOAS, BUF, PAGE, 0x10001n)),
      // ... but the user_va page offset only after it (EEXIST, not EINVAL).
      fails('EEXIST', 'ioasMap', fixedMap(IOAS, BUF + 0x10n, PAGE, 0x10000n)),
      // Automatic: the computed alignment (lowest bit of user_va) is below PAGE_SIZE.
      fails('EINVAL', 'ioasMap', autoMap(IOAS, BUF + 0x800n, PAGE)),
      ok('ioasMap', autoMap(IOAS, BUF, PAGE), { iova: 0x1000n }),
    ],
  },
];

const allocatorRules: ContractCase[] = [
  {
    name: 'rule.6.length_limit_for_automatic_placement',
    steps: [
      newIoas(),
      fails('EOVERFLOW', 'ioasMap', autoMap(IOAS, BUF, 0x7fffffffffffffffn)),
      ok('ioasMap', autoMap(IOAS, BUF, 0x7ffffffffffffffen), { iova: 0x200000n }),
    ],
  },
  {
    name: 'rule.6.alignment_from_length_when_user_va_is_null',
    steps: [
      newIoas(),
      ok('ioasMap', autoMap(IOAS, 0n, 0x100n), { iova: 0x1000n }),
      ok('ioasMap', autoMap(IOAS, 0n, 0x300n), { iova: 0x1400n }),
      ok('ioasMap', autoMap(IOAS, 0n, 0x10000n), { iova: 0x10000n }),
    ],
  },
  {
    name: 'rule.6.alignment_from_lowest_bit_of_user_va',
    steps: [
      newIoas(),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x10n, 0x1000n)),
      // a = min(pow2(0x10000), lowbit(0x...8000)) = 0x8000
      ok('ioasMap', autoMap(IOAS, BUF + 0x8000n, 0x10000n), { iova: 0x8000n }),
    ],
  },
  {
    name: 'rule.6.never_zero_never_top_page',
    steps: [
      newIoas(),
      ok('ioasAllowIovas', allow(IOAS, [range(0n, 0x1fffn), range(U64 - 0x1fffn, U64)])),
      ok('ioasMap', autoMap(IOAS, BUF, 0x1000n), { iova: 0x1000n }),
      ok('ioasMap', autoMap(IOAS, BUF, 0x1000n), { iova: U64 - 0x1fffn }),
      fails('ENOSPC', 'ioasMap', autoMap(IOAS, BUF, 0x1000n)),
    ],
  },
  {
    name: 'rule.6.first_window_is_aligned_once_then_each_hole',
    steps: [
      newIoas(),
      // Window [0x1800, 0x8fff]: its aligned start is 0x2000. Area [0x2000,0x2fff] makes the
      // next hole start at 0x3000, which is aligned again to 0x4000 for a = 0x2000.
      ok('ioasAllowIovas', allow(IOAS, [range(0x1800n, 0x8fffn)])),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x1000n, 0x2000n)),
      ok('ioasMap', autoMap(IOAS, BUF, 0x2000n), { iova: 0x4000n }),
      ok('ioasMap', autoMap(IOAS, BUF, 0x2000n), { iova: 0x6000n }),
      fails('ENOSPC', 'ioasMap', autoMap(IOAS, BUF, 0x2000n)),
    ],
  },
  {
    name: 'rule.6.windows_in_ascending_order_regardless_of_list_order',
    steps: [
      newIoas(),
      ok('ioasAllowIovas', allow(IOAS, [range(0x40000n, 0x4ffffn), range(0x20000n, 0x20fffn)])),
      ok('ioasMap', autoMap(IOAS, BUF, 0x1000n), { iova: 0x20000n }),
      ok('ioasMap', autoMap(IOAS, BUF, 0x1000n), { iova: 0x40000n }),
    ],
  },
  {
    name: 'rule.6.skips_holes_too_small_or_misaligned',
    steps: [
      newIoas(),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x1000n, 0x2000n)),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x1000n, 0x5000n)),
      // The window start 0x1000 aligns to 0x2000 for a = 0x2000. Hole [0x3000,0x4fff] is big
      // enough but its aligned start 0x4000 leaves only 0x1000 bytes; next hole -> 0x6000.
      ok('ioasMap', autoMap(IOAS, BUF, 0x2000n), { iova: 0x6000n }),
      ok('ioasMap', autoMap(IOAS, BUF, 0x1000n), { iova: 0x1000n }),
    ],
  },
  {
    name: 'rule.6.automatic_map_avoids_reserved',
    needs: ['reserved'],
    steps: [
      newIoas(),
      ok('addReserved', reserved(IOAS, 0x1000n, 0x2fffn)),
      ok('ioasMap', autoMap(IOAS, BUF, 0x1000n), { iova: 0x3000n }),
      ok('addReserved', reserved(IOAS, 0x4000n, 0x4000n)),
      ok('ioasMap', autoMap(IOAS, BUF, 0x1000n), { iova: 0x5000n }),
    ],
  },
];

const copyRules: ContractCase[] = [
  {
    name: 'rule.7.1.check_order',
    needs: ['notTestKernel'],
    steps: [
      newIoas(),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x1000n, 0x1000n, FIXED | R)),
      // bit 16 is an unknown flag on a normal kernel
      fails('EOPNOTSUPP', 'ioasCopy', copy({ flags: RW | MOCK_FLAGS_ACCESS_SYZ, dst: 99, src: 99, length: U64, srcIova: 0n })),
      fails('EOPNOTSUPP', 'ioasCopy', copy({ flags: RW | 8, dst: 99, src: 99, length: U64, srcIova: 0n })),
    ],
  },
  {
    name: 'rule.7.1.check_order_overflow_prot_src_dst',
    steps: [
      newIoas(),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x1000n, 0x1000n, FIXED | R)),
      fails('EOVERFLOW', 'ioasCopy', copy({ flags: 0, dst: 99, src: 99, length: U64, srcIova: 0n })),
      fails('EOVERFLOW', 'ioasCopy', copy({ flags: 0, dst: 99, src: 99, length: 1n, srcIova: U64 })),
      // dst_iova is checked even for automatic placement
      fails('EOVERFLOW', 'ioasCopy', copy({ flags: RW, dst: 99, src: 99, length: 1n, srcIova: 0n, dstIova: U64 })),
      fails('EINVAL', 'ioasCopy', copy({ flags: FIXED, dst: 99, src: 99, length: 1n, srcIova: 0n })),
      fails('ENOENT', 'ioasCopy', copy({ flags: R, dst: IOAS, src: 99, length: 0n, srcIova: 0x1000n })),
      fails('EINVAL', 'ioasCopy', copy({ flags: R, dst: 99, src: IOAS, length: 0n, srcIova: 0x1000n })),
      fails('EOVERFLOW', 'ioasCopy', copy({ flags: R, dst: 99, src: IOAS, length: 3n, srcIova: U64 - 1n })),
      fails('ENOENT', 'ioasCopy', copy({ flags: R, dst: 99, src: IOAS, length: 0x1001n, srcIova: 0x1000n })),
      // the destination is looked up only after the source checks pass
      fails('ENOENT', 'ioasCopy', copy({ flags: R, dst: 99, src: IOAS, length: 0x1000n, srcIova: 0x1000n })),
      // EPERM (write from read-only pages) comes after the IOVA checks
      fails('EEXIST', 'ioasCopy', copy({ flags: FIXED | W, dst: IOAS, src: IOAS, length: 0x1000n, srcIova: 0x1000n, dstIova: 0x1800n })),
      fails('EPERM', 'ioasCopy', copy({ flags: FIXED | W, dst: IOAS, src: IOAS, length: 0x1000n, srcIova: 0x1000n, dstIova: 0x8000n })),
      fails('EPERM', 'ioasCopy', copy({ flags: RW, dst: IOAS, src: IOAS, length: 0x1000n, srcIova: 0x1000n })),
      // protection comes from COPY's flags
      ok('ioasCopy', copy({ flags: FIXED | R, dst: IOAS, src: IOAS, length: 0x1000n, srcIova: 0x1000n, dstIova: 0x8000n }), {
        dstIova: 0x8000n,
      }),
    ],
  },
  {
    name: 'rule.7.1.byte_sub_range_across_back_to_back_areas',
    steps: [
      newIoas(1),
      newIoas(2),
      ok('ioasMap', fixedMap(1, BUF, 0x1000n, 0x1000n)),
      ok('ioasMap', fixedMap(1, BUF + 0x10000n, 0x1000n, 0x2000n)),
      ok('ioasCopy', copy({ flags: FIXED | RW, dst: 2, src: 1, length: 0x1000n, srcIova: 0x1800n, dstIova: 0x100000n })),
      // one destination area per source area touched
      fails('ENOENT', 'ioasUnmap', unmap(2, 0x100000n, 0x400n)),
      ok('ioasUnmap', unmap(2, 0x100000n, 0x800n), { length: 0x800n }),
      ok('ioasUnmap', unmap(2, 0x100800n, 0x800n), { length: 0x800n }),
      // a gap between source areas: ENOENT
      ok('ioasMap', fixedMap(1, BUF, 0x1000n, 0x4000n)),
      fails('ENOENT', 'ioasCopy', copy({ flags: RW, dst: 2, src: 1, length: 0x2000n, srcIova: 0x2800n })),
    ],
  },
  {
    name: 'rule.7.1.automatic_copy_aligns_by_user_va_behind_src_iova',
    steps: [
      newIoas(1),
      newIoas(2),
      // src_iova 0x10000 is 64 KiB aligned, but the user VA behind it ends in 0x100.
      ok('ioasMap', fixedMap(1, BUF + 0x100n, 0x1000n, 0x10000n)),
      ok('ioasCopy', copy({ flags: RW, dst: 2, src: 1, length: 0x1000n, srcIova: 0x10000n }), { dstIova: 0x1100n }),
      // a sub-range: the VA behind src_iova 0x10400 is BUF + 0x500
      ok('ioasCopy', copy({ flags: RW, dst: 2, src: 1, length: 0x100n, srcIova: 0x10400n }), { dstIova: 0x2500n }),
    ],
  },
  {
    name: 'rule.7.1.copy_into_huge_pages_off_destination',
    steps: [
      newIoas(1),
      newIoas(2),
      ok('ioasMap', fixedMap(1, BUF + 0x30n, 0x2000n, 0x10000n)),
      ok('ioasMap', fixedMap(1, BUF, 0x2000n, 0x20000n)),
      hugePagesOff(2),
      // length not a multiple of the destination alignment
      fails('EINVAL', 'ioasCopy', copy({ flags: FIXED | RW, dst: 2, src: 1, length: 0x800n, srcIova: 0x20000n, dstIova: 0x1000n })),
      // a piece whose page offset (0x30) is not aligned
      fails('EINVAL', 'ioasCopy', copy({ flags: FIXED | RW, dst: 2, src: 1, length: 0x1000n, srcIova: 0x10000n, dstIova: 0x1000n })),
      ok('ioasCopy', copy({ flags: FIXED | RW, dst: 2, src: 1, length: 0x1000n, srcIova: 0x20000n, dstIova: 0x1000n })),
    ],
  },
  {
    name: 'rule.7.1.destination_placement_errors',
    steps: [
      newIoas(1),
      newIoas(2),
      ok('ioasMap', fixedMap(1, BUF, 0x2000n, 0x10000n)),
      ok('ioasMap', fixedMap(2, BUF, 0x1000n, 0x1000n)),
      fails('EOVERFLOW', 'ioasCopy', copy({ flags: FIXED | RW, dst: 2, src: 1, length: 0x1001n, srcIova: 0x10000n, dstIova: U64 - 0xfffn })),
      fails('EEXIST', 'ioasCopy', copy({ flags: FIXED | RW, dst: 2, src: 1, length: 0x1000n, srcIova: 0x10000n, dstIova: 0x1800n })),
      ok('ioasAllowIovas', allow(2, [range(0x1000n, 0x2fffn)])),
      fails('ENOSPC', 'ioasCopy', copy({ flags: RW, dst: 2, src: 1, length: 0x2000n, srcIova: 0x10000n })),
      ok('ioasCopy', copy({ flags: RW, dst: 2, src: 1, length: 0x1000n, srcIova: 0x10000n }), { dstIova: 0x2000n }),
    ],
  },
  {
    name: 'rule.7.1.copy_into_reserved_is_einval',
    needs: ['reserved'],
    steps: [
      newIoas(1),
      newIoas(2),
      ok('ioasMap', fixedMap(1, BUF, 0x1000n, 0x10000n)),
      ok('addReserved', reserved(2, 0x4000n, 0x4fffn)),
      fails('EINVAL', 'ioasCopy', copy({ flags: FIXED | RW, dst: 2, src: 1, length: 0x1000n, srcIova: 0x10000n, dstIova: 0x4800n })),
      ok('ioasCopy', copy({ flags: FIXED | RW, dst: 2, src: 1, length: 0x1000n, srcIova: 0x10000n, dstIova: 0x5000n })),
    ],
  },
  {
    name: 'rule.7.2.copies_survive_unmap_of_the_source',
    steps: [
      newIoas(),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x3000n, 0x10000n)),
      ok('ioasCopy', copy({ flags: FIXED | RW, dst: IOAS, src: IOAS, length: 0x2000n, srcIova: 0x10800n, dstIova: 0x40000n })),
      ok('ioasUnmap', unmap(IOAS, 0x10000n, 0x3000n), { length: 0x3000n }),
      ok('ioasCopy', copy({ flags: FIXED | RW, dst: IOAS, src: IOAS, length: 0x2000n, srcIova: 0x40000n, dstIova: 0x10000n })),
      ok('ioasUnmap', unmap(IOAS, 0n, U64), { length: 0x4000n }),
    ],
  },
  {
    name: 'rule.7.1.test_kernel_copy_bit16_rewrites_src_iova',
    needs: ['testKernel'],
    steps: [
      newIoas(1),
      newIoas(2),
      ok('ioasMap', fixedMap(1, BUF, 0x20n, 0x10000n)),
      ok('ioasMap', fixedMap(1, BUF, 0x1000n, 0x30000n)),
      // {nth_area = 1, offset = 0x20}: src_iova becomes 0x30020 (area 0 is too short for
      // [0x10020, 0x1002f], so reading the words the wrong way round gives ENOENT)
      ok('ioasCopy', copy({ flags: FIXED | RW | MOCK_FLAGS_ACCESS_SYZ, dst: 2, src: 1, length: 0x10n, srcIova: (0x20n << 32n) | 1n, dstIova: 0x5000n }), {
        dstIova: 0x5000n,
      }),
      // no such area: src_iova becomes 0, which is not mapped
      fails('ENOENT', 'ioasCopy', copy({ flags: FIXED | RW | MOCK_FLAGS_ACCESS_SYZ, dst: 2, src: 1, length: 0x10n, srcIova: 2n, dstIova: 0x6000n })),
      // the rewrite happens before the flags check, so the remaining flags must be valid
      fails('EOPNOTSUPP', 'ioasCopy', copy({ flags: RW | 8 | MOCK_FLAGS_ACCESS_SYZ, dst: 2, src: 1, length: 0x10n, srcIova: 0n })),
      // the copied piece came from the second area: unmapping that source keeps the copy
      ok('ioasUnmap', unmap(1, 0x30000n, 0x1000n)),
      ok('ioasUnmap', unmap(2, 0x5000n, 0x10n), { length: 0x10n }),
    ],
  },
];

const unmapRules: ContractCase[] = [
  {
    name: 'rule.8.1.check_order',
    steps: [
      newIoas(),
      fails('ENOENT', 'ioasUnmap', unmap(99, U64, 0n)),
      ok('ioasUnmap', unmap(IOAS, 0n, U64), { length: 0n }),
      fails('EOVERFLOW', 'ioasUnmap', unmap(IOAS, U64, 0n)),
      fails('EOVERFLOW', 'ioasUnmap', unmap(IOAS, 1n, U64)),
      fails('EINVAL', 'ioasUnmap', unmap(IOAS, 0x1000n, 0n)),
      fails('EOVERFLOW', 'ioasUnmap', unmap(IOAS, 0x1000n, U64 - 1n)),
      fails('ENOENT', 'ioasUnmap', unmap(IOAS, 0x1000n, 0x1000n)),
    ],
  },
  {
    name: 'rule.8.2.partial_unmap_before_enoent',
    steps: [
      newIoas(),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x1000n, 0x1000n)),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x2000n, 0x2000n)),
      fails('ENOENT', 'ioasUnmap', unmap(IOAS, 0x1000n, 0x2000n)),
      // the first area is already gone, the second is intact
      fails('ENOENT', 'ioasUnmap', unmap(IOAS, 0x1000n, 0x1000n)),
      ok('ioasUnmap', unmap(IOAS, 0x2000n, 0x2000n), { length: 0x2000n }),
    ],
  },
  {
    name: 'rule.8.2.first_area_cut_removes_nothing',
    steps: [
      newIoas(),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x1000n, 0x1000n)),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x1000n, 0x2000n)),
      fails('ENOENT', 'ioasUnmap', unmap(IOAS, 0x1800n, 0x2800n)),
      ok('ioasUnmap', unmap(IOAS, 0x1000n, 0x2000n), { length: 0x2000n }),
    ],
  },
  {
    name: 'rule.8.2.returns_bytes_removed_not_requested_and_needs_no_alignment',
    steps: [
      newIoas(),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x3n, 0x1001n)),
      ok('ioasMap', fixedMap(IOAS, BUF, 0x5n, 0x2007n)),
      ok('ioasUnmap', unmap(IOAS, 0x1001n, 0x1fffn), { length: 0x8n }),
    ],
  },
  {
    name: 'rule.8.1.unmap_all_length_wraps_at_2_pow_64',
    steps: [
      newIoas(),
      ok('ioasMap', fixedMap(IOAS, 0n, U64 - PAGE, 0n)),
      ok('ioasMap', fixedMap(IOAS, 0n, PAGE + 1n, U64 - PAGE)),
      // 2^64 bytes removed; the kernel's unsigned long count wraps to 0
      ok('ioasUnmap', unmap(IOAS, 0n, U64), { length: 0n }),
      fails('ENOENT', 'ioasUnmap', unmap(IOAS, 0n, 0x1000n)),
    ],
  },
];

const rangesAndAllowRules: ContractCase[] = [
  {
    name: 'rule.9.iova_ranges_ignores_allowed_and_follows_huge_pages',
    steps: [
      fails('ENOENT', 'ioasIovaRanges', iovaRanges(1, 4)),
      newIoas(),
      ok('ioasAllowIovas', allow(IOAS, [range(0x10000n, 0x1ffffn)])),
      ok('ioasIovaRanges', iovaRanges(IOAS, 4), { numIovas: 1, ranges: [range(0n, U64)], outIovaAlignment: 1n }),
      hugePagesOff(),
      fails('EMSGSIZE', 'ioasIovaRanges', iovaRanges(IOAS, 0), { numIovas: 1, ranges: [], outIovaAlignment: PAGE }),
      ok('option', option(HUGE, SET, IOAS, 1n)),
      ok('ioasIovaRanges', iovaRanges(IOAS, 1), { numIovas: 1, outIovaAlignment: 1n }),
    ],
  },
  {
    name: 'rule.10.allow_iovas_element_checks',
    steps: [
      fails('ENOENT', 'ioasAllowIovas', allow(1, [range(2n, 1n)])),
      newIoas(),
      fails('EINVAL', 'ioasAllowIovas', allow(IOAS, [range(0x1000n, 0x1000n)])),
      fails('EINVAL', 'ioasAllowIovas', allow(IOAS, [range(0x2000n, 0x1000n)])),
      fails('EINVAL', 'ioasAllowIovas', allow(IOAS, [range(0x1000n, 0x2000n), range(0x2000n, 0x3000n)])),
      ok('ioasAllowIovas', allow(IOAS, [range(0x1000n, 0x1fffn), range(0x2000n, 0x3000n)])),
      // no alignment check and no check against existing areas
      ok('ioasMap', fixedMap(IOAS, BUF, 0x1000n, 0x100000n)),
      ok('ioasAllowIovas', allow(IOAS, [range(0x10001n, 0x1ffffn)])),
    ],
  },
  {
    name: 'rule.10.allow_iovas_replaces_atomically_and_empty_clears',
    steps: [
      newIoas(),
      ok('ioasAllowIovas', allow(IOAS, [range(0x10000n, 0x1ffffn)])),
      // a failing list leaves the old one in force
      fails('EINVAL', 'ioasAllowIovas', allow(IOAS, [range(0x40000n, 0x4ffffn), range(0x5n, 0x5n)])),
      ok('ioasMap', autoMap(IOAS, BUF, 0x1000n), { iova: 0x10000n }),
      ok('ioasAllowIovas', allow(IOAS, [range(0x40000n, 0x4ffffn)])),
      ok('ioasMap', autoMap(IOAS, BUF, 0x1000n), { iova: 0x40000n }),
      ok('ioasAllowIovas', allow(IOAS, [])),
      ok('ioasMap', autoMap(IOAS, BUF, 0x1000n), { iova: 0x1000n }),
    ],
  },
  {
    name: 'rule.10.eaddrinuse_keeps_old_list',
    needs: ['reserved'],
    steps: [
      newIoas(),
      ok('ioasAllowIovas', allow(IOAS, [range(0x10000n, 0x1ffffn)])),
      ok('addReserved', reserved(IOAS, 0x30000n, 0x30fffn)),
      fails('EADDRINUSE', 'ioasAllowIovas', allow(IOAS, [range(0x40000n, 0x4ffffn), range(0x30800n, 0x30900n)])),
      ok('ioasMap', autoMap(IOAS, BUF, 0x1000n), { iova: 0x10000n }),
      // IOVA_RANGES reports the complement of the reserved list
      ok('ioasIovaRanges', iovaRanges(IOAS, 4), { numIovas: 2, ranges: [range(0n, 0x2ffffn), range(0x31000n, U64)] }),
    ],
  },
];

const optionRules: ContractCase[] = [
  {
    name: 'rule.11.unknown_option_and_rlimit_object_id',
    steps: [
      fails('EOPNOTSUPP', 'option', option(2, GET, 0, 0n)),
      fails('EOPNOTSUPP', 'option', option(RLIMIT, GET, 1, 0n)),
      fails('EOPNOTSUPP', 'option', option(RLIMIT, 2, 0, 0n)),
      ok('option', option(RLIMIT, GET, 0, 7n), { val64: 0n }),
    ],
  },
  {
    name: 'rule.11.rlimit_set_order_ebusy_then_einval',
    needs: ['capSysResource'],
    steps: [
      newIoas(),
      fails('EBUSY', 'option', option(RLIMIT, SET, 0, 2n)),
      fails('EBUSY', 'option', option(RLIMIT, SET, 0, 1n)),
      ok('destroy', destroy(IOAS)),
      fails('EINVAL', 'option', option(RLIMIT, SET, 0, 2n)),
      ok('option', option(RLIMIT, SET, 0, 1n), { val64: 1n }),
      ok('option', option(RLIMIT, GET, 0, 0n), { val64: 1n }),
      // the mode does not change MAP on a plain IOAS
      newIoas(),
      ok('ioasMap', autoMap(IOAS, BUF, PAGE), { iova: 0x1000n }),
    ],
  },
  {
    name: 'rule.11.rlimit_set_needs_cap_sys_resource_first',
    needs: ['noCapSysResource'],
    steps: [
      fails('EPERM', 'option', option(RLIMIT, SET, 0, 2n)),
      newIoas(),
      fails('EPERM', 'option', option(RLIMIT, SET, 0, 1n)),
      ok('option', option(RLIMIT, GET, 0, 0n), { val64: 0n }),
    ],
  },
  {
    name: 'rule.11.huge_pages_lookup_before_op_and_value',
    steps: [
      fails('ENOENT', 'option', option(HUGE, 9, 1, 9n)),
      newIoas(),
      fails('EOPNOTSUPP', 'option', option(HUGE, 9, IOAS, 9n)),
      fails('EINVAL', 'option', option(HUGE, SET, IOAS, 9n)),
      hugePagesOff(),
      hugePagesOff(),
      ok('option', option(HUGE, GET, IOAS, 0n), { val64: 0n }),
      ok('option', option(HUGE, SET, IOAS, 1n), { val64: 1n }),
      ok('option', option(HUGE, SET, IOAS, 1n), { val64: 1n }),
      ok('option', option(HUGE, GET, IOAS, 0n), { val64: 1n }),
    ],
  },
  ...(
    [
      ['iova', fixedMap(IOAS, BUF, PAGE, 0x10800n)],
      ['length', fixedMap(IOAS, BUF, PAGE + 1n, 0x10000n)],
      ['page_offset', fixedMap(IOAS, BUF + 0x200n, PAGE, 0x10000n)],
    ] as const
  ).map(
    ([what, map]): ContractCase => ({
      name: `rule.11.huge_pages_off_eaddrinuse_for_misaligned_${what}_and_rolls_back`,
      steps: [
        newIoas(),
        ok('ioasMap', fixedMap(IOAS, BUF, PAGE, 0x1000n)),
        ok('ioasMap', map),
        fails('EADDRINUSE', 'option', option(HUGE, SET, IOAS, 0n)),
        ok('option', option(HUGE, GET, IOAS, 0n), { val64: 1n }),
        ok('ioasIovaRanges', iovaRanges(IOAS, 1), { outIovaAlignment: 1n }),
        ok('ioasUnmap', unmap(IOAS, 0x10000n, 0x2000n)),
        hugePagesOff(),
      ],
    }),
  ),
];

export const ruleCases: ContractCase[] = [
  ...allocatorTable,
  ...idRules,
  ...mapRules,
  ...allocatorRules,
  ...copyRules,
  ...unmapRules,
  ...rangesAndAllowRules,
  ...optionRules,
];
