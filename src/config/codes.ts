// The closed list of layout diagnostic codes. Codes are a public contract (scripts match on
// `--json` output and docs/layout.md lists each with an example): add codes, never rename them.

export const LAYOUT_CODES = {
  // --- reading the file and the YAML text ---
  /** The file does not exist or cannot be read. */
  'unreadable-file': 'the layout file cannot be read',
  /** The file is larger than MAX_LAYOUT_BYTES: refused before parsing, as a resource-exhaustion guard. */
  'file-too-large': 'the layout file is too large to be a layout',
  /** The text is not well-formed YAML (bad indentation, unclosed quote, tab indentation, ...). */
  'yaml-syntax': 'the text is not well-formed YAML',
  /** The same key appears twice in one mapping (so a name would be defined twice). */
  'duplicate-key': 'a key appears twice in the same map',
  /** Too many alias expansions (`*ref`): refused as a resource-exhaustion guard. */
  'yaml-aliases': 'too many alias expansions',

  // --- shape (JSON Schema, schema/layout.schema.json) ---
  /** `version:` missing or not 1. */
  'unsupported-version': 'the layout format version is missing or unsupported',
  /** A key the format does not know; the message suggests the closest known key. */
  'unknown-key': 'a key the format does not know',
  /** A required key is missing. */
  'missing-key': 'a required key is missing',
  /** Two keys that exclude each other are both given (e.g. `last` and `size`). */
  'conflicting-keys': 'two mutually exclusive keys are both given',
  /** A value of the wrong type (a list where a map is expected, a string for a bool, ...). */
  'invalid-type': 'a value has the wrong type',
  /** A value of the right type that is not allowed (unknown enum word, bad size syntax, ...). */
  'invalid-value': 'a value is not one of the allowed values',
  /** A name that is not an identifier `^[a-z][a-z0-9_-]*$`. */
  'invalid-name': 'a name is not a lowercase identifier',
  /** A size or address that is negative or does not fit in 64 bits. */
  'value-out-of-range': 'a number does not fit in an unsigned 64-bit value',

  // --- meaning (src/config/rules.ts) ---
  /** A mapping names a memory region that is not defined. */
  'unknown-memory': 'a mapping refers to an undefined memory region',
  /** A copy or a device names an IOAS that is not defined. */
  'unknown-ioas': 'a copy or device refers to an undefined IOAS',
  /** A copy names a mapping or copy that its IOAS does not define. */
  'unknown-entry': 'a copy refers to an undefined mapping or copy',
  /** A mapping and a copy of the same IOAS share a name (they share one namespace). */
  'duplicate-name': 'two entries of one IOAS have the same name',
  /** Copies take their pages from each other in a circle. */
  'copy-cycle': 'copies depend on each other in a cycle',
  /** A memory region, mapping or copy of zero bytes (the kernel answers EINVAL). */
  'zero-length': 'a region, mapping or copy has length 0',
  /** `offset + length` of a mapping goes past the end of its memory region. */
  'mapping-out-of-range': 'a mapping extends past the end of its memory region',
  /** A hugetlb region whose size is not a multiple of its page size, or a bad page size. */
  'memory-size-misaligned': 'a hugetlb region size is not a multiple of its page size',
  /** `iova + length` is beyond 2^64 (the kernel answers EOVERFLOW). */
  'iova-overflow': 'iova + length overflows 64 bits',
  /** Two fixed-IOVA entries of one IOAS overlap (the kernel answers EEXIST). */
  'iova-overlap': 'two fixed IOVA ranges of one IOAS overlap',
  /** IOVA, length or page offset not aligned as the IOAS requires (huge_pages: false = 4 KiB). */
  'misaligned': 'an IOVA, length or offset is not aligned as the IOAS requires',
  /** An allowed range with start >= last (the kernel rejects even start == last). */
  'allowed-range-inverted': 'an allowed IOVA range is empty or reversed',
  /** Two allowed ranges of one IOAS overlap (adjacent is fine). */
  'allowed-range-overlap': 'two allowed IOVA ranges overlap',
  /** Warning: a fixed IOVA outside the allowed ranges (the kernel permits it). */
  'outside-allowed': 'a fixed IOVA lies outside the allowed ranges',
  /** A copy's source range is not covered back-to-back by fixed-IOVA entries (ENOENT). */
  'copy-source-unmapped': 'a copy source range is not fully mapped back-to-back',
  /** A copy's `offset + length` goes past the end of the entry it copies from. */
  'copy-out-of-entry': 'a copy extends past the end of its source entry',
  /** A writable copy of a source that was mapped read-only (the kernel answers EPERM). */
  'copy-access': 'a copy asks for write access to read-only pages',

  // --- devices ---
  /** A device `profile:` that is neither a built-in profile nor `host`. */
  'unknown-profile': 'a device names a profile that does not exist',
  /** Two devices name the same cdev or PCI address (a device binds to one context once). */
  'duplicate-device': 'two devices name the same VFIO device',
  /**
   * Warning: a fixed mapping or copy lies in a window an attached device's profile reserves (its
   * reserved regions, e.g. the MSI window, or outside its aperture): the attach or the MAP fails.
   */
  'reserved-window': "a fixed IOVA lies in a reserved window of an attached device's profile",
} as const;

export type LayoutCode = keyof typeof LAYOUT_CODES;

export function isLayoutCode(code: string): code is LayoutCode {
  return Object.hasOwn(LAYOUT_CODES, code);
}
