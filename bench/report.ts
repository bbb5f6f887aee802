// The table and the targets of issue 7, computed from one run's results. Pure.

import type { KernelBenchOutcome } from './kernel/run.js';
import type { SizeResult } from './workload.js';

export interface TargetCheck {
  readonly name: string;
  readonly limit: string;
  /** The measured figure, formatted; null when the run lacked the sizes it needs. */
  readonly measured: string | null;
  readonly pass: boolean | null;
}

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(0);

export function formatTable(results: readonly SizeResult[]): string {
  const head = ['entries', 'yaml parse', 'validate', 'plan empty', 'plan 1%', 'sim apply', 'sim calls', 'runner apply', 'applier apply', 'state save', 'state load', 'peak RSS MB', 'RSS yaml/fast/validate only', 'CLI RSS plan/apply/plan 1%', 'CLI s plan/apply/plan 1%', 'steps', 'state MB'];
  const rows = results.map((r) => [
    String(r.entries),
    ms(r.ms.yamlParse.medianMs),
    ms(r.ms.validate.medianMs),
    ms(r.ms.planEmpty.medianMs),
    ms(r.ms.planIncremental.medianMs),
    ms(r.ms.simApply.medianMs),
    ms(r.ms.simCallsOnly.medianMs),
    r.ms.runnerApply ? ms(r.ms.runnerApply.medianMs) : 'skipped',
    r.ms.applierApply ? ms(r.ms.applierApply.medianMs) : 'skipped',
    ms(r.ms.stateSave.medianMs),
    ms(r.ms.stateLoad.medianMs),
    mb(r.peakRssBytes),
    r.peakRssYamlOnlyBytes !== undefined && r.peakRssValidateOnlyBytes !== undefined
      ? `${mb(r.peakRssYamlOnlyBytes)}/${r.peakRssFastOnlyBytes !== undefined ? mb(r.peakRssFastOnlyBytes) : 'n/a'}/${mb(r.peakRssValidateOnlyBytes)}`
      : 'n/a',
    r.cli ? [r.cli.planEmpty, r.cli.apply, r.cli.planChanged].map((run) => mb(run.peakRssBytes)).join('/') : 'n/a',
    r.cli ? [r.cli.planEmpty, r.cli.apply, r.cli.planChanged].map((run) => run.seconds.toFixed(1)).join('/') : 'n/a',
    `${r.steps.emptyPlan}/${r.steps.incrementalPlan}`,
    mb(r.stateBytes),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`;
  return [
    'times in ms (median); sim apply = plan steps on the simulator + recorded body, sim calls = the same uapi calls alone; applier apply = a real apply (journal, commits, final state save); steps = plan against empty / 1%-changed state; peak RSS MB = the bench process of the size (every phase at once); CLI = real ioasform processes: plan (no state), apply --auto-approve, plan of the 1%-changed file (RSS in MB, wall seconds)',
    line(head),
    `|${widths.map((w) => '-'.repeat(w + 1) + ':').join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

export function evaluateTargets(results: readonly SizeResult[]): TargetCheck[] {
  const at = (n: number) => results.find((r) => r.entries === n);
  const big = at(100_000);
  const mid = at(10_000);
  const check = (name: string, limit: number, unit: string, value: number | null, fmt: (v: number) => string): TargetCheck => ({
    name,
    limit: `<= ${limit}${unit}`,
    measured: value === null ? null : `${fmt(value)}${unit}`,
    pass: value === null ? null : value <= limit,
  });
  const x = (v: number) => v.toFixed(2);
  return [
    check('validate + plan (empty state), 100k / yaml parse', 2, 'x', big ? (big.ms.validate.medianMs + big.ms.planEmpty.medianMs) / big.ms.yamlParse.medianMs : null, x),
    check('validate + plan (1% changed), 100k / yaml parse', 1.5, 'x', big ? (big.ms.validateChanged.medianMs + big.ms.planIncremental.medianMs) / big.ms.yamlParse.medianMs : null, x),
    check('simulator apply, 100k', 0.5, ' s', big ? big.ms.simApply.medianMs / 1000 : null, (v) => v.toFixed(3)),
    check('simulator apply 100k / 10k', 12, 'x', big && mid ? big.ms.simApply.medianMs / mid.ms.simApply.medianMs : null, x),
    check('simulator alone (uapi calls replayed), 100k', 0.5, ' s', big ? big.ms.simCallsOnly.medianMs / 1000 : null, (v) => v.toFixed(3)),
    check('simulator alone 100k / 10k', 12, 'x', big && mid ? big.ms.simCallsOnly.medianMs / mid.ms.simCallsOnly.medianMs : null, x),
    check('applier apply (journal + commits + final save) 100k / 10k', 12, 'x', big?.ms.applierApply && mid?.ms.applierApply ? big.ms.applierApply.medianMs / mid.ms.applierApply.medianMs : null, x),
    check('peak RSS, 100k, `ioasform plan` (no state)', 500, ' MB', big?.cli ? big.cli.planEmpty.peakRssBytes / 1024 / 1024 : null, (v) => v.toFixed(0)),
    check('peak RSS, 100k, `ioasform apply --auto-approve` (fresh state)', 500, ' MB', big?.cli ? big.cli.apply.peakRssBytes / 1024 / 1024 : null, (v) => v.toFixed(0)),
    check('peak RSS, 100k, `ioasform plan` of the 1%-changed file (98 MB state)', 500, ' MB', big?.cli ? big.cli.planChanged.peakRssBytes / 1024 / 1024 : null, (v) => v.toFixed(0)),
    check('peak RSS, 100k (the bench process: whole pipeline, two layouts, every phase at once)', 500, ' MB', big ? big.peakRssBytes / 1024 / 1024 : null, (v) => v.toFixed(0)),
    check('peak RSS, 100k, validate alone', 500, ' MB', big?.peakRssValidateOnlyBytes !== undefined ? big.peakRssValidateOnlyBytes / 1024 / 1024 : null, (v) => v.toFixed(0)),
    check('peak RSS, 100k, fast-path read alone (js-yaml)', 500, ' MB', big?.peakRssFastOnlyBytes !== undefined ? big.peakRssFastOnlyBytes / 1024 / 1024 : null, (v) => v.toFixed(0)),
    check('peak RSS, 100k, yaml parseDocument alone (the Document path, for declined documents)', 500, ' MB', big?.peakRssYamlOnlyBytes !== undefined ? big.peakRssYamlOnlyBytes / 1024 / 1024 : null, (v) => v.toFixed(0)),
  ];
}

/** Issue 7's kernel target: per-call cost through openKernel over the raw C loop's. */
export function kernelTarget(outcome: KernelBenchOutcome): TargetCheck {
  const name = 'kernel backend per-call cost / raw C loop (in the test VM)';
  if (outcome.status !== 'measured') return { name, limit: '<= 2x', measured: null, pass: null };
  return { name, limit: '<= 2x', measured: `${outcome.summary.ratio.toFixed(2)}x`, pass: outcome.summary.ratio <= 2 };
}

export function formatTargets(targets: readonly TargetCheck[]): string {
  return targets
    .map((t) => `${t.pass === null ? 'n/a ' : t.pass ? 'PASS' : 'MISS'}  ${t.name}: ${t.measured ?? 'not measured'} (target ${t.limit})`)
    .join('\n');
}
