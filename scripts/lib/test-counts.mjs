// How `npm test` (scripts/test.mjs) counts results, from the test tools' own summaries only.
//   nodeSummary(tap)   → { tests, suites, pass, fail, cancelled, skipped, todo } or null
//   cargoSummary(text) → { passed, failed, ignored, binaries, started }
// A test's own output cannot be mistaken for a summary: node's TAP summary is read from the
// block that must end the file (anything a test prints comes before it, as `# …` comments), and
// cargo's `test result:` lines must be whole lines.

// Not multi-line: `$` is the end of the whole text, so nothing may follow the summary.
const NODE_SUMMARY = new RegExp(
  '(?:^|\\n)# tests (\\d+)\\n# suites (\\d+)\\n# pass (\\d+)\\n# fail (\\d+)\\n# cancelled (\\d+)\\n' +
  '# skipped (\\d+)\\n# todo (\\d+)\\n# duration_ms [\\d.]+\\n*$',
);

/** The closing summary of a node --test TAP file, or null when the file does not end with one. */
export function nodeSummary(tap) {
  const m = NODE_SUMMARY.exec(tap);
  if (!m) return null;
  const [tests, suites, pass, fail, cancelled, skipped, todo] = m.slice(1).map(Number);
  return { tests, suites, pass, fail, cancelled, skipped, todo };
}

// cargo's libtest: `test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s`;
// wasm-bindgen-test prints the same line without `measured`.
const CARGO_RESULT = /^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored;(?: \d+ measured;)? \d+ filtered out(?:; finished in [\d.]+s)?\s*$/gm;
// wasm-bindgen-test-runner's whole output for a binary with no wasm tests in it (the native
// integration tests, compiled for wasm32 too): a result of zero tests, not a missing one.
const WASM_NO_TESTS = /^no tests to run!\s*$/gm;
// One per test binary cargo starts: `     Running tests/x.rs (target/…)`, `   Doc-tests name`.
const CARGO_STARTED = /^\s+(?:Running (?:unittests )?\S+ \(|Doc-tests \S+\s*$)/gm;

/** The sum of cargo's per-binary `test result:` lines, and how many binaries cargo started
 * (`started` > `binaries` means a binary ended without a result line). */
export function cargoSummary(text) {
  const sum = { passed: 0, failed: 0, ignored: 0, binaries: 0, started: [...text.matchAll(CARGO_STARTED)].length };
  for (const m of text.matchAll(CARGO_RESULT)) {
    sum.passed += +m[1];
    sum.failed += +m[2];
    sum.ignored += +m[3];
    sum.binaries += 1;
  }
  sum.binaries += [...text.matchAll(WASM_NO_TESTS)].length;
  return sum;
}
