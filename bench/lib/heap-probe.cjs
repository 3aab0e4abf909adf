// Loaded into a benchmarked server with --require (plain CommonJS: no loader needed): writes the V8 heap's
// spaces (used and committed bytes) to HEAP_PROBE_FILE twice a second, so the benchmark can tell how much of the
// process's RSS is JS heap, and which space, without touching the server's code. Bench only.
const { renameSync, writeFileSync } = require('node:fs');
const v8 = require('node:v8');
const file = process.env.HEAP_PROBE_FILE;
if (file) {
  setInterval(() => {
    const spaces = {};
    for (const s of v8.getHeapSpaceStatistics())
      spaces[s.space_name] = { used: s.space_used_size, committed: s.physical_space_size };
    const h = v8.getHeapStatistics();
    // Written aside, then renamed over the file: a reader never sees it half written.
    writeFileSync(
      `${file}.tmp`,
      JSON.stringify({
        spaces,
        used: h.used_heap_size,
        physical: h.total_physical_size,
        malloced: h.malloced_memory,
        external: h.external_memory ?? 0,
        ...process.memoryUsage(),
      }),
    );
    renameSync(`${file}.tmp`, file);
  }, 500).unref();
}
