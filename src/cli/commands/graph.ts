// `ioasform graph [LAYOUT] [--plan FILE] --format svg|html|text [-o FILE]`: a picture of the IOVA
// space. What is drawn depends on the sources given:
//   LAYOUT alone           the desired layout; automatic entries at the IOVA the planner predicts
//                          against the current state (empty state when there is none)
//   --state FILE alone     what is applied, at the IOVAs the kernel actually chose
//   LAYOUT + --state FILE  the plan picture: added boxes green, removed red, replaced amber
//   --plan FILE            the same for a saved plan (refused when stale)
// Read-only: it takes no lock and writes nothing but the picture.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { predict } from '../../apply/predict.js';
import { hostFacts } from '../../apply/session.js';
import type { LoadedState } from '../../apply/store.js';
import { basisOf, loadState } from '../../apply/store.js';
import { KERNEL_NEEDS_AGENT } from '../../apply/target.js';
import { desiredIovaMap, planToIovaMap, renderHtml, renderSvg, renderTextMap, stateToIovaMap } from '../../graph/index.js';
import type { IovaMap } from '../../graph/index.js';
import type { Layout } from '../../model/layout.js';
import type { Plan } from '../../plan/plan.js';
import { makePlan, staleReason } from '../../plan/plan.js';
import type { CommandContext } from '../command.js';
import type { CliIo } from '../io.js';
import { renderPredictedFailure } from '../plan-view.js';
import { readSavedPlan } from './apply.js';
import type { GlobalOptions } from './common.js';
import { runWithGlobals } from './common.js';
import { loadLayoutOrReport } from './plan.js';

export const GRAPH_FORMATS = ['svg', 'html', 'text'] as const;
export type GraphFormat = (typeof GRAPH_FORMATS)[number];

export interface GraphOptions {
  readonly plan?: string;
  readonly format?: string;
  readonly output?: string;
  readonly width?: string;
}

/** Which picture the given sources ask for. */
export type GraphSource =
  | { readonly kind: 'layout'; readonly layoutFile: string }
  | { readonly kind: 'state' }
  | { readonly kind: 'plan'; readonly layoutFile: string }
  | { readonly kind: 'saved-plan'; readonly planFile: string };

/** `reported`: the problem is already printed (a layout's rendered diagnostics). */
type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string; readonly reported?: true };

/** `stateGiven`: --state was on the command line (not just its default). */
export function chooseSource(layoutFile: string | undefined, planFile: string | undefined, stateGiven: boolean): Result<GraphSource> {
  if (layoutFile !== undefined && planFile !== undefined) return { ok: false, message: 'give either a LAYOUT file or --plan FILE, not both' };
  if (planFile !== undefined) return { ok: true, value: { kind: 'saved-plan', planFile } };
  if (layoutFile === undefined) return { ok: true, value: { kind: 'state' } };
  return { ok: true, value: stateGiven ? { kind: 'plan', layoutFile } : { kind: 'layout', layoutFile } };
}

export function parseFormat(text: string | undefined): Result<GraphFormat> {
  const format = text ?? 'svg';
  return (GRAPH_FORMATS as readonly string[]).includes(format)
    ? { ok: true, value: format as GraphFormat }
    : { ok: false, message: `--format must be one of ${GRAPH_FORMATS.join(', ')}, not ${format}` };
}

/** Plans the layout against the state with the planner and the simulator's IOVA prediction. */
async function predictedPlan(layout: Layout, layoutFile: string, state: LoadedState, globals: GlobalOptions): Promise<Result<Plan>> {
  const made = makePlan({ desired: layout, recorded: state.body, basis: basisOf(state), host: hostFacts(globals.backend, state.body), layoutFile });
  if (!made.ok) return { ok: false, message: made.error.message };
  const predicted = await predict(made.plan, state.body);
  if (predicted.ok) return { ok: true, value: predicted.plan };
  return { ok: false, message: predicted.failure ? renderPredictedFailure(predicted.failure).trimEnd() : predicted.message };
}

async function buildMap(source: GraphSource, globals: GlobalOptions, io: CliIo): Promise<Result<{ map: IovaMap; title: string }>> {
  const loaded = await loadState(globals.state, globals.backend);
  if (!loaded.ok) return { ok: false, message: loaded.message };
  const state = loaded.state;
  switch (source.kind) {
    case 'state': {
      if (!state.envelope) return { ok: false, message: `no state at ${globals.state}: nothing is applied yet (give a LAYOUT file to draw a layout)` };
      return { ok: true, value: { map: stateToIovaMap(state.body), title: `Applied state (${globals.state})` } };
    }
    case 'layout':
    case 'plan': {
      const layout = await loadLayoutOrReport(source.layoutFile, io);
      if (!layout) return { ok: false, message: `${source.layoutFile} has errors`, reported: true };
      const plan = await predictedPlan(layout, source.layoutFile, state, globals);
      if (!plan.ok) return plan;
      return source.kind === 'layout'
        ? { ok: true, value: { map: desiredIovaMap(plan.value, state.body), title: source.layoutFile } }
        : { ok: true, value: { map: planToIovaMap(plan.value, state.body), title: `Plan: ${source.layoutFile} against ${globals.state}` } };
    }
    case 'saved-plan': {
      const saved = await readSavedPlan(source.planFile);
      if (saved === null) return { ok: false, message: `${source.planFile} is not a saved plan (a layout? then give it without --plan)` };
      if ('error' in saved) return { ok: false, message: saved.error };
      const stale = staleReason(saved.plan, basisOf(state), hostFacts(globals.backend, state.body));
      if (stale) return { ok: false, message: `saved plan is stale: ${stale}. Run \`ioasform plan\` again.` };
      return { ok: true, value: { map: planToIovaMap(saved.plan, state.body), title: `Plan: ${source.planFile}` } };
    }
  }
}

export async function graphCommand(layoutFile: string | undefined, options: GraphOptions, globals: GlobalOptions, stateGiven: boolean, io: CliIo): Promise<number> {
  const fail = (message: string): number => (io.stderr(`Error: ${message}\n`), 1);
  if (globals.backend === 'kernel') return fail(KERNEL_NEEDS_AGENT);
  const format = parseFormat(options.format);
  if (!format.ok) return fail(format.message);
  const width = options.width === undefined ? undefined : Number(options.width);
  if (width !== undefined && !(Number.isInteger(width) && width > 0)) return fail(`--width must be a positive whole number, not ${options.width}`);
  const source = chooseSource(layoutFile, options.plan, stateGiven);
  if (!source.ok) return fail(source.message);
  const built = await buildMap(source.value, globals, io);
  if (!built.ok) return built.reported ? 1 : fail(built.message);
  const { map, title } = built.value;
  const toStdout = options.output === undefined || options.output === '-';
  const text =
    format.value === 'svg'
      ? renderSvg(map, { title, ...(width ? { width } : {}) })
      : format.value === 'html'
        ? renderHtml(map, { title, pageTitle: `IOVA map: ${title}`, ...(width ? { width } : {}) })
        : renderTextMap(map, { color: toStdout && io.color, ...(width ? { width } : {}) });
  if (toStdout) {
    io.stdout(text);
    return 0;
  }
  try {
    await writeFile(options.output!, text);
  } catch (e) {
    return fail(`cannot write ${options.output}: ${(e as Error).message}`);
  }
  return 0;
}

export function registerGraph(program: Command, ctx: CommandContext): void {
  program
    .command('graph')
    .description('draw the IOVA map: one lane per IOAS, mappings and copies as boxes (SVG, HTML or text)')
    .argument('[layout]', 'layout file (YAML); without it the applied state is drawn')
    .option('--plan <file>', 'draw a saved plan (from `plan -out FILE`) against the state')
    .option('--format <format>', 'svg, html (self-contained, hover details) or text', 'svg')
    .option('-o, --output <file>', 'write the picture to FILE (default, or "-": stdout)')
    .option('--width <columns|pixels>', 'picture width: pixels for svg/html, columns for text')
    .addHelpText(
      'after',
      [
        '',
        'What is drawn:',
        '  LAYOUT                 the desired layout; kernel-chosen IOVAs predicted against the state',
        '  --state FILE           what is applied (no LAYOUT): the IOVAs the kernel actually chose',
        '  LAYOUT --state FILE    the plan: added boxes green, removed red, replaced amber',
        '  --plan FILE            the same for a saved plan (refused when stale)',
        '',
        'Examples:',
        '  $ ioasform graph examples/dpdk-appliance.yaml --format svg -o dp.svg',
        '  $ ioasform graph examples/dpdk-appliance.yaml --state lab.state.json --format html -o plan.html',
        '  $ ioasform graph --state lab.state.json --format text',
        '  $ ioasform plan -out dp.plan examples/dpdk-appliance.yaml && ioasform graph --plan dp.plan --format html -o dp.html',
        '',
      ].join('\n'),
    )
    .action(async (layoutFile: string | undefined, options: GraphOptions, command: Command) => {
      await runWithGlobals(ctx, command, async (globals) => {
        const stateGiven = command.getOptionValueSourceWithGlobals('state') === 'cli';
        return graphCommand(layoutFile, options, globals, stateGiven, ctx.io);
      });
    });
}
