/**
 * Entry point of `npm run chaos` (compiled by tsconfig.tools.json): the eight seed scenarios of issue 5 (their catalogue,
 * shared with the operations console, is services/common/chaos-scenarios.ts) against an
 * embedded shop, with their invariants. The harness lives in test/chaos/.
 */
import { main } from "../chaos/run";

main().then(
	code => process.exit(code),
	err => {
		process.stderr.write(`chaos run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
		process.exit(2);
	},
);
