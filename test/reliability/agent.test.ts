// Issue 6.5: the holder agent under hostile and out-of-order input, slow and idle peers, too many
// connections, peers of another uid, and load. After the hostile part the agent must be alive and
// its state unchanged.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { chmodSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAgent } from '../../src/agent/client.js';
import type { AgentClient } from '../../src/agent/client.js';
import { FrameSplitter, MAX_REQUEST_BYTES, MAX_RESPONSE_BYTES, encodeFrame } from '../../src/agent/protocol.js';
import type { Reply } from '../../src/agent/protocol.js';
import { ensureBuilt } from '../cli/support.js';
import type { ChildAgent, InProcessAgent } from '../agent/support.js';
import { agentDir, childAgent, exampleText, inProcessAgent } from '../agent/support.js';
import { LONG, record } from './figures.js';

/** A raw connection: write bytes, read frames, see when the agent closes it. */
interface Raw {
  readonly socket: Socket;
  readonly frames: Reply[];
  readonly closed: Promise<void>;
  next(): Promise<Reply>;
}

function raw(path: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    const frames: Reply[] = [];
    const splitter = new FrameSplitter(MAX_RESPONSE_BYTES);
    let wake: (() => void) | null = null;
    socket.on('data', (d: Buffer) => {
      for (const c of splitter.push(d)) if (c.kind === 'frame') frames.push(JSON.parse(c.payload.toString('utf8')) as Reply);
      wake?.();
    });
    const closed = new Promise<void>((done) => socket.on('close', () => done()));
    void closed.then(() => wake?.());
    let read = 0;
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve({
        socket,
        frames,
        closed,
        next: async () => {
          while (frames.length <= read) {
            if (socket.destroyed) throw new Error('closed before a frame came');
            await new Promise<void>((r) => (wake = r));
          }
          return frames[read++]!;
        },
      }),
    );
  });
}

// Async: the agent under test runs in this very process and must keep answering.
const run = async (args: string[]): Promise<string> => (await promisify(execFile)('setpriv', args, { encoding: 'utf8', timeout: 20_000 })).stdout;
const code = (r: Reply): string => (r.ok ? 'ok' : r.error.code);
const bytes = (text: string): Buffer => {
  const b = Buffer.from(text, 'utf8');
  const h = Buffer.alloc(4);
  h.writeUInt32BE(b.length);
  return Buffer.concat([h, b]);
};
const hello = (id: unknown = 1): Buffer => encodeFrame({ v: 1, id, op: 'hello' });

describe('agent hardening (6.5)', () => {
  let dir: string;
  let a: InProcessAgent;
  let stateBefore: unknown;
  const counts = { hostileFrames: 0, closedConnections: 0 };

  const show = async (): Promise<unknown> => {
    const c = await connectAgent(a.socket);
    if (!c.ok) throw new Error(c.message);
    const r = await c.client.request('show');
    c.client.close();
    if (!r.ok) throw new Error(r.error.code);
    const { state, serial, lineage } = r.result as { state: unknown; serial: unknown; lineage: unknown };
    return { state, serial, lineage };
  };

  beforeAll(async () => {
    dir = agentDir();
    a = await inProcessAgent(dir, { frameTimeoutMs: 600, idleTimeoutMs: 2000, maxConnections: 6 });
    const c = (await connectAgent(a.socket)) as { ok: true; client: AgentClient };
    const planned = await c.client.request('plan', { layout: exampleText(dir, 'test-lab.yaml'), file: 'examples/test-lab.yaml' });
    if (!planned.ok) throw new Error(planned.error.message);
    const applied = await c.client.request('apply', { plan: (planned.result as { plan: unknown }).plan });
    expect(code(applied)).toBe('ok');
    c.client.close();
    stateBefore = await show();
  });
  afterAll(async () => {
    await a.agent.close();
  });

  it('answers malformed JSON, a wrong version, bad ids and unknown ops with codes, and the connection stays usable', async () => {
    const r = await raw(a.socket);
    const hostile: [Buffer, string][] = [
      [bytes('{"v":1,"id":1,"op":'), 'BAD_JSON'],
      [bytes(''), 'BAD_JSON'],
      [Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from([0xc3, 0x28, 0x7b])]), 'BAD_JSON'],
      [bytes('null'), 'BAD_FRAME'],
      [bytes('{"v":2,"id":1,"op":"hello"}'), 'BAD_VERSION'],
      [bytes('{"v":"1","id":1,"op":"hello"}'), 'BAD_VERSION'],
      [bytes('{"v":1,"id":[1],"op":"hello"}'), 'BAD_ID'],
      [bytes('{"v":1,"id":1,"op":"format-disk"}'), 'UNKNOWN_OP'],
      [bytes('{"v":1,"id":1,"op":"apply","plan":{"formatVersion":1,"steps":"x"}}'), 'BAD_FIELD'],
      [bytes('{"v":1,"id":1,"op":"plan","layout":"version: [oops"}'), 'LAYOUT_INVALID'],
    ];
    for (const [frame, expected] of hostile) {
      r.socket.write(frame);
      expect(code(await r.next())).toBe(expected);
      counts.hostileFrames++;
    }
    r.socket.write(hello('still-here'));
    const ok = await r.next();
    expect([ok.id, code(ok)]).toEqual(['still-here', 'ok']);
    r.socket.end();
  });

  it('an oversized length prefix is answered FRAME_TOO_LARGE and the connection closed', async () => {
    const r = await raw(a.socket);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(MAX_REQUEST_BYTES + 1);
    r.socket.write(head);
    expect(code(await r.next())).toBe('FRAME_TOO_LARGE');
    await r.closed;
    counts.closedConnections++;
    const huge = await raw(a.socket);
    huge.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect(code(await huge.next())).toBe('FRAME_TOO_LARGE');
    await huge.closed;
    counts.closedConnections++;
  });

  it('a truncated frame followed by a close changes nothing', async () => {
    const r = await raw(a.socket);
    const f = encodeFrame({ v: 1, id: 1, op: 'destroy', plan: { formatVersion: 1 } });
    r.socket.end(f.subarray(0, f.length - 5));
    await r.closed;
    expect(r.frames).toEqual([]);
    expect(await show()).toEqual(stateBefore);
  });

  it('slowloris: a frame trickled slower than the limit is cut; one that completes in time is served', async () => {
    const slow = await raw(a.socket);
    const f = hello('slow');
    const began = Date.now();
    for (let i = 0; i < f.length && !slow.socket.destroyed; i++) {
      slow.socket.write(f.subarray(i, i + 1));
      await new Promise((r) => setTimeout(r, 100));
    }
    await slow.closed;
    expect(slow.frames.map(code)).toEqual(['FRAME_TIMEOUT']);
    expect(Date.now() - began).toBeLessThan(f.length * 100);
    counts.closedConnections++;
    const quick = await raw(a.socket);
    for (let i = 0; i < f.length; i += 8) {
      quick.socket.write(f.subarray(i, i + 8));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(code(await quick.next())).toBe('ok');
    quick.socket.end();
    // A steady stream where every write ends inside the next frame: each frame is on time, so
    // the clock restarts per frame and the stream outlives the limit (600 ms) without a cut.
    const stream = await raw(a.socket);
    const all = Buffer.concat(Array.from({ length: 16 }, (_, i) => hello(`s${i}`)));
    const step = Math.ceil(all.length / 16) + 3;
    for (let at = 0; at < all.length; at += step) {
      stream.socket.write(all.subarray(at, at + step));
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let i = 0; i < 16; i++) expect(code(await stream.next())).toBe('ok');
    stream.socket.end();
  });

  it('an idle connection is closed with IDLE_TIMEOUT', async () => {
    const r = await raw(a.socket);
    r.socket.write(hello());
    expect(code(await r.next())).toBe('ok');
    await r.closed;
    expect(r.frames.map(code)).toEqual(['ok', 'IDLE_TIMEOUT']);
    counts.closedConnections++;
  });

  it('more connections than the cap are answered BUSY and closed; the others keep working', async () => {
    const held = await Promise.all(Array.from({ length: 6 }, () => raw(a.socket)));
    const extra = await raw(a.socket);
    expect(code(await extra.next())).toBe('BUSY');
    await extra.closed;
    counts.closedConnections++;
    held[0]!.socket.write(hello());
    expect(code(await held[0]!.next())).toBe('ok');
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.closed));
    // The agent counts a connection until it has seen the close: wait until one is free again.
    for (;;) {
      const probe = await raw(a.socket);
      probe.socket.write(hello());
      const answer = await probe.next();
      probe.socket.destroy();
      await probe.closed;
      if (code(answer) === 'ok') break;
      await new Promise((r) => setTimeout(r, 20));
    }
  });

  it('out of order: apply before plan, cancel with nothing running, requests pipelined in one write', async () => {
    const r = await raw(a.socket);
    r.socket.write(Buffer.concat([
      encodeFrame({ v: 1, id: 'apply-first', op: 'apply' }),
      encodeFrame({ v: 1, id: 'cancel', op: 'cancel' }),
      encodeFrame({ v: 1, id: 'destroy-first', op: 'destroy', plan: { formatVersion: 1, steps: [], changes: [], basis: {}, desired: {} } }),
      hello('h'),
      encodeFrame({ v: 1, id: 's', op: 'show' }),
    ]));
    const got = new Map<unknown, string>();
    for (let i = 0; i < 5; i++) {
      const f = await r.next();
      got.set(f.id, code(f));
    }
    expect(Object.fromEntries(got)).toEqual({ 'apply-first': 'BAD_FIELD', cancel: 'ok', 'destroy-first': 'PLAN_STALE', h: 'ok', s: 'ok' });
    r.socket.end();
    expect(await show()).toEqual(stateBefore);
  });

  it('a peer of another uid is refused with PEER_REFUSED; a --group member may not take the fds over', async () => {
    // The socket is 0600 in a 0700 directory, so another uid cannot even connect; open both up
    // here to reach the SO_PEERCRED check itself (the second line of defence).
    chmodSync(dirname(a.socket), 0o755);
    chmodSync(a.socket, 0o666);
    const client = join(dirname(a.socket), 'peer-client.mjs');
    writeFileSync(client, PEER_CLIENT);
    chmodSync(client, 0o644);
    let out: string;
    try {
      out = await run(['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, client, a.socket]);
    } catch (e) {
      console.log(`skipped the second-uid peer check: setpriv could not run a client as uid 65534 (${(e as Error).message.split('\n')[0]})`);
      return;
    } finally {
      chmodSync(a.socket, 0o600);
    }
    expect(JSON.parse(out)).toEqual([{ id: null, code: 'PEER_REFUSED' }]);
    expect(a.log.some((l) => /uid=65534 refused -> PEER_REFUSED/.test(l))).toBe(true);

    // A group member: a second agent with --group 4242; the client runs in that group.
    const g = await inProcessAgent(agentDir(), { groupGid: 4242 });
    try {
      chmodSync(dirname(g.socket), 0o755);
      writeFileSync(join(dirname(g.socket), 'peer-client.mjs'), PEER_CLIENT);
      const member = await run(['--reuid=65534', '--regid=65534', '--groups=4242', process.execPath, join(dirname(g.socket), 'peer-client.mjs'), g.socket]);
      expect(JSON.parse(member)).toEqual([{ id: 1, code: 'ok' }, { id: 2, code: 'PEER_REFUSED' }]);
      const outsider = (await run(['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(dirname(g.socket), 'peer-client.mjs'), g.socket])).trim();
      // 0660 root:4242: without the group the connect itself is refused by the file mode.
      expect(outsider).toBe('"EACCES"');
    } finally {
      await g.agent.close();
    }
  });

  it('after all of it the agent is alive and its state unchanged', async () => {
    const c = (await connectAgent(a.socket)) as { ok: true; client: AgentClient };
    expect(code(await c.client.request('hello'))).toBe('ok');
    c.client.close();
    expect(await show()).toEqual(stateBefore);
    record('agent-hostile', { ...counts, stateUnchanged: true });
  });
});

// Runs as another uid: no imports from the repository (it may not be readable), just the framing.
const PEER_CLIENT = `
import { connect } from 'node:net';
const socket = connect(process.argv[2]);
const frames = [];
let buf = Buffer.alloc(0);
let connected = false;
socket.on('error', (e) => { if (!connected) { process.stdout.write(JSON.stringify(e.code)); process.exit(0); } });
const send = (o) => { const b = Buffer.from(JSON.stringify(o)); const h = Buffer.alloc(4); h.writeUInt32BE(b.length); socket.write(Buffer.concat([h, b])); };
// A refused peer gets its frame at once; wait a moment so the refusal is read, not a write error.
socket.on('connect', () => { connected = true; setTimeout(() => { if (frames.length === 0) { send({ v: 1, id: 1, op: 'hello' }); send({ v: 1, id: 2, op: 'handover' }); } }, 300); });
socket.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
    const n = buf.readUInt32BE(0);
    const f = JSON.parse(buf.subarray(4, 4 + n).toString());
    frames.push({ id: f.id, code: f.ok ? 'ok' : f.error.code });
    buf = buf.subarray(4 + n);
  }
  if (frames.length === 2) socket.end();
});
socket.on('close', () => process.stdout.write(JSON.stringify(frames)));
`;

describe('agent under load (6.5)', () => {
  let agent: ChildAgent;
  beforeAll(async () => {
    ensureBuilt();
    agent = await childAgent(agentDir());
  }, 180_000);
  afterAll(async () => {
    await agent.stop();
  });

  it(`50 clients issuing plan and show for ${LONG ? 30 : 5} s: no errors; latency reported`, async () => {
    const dir = agentDir();
    const layout = exampleText(dir, 'dpdk-appliance.yaml');
    const seconds = LONG ? 30 : 5;
    const until = Date.now() + seconds * 1000;
    const latencies: number[] = [];
    const errors: string[] = [];
    await Promise.all(
      Array.from({ length: 50 }, async (_, n) => {
        const c = await connectAgent(agent.socket);
        if (!c.ok) {
          errors.push(c.code);
          return;
        }
        for (let i = 0; Date.now() < until; i++) {
          const began = performance.now();
          const r = (n + i) % 2 === 0 ? await c.client.request('plan', { layout, file: 'dpdk.yaml' }) : await c.client.request('show');
          latencies.push(performance.now() - began);
          if (!r.ok) errors.push(r.error.code);
        }
        c.client.close();
      }),
    );
    latencies.sort((x, y) => x - y);
    const at = (q: number): number => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!);
    const figures = { clients: 50, seconds, requests: latencies.length, errors: errors.length, p50ms: at(0.5), p99ms: at(0.99), maxms: Math.round(latencies.at(-1) ?? 0) };
    console.log(`agent load: ${JSON.stringify(figures)}`);
    record('agent-load', figures);
    expect(errors).toEqual([]);
    expect(latencies.length).toBeGreaterThan(50);
  }, 120_000);
});
