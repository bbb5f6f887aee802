// Which agent process wrote the agent's state. The kernel destroys every iommufd object when the
// fd closes, so a kernel-backend state left by another agent instance describes objects that no
// longer exist: the new agent records an empty layout and says exactly what was lost.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StateBody } from '../model/recorded.js';

export interface AgentInstance {
  readonly pid: number;
  /** ISO time the agent started. */
  readonly startedAt: string;
}

/** What died with a previous agent's fd. */
export interface LostReport {
  readonly ioas: number;
  readonly mappings: number;
  readonly memory: number;
  readonly ioasNames: readonly string[];
  /** The devices that were bound and attached: their fds closed with the agent, which unbound them. */
  readonly devices: number;
  readonly deviceNames: readonly string[];
  readonly previous: AgentInstance | null;
  readonly message: string;
}

export const INSTANCE_FILE = 'agent-instance.json';

export async function readInstance(stateDir: string): Promise<AgentInstance | null> {
  try {
    const raw = JSON.parse(await readFile(join(stateDir, INSTANCE_FILE), 'utf8')) as Partial<AgentInstance>;
    return typeof raw.pid === 'number' && typeof raw.startedAt === 'string' ? { pid: raw.pid, startedAt: raw.startedAt } : null;
  } catch {
    return null;
  }
}

export async function writeInstance(stateDir: string, instance: AgentInstance): Promise<void> {
  const path = join(stateDir, INSTANCE_FILE);
  await writeFile(`${path}.tmp`, `${JSON.stringify(instance)}\n`, { mode: 0o600 });
  await rename(`${path}.tmp`, path);
}

/** The loss a kernel agent reports when it finds a state written by another instance; null when there is nothing. */
export function lostWith(body: StateBody, previous: AgentInstance | null): LostReport | null {
  const mappings = body.ioas.reduce((n, i) => n + i.entries.length, 0);
  if (body.ioas.length === 0 && body.memory.length === 0) return null;
  const devices = body.devices ?? [];
  const deviceText = devices.length > 0 ? `, ${devices.length} device(s) (${devices.map((d) => d.name).join(', ')}: detached and unbound when their fds closed),` : '';
  const who = previous ? `agent pid ${previous.pid} started ${previous.startedAt}` : 'an agent instance that left no record';
  return {
    ioas: body.ioas.length,
    mappings,
    memory: body.memory.length,
    ioasNames: body.ioas.map((i) => i.name),
    devices: devices.length,
    deviceNames: devices.map((d) => d.name),
    previous,
    message: `lost ${body.ioas.length} IOAS(es)${deviceText} and ${mappings} mapping(s)/copies over ${body.memory.length} memory region(s) held by ${who}: the kernel destroyed them when that agent's /dev/iommu fd closed; the state now records an empty layout`,
  };
}
