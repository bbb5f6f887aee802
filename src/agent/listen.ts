// Creating the agent's socket file: a stale file from a dead agent is replaced, a live agent makes
// the new one refuse; the file is created 0600 (umask around bind, then chmod) or 0660 owned by
// --group.
import { chmod, chown, lstat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import type { Server } from 'node:net';

export type SocketSetup = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

/** Answers whether something accepts connections at `path`. */
function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    const done = (live: boolean): void => {
      probe.destroy();
      resolve(live);
    };
    probe.once('connect', () => done(true));
    probe.once('error', () => done(false));
    probe.setTimeout(2000, () => done(true));
  });
}

/** Removes a stale socket file; refuses a live agent or a path that is not a socket. */
export async function clearSocketPath(path: string): Promise<SocketSetup> {
  let stat;
  try {
    stat = await lstat(path);
  } catch {
    return { ok: true };
  }
  if (!stat.isSocket()) return { ok: false, code: 'SOCKET_PATH_TAKEN', message: `${path} exists and is not a socket; refusing to replace it` };
  if (await isLive(path)) return { ok: false, code: 'AGENT_RUNNING', message: `an agent is already serving ${path} (a connection succeeded); stop it first or choose another --socket` };
  await unlink(path);
  return { ok: true };
}

/** Binds with a umask that leaves only the owner's bits, then sets the final mode and group. */
export async function listenPrivately(server: Server, path: string, groupGid: number | null): Promise<SocketSetup> {
  const previous = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    return { ok: false, code: 'SOCKET_BIND', message: `cannot listen on ${path}: ${(e as Error).message}` };
  } finally {
    process.umask(previous);
  }
  try {
    if (groupGid !== null) {
      await chown(path, process.getuid?.() ?? 0, groupGid);
      await chmod(path, 0o660);
    } else {
      await chmod(path, 0o600);
    }
  } catch (e) {
    return { ok: false, code: 'SOCKET_MODE', message: `cannot set the mode of ${path}: ${(e as Error).message}` };
  }
  return { ok: true };
}
