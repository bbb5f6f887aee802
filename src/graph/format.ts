// Number formatting shared by the renderers: hex IOVAs grouped like the layout files write them
// (0x1_0000_0000), sizes in binary units (2 MiB), and short SVG coordinates.

import { BINARY_UNITS } from '../model/format.js';

const GROUP = 4;

/** `0x1_0000_0000`: hex digits in groups of four from the right, as in the YAML examples. */
export function formatHex(value: bigint): string {
  const digits = value.toString(16);
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= GROUP) {
    groups.unshift(digits.slice(Math.max(0, end - GROUP), end));
  }
  return `0x${groups.join('_')}`;
}


/** `2 MiB`, `64 KiB`, `100 B`; a size that is not a whole number of its unit gets two decimals. */
export function formatSize(bytes: bigint): string {
  for (const [unit, scale] of BINARY_UNITS) {
    if (bytes >= scale) {
      if (bytes % scale === 0n) return `${bytes / scale} ${unit}`;
      const whole = bytes / scale;
      const hundredths = ((bytes % scale) * 100n) / scale;
      return `${whole}.${hundredths.toString().padStart(2, '0')} ${unit}`;
    }
  }
  return `${bytes} B`;
}

/** `MSI 0xfee0_0000-0xfeef_ffff (device.nic0)`: a reserved window as the pictures label it. */
export function formatReserved(window: { readonly kind: string; readonly owner: string; readonly start: bigint; readonly last: bigint }): string {
  return `${window.kind} ${formatHex(window.start)}-${formatHex(window.last)} (${window.owner})`;
}

/** An SVG coordinate rounded to 0.01 without trailing zeros, so output is stable text. */
export function num(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}
