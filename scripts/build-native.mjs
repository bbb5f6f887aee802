#!/usr/bin/env node
// The package's `install` script: builds the optional native addon (binding.gyp ->
// build/Release/iommufd.node) with node-gyp. It never fails the install: without a compiler,
// without node headers, or on a non-Linux system it prints one line and exits 0, because only
// the kernel backend needs the addon; the simulator and everything else work without it.
// It first builds both addons: iommufd.node and the optional fast-call iommufd_fast.node
// (binding.gyp adds that target when IOASFORM_FAST_IOCTL=1; it compiles only against Node 20's
// V8). When that fails it builds iommufd.node alone, so the fast addon can never cost the main one.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function unavailable(reason) {
  console.log(`ioasform: native addon not built (${reason}); the kernel backend is unavailable, the simulator works`);
  process.exit(0);
}

if (process.platform !== 'linux') unavailable(`platform ${process.platform} has no iommufd`);

// npm exports the path of its bundled node-gyp to lifecycle scripts; fall back to a local one.
function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) return bundled;
  try {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return undefined;
  }
}

const nodeGyp = findNodeGyp();
if (!nodeGyp) unavailable('node-gyp not found');

// Headers installed next to this node (e.g. /usr/include/node) avoid a download from nodejs.org,
// which offline machines cannot reach.
const args = [nodeGyp, 'rebuild'];
const localHeaders = resolve(dirname(process.execPath), '..');
if (existsSync(join(localHeaders, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${localHeaders}`);

const build = (fast) => spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8', env: { ...process.env, IOASFORM_FAST_IOCTL: fast ? '1' : '0' } });
let result = build(true);
if (result.status !== 0) {
  console.log('ioasform: the fast-call addon (iommufd_fast.node) was not built; the kernel backend uses its N-API entries');
  result = build(false);
}
if (result.status !== 0) {
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  const firstError = output.split('\n').find((line) => /error/i.test(line))?.trim();
  unavailable(firstError ? `node-gyp failed: ${firstError.slice(0, 160)}` : `node-gyp exited with ${result.status}`);
}
if (!existsSync(join(root, 'build', 'Release', 'iommufd.node'))) unavailable('node-gyp produced no iommufd.node');
