// Who is on the other end of a connection (SO_PEERCRED through the addon) and whether they may
// talk to the agent: the agent's own uid, root, and with --group the members of that group (the
// peer's primary gid or one of its supplementary groups, read from /proc/<pid>/status).
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { loadNative } from '../backends/kernel/native.js';

export interface Peer {
  readonly pid: number;
  readonly uid: number;
  readonly gid: number;
}

/**
 * The OS file descriptor under a connected net.Socket. Node does not publish it, but a Unix
 * socket's libuv handle carries it as `fd` on Linux; it is needed for SO_PEERCRED and SCM_RIGHTS,
 * which Node's net module does not offer.
 */
export function socketFd(socket: Socket): number | null {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : null;
}

export type PeerResult = { readonly ok: true; readonly peer: Peer } | { readonly ok: false; readonly reason: string };

export function peerOf(socket: Socket): PeerResult {
  const native = loadNative();
  if (!native.ok) return { ok: false, reason: `cannot check the peer: ${native.reason}` };
  const fd = socketFd(socket);
  if (fd === null) return { ok: false, reason: 'cannot check the peer: no socket descriptor' };
  const cred = native.addon.peerCred(fd);
  if (cred.errno !== 0 || !('pid' in cred)) return { ok: false, reason: `SO_PEERCRED failed with errno ${cred.errno}` };
  return { ok: true, peer: { pid: cred.pid, uid: cred.uid, gid: cred.gid } };
}

/** Supplementary groups of a live process (empty when it is gone or unreadable). */
export function supplementaryGroups(pid: number): number[] {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const line = /^Groups:(.*)$/m.exec(status);
    return line ? line[1]!.trim().split(/\s+/).filter((s) => s !== '').map(Number) : [];
  } catch {
    return [];
  }
}

export interface AccessPolicy {
  readonly ownUid: number;
  /** --group's gid, or null. */
  readonly groupGid: number | null;
}

export type Authority = 'owner' | 'group' | 'none';

/** Owner (own uid or root: may also take the fds over) or group member (plan/apply/show/destroy). */
export function authorityOf(peer: Peer, policy: AccessPolicy, groupsOf: (pid: number) => number[] = supplementaryGroups): Authority {
  if (peer.uid === policy.ownUid || peer.uid === 0) return 'owner';
  if (policy.groupGid !== null && (peer.gid === policy.groupGid || groupsOf(peer.pid).includes(policy.groupGid))) return 'group';
  return 'none';
}

/** A group name (or a number) to its gid, from /etc/group; null when unknown. */
export function gidOfGroup(name: string, groupFile = '/etc/group'): number | null {
  if (/^\d+$/.test(name)) return Number(name);
  try {
    for (const line of readFileSync(groupFile, 'utf8').split('\n')) {
      const [groupName, , gid] = line.split(':');
      if (groupName === name && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
    }
  } catch {
    return null;
  }
  return null;
}
