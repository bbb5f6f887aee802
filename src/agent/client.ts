// The client side of the agent protocol (docs/agent.md): connect, send requests, receive events
// and replies by id. Errors are values: a request always resolves to a reply, and a connection
// that fails or closes answers every waiting request with an error reply (code CONNECTION_*).
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import type { Op, Reply, RequestId } from './protocol.js';
import { CONNECTION_FATAL, FrameSplitter, MAX_RESPONSE_BYTES, PROTOCOL_VERSION, encodeFrame, errorReply, parseServerFrame } from './protocol.js';

export interface RequestOptions {
  /** Called with each event frame of this request (apply/destroy progress), raw JSON values. */
  readonly onEvent?: (event: unknown) => void;
}

export interface AgentClient {
  request(op: Op, fields?: Record<string, unknown>, options?: RequestOptions): Promise<Reply>;
  /** The socket, for clients that take fds over (handover) and must read it themselves. */
  readonly socket: Socket;
  close(): void;
}

export type ConnectResult = { readonly ok: true; readonly client: AgentClient } | { readonly ok: false; readonly code: string; readonly message: string };

interface Waiting {
  readonly resolve: (reply: Reply) => void;
  readonly onEvent?: (event: unknown) => void;
}

export function connectAgent(path: string, options: { maxResponseBytes?: number } = {}): Promise<ConnectResult> {
  return new Promise((resolveConnect) => {
    const socket = connect(path);
    socket.once('error', (e: NodeJS.ErrnoException) => {
      const hint = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? ' (is `ioasform agent --socket PATH` running?)' : '';
      resolveConnect({ ok: false, code: 'AGENT_UNREACHABLE', message: `cannot connect to the agent at ${path}: ${e.code ?? e.message}${hint}` });
    });
    socket.once('connect', () => {
      socket.removeAllListeners('error');
      resolveConnect({ ok: true, client: clientOn(socket, options.maxResponseBytes ?? MAX_RESPONSE_BYTES) });
    });
  });
}

function clientOn(socket: Socket, maxBytes: number): AgentClient {
  const waiting = new Map<RequestId, Waiting>();
  const splitter = new FrameSplitter(maxBytes);
  let nextId = 1;
  let failure: Reply | null = null;
  const failAll = (code: string, message: string): void => {
    for (const [id, w] of waiting) w.resolve(errorReply(id, code, message));
    waiting.clear();
  };
  socket.on('data', (data: Buffer) => {
    for (const chunk of splitter.push(data)) {
      if (chunk.kind === 'too-large') {
        failAll('RESPONSE_TOO_LARGE', `the agent sent a ${chunk.length}-byte frame, over the client's cap of ${maxBytes}`);
        socket.destroy();
        return;
      }
      const frame = parseServerFrame(chunk.payload);
      if (!frame) continue;
      if ('event' in frame) {
        waiting.get(frame.id)?.onEvent?.(frame.event);
        continue;
      }
      const w = waiting.get(frame.id);
      if (w) {
        waiting.delete(frame.id);
        w.resolve(frame);
      } else if (frame.id === null && !frame.ok && CONNECTION_FATAL.has(frame.error.code)) {
        // A connection-level error (BUSY, PEER_REFUSED, a framing error): every request gets it.
        failure = frame;
        failAll(frame.error.code, frame.error.message);
      }
    }
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    const f = failure as Reply | null;
    if (f && !f.ok) failAll(f.error.code, f.error.message);
    else failAll('CONNECTION_CLOSED', 'the agent closed the connection before answering');
  });
  return {
    socket,
    request: (op, fields = {}, requestOptions = {}) =>
      new Promise<Reply>((resolve) => {
        const id = nextId++;
        if (socket.destroyed || socket.readyState !== 'open') {
          const f = failure as Reply | null;
          resolve(f && !f.ok ? errorReply(id, f.error.code, f.error.message) : errorReply(id, 'CONNECTION_CLOSED', 'the connection to the agent is closed'));
          return;
        }
        waiting.set(id, { resolve, ...(requestOptions.onEvent ? { onEvent: requestOptions.onEvent } : {}) });
        socket.write(encodeFrame({ ...fields, v: PROTOCOL_VERSION, id, op }));
      }),
    close: () => void socket.end(),
  };
}
