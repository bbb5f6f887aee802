// Loaded into a real CLI process by the bench (`node --import <this> bin/ioasform.js ...`) so the
// process's own peak RSS can be read: at exit it writes `process.resourceUsage().maxRSS` (bytes)
// to the file named by IOASFORM_BENCH_RSS_FILE. With IOASFORM_BENCH_RSS_TRACE=1 it also appends,
// every 250 ms, `<seconds> <rss MB> <heap used MB>` lines to `<file>.trace`, to see which part of
// a command holds the memory. It changes nothing else in the process.
import { appendFileSync, writeFileSync } from 'node:fs';

const file = process.env['IOASFORM_BENCH_RSS_FILE'];
if (file) {
  const started = performance.now();
  if (process.env['IOASFORM_BENCH_RSS_TRACE'] === '1') {
    const MB = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
    setInterval(() => {
      const usage = process.memoryUsage();
      appendFileSync(`${file}.trace`, `${((performance.now() - started) / 1000).toFixed(2)} ${MB(usage.rss)} ${MB(usage.heapUsed)}\n`);
    }, 250).unref();
  }
  process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS * 1024)));
}
