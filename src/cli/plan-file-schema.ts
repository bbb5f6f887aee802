// Saved plans are run as is, so `apply FILE` checks a plan file against the published schema
// (schema/plan.schema.json, shipped in the package) before trusting any of its steps.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  // src/cli/ and dist/cli/ both sit two levels below the package root.
  compiled ??= new Ajv2020({ allErrors: false, strict: false }).compile(JSON.parse(readFileSync(new URL('../../schema/plan.schema.json', import.meta.url), 'utf8')) as object);
  return compiled;
}

/** null when `value` is a well-formed plan document, else one sentence saying where it is not. */
export function planFileProblem(value: unknown): string | null {
  const validate = validator();
  if (validate(value)) return null;
  const e = validate.errors?.[0];
  return e ? `${e.instancePath || '(top level)'} ${e.message ?? 'is invalid'}` : 'is not a plan document';
}
