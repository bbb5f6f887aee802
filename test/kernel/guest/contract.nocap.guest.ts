// Runs inside the QEMU VM only, in the harness's `no-cap-sys-resource` profile: root, but with
// CAP_SYS_RESOURCE dropped from the bounding and inheritable sets (setpriv). The contract suite
// against openKernel with the capabilities of the simulator's "TEST kernel, no
// CAP_SYS_RESOURCE" configuration, after checking that the capability really is gone.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openKernel, type KernelContext } from '../../../src/backends/kernel/kernel.js';
import type { UapiContext } from '../../../src/model/uapi.js';
import { describeUapiContract } from '../../contract/uapi-contract.js';

const CAP_SYS_RESOURCE = 24n;

describe('guest profile', () => {
  it('this process lacks CAP_SYS_RESOURCE in its effective set', () => {
    const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapEff:'));
    expect(line).toBeDefined();
    const effective = BigInt(`0x${line!.split(/\s+/)[1]}`);
    expect((effective >> CAP_SYS_RESOURCE) & 1n).toBe(0n);
  });
});

describeUapiContract('the real kernel (openKernel, TEST kernel, no CAP_SYS_RESOURCE)', () => openKernel(), {
  capSysResource: false,
  testKernel: true,
  addReserved: (ctx: UapiContext, ioasId, start, last) => (ctx as KernelContext).testAddReserved({ ioasId, start, last }),
});
