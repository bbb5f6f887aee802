// The agent process: it holds a backend, listens on a Unix socket, checks every peer, splits the
// byte stream into frames (size cap, slowloris and idle clocks, connection cap) and hands each
// request to the service. Requests of one connection may be pipelined; replies carry the id.
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { loadNative } from '../backends/kernel/native.js';
import { loadState, saveState } from '../apply/store.js';
import { clearJournal } from '../state/journal.js';
import { emptyStateBody } from '../model/recorded.js';
import type { BackendKind } from '../model/recorded.js';
import { toJsonValue } from '../plan/encode.js';
import type { KernelBackendOpener } from './backend.js';
import { openAgentBackend } from './backend.js';
import type { AgentInstance, LostReport } from './instance.js';
import { lostWith, readInstance, writeInstance } from './instance.js';
import { clearSocketPath, listenPrivately } from './listen.js';
import type { Authority } from './peer.js';
import { authorityOf, peerOf, socketFd } from './peer.js';
import type { Reply, Request } from './protocol.js';
import { AGENT_ERRORS, FrameSplitter, MAX_REQUEST_BYTES, PROTOCOL_VERSION, encodeFrame, errorReply, okReply, parseRequest } from './protocol.js';
import type { Asker, OpResult } from './service.js';
import { AgentService } from './service.js';

export interface AgentOptions {
  readonly socketPath: string;
  readonly kind: BackendKind;
  /** Default `<socket>.d`. */
  readonly stateDir?: string;
  /** --group: its gid (members may plan/apply/show/destroy, not take the fds over). */
  readonly groupGid?: number | null;
  readonly frameTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  readonly maxConnections?: number;
  readonly stepDelayMs?: number;
  readonly log?: (line: string) => void;
  readonly openKernelBackend: KernelBackendOpener;
}

export const AGENT_DEFAULTS = { frameTimeoutMs: 10_000, idleTimeoutMs: 5 * 60_000, maxConnections: 64 } as const;

export interface RunningAgent {
  readonly socketPath: string;
  readonly stateDir: string;
  readonly lost: LostReport | null;
  readonly instance: AgentInstance;
  /** Finishes (or rolls back) the operation in progress, closes the socket, releases the backend. */
  close(): Promise<void>;
}

export type StartResult = { readonly ok: true; readonly agent: RunningAgent; readonly notes: readonly string[] } | { readonly ok: false; readonly code: string; readonly message: string };

export const STATE_FILE = 'state.json';
/** The addon's SCM_RIGHTS limit per sendmsg (MAX_PASSED_FDS in native/iommufd.c). */
export const MAX_PASSED_FDS = 64;

export async function startAgent(options: AgentOptions): Promise<StartResult> {
  const socketPath = resolve(options.socketPath);
  const stateDir = resolve(options.stateDir ?? `${socketPath}.d`);
  const statePath = join(stateDir, STATE_FILE);
  const log = options.log ?? (() => undefined);
  const notes: string[] = [];
  const cleared = await clearSocketPath(socketPath);
  if (!cleared.ok) return cleared;
  await mkdir(stateDir, { recursive: true, mode: 0o700 });

  const loaded = await loadState(statePath, options.kind);
  if (!loaded.ok) return loaded;
  const instance: AgentInstance = { pid: process.pid, startedAt: new Date().toISOString() };
  let lost: LostReport | null = null;
  if (options.kind === 'kernel') {
    // Every kernel object of the previous instance died with its fd: record that, say what it was.
    const previous = await readInstance(stateDir);
    lost = lostWith(loaded.state.body, previous);
    const cleared = await clearJournal(statePath);
    if (!cleared.ok) return { ok: false, code: cleared.error.code, message: cleared.error.message };
    if (lost) {
      const saved = await saveState(statePath, loaded.state.envelope, emptyStateBody('kernel'));
      if (!saved.ok) return saved;
      notes.push(lost.message);
    }
  }
  const opened = await openAgentBackend(options.kind, loaded.state.body, options.openKernelBackend);
  if (!opened.ok) return opened;
  const backend = opened.backend;
  const started = await AgentService.open({ kind: options.kind, statePath, backend, instance, lost, ...(options.stepDelayMs ? { stepDelayMs: options.stepDelayMs } : {}) });
  if (!started.ok) {
    backend.close();
    return started;
  }
  if (started.recovery) notes.push(`finished the undo of an interrupted ${started.recovery.operation}: ${started.recovery.report.outcome}`);
  await writeInstance(stateDir, instance);
  const service = started.service;

  const limits = {
    frameTimeoutMs: options.frameTimeoutMs ?? AGENT_DEFAULTS.frameTimeoutMs,
    idleTimeoutMs: options.idleTimeoutMs ?? AGENT_DEFAULTS.idleTimeoutMs,
    maxConnections: options.maxConnections ?? AGENT_DEFAULTS.maxConnections,
  };
  const policy = { ownUid: process.getuid?.() ?? 0, groupGid: options.groupGid ?? null };
  const connections = new Set<Socket>();
  const server: Server = createServer((socket) => {
    if (connections.size >= limits.maxConnections) {
      log(`refused a connection: ${connections.size} open (limit ${limits.maxConnections}) -> BUSY`);
      socket.on('error', () => undefined);
      closeWith(socket, encodeFrame(errorReply(null, 'BUSY', `${AGENT_ERRORS.BUSY} (at most ${limits.maxConnections} connections)`)));
      return;
    }
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    serveConnection(socket, { service, policy, limits, log, kind: options.kind });
  });
  server.on('error', (e) => log(`server error: ${e.message}`));
  const listening = await listenPrivately(server, socketPath, policy.groupGid);
  if (!listening.ok) {
    backend.close();
    return listening;
  }
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await service.drain();
      await new Promise<void>((done) => {
        server.close(() => done());
        for (const c of connections) c.destroy();
      });
      backend.close();
    })();
    return closing;
  };
  return { ok: true, agent: { socketPath, stateDir, lost, instance, close }, notes };
}

/**
 * Sends a last frame and closes. The socket is destroyed once the frame is written: a socket
 * nobody reads from never sees the peer's FIN, and would keep the server from closing.
 */
function closeWith(socket: Socket, last?: Buffer): void {
  socket.end(last ?? Buffer.alloc(0), () => socket.destroy());
  setTimeout(() => socket.destroy(), 5000).unref();
}

interface ConnectionContext {
  readonly service: AgentService;
  readonly policy: { ownUid: number; groupGid: number | null };
  readonly limits: { frameTimeoutMs: number; idleTimeoutMs: number };
  readonly log: (line: string) => void;
  readonly kind: BackendKind;
}

function serveConnection(socket: Socket, ctx: ConnectionContext): void {
  socket.on('error', () => undefined);
  const peer = peerOf(socket);
  const authority: Authority = peer.ok ? authorityOf(peer.peer, ctx.policy) : 'none';
  const who = peer.ok ? `pid=${peer.peer.pid} uid=${peer.peer.uid}` : 'peer=?';
  if (authority === 'none') {
    // Nothing else is read from a refused peer.
    socket.pause();
    ctx.log(`${who} refused -> PEER_REFUSED${peer.ok ? '' : ` (${peer.reason})`}`);
    closeWith(socket, encodeFrame(errorReply(null, 'PEER_REFUSED', `${AGENT_ERRORS.PEER_REFUSED}${peer.ok ? ` (uid ${peer.peer.uid})` : ''}`)));
    return;
  }
  let open = true;
  socket.once('close', () => void (open = false));
  const splitter = new FrameSplitter(MAX_REQUEST_BYTES);
  let frameTimer: NodeJS.Timeout | null = null;
  let idleTimer: NodeJS.Timeout | null = null;
  // Writes go through one chain so a handover's sendmsg never overtakes a queued reply.
  let writes: Promise<void> = Promise.resolve();
  const send = (value: unknown): void => {
    if (!open) return;
    writes = writes.then(() => {
      if (open) socket.write(encodeFrame(value));
    });
  };
  const fatal = (code: string, message: string): void => {
    ctx.log(`${who} ${code}: closing the connection`);
    send(errorReply(null, code, message));
    writes = writes.then(() => closeWith(socket));
    splitterDead = true;
  };
  let splitterDead = false;
  // Operations asked on this connection share this key, so `cancel` stops only those.
  const connection = {};
  const armIdle = (): void => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => fatal('IDLE_TIMEOUT', AGENT_ERRORS.IDLE_TIMEOUT), ctx.limits.idleTimeoutMs);
    idleTimer.unref();
  };
  armIdle();
  socket.once('close', () => {
    if (frameTimer) clearTimeout(frameTimer);
    if (idleTimer) clearTimeout(idleTimer);
  });
  socket.on('data', (data: Buffer) => {
    if (splitterDead) return;
    armIdle();
    const chunks = splitter.push(data);
    // A completed frame stops the clock; the next partial frame starts its own.
    if (chunks.length > 0 && frameTimer) {
      clearTimeout(frameTimer);
      frameTimer = null;
    }
    for (const chunk of chunks) {
      if (chunk.kind === 'too-large') {
        fatal('FRAME_TOO_LARGE', `${AGENT_ERRORS.FRAME_TOO_LARGE} (${chunk.length} > ${MAX_REQUEST_BYTES} bytes)`);
        return;
      }
      const parsed = parseRequest(chunk.payload);
      if (!parsed.ok) {
        ctx.log(`${who} op=? -> ${parsed.reply.ok ? 'ok' : parsed.reply.error.code}`);
        send(parsed.reply);
        continue;
      }
      void dispatch(parsed.request);
    }
    // The slowloris clock runs while a started frame is incomplete.
    if (splitter.pending() && !frameTimer) {
      frameTimer = setTimeout(() => fatal('FRAME_TIMEOUT', `${AGENT_ERRORS.FRAME_TIMEOUT} (${ctx.limits.frameTimeoutMs} ms)`), ctx.limits.frameTimeoutMs);
      frameTimer.unref();
    } else if (!splitter.pending() && frameTimer) {
      clearTimeout(frameTimer);
      frameTimer = null;
    }
  });

  const dispatch = async (request: Request): Promise<void> => {
    const began = Date.now();
    // Events of this request carry its id: a per-request asker.
    const requestAsker: Asker = { connection, sendEvent: (event) => send({ v: PROTOCOL_VERSION, id: request.id, event: toJsonValue(event) }), gone: () => !open };
    let reply: Reply;
    try {
      reply = await answer(request, requestAsker);
    } catch (e) {
      // A bug, not a crash: the agent keeps serving.
      reply = errorReply(request.id, 'INTERNAL', `internal error: ${(e as Error).message}`);
    }
    ctx.log(`${who} op=${request.op} id=${JSON.stringify(request.id)} -> ${reply.ok ? 'ok' : reply.error.code} (${Date.now() - began} ms)`);
    if (reply.ok && request.op === 'handover') {
      await sendHandover(reply);
      return;
    }
    send(reply);
  };

  const answer = async (request: Request, requestAsker: Asker): Promise<Reply> => {
    const toReply = (r: OpResult): Reply => (r.ok ? okReply(request.id, r.result) : errorReply(request.id, r.code, r.message, r.extra ?? {}));
    switch (request.op) {
      case 'hello':
        return toReply(ctx.service.hello());
      case 'show':
        return toReply(ctx.service.show());
      case 'plan':
        return toReply(await ctx.service.plan(request));
      case 'apply':
      case 'destroy':
        return toReply(await ctx.service.run(request.op, request, requestAsker));
      case 'cancel':
        return toReply(ctx.service.cancel(requestAsker));
      case 'handover':
        return handover(request);
    }
  };
  const handover = (request: Request): Reply => {
    if (authority !== 'owner') {
      return errorReply(request.id, 'PEER_REFUSED', 'only the agent\'s own user or root may take the fds over (the iommufd fd is full control of every IOAS the agent holds)');
    }
    if (ctx.kind !== 'kernel') return errorReply(request.id, 'NOT_KERNEL', `${AGENT_ERRORS.NOT_KERNEL}: this agent holds a simulator, which has no file descriptors to pass`);
    const fds = ctx.service.handoverFds() ?? [];
    const passing = fds.filter((f) => f.fd !== null).length;
    if (passing > MAX_PASSED_FDS) return errorReply(request.id, 'HANDOVER_TOO_MANY_FDS', `${passing} fds exceed the ${MAX_PASSED_FDS} one sendmsg carries`);
    const body = ctx.service.committedBody();
    let index = 0;
    const listed = fds.map((f) => {
      const described = f.kind === 'iommufd' ? { kind: 'iommufd' } : f.kind === 'memory' ? { kind: 'memory', name: f.name, size: f.size } : { kind: 'device', name: f.name, devId: f.devId, ioas: f.ioas, ptId: f.ptId };
      return f.fd === null ? { ...described, transferable: false } : { index: index++, ...described };
    });
    return okReply(request.id, {
      ioas: body.ioas.map((i) => ({ name: i.name, id: i.id, entries: i.entries.map((e) => ({ name: e.name, iova: e.areas[0]?.iova ?? 0n, length: e.areas.reduce((n, a) => n + a.length, 0n) })) })),
      fds: listed,
      passFds: fds.flatMap((f) => (f.fd === null ? [] : [f.fd])),
    });
  };

  const sendHandover = async (reply: Reply): Promise<void> => {
    if (!reply.ok) return;
    const { passFds, ...result } = reply.result as { passFds: number[] };
    const frame = encodeFrame({ ...reply, result });
    writes = writes.then(async () => {
      if (!open) return;
      if (socket.writableLength > 0) await new Promise((done) => socket.once('drain', done));
      const native = loadNative();
      const fd = socketFd(socket);
      if (!native.ok || fd === null) {
        socket.write(encodeFrame(errorReply(reply.id, 'HANDOVER_FAILED', 'cannot pass fds on this connection')));
        return;
      }
      let sent = -11;
      for (let tries = 0; tries < 100 && sent === -11; tries++) {
        sent = native.addon.sendFds(fd, passFds, frame);
        if (sent === -11) await new Promise((done) => setTimeout(done, 10));
      }
      if (sent < 0) {
        ctx.log(`handover sendmsg failed: errno ${-sent}`);
        socket.destroy();
        return;
      }
      if (sent < frame.length) socket.write(frame.subarray(sent));
    });
    await writes;
  };
}
