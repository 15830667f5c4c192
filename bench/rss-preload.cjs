// Preloaded (node --require) into the CLI processes the replication benchmarks start: when the
// process exits, writes its peak RSS to the file named by PEERSYNC_BENCH_RSS_FILE.
//
// The figure is VmHWM from /proc/self/status, not process.resourceUsage().maxRSS: on Linux a
// spawned child's getrusage maxrss starts at the parent's RSS at fork time (the kernel carries the
// forked address space's high-water mark across exec), so a child of a 400 MB bench process would
// report >= 400 MB. VmHWM belongs to the exec'd program's own address space.
'use strict';
const file = process.env.PEERSYNC_BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    const fs = require('node:fs');
    let report;
    try {
      const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
      if (m) report = { peakRssKB: Number(m[1]), source: 'VmHWM' };
    } catch {
      /* not Linux */
    }
    // Elsewhere: getrusage, which may include the parent's RSS at fork (an upper bound).
    report ??= { peakRssKB: process.resourceUsage().maxRSS, source: 'maxRSS' };
    try {
      fs.writeFileSync(file, JSON.stringify(report));
    } catch {
      /* the bench reports the figure as missing */
    }
  });
}
