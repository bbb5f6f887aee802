// The IOVA map renderers: build a view model (from a layout, or a plan's before/after), then
// draw it as SVG, a self-contained HTML page, or a compact terminal map.
export type { Box, BoxSource, BoxStatus, IovaInterval, IovaMap, Lane } from './model.js';
export { layoutToIovaMap, diffIovaMaps, boxId } from './from-layout.js';
export type { Placement } from './from-layout.js';
export { renderSvg } from './svg.js';
export type { SvgOptions } from './svg.js';
export { formatHex, formatSize } from './format.js';
export { renderHtml } from './html.js';
export type { HtmlOptions } from './html.js';
export { renderTextMap, TEXT_LEGEND } from './text.js';
export type { TextMapOptions } from './text.js';
export { stateToIovaMap, statePlacements } from './from-state.js';
export { planToIovaMap, desiredIovaMap, predictedPlacements } from './from-plan.js';
