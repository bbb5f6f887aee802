// The two result shapes every simulated call answers with (shared by context.ts and devices.ts).
import { errnoName, type Failed, type Ok } from '../../model/uapi.js';

export function ok<T extends object>(out: T): Ok<T> {
  return { errno: 0, code: 'OK', ...out } as Ok<T>;
}

export function fail(errno: number): Failed {
  return { errno, code: errnoName(errno) };
}
