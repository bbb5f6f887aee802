// The JSON Schema of the written layout (format version 1). This object is the source of truth;
// schema/layout.schema.json is the same data for editors (yaml-language-server) and is kept
// identical by `npm run build && node scripts/write-schema.mjs` (a test fails when they differ).
//
// Sizes and addresses are `integer | string`: YAML integers, and strings such as `0x1000_0000`
// or `2MiB`. The validator sees a JSON view of the document where integers beyond 2^53 are
// decimal strings, so the string pattern accepts plain decimal digits as well.

import { SIZE_PATTERN } from './sizes.js';

export const NAME_PATTERN = '^[a-z][a-z0-9_-]*$';
export const DEVICE_PATH_PATTERN = '^/dev/vfio/devices/vfio[0-9]+$';
export const PCI_ADDRESS_PATTERN = '^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7]$';
export const ENTRY_REF_PATTERN = '^[a-z][a-z0-9_-]*\\.[a-z][a-z0-9_-]*$';

const size = (description: string) => ({ $ref: '#/definitions/size', description });
const named = (description: string, item: string) => ({
  type: 'object',
  description,
  propertyNames: { $ref: '#/definitions/name' },
  additionalProperties: { $ref: `#/definitions/${item}` },
});

export const LAYOUT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/ioasform/ioasform/schema/layout.schema.json',
  title: 'ioasform layout, format version 1',
  description:
    'Memory regions, iommufd IO address spaces (IOAS), their allowed IOVA ranges, DMA mappings and copies. ' +
    'Sizes and addresses accept integers, hex strings (0x1000_0000) and binary units (4KiB, 2MiB, 1GiB).',
  type: 'object',
  additionalProperties: false,
  required: ['version'],
  properties: {
    version: { description: 'Layout format version. Must be 1.', const: 1 },
    options: {
      type: 'object',
      description: 'Options of the whole iommufd context.',
      additionalProperties: false,
      properties: {
        rlimit_mode: {
          description:
            'IOMMU_OPTION_RLIMIT_MODE: how pinned pages are charged to RLIMIT_MEMLOCK. `user` (default) charges the user, `process` the process (needs CAP_SYS_RESOURCE).',
          enum: ['user', 'process'],
        },
      },
    },
    memory: named('Named backing memory regions the holder owns and maps into IOASes.', 'memoryRegion'),
    ioas: named('Named IO address spaces (IOMMU_IOAS_ALLOC), each with its mappings and copies.', 'ioas'),
    devices: named('Named VFIO devices, each bound to the context and attached to one IOAS.', 'device'),
  },
  definitions: {
    name: {
      type: 'string',
      description: 'A name: lowercase letter first, then lowercase letters, digits, `_` or `-`.',
      pattern: NAME_PATTERN,
    },
    size: {
      type: ['integer', 'string'],
      description: 'A size or address: an integer, a hex string such as 0x1000_0000, or a size such as 4KiB, 2MiB, 1GiB.',
      minimum: 0,
      pattern: SIZE_PATTERN,
    },
    access: {
      description: 'DMA access: `r` (device reads), `w` (device writes) or `rw` (default).',
      enum: ['r', 'w', 'rw'],
    },
    memoryRegion: {
      type: 'object',
      description: 'A backing memory region; the simulator gives it a deterministic 2 MiB-aligned user address.',
      additionalProperties: false,
      required: ['size'],
      properties: {
        size: size('Size of the region in bytes.'),
        backing: { $ref: '#/definitions/backing', description: 'How the region is allocated (default: anonymous).' },
      },
    },
    backing: {
      type: 'object',
      description: 'How a memory region is allocated when the layout is applied for real.',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        kind: {
          description: '`anonymous` (mmap MAP_ANONYMOUS), `memfd` (memfd_create), `hugetlb` (MAP_HUGETLB, needs page_size) or `file` (mmap of path).',
          enum: ['anonymous', 'memfd', 'hugetlb', 'file'],
        },
        page_size: size('Huge page size for `kind: hugetlb`, e.g. 2MiB or 1GiB.'),
        path: { type: 'string', minLength: 1, description: 'File to map for `kind: file`.' },
      },
      allOf: [
        {
          if: { properties: { kind: { const: 'hugetlb' } }, required: ['kind'] },
          then: { required: ['page_size'] },
          else: { properties: { page_size: false } },
        },
        {
          if: { properties: { kind: { const: 'file' } }, required: ['kind'] },
          then: { required: ['path'] },
          else: { properties: { path: false } },
        },
      ],
    },
    iovaRange: {
      type: 'object',
      description: 'An IOVA range: `{start, last}` (last inclusive) or `{start, size}`.',
      additionalProperties: false,
      required: ['start'],
      properties: {
        start: size('First IOVA of the range.'),
        last: size('Last IOVA of the range (inclusive). Give either last or size.'),
        size: size('Length of the range in bytes. Give either last or size.'),
      },
      if: { required: ['size'] },
      then: { properties: { last: false } },
      else: { required: ['last'] },
    },
    ioas: {
      type: 'object',
      description: 'An IO address space (IOMMU_IOAS_ALLOC).',
      additionalProperties: false,
      properties: {
        allowed_iovas: {
          type: 'array',
          description: 'IOMMU_IOAS_ALLOW_IOVAS: the ranges automatic placement may use. Empty or absent: no restriction.',
          items: { $ref: '#/definitions/iovaRange' },
        },
        huge_pages: {
          type: 'boolean',
          description: 'IOMMU_OPTION_HUGE_PAGES (default true). false forces 4 KiB alignment of IOVAs, lengths and offsets.',
        },
        mappings: named('IOMMU_IOAS_MAP of memory regions, by name. Names are shared with copies.', 'mapping'),
        copies: named('IOMMU_IOAS_COPY of pages already mapped in an IOAS, by name. Names are shared with mappings.', 'copy'),
      },
    },
    mapping: {
      type: 'object',
      description: 'A DMA mapping (IOMMU_IOAS_MAP) of part of a memory region.',
      additionalProperties: false,
      required: ['memory'],
      properties: {
        memory: { $ref: '#/definitions/name', description: 'The memory region to map.' },
        offset: size('Offset into the memory region (default 0).'),
        length: size('Bytes to map (default: the rest of the region after offset).'),
        iova: size('Fixed IOVA (IOMMU_IOAS_MAP_FIXED_IOVA). Absent: the kernel chooses.'),
        access: { $ref: '#/definitions/access', description: 'DMA access (default rw).' },
      },
    },
    copy: {
      type: 'object',
      description: 'A copy (IOMMU_IOAS_COPY) of already mapped pages into this IOAS.',
      additionalProperties: false,
      required: ['from'],
      properties: {
        from: { $ref: '#/definitions/copySource', description: 'Where the pages come from.' },
        iova: size('Fixed destination IOVA. Absent: the kernel chooses.'),
        access: { $ref: '#/definitions/access', description: 'DMA access of the copy (default rw).' },
      },
    },
    device: {
      type: 'object',
      description: 'A VFIO device (cdev) attached to an IOAS (VFIO_DEVICE_BIND_IOMMUFD + VFIO_DEVICE_ATTACH_IOMMUFD_PT).',
      additionalProperties: false,
      required: ['ioas', 'profile'],
      properties: {
        path: { type: 'string', pattern: DEVICE_PATH_PATTERN, description: 'The VFIO cdev, /dev/vfio/devices/vfioN. Give either path or pci.' },
        pci: { type: 'string', pattern: PCI_ADDRESS_PATTERN, description: 'A PCI address (0000:00:03.0), resolved to its cdev through sysfs at apply time. Give either path or pci.' },
        ioas: { $ref: '#/definitions/name', description: 'The IOAS the device attaches to.' },
        profile: {
          type: 'string',
          pattern: NAME_PATTERN,
          description:
            'The device model used by plan and the simulator: `intel-vtd-39bit` (MSI window 0xfee00000-0xfeefffff reserved, 39-bit aperture, 4 KiB IOVA alignment), `intel-vtd-48bit`, or `host` (the host\'s /sys/kernel/iommu_groups/*/reserved_regions, read at plan time).',
        },
      },
      if: { required: ['path'] },
      then: { properties: { pci: false } },
      else: { required: ['pci'] },
    },
    copySource: {
      type: ['string', 'object'],
      description:
        '`ioas.entry` (a whole mapping or copy), `{mapping: ioas.entry, offset, length}` (a sub-range of it), or `{ioas, iova, length}` (a raw IOVA range).',
      pattern: ENTRY_REF_PATTERN,
      additionalProperties: false,
      properties: {
        mapping: { type: 'string', pattern: ENTRY_REF_PATTERN, description: 'The source entry as `ioas.entry`.' },
        offset: size('Offset into the source entry (default 0).'),
        ioas: { $ref: '#/definitions/name', description: 'The source IOAS of a raw IOVA range.' },
        iova: size('First source IOVA of a raw IOVA range.'),
        length: size('Bytes to copy (default for `mapping`: the rest of the entry).'),
      },
      if: { type: 'object', required: ['ioas'] },
      then: { required: ['ioas', 'iova', 'length'], properties: { mapping: false, offset: false } },
      else: {
        if: { type: 'object' },
        then: { required: ['mapping'], properties: { iova: false } },
      },
    },
  },
} as const;
