// The state file is indented JSON (src/state/state-file.ts writes it for people to read), and at
// 100k entries half of its ~100 MB is indentation. Reading it as one JS string put all of it on
// the V8 heap next to the parsed tree; a major GC in that window sized the heap off both, which
// is what raised a later plan's peak RSS. The bytes are compacted first instead.

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Removes JSON's insignificant whitespace (space, tab, LF, CR outside strings) from UTF-8 `bytes`
 * in place and returns the length of what is left. Strings are copied byte for byte (escapes
 * included), so for valid JSON `JSON.parse` gives the same value; UTF-8 continuation bytes are
 * >= 0x80 and never look like the ASCII bytes tested here. Whitespace between two bytes that
 * could belong to one literal or number (`1 2`, `t rue`) is kept as one space: dropping it would
 * join two tokens into one and make a hand-broken file parse. So a text parses after compaction
 * exactly when it parsed before, to the same value; only error positions refer to the compacted
 * text.
 */
export function compactJsonBytes(bytes: Uint8Array): number {
  const n = bytes.length;
  let w = 0;
  let inString = false;
  let skipped = false;
  for (let r = 0; r < n; r++) {
    const c = bytes[r]!;
    if (inString) {
      bytes[w++] = c;
      if (c === BACKSLASH) {
        if (r + 1 < n) bytes[w++] = bytes[++r]!;
      } else if (c === QUOTE) {
        inString = false;
      }
    } else if (c === SPACE || c === LF || c === CR || c === TAB) {
      skipped = true;
    } else {
      if (skipped && w > 0 && isTokenByte(bytes[w - 1]!) && isTokenByte(c)) bytes[w++] = SPACE;
      skipped = false;
      bytes[w++] = c;
      if (c === QUOTE) inString = true;
    }
  }
  return w;
}

/** A byte that can continue a JSON number or literal (or a bare word of a broken file). */
function isTokenByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2b || c === 0x2d || c === 0x2e || c >= 0x80;
}
