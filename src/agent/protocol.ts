// The agent's wire format (docs/agent.md): every frame is a 4-byte big-endian length followed by
// that many bytes of UTF-8 JSON, and every JSON frame carries "v": 1. This module is pure: it
// encodes frames and splits a byte stream into frames, with a size cap, and says which inputs are
// fatal for the connection (the framing itself is broken) and which are not (the JSON inside an
// intact frame is bad).

export const PROTOCOL_VERSION = 1;
/** Requests are small: a layout (itself capped at 8 MiB, within the 8 MiB frame limit) or a plan document. */
export const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
/** Replies may carry a whole state; the client accepts up to this. */
export const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

export const OPS = ['hello', 'plan', 'apply', 'show', 'destroy', 'cancel', 'handover'] as const;
export type Op = (typeof OPS)[number];

/** Error codes the agent answers with (besides the session's own codes, passed through). */
export const AGENT_ERRORS = {
  BAD_JSON: 'the frame is not valid UTF-8 JSON',
  BAD_FRAME: 'the frame is not a JSON object',
  BAD_VERSION: `the frame's "v" is not ${PROTOCOL_VERSION}`,
  BAD_ID: 'the request id must be a string or an integer',
  UNKNOWN_OP: 'unknown op',
  BAD_FIELD: 'a field of the request is missing or has the wrong type',
  FRAME_TOO_LARGE: 'the length prefix exceeds the request cap; the connection is closed',
  FRAME_TIMEOUT: 'a started frame did not complete in time; the connection is closed',
  IDLE_TIMEOUT: 'no request for too long; the connection is closed',
  BUSY: 'too many connections; try again',
  PEER_REFUSED: 'this user may not use the agent',
  NOT_KERNEL: 'handover needs the kernel backend',
  SHUTTING_DOWN: 'the agent is stopping',
} as const;
export type AgentErrorCode = keyof typeof AGENT_ERRORS;

/** Error frames after which the agent closes the connection (the others leave it usable). */
export const CONNECTION_FATAL: ReadonlySet<string> = new Set(['FRAME_TOO_LARGE', 'FRAME_TIMEOUT', 'IDLE_TIMEOUT', 'BUSY', 'PEER_REFUSED']);

export type RequestId = string | number | null;

export interface Request {
  readonly v: 1;
  readonly id: RequestId;
  readonly op: Op;
  readonly [field: string]: unknown;
}

export interface ErrorBody {
  readonly code: string;
  readonly message: string;
  readonly [extra: string]: unknown;
}

export type Reply =
  | { readonly v: 1; readonly id: RequestId; readonly ok: true; readonly result: unknown }
  | { readonly v: 1; readonly id: RequestId; readonly ok: false; readonly error: ErrorBody };
export interface EventFrame {
  readonly v: 1;
  readonly id: RequestId;
  readonly event: unknown;
}
export type ServerFrame = Reply | EventFrame;

/** JSON with every bigint written as "0x…" (the encoding of src/plan/encode.ts). */
export function frameJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));
}

export function encodeFrame(value: unknown): Buffer {
  const body = Buffer.from(frameJson(value), 'utf8');
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

export function errorReply(id: RequestId, code: string, message: string, extra: Record<string, unknown> = {}): Reply {
  return { v: PROTOCOL_VERSION, id, ok: false, error: { code, message, ...extra } };
}

export function okReply(id: RequestId, result: unknown): Reply {
  return { v: PROTOCOL_VERSION, id, ok: true, result };
}

/** What the splitter found in the bytes fed to it so far. */
export type Chunk =
  | { readonly kind: 'frame'; readonly payload: Buffer }
  /** The length prefix is over the cap: the stream cannot be resynchronised. */
  | { readonly kind: 'too-large'; readonly length: number };

/**
 * Splits a byte stream into frame payloads. `pending()` says whether a frame has started and not
 * completed (the server's slowloris clock runs only then).
 */
export class FrameSplitter {
  private buffered: Buffer[] = [];
  private size = 0;
  private broken = false;
  private readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  push(data: Buffer): Chunk[] {
    if (this.broken) return [];
    this.buffered.push(data);
    this.size += data.length;
    const out: Chunk[] = [];
    while (this.size >= 4) {
      const head = this.peek(4);
      const length = head.readUInt32BE(0);
      if (length > this.maxBytes) {
        this.broken = true;
        this.buffered = [];
        this.size = 0;
        out.push({ kind: 'too-large', length });
        break;
      }
      if (this.size < 4 + length) break;
      const all = this.take(4 + length);
      out.push({ kind: 'frame', payload: all.subarray(4) });
    }
    return out;
  }

  /** Bytes of an incomplete frame are buffered. */
  pending(): boolean {
    return this.size > 0;
  }

  private peek(n: number): Buffer {
    const first = this.buffered[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const joined = Buffer.concat(this.buffered);
    this.buffered = [joined];
    return joined.subarray(0, n);
  }

  private take(n: number): Buffer {
    const joined = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    const taken = joined.subarray(0, n);
    const rest = joined.subarray(n);
    this.buffered = rest.length > 0 ? [rest] : [];
    this.size = rest.length;
    return taken;
  }
}

export type ParsedRequest = { readonly ok: true; readonly request: Request } | { readonly ok: false; readonly reply: Reply };

function idOf(raw: Record<string, unknown>): RequestId {
  const id = raw['id'];
  return typeof id === 'string' || (typeof id === 'number' && Number.isSafeInteger(id)) ? id : null;
}

/** Checks the envelope of one request frame; the op's own fields are checked by its handler. */
export function parseRequest(payload: Buffer): ParsedRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (e) {
    return { ok: false, reply: errorReply(null, 'BAD_JSON', `${AGENT_ERRORS.BAD_JSON}: ${(e as Error).message}`) };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, reply: errorReply(null, 'BAD_FRAME', AGENT_ERRORS.BAD_FRAME) };
  const obj = raw as Record<string, unknown>;
  const id = idOf(obj);
  if (obj['v'] !== PROTOCOL_VERSION) return { ok: false, reply: errorReply(id, 'BAD_VERSION', `${AGENT_ERRORS.BAD_VERSION} (got ${JSON.stringify(obj['v']) ?? 'nothing'})`) };
  if (!('id' in obj) || (obj['id'] !== null && id === null)) return { ok: false, reply: errorReply(null, 'BAD_ID', AGENT_ERRORS.BAD_ID) };
  const op = obj['op'];
  if (typeof op !== 'string' || !(OPS as readonly string[]).includes(op)) {
    return { ok: false, reply: errorReply(id, 'UNKNOWN_OP', `${AGENT_ERRORS.UNKNOWN_OP} ${JSON.stringify(op) ?? '(none)'}; the ops are ${OPS.join(', ')}`) };
  }
  return { ok: true, request: obj as unknown as Request };
}

/** Client side: a server frame is a reply or an event for a request id. */
export function parseServerFrame(payload: Buffer): ServerFrame | null {
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  if (raw === null || typeof raw !== 'object' || (raw as { v?: unknown }).v !== PROTOCOL_VERSION) return null;
  const frame = raw as Record<string, unknown>;
  if ('event' in frame) return frame as unknown as EventFrame;
  if (frame['ok'] === true && 'result' in frame) return frame as unknown as Reply;
  if (frame['ok'] === false && typeof frame['error'] === 'object' && frame['error'] !== null) return frame as unknown as Reply;
  return null;
}
