import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadLayoutFile } from '../../src/config/load.js';
import { ROOT, cli, ensureBuilt, workdir } from './support.js';

beforeAll(() => ensureBuilt(), 120_000);

const EXAMPLES = ['dpdk-appliance', 'vmm-guest-ram', 'test-lab', 'nic-passthrough'];

describe('workflow on the simulator: plan, apply, plan again, edit, destroy', () => {
  for (const example of EXAMPLES) {
    it(`${example}: full plan, apply creates it, second plan has no changes, destroy empties the state`, async () => {
      const dir = workdir();
      const file = `examples/${example}.yaml`;
      const plan = await cli(['plan', '--calls', file], dir);
      expect(plan.stderr).toBe('');
      expect(plan.code).toBe(2);
      expect(plan.stdout).toMatch(/^Plan: \d+ to add, (\d+ to update in place, )?0 to replace, 0 to destroy\.$/m);
      expect(plan.stdout).toContain('Calls, in order:');
      // The full plan: every memory region, IOAS, mapping and copy of the layout is a `+` block.
      const layout = (await loadLayoutFile(join(dir, file))).layout!;
      const addresses = [
        ...layout.memory.map((m) => `memory.${m.name}`),
        ...layout.ioas.flatMap((i) => [`ioas.${i.name}`, ...i.mappings.map((m) => `ioas.${i.name}/mapping.${m.name}`), ...i.copies.map((c) => `ioas.${i.name}/copy.${c.name}`)]),
      ];
      for (const address of addresses) expect(plan.stdout).toContain(`  + ${address} {`);
      for (const d of layout.devices ?? []) expect(plan.stdout).toContain(`  + device.${d.name} (attach to ioas.${d.ioas}) {`);
      expect(plan.stdout).not.toMatch(/\u001b\[/); // not a TTY: no color

      const apply = await cli(['apply', '--auto-approve', file], dir);
      expect(apply.stderr).toBe('');
      expect(apply.code).toBe(0);
      expect(apply.stdout).toMatch(/Apply complete/);

      const again = await cli(['plan', '--detailed-exitcode', file], dir);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(/^No changes\./);

      const shown = JSON.parse((await cli(['show', '--json'], dir)).stdout) as { state: { ioas: { name: string; entries: unknown[] }[] } };
      expect(shown.state.ioas.length).toBeGreaterThan(0);

      const destroy = await cli(['destroy', '--auto-approve'], dir);
      expect(destroy.code).toBe(0);
      const empty = JSON.parse((await cli(['show', '--json'], dir)).stdout) as { state: { ioas: unknown[]; memory: unknown[] } };
      expect(empty.state.ioas).toEqual([]);
      expect(empty.state.memory).toEqual([]);
    });
  }

  it('editing one mapping shows exactly one -/+ with the reason', async () => {
    const dir = workdir();
    const file = join(dir, 'examples/test-lab.yaml');
    expect((await cli(['apply', '--auto-approve', file], dir)).code).toBe(0);
    const text = readFileSync(file, 'utf8');
    const edited = text.replace('memory: table\n        access: r', 'memory: table\n        access: rw');
    expect(edited).not.toBe(text);
    writeFileSync(file, edited);
    const plan = await cli(['plan', file], dir);
    expect(plan.code).toBe(2);
    expect(plan.stdout.match(/^-\/\+ /gm)).toHaveLength(1);
    // The copy `mirror/table-window` reads the same pages, so it stays.
    expect(plan.stdout).toMatch(/^-\/\+ ioas\.lab\/mapping\.table \{$/m);
    expect(plan.stdout).toMatch(/access += r -> rw # forces replacement/);
    expect(plan.stdout).toMatch(/^Plan: 0 to add, 1 to replace, 0 to destroy\.$/m);
  });

  it('a layout with a device: plan --json is schema-valid, a saved plan applies, show lists the device', async () => {
    const dir = workdir();
    const out = await cli(['plan', '--json', 'examples/nic-passthrough.yaml'], dir);
    expect(out.code).toBe(2);
    const doc = JSON.parse(out.stdout) as { steps: { op: string }[]; pinned?: { ioas: string; after: string }[] };
    const schema = JSON.parse(readFileSync(join(ROOT, 'schema/plan.schema.json'), 'utf8')) as object;
    const validate = new Ajv2020({ strict: false }).compile(schema);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    expect(doc.steps.map((s) => s.op)).toContain('attach');
    expect(doc.pinned).toEqual([{ ioas: 'nic', before: '0x0', after: '0x410000' }]);
    expect((await cli(['plan', '-out', 'nic.plan', 'examples/nic-passthrough.yaml'], dir)).code).toBe(2);
    const applied = await cli(['apply', 'nic.plan'], dir);
    expect(applied.stderr).toBe('');
    expect(applied.code).toBe(0);
    const shown = await cli(['show'], dir);
    expect(shown.stdout).toMatch(/^device\.nic0: \(dev id \d+, hwpt id \d+\)$/m);
  });

  it('plan --json prints a versioned document valid against schema/plan.schema.json', async () => {
    const dir = workdir();
    const out = await cli(['plan', '--json', 'examples/dpdk-appliance.yaml'], dir);
    expect(out.code).toBe(2);
    const doc = JSON.parse(out.stdout) as { formatVersion: number; steps: { op: string; predictedIova?: string }[] };
    expect(doc.formatVersion).toBe(1);
    const schema = JSON.parse(readFileSync(join(ROOT, 'schema/plan.schema.json'), 'utf8')) as object;
    const validate = new Ajv2020({ strict: false }).compile(schema);
    expect(validate(doc), JSON.stringify(validate.errors)).toBe(true);
    // The automatic scratch mapping carries the IOVA the kernel will pick (lowest hole in allowed_iovas).
    expect(doc.steps.find((s) => s.op === 'map' && s.predictedIova)?.predictedIova).toMatch(/^0x[0-9a-f]+$/);
  });

  it('saved plans: plan -out then apply FILE; a stale plan (also one made on empty state) is refused', async () => {
    const dir = workdir();
    const first = await cli(['plan', '-out', 'a.plan', 'examples/vmm-guest-ram.yaml'], dir);
    expect(first.code).toBe(2);
    const second = await cli(['plan', '-out', 'b.plan', 'examples/vmm-guest-ram.yaml'], dir);
    expect(second.code).toBe(2);
    const applied = await cli(['apply', 'a.plan'], dir);
    expect(applied.code).toBe(0);
    const stale = await cli(['apply', 'b.plan'], dir);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/saved plan is stale: the plan was made on empty state/);
    expect((await cli(['plan', 'examples/vmm-guest-ram.yaml'], dir)).code).toBe(0);

    // A hand-edited plan file is checked against the schema before any of its steps runs.
    const text = readFileSync(join(dir, 'b.plan'), 'utf8');
    writeFileSync(join(dir, 'c.plan'), text.replace('"op": "map"', '"op": "format-disk"'));
    const edited = await cli(['apply', 'c.plan'], dir);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toMatch(/not a valid plan file: \/steps\/\d+\/op/);
  });

  it('--backend kernel fails with a clear message, no stack trace', async () => {
    const dir = workdir();
    const out = await cli(['--backend', 'kernel', 'apply', '--auto-approve', 'examples/test-lab.yaml'], dir);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/kernel backend needs the ioasform holder agent/);
    expect(out.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('apply refuses to run unattended without --auto-approve', async () => {
    const dir = workdir();
    const out = await cli(['apply', 'examples/test-lab.yaml'], dir);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/--auto-approve/);
    expect((await cli(['show', '--json'], dir)).stdout).toContain('"state": null');
  });

  it('a hand-edited state file is refused (checksum), and an invalid layout is reported, both exit 1', async () => {
    const dir = workdir();
    expect((await cli(['apply', '--auto-approve', 'examples/test-lab.yaml'], dir)).code).toBe(0);
    const statePath = join(dir, 'ioasform.state.json');
    writeFileSync(statePath, readFileSync(statePath, 'utf8').replace('"hugePages": false', '"hugePages": true'));
    const edited = await cli(['plan', 'examples/test-lab.yaml'], dir);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toMatch(/checksum mismatch/);

    writeFileSync(join(dir, 'bad.yaml'), 'version: 1\nioas:\n  dp:\n    mappings:\n      rx: {memory: nowhere}\n');
    const bad = await cli(['plan', 'bad.yaml'], join(dir));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.yaml:5:\d+: error/);
  });

  it('every command has --help with an example', async () => {
    const dir = workdir();
    for (const command of ['plan', 'apply', 'show', 'destroy', 'force-unlock']) {
      const help = await cli([command, '--help'], dir);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Example/);
      expect(help.stdout).toContain(`$ ioasform`);
    }
  });
});
