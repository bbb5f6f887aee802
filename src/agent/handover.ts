// The client side of `handover`: the reply frame arrives in the same sendmsg as the fds
// (SCM_RIGHTS), which Node's net module would read and drop. So this client stops Node from
// reading the socket and reads it itself with recvmsg through the addon.
import { connect } from 'node:net';
import { loadNative } from '../backends/kernel/native.js';
import { socketFd } from './peer.js';
import { FrameSplitter, MAX_RESPONSE_BYTES, PROTOCOL_VERSION, encodeFrame, parseServerFrame } from './protocol.js';

export interface HandoverResult {
  readonly ioas: readonly { readonly name: string; readonly id: number; readonly entries: readonly { readonly name: string; readonly iova: string; readonly length: string }[] }[];
  readonly fds: readonly (
    | { readonly index: number; readonly kind: 'iommufd' }
    | { readonly index?: number; readonly kind: 'memory'; readonly name: string; readonly size: string; readonly transferable?: false }
    /** A VFIO device cdev fd, bound to the passed iommufd (devId) and attached to `ioas` (HWPT ptId). */
    | { readonly index?: number; readonly kind: 'device'; readonly name: string; readonly devId: number; readonly ioas: string; readonly ptId: number; readonly transferable?: false }
  )[];
}

export type Handover =
  | { readonly ok: true; readonly result: HandoverResult; /** Received fds, in `index` order (close-on-exec). */ readonly fds: readonly number[] }
  | { readonly ok: false; readonly code: string; readonly message: string };

const EAGAIN = 11;

export function requestHandover(path: string, timeoutMs = 10_000): Promise<Handover> {
  const native = loadNative();
  if (!native.ok) return Promise.resolve({ ok: false, code: 'ADDON_MISSING', message: native.reason });
  const addon = native.addon;
  return new Promise((resolve) => {
    const received: number[] = [];
    const socket = connect(path);
    // Node must not read: the bytes (and the fds riding with them) are for recvmsg below.
    socket.pause();
    socket.once('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, code: 'AGENT_UNREACHABLE', message: `cannot connect to the agent at ${path}: ${e.code ?? e.message}` }));
    socket.once('connect', () => {
      socket.write(encodeFrame({ v: PROTOCOL_VERSION, id: 1, op: 'handover' }));
      const fd = socketFd(socket);
      if (fd === null) return finish({ ok: false, code: 'HANDOVER_FAILED', message: 'no socket descriptor' });
      const splitter = new FrameSplitter(MAX_RESPONSE_BYTES);
      const buffer = new Uint8Array(64 * 1024);
      const deadline = Date.now() + timeoutMs;
      const poll = (): void => {
        for (;;) {
          const got = addon.recvFds(fd, buffer);
          if (got.errno === EAGAIN) break;
          if (got.errno !== 0 || !('bytes' in got)) return finish({ ok: false, code: 'HANDOVER_FAILED', message: `recvmsg failed with errno ${got.errno}` });
          received.push(...got.fds);
          if (got.controlTruncated) return finish({ ok: false, code: 'HANDOVER_FAILED', message: 'more fds than fit the control buffer' });
          if (got.bytes === 0) return finish({ ok: false, code: 'CONNECTION_CLOSED', message: 'the agent closed the connection before answering' });
          for (const chunk of splitter.push(Buffer.from(buffer.subarray(0, got.bytes)))) {
            if (chunk.kind !== 'frame') return finish({ ok: false, code: 'RESPONSE_TOO_LARGE', message: 'the reply is over the client cap' });
            const frame = parseServerFrame(chunk.payload);
            if (!frame || 'event' in frame) continue;
            if (!frame.ok) return finish({ ok: false, code: frame.error.code, message: frame.error.message });
            return finish({ ok: true, result: frame.result as HandoverResult, fds: received });
          }
        }
        if (Date.now() > deadline) return finish({ ok: false, code: 'TIMEOUT', message: `no handover reply within ${timeoutMs} ms` });
        setTimeout(poll, 5);
      };
      poll();
    });
    const finish = (outcome: Handover): void => {
      // fds that came with a refusal are closed, not leaked.
      if (!outcome.ok) for (const f of received) addon.close(f);
      socket.destroy();
      resolve(outcome);
    };
  });
}
