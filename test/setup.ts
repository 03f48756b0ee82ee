// Guard: tests create namespaces, links, routes and firewall rules. They must never run on
// the host, only inside the throwaway namespace made by test/run-hermetic.mjs.
import { readFileSync, readlinkSync } from 'node:fs';

const HINT =
  'run `npm test`, which wraps vitest in a throwaway network + mount namespace ' +
  '(or `node test/run-hermetic.mjs [vitest args]`)';

if (process.env.NSNET_HERMETIC !== '1') {
  throw new Error(`nsnet tests refuse to run on the host (NSNET_HERMETIC is not set): ${HINT}.`);
}

// Belt and braces for NSNET_HERMETIC=1 set by hand: under the runner, some ancestor (the
// runner itself) lives in another network namespace. If every ancestor we can inspect shares
// ours, we are on the host. (Unreadable ancestors -- user namespaces -- prove nothing.)
const netns = (pid: number | 'self') => {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return null;
  }
};
const ppid = (pid: number | 'self') => {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return 0;
  }
};
const mine = netns('self');
let sameAsHost = mine !== null;
for (let pid = ppid('self'); pid > 1 && sameAsHost; pid = ppid(pid)) {
  const theirs = netns(pid);
  if (theirs !== mine) sameAsHost = false;
}
if (sameAsHost) {
  throw new Error(`nsnet tests refuse to run in the host's network namespace (${mine}): ${HINT}.`);
}
