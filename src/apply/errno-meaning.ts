// What an errno means for the step that got it, in words a user can act on (spec §4-§11). The
// same errno means different things for different calls (EINVAL from MAP vs. from ALLOW_IOVAS).

import type { StepOp } from '../model/step.js';

type Table = Partial<Record<string, string>>;

const MEANINGS: Record<StepOp, Table> = {
  attach: {
    EADDRINUSE: "an existing mapping or allowed range lies in a window the device reserves (MSI window, outside the IOMMU aperture), or a mapping is not aligned to the IOMMU page size",
    EFAULT: 'pinning an existing mapping failed: its user memory is not there',
    ENOMEM: 'pinning the existing mappings passes RLIMIT_MEMLOCK',
    EINVAL: 'the device cannot attach to this IOAS (already bound, or incompatible with its domain)',
    EOPNOTSUPP: 'this backend cannot bind and attach devices yet',
    ENODEV: 'the device model (profile) is unknown or the device does not exist',
  },
  detach: {
    EOPNOTSUPP: 'this backend cannot detach devices yet',
  },
  'create-memory': { ENOMEM: 'the holder could not reserve the memory region' },
  'release-memory': { ENOENT: 'the holder does not know this memory region' },
  'set-rlimit-mode': {
    EPERM: 'setting RLIMIT_MODE needs CAP_SYS_RESOURCE',
    EBUSY: 'RLIMIT_MODE can only change while the iommufd context holds no objects',
    EINVAL: 'the RLIMIT_MODE value is not 0 (user) or 1 (process)',
  },
  'alloc-ioas': {
    ENOMEM: 'the kernel is out of memory for a new IOAS',
    EBUSY: 'the context ran out of object ids',
  },
  'destroy-ioas': {
    ENOENT: 'the IOAS id no longer exists (destroyed outside ioasform?)',
    EBUSY: 'the IOAS is still in use (a device, HW page table or access is attached to it)',
  },
  'allow-iovas': {
    EINVAL: 'an allowed range is empty or inverted (start >= last), or two ranges overlap',
    EADDRINUSE: 'an allowed range intersects a reserved range of the IOAS (device MSI window or aperture)',
    ENOENT: 'the IOAS id does not exist',
  },
  'set-huge-pages': {
    EADDRINUSE: 'an existing area is not page aligned, so huge pages cannot be disabled',
    EINVAL: 'huge pages cannot be disabled while a domain is attached and areas exist',
    ENOENT: 'the IOAS id does not exist',
  },
  map: {
    EEXIST: 'the IOVA range is already mapped',
    EINVAL: 'the IOVA, length or user VA is not aligned to the IOAS alignment, or the range hits a reserved region',
    ENOSPC: 'no free IOVA space is large enough (check allowed ranges)',
    EOVERFLOW: 'the IOVA range or user VA range wraps around 2^64',
    ENOMEM: 'out of memory, or RLIMIT_MEMLOCK would be exceeded by pinning',
    EFAULT: 'the user VA is not mapped in the holder (pinning failed)',
    ENOENT: 'the IOAS id does not exist',
  },
  copy: {
    ENOENT: 'the source range is not fully covered by back-to-back areas, or an IOAS id does not exist',
    EEXIST: 'the destination IOVA range is already mapped',
    EPERM: 'a writeable copy was asked of a source mapped read-only',
    EINVAL: 'the destination alignment does not fit the length or the source page offset, or it hits a reserved region',
    ENOSPC: 'no free IOVA space in the destination is large enough (check allowed ranges)',
    EOVERFLOW: 'an IOVA range wraps around 2^64',
  },
  unmap: {
    ENOENT: 'the range is not exactly covered by whole areas (an area would have to be split, or nothing is mapped there)',
    EBUSY: 'an area in the range is still being created by another thread',
    EDEADLK: 'an in-kernel access did not release the range',
  },
};

export function errnoMeaning(op: StepOp, code: string): string {
  if (code === 'STATE_MISMATCH') return 'the recorded state does not match this step';
  return MEANINGS[op][code] ?? `the call failed with ${code}`;
}
