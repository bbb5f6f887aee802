// Fixed colors: memory regions get pastel fills in a stable order (so a region keeps its color
// across renders); plan statuses get strong outlines in hues the fills avoid (green, red, amber).

import type { BoxStatus, IovaMap } from './model.js';

const MEMORY_FILLS = [
  '#a9c8e8', '#c9b8e8', '#9fd8cf', '#f0c2dc', '#c8d0d8',
  '#b5b0f0', '#e3d3b0', '#a8dde8', '#d6b8c8', '#bccab0',
] as const;

/** Saturated partners of the fills, for copy links (which must stay apart where they cross). */
const MEMORY_INKS = [
  '#2f6fb0', '#6a4bb0', '#1b8a78', '#b03f7a', '#56646f',
  '#4a43c0', '#8a6a1c', '#1c7d99', '#8a4766', '#55703a',
] as const;

export const STATUS_COLORS: Readonly<Record<BoxStatus, string>> = {
  same: '#4a5560',
  add: '#1f9d3a',
  remove: '#d0312d',
  replace: '#e08a00',
};

export const STATUS_WORDS: Readonly<Record<BoxStatus, string>> = {
  same: 'unchanged',
  add: 'added',
  remove: 'removed',
  replace: 'replaced',
};

export const STATUS_MARKS: Readonly<Record<BoxStatus, string>> = {
  same: '',
  add: '+',
  remove: '-',
  replace: '~',
};

/** Memory names in palette order: the map's declared order, then any others as they appear. */
export function memoryOrder(map: IovaMap): string[] {
  const names = new Set(map.memories ?? []);
  for (const lane of map.lanes) for (const box of lane.boxes) names.add(box.memory);
  return [...names];
}

export function memoryFills(map: IovaMap): Map<string, string> {
  return new Map(memoryOrder(map).map((name, i) => [name, MEMORY_FILLS[i % MEMORY_FILLS.length]!] as const));
}

export function memoryInks(map: IovaMap): Map<string, string> {
  return new Map(memoryOrder(map).map((name, i) => [name, MEMORY_INKS[i % MEMORY_INKS.length]!] as const));
}
