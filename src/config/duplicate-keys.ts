// Whether a document repeats a map key, in one pass. yaml's own `uniqueKeys: true` compares
// every new key with every earlier key of its map (O(n^2) per map: a 6,000-mapping IOAS took
// seconds), so parse.ts parses with `uniqueKeys: false`, asks this linear check, and only when it
// finds a repeat parses again with yaml's check, which then reports exactly what it always did
// (yaml's positions for odd cases such as a repeat after an empty value are not worth copying).

import { isMap, isScalar, visit, type Document, type Node } from 'yaml';

/** yaml's rule: two keys are equal when both are scalars with === values (or the same node). */
export function hasDuplicateKeys(doc: Document): boolean {
  let found = false;
  visit(doc, {
    Map(_key, map) {
      if (!isMap(map)) return undefined;
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = pair.key as Node | null;
        if (!isScalar(key)) continue; // collections and aliases compare by identity: never equal
        const value = key.value;
        // Under === NaN never equals itself (a Set would match it).
        if (typeof value === 'number' && Number.isNaN(value)) continue;
        if (seen.has(value)) {
          found = true;
          return visit.BREAK;
        }
        seen.add(value);
      }
      return undefined;
    },
  });
  return found;
}
