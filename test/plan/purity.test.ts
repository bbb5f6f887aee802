import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The planner is pure: it never imports a backend, the state store, the applier or Node I/O.
describe('src/plan is pure', () => {
  const dir = new URL('../../src/plan/', import.meta.url);
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    it(`${file} imports only the model and the planner`, () => {
      const text = readFileSync(new URL(file, dir), 'utf8');
      const imports = [...text.matchAll(/from '([^']+)'/g)].map((m) => m[1]!);
      for (const spec of imports) expect(spec, `${file} imports ${spec}`).toMatch(/^(\.\/|\.\.\/model\/)/);
    });
  }
});
