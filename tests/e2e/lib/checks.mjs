// The extension tests' tally: `check(name, ok, detail)` prints `ok   name` or `FAIL name` (with
// the detail), and `tally` counts both for the closing "N passed, N failed" line.
export function checks() {
  const tally = { passed: 0, failed: 0 };
  function check(name, ok, detail) {
    if (ok) {
      tally.passed++;
      console.log(`ok   ${name}`);
      return;
    }
    tally.failed++;
    const more = detail === undefined ? '' : `\n     ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`;
    console.log(`FAIL ${name}${more}`);
  }
  return { check, tally };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
