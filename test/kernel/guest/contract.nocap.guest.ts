// Runs inside the QEMU VM only, in the harness's `no-cap-sys-resource` profile: root, but with
// CAP_SYS_RESOURCE dropped from the bounding and inheritable sets (setpriv). After checking that
// the capability really is gone, it runs the contract cases the capability can change (those
// that need its absence, and every IOMMU_OPTION case of spec §11) against openKernel, with the
// caps of the simulator's "TEST kernel, no CAP_SYS_RESOURCE" configuration. The root profile
// runs all the other cases; running them twice would only cost time under emulation.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openKernel, type KernelContext } from '../../../src/backends/kernel/kernel.js';
import type { UapiContext } from '../../../src/model/uapi.js';
import { allContractCases, describeUapiContract } from '../../contract/uapi-contract.js';

const CAP_SYS_RESOURCE = 24n;

const capabilitySensitive = allContractCases.filter(
  (c) => c.needs?.includes('noCapSysResource') === true || c.needs?.includes('capSysResource') === true || c.name.startsWith('rule.11.'),
);

describe('guest profile', () => {
  it('this process lacks CAP_SYS_RESOURCE in its effective set', () => {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapEff:'));
    expect(line).toBeDefined();
    const effective = BigInt(`0x${line!.split(/\s+/)[1]}`);
    expect((effective >> CAP_SYS_RESOURCE) & 1n).toBe(0n);
  });

  it('selects the capability-sensitive contract cases, including one that needs the capability absent', () => {
    expect(capabilitySensitive.some((c) => c.needs?.includes('noCapSysResource'))).toBe(true);
  });
});

describeUapiContract(
  'the real kernel (openKernel, TEST kernel, no CAP_SYS_RESOURCE)',
  () => openKernel(),
  {
    capSysResource: false,
    testKernel: true,
    addReserved: (ctx: UapiContext, ioasId, start, last) => (ctx as KernelContext).testAddReserved({ ioasId, start, last }),
  },
  capabilitySensitive,
);
