// Peak resident memory of a whole process tree (a CLI and every process it starts: language host,
// node program, provider plugins), sampled from /proc. GNU time's %M reports only the largest
// single process, which for `pulumi up` misses most of the tree.
import { readdirSync, readFileSync } from "node:fs";

const PAGE_BYTES = 4096;

/** RSS in bytes of `root` and all its descendants right now (0 where /proc is missing). */
export function treeRss(root) {
  const children = new Map();
  const rss = new Map();
  let pids;
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return 0;
  }
  for (const pid of pids) {
    try {
      // The command name is in parentheses and may hold spaces: fields follow its closing one.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const ppid = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1];
      const pages = Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]);
      rss.set(pid, pages * PAGE_BYTES);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(pid);
    } catch {
      // The process ended while we looked.
    }
  }
  let total = 0;
  const queue = [String(root)];
  while (queue.length > 0) {
    const pid = queue.pop();
    total += rss.get(pid) ?? 0;
    queue.push(...(children.get(pid) ?? []));
  }
  return total;
}

/** Samples the tree of `pid` every `intervalMs` until stop(), which returns the peak in MB. */
export function watchPeakRss(pid, intervalMs = 100) {
  let peak = treeRss(pid);
  const timer = setInterval(() => {
    peak = Math.max(peak, treeRss(pid));
  }, intervalMs);
  return () => {
    clearInterval(timer);
    return peak / (1024 * 1024);
  };
}
