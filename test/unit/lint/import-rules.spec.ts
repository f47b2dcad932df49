/**
 * The import rules of the layout (eslint.config.mjs; docs/architecture.md, "Where the code lives") bite: ESLint
 * with the project's config, as `npm run lint` runs it, refuses a forbidden import in each kind of file and lets
 * the allowed ones through. Each source is linted under the name of a real file (so the rules for that file
 * apply) and nothing is written.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..", "..");

interface LintMessage {
	ruleId: string | null;
	message: string;
}

/** Lints each [file, source] with the project's ESLint config in one Node process (ESLint loads its config as ESM). */
const LINT_SCRIPT = `
const { ESLint } = require("eslint");
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
(async () => {
	const eslint = new ESLint({ cwd: process.cwd() });
	const out = [];
	for (const [file, source] of cases) out.push((await eslint.lintText(source, { filePath: file }))[0].messages);
	process.stdout.write(JSON.stringify(out));
})().catch(err => { console.error(err); process.exit(2); });
`;

function lintAll(cases: Array<[string, string]>): LintMessage[][] {
	const run = spawnSync(process.execPath, ["-e", LINT_SCRIPT], { cwd: ROOT, input: JSON.stringify(cases.map(([f, src]) => [path.join(ROOT, f), src])), encoding: "utf8" });
	if (run.status !== 0) throw new Error(`eslint failed: ${run.stderr}`);
	return (JSON.parse(run.stdout) as LintMessage[][]).map(ms => ms.filter(m => m.ruleId === "no-restricted-imports"));
}

const use = (spec: string): string => `import * as m from "${spec}";\nexport const used = m;\n`;

const REFUSED: Array<[file: string, spec: string, why: string]> = [
		["services/reviews.service.ts", "./products/model", "client.ts"],
		["services/reviews.service.ts", "./products.service", "client.ts"],
		["services/reviews.service.ts", "../config/middlewares/behavior", "config/env"],
		["services/reviews.service.ts", "../config/boot/broker", "composition root"],
		["services/checkout/model.ts", "../cart/model", "client.ts"],
		["services/checkout/model.ts", "../../config/resilience", "config/env"],
		["services/common/money.ts", "../../mixins/db.mixin", "imports nothing of ours"],
		["services/common/money.ts", "../products/client", "imports nothing of ours"],
		["mixins/saga.mixin.ts", "../services/orders/model", "never imports a service"],
		["mixins/events/store.ts", "../../config/middlewares/behavior", "never imports a middleware"],
		["config/middlewares/otel.ts", "../../mixins/events.mixin", "never imports a mixin"],
		["config/env.ts", "../mixins/events/policy", "nothing of ours"],
];

const ALLOWED: Array<[file: string, spec: string]> = [
		["services/reviews.service.ts", "./products/client"],
		["services/reviews.service.ts", "./common/paging"],
		["services/reviews.service.ts", "./reviews/model"],
		["services/reviews.service.ts", "../mixins/db.mixin"],
		["services/reviews.service.ts", "../config/env"],
		["services/checkout/model.ts", "../cart/client"],
		["services/checkout/model.ts", "../../mixins/events/policy"],
		["services/common/money.ts", "./errors"],
		["mixins/db.mixin.ts", "../services/common/ids"],
		["config/middlewares/otel.ts", "../../services/common/call-chain"],
		["config/boot/broker.ts", "../../services/orders/model"],
];

describe("the import rules", () => {
	let refused: LintMessage[][] = [];
	let allowed: LintMessage[][] = [];

	beforeAll(() => {
		const results = lintAll([...REFUSED, ...ALLOWED].map(([file, spec]) => [file, use(spec)]));
		refused = results.slice(0, REFUSED.length);
		allowed = results.slice(REFUSED.length);
	}, 60_000);

	it.each(REFUSED.map((c, i) => [...c, i] as const))("refuses %s importing %s", (_file, _spec, why, i) => {
		expect(refused[i].length).toBeGreaterThan(0);
		expect(refused[i].map(m => m.message).join("\n")).toContain(why);
	});

	it.each(ALLOWED.map((c, i) => [...c, i] as const))("lets %s import %s", (_file, _spec, i) => {
		expect(allowed[i]).toEqual([]);
	});
});
