// Many small strings in, few large ones out: the streamed canonical JSON emits a piece per
// token, and a hash update or a write(2) per token would cost more than the encoding itself.

/** Default batch: large enough to amortize a call, small next to a 100 MB state text. */
export const BATCH_CHARS = 1 << 16;

/** A `put` that joins pieces and hands them to `flush` in batches of about `size` characters; call `end` to flush the rest. */
export function batched(flush: (text: string) => void, size = BATCH_CHARS): { readonly put: (part: string) => void; readonly end: () => void } {
  let pending: string[] = [];
  let length = 0;
  const drain = () => {
    if (length === 0) {
      pending = [];
      return;
    }
    const text = pending.join('');
    pending = [];
    length = 0;
    flush(text);
  };
  return {
    put(part) {
      pending.push(part);
      length += part.length;
      if (length >= size) drain();
    },
    end: drain,
  };
}
