import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FrameSplitter, MAX_REQUEST_BYTES, encodeFrame, frameJson, parseRequest, parseServerFrame } from '../../src/agent/protocol.js';

const frame = (value: unknown): Buffer => encodeFrame(value);
const raw = (text: string): Buffer => {
  const body = Buffer.from(text, 'utf8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
};

describe('frames', () => {
  it('writes a 4-byte big-endian length and UTF-8 JSON, bigints as 0x strings', () => {
    const f = frame({ v: 1, id: 7, n: 0xffff_ffff_ffff_f000n, s: 'ü' });
    const json = '{"v":1,"id":7,"n":"0xfffffffffffff000","s":"ü"}';
    expect(f.readUInt32BE(0)).toBe(Buffer.byteLength(json));
    expect(f.subarray(4).toString('utf8')).toBe(json);
    expect(frameJson(1n << 64n)).toBe('"0x10000000000000000"');
  });

  it('splits frames fed in any chunking into the same payloads', () => {
    fc.assert(
      fc.property(fc.array(fc.jsonValue(), { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 40 }), (values, cuts) => {
        const stream = Buffer.concat(values.map((v) => frame(v)));
        const splitter = new FrameSplitter(MAX_REQUEST_BYTES);
        const got: unknown[] = [];
        let at = 0;
        let i = 0;
        while (at < stream.length) {
          const n = cuts[i++ % cuts.length]!;
          for (const c of splitter.push(stream.subarray(at, at + n))) if (c.kind === 'frame') got.push(JSON.parse(c.payload.toString('utf8')));
          at += n;
        }
        expect(got).toEqual(values.map((v) => JSON.parse(JSON.stringify(v))));
        expect(splitter.pending()).toBe(false);
      }),
    );
  });

  it('reports a partial frame as pending', () => {
    const splitter = new FrameSplitter(100);
    const f = frame({ v: 1 });
    expect(splitter.push(f.subarray(0, 3))).toEqual([]);
    expect(splitter.pending()).toBe(true);
    expect(splitter.push(f.subarray(3)).length).toBe(1);
    expect(splitter.pending()).toBe(false);
  });

  it('refuses a length over the cap without waiting for its bytes, and reads nothing after', () => {
    const splitter = new FrameSplitter(1024);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(1025);
    expect(splitter.push(head)).toEqual([{ kind: 'too-large', length: 1025 }]);
    expect(splitter.push(frame({ v: 1 }))).toEqual([]);
    const ok = new FrameSplitter(1024);
    head.writeUInt32BE(1024);
    expect(ok.push(head)).toEqual([]);
  });
});

describe('request envelope', () => {
  const code = (payload: Buffer): string | null => {
    const p = parseRequest(payload);
    return p.ok ? null : p.reply.ok ? 'ok?' : p.reply.error.code;
  };
  const body = (text: string): Buffer => raw(text).subarray(4);

  it('accepts every op with v 1 and a string, integer or null id', () => {
    for (const op of ['hello', 'plan', 'apply', 'show', 'destroy', 'cancel', 'handover']) expect(code(body(JSON.stringify({ v: 1, id: 'x', op })))).toBeNull();
    expect(code(body('{"v":1,"id":3,"op":"hello"}'))).toBeNull();
    expect(code(body('{"v":1,"id":null,"op":"hello"}'))).toBeNull();
  });

  it('names what is wrong, and keeps the id when it can', () => {
    expect(code(body('{"v":1,"id":1,"op":'))).toBe('BAD_JSON');
    expect(code(Buffer.from([0xff, 0xfe]))).toBe('BAD_JSON');
    expect(code(body(''))).toBe('BAD_JSON');
    expect(code(body('[1]'))).toBe('BAD_FRAME');
    expect(code(body('"hello"'))).toBe('BAD_FRAME');
    expect(code(body('{"v":2,"id":1,"op":"hello"}'))).toBe('BAD_VERSION');
    expect(code(body('{"id":1,"op":"hello"}'))).toBe('BAD_VERSION');
    expect(code(body('{"v":1,"op":"hello"}'))).toBe('BAD_ID');
    expect(code(body('{"v":1,"id":1.5,"op":"hello"}'))).toBe('BAD_ID');
    expect(code(body('{"v":1,"id":{},"op":"hello"}'))).toBe('BAD_ID');
    expect(code(body('{"v":1,"id":1,"op":"rm -rf"}'))).toBe('UNKNOWN_OP');
    expect(code(body('{"v":1,"id":1}'))).toBe('UNKNOWN_OP');
    const p = parseRequest(body('{"v":1,"id":"q7","op":"nope"}'));
    expect(p.ok ? null : p.reply.id).toBe('q7');
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => void parseRequest(Buffer.from(bytes))));
  });
});

describe('server frames (client side)', () => {
  it('tells replies and events apart and drops what is neither', () => {
    expect(parseServerFrame(Buffer.from('{"v":1,"id":1,"ok":true,"result":3}'))).toMatchObject({ ok: true, result: 3 });
    expect(parseServerFrame(Buffer.from('{"v":1,"id":1,"ok":false,"error":{"code":"X","message":"m"}}'))).toMatchObject({ ok: false });
    expect(parseServerFrame(Buffer.from('{"v":1,"id":1,"event":{}}'))).toMatchObject({ event: {} });
    expect(parseServerFrame(Buffer.from('{"v":2,"id":1,"ok":true,"result":3}'))).toBeNull();
    expect(parseServerFrame(Buffer.from('{"v":1,"id":1,"ok":true}'))).toBeNull();
    expect(parseServerFrame(Buffer.from('nope'))).toBeNull();
  });
});
