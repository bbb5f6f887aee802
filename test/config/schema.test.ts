import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { LAYOUT_CODES } from '../../src/config/codes.js';
import { LAYOUT_SCHEMA } from '../../src/config/layout-schema.js';
import { jsonView } from '../../src/config/schema.js';

const schemaFile = JSON.parse(readFileSync(new URL('../../schema/layout.schema.json', import.meta.url), 'utf8')) as unknown;

/** Every property schema in the schema, with its JSON pointer. */
function properties(node: unknown, pointer = '#'): [string, Record<string, unknown>][] {
  if (node === null || typeof node !== 'object') return [];
  const out: [string, Record<string, unknown>][] = [];
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties' && value && typeof value === 'object') {
      for (const [prop, schema] of Object.entries(value)) {
        if (typeof schema === 'object') out.push([`${pointer}/properties/${prop}`, schema as Record<string, unknown>]);
      }
    }
    out.push(...properties(value, `${pointer}/${key}`));
  }
  return out;
}

describe('schema/layout.schema.json', () => {
  it('is exactly the schema the validator uses (regenerate: npm run build && node scripts/write-schema.mjs)', () => {
    expect(schemaFile).toEqual(JSON.parse(JSON.stringify(LAYOUT_SCHEMA)));
  });

  it('describes every property (editors show these descriptions)', () => {
    // Properties inside if/then/else only restrict keys declared (and described) elsewhere.
    const declared = properties(LAYOUT_SCHEMA).filter(([pointer]) => !/\/(if|then|else)\//.test(pointer));
    expect(declared.length).toBeGreaterThan(20);
    const undocumented = declared.filter(([, schema]) => typeof schema['description'] !== 'string').map(([pointer]) => pointer);
    expect(undocumented).toEqual([]);
  });

  it('accepts the examples as a plain JSON Schema validator (like an editor) sees them', () => {
    const validate = new Ajv({ allowUnionTypes: true, strictRequired: false }).compile(schemaFile as object);
    for (const file of ['dpdk-appliance.yaml', 'vmm-guest-ram.yaml', 'test-lab.yaml']) {
      const doc = parseDocument(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8'), { intAsBigInt: true });
      expect(validate(jsonView(doc.toJS())), JSON.stringify(validate.errors)).toBe(true);
    }
  });

  it('rejects unknown keys and bad sizes', () => {
    const validate = new Ajv({ allowUnionTypes: true, strictRequired: false }).compile(schemaFile as object);
    expect(validate({ version: 1, memroy: {} })).toBe(false);
    expect(validate({ version: 1, memory: { buf: { size: '2MB' } } })).toBe(false);
    expect(validate({ version: 1, memory: { buf: { size: '0x1000_0000' } } })).toBe(true);
  });
});

describe('jsonView', () => {
  it('turns exact bigints into numbers and larger ones into decimal strings', () => {
    expect(jsonView({ a: [1n, 2n ** 60n], b: 'x' })).toEqual({ a: [1, '1152921504606846976'], b: 'x' });
  });
});

describe('docs/layout.md', () => {
  it('documents every diagnostic code', () => {
    const docs = readFileSync(new URL('../../docs/layout.md', import.meta.url), 'utf8');
    const missing = Object.keys(LAYOUT_CODES).filter((code) => !docs.includes(`#### \`${code}\``));
    expect(missing).toEqual([]);
  });
});
