/**
 * The import rules of the layout (eslint.config.mjs; docs/architecture.md, "Where the code lives") bite: ESLint
 * with the project's config, as `npm run lint` runs it, refuses a forbidden import in each kind of file and lets
 * the allowed ones through; likewise it refuses Moleculer's internals outside config/middlewares/moleculer-internals.ts.
 * Each source is linted under the name of a real file (so the rules for that file apply) and nothing is written.
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

function lintAll(cases: Array<[string, string]>, ruleId = "no-restricted-imports"): LintMessage[][] {
	const run = spawnSync(process.execPath, ["-e", LINT_SCRIPT], { cwd: ROOT, input: JSON.stringify(cases.map(([f, src]) => [path.join(ROOT, f), src])), encoding: "utf8" });
	if (run.status !== 0) throw new Error(`eslint failed: ${run.stderr}`);
	return (JSON.parse(run.stdout) as LintMessage[][]).map(ms => ms.filter(m => m.ruleId === ruleId));
}

/** A module path is imported whole (`import * as m`); an import statement is linted as it is. */
const use = (spec: string): string => (spec.startsWith("import ") ? `${spec}\n` : `import * as m from "${spec}";\nexport const used = m;\n`);

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
		// The configuration is parsed once, by config/boot, and passed on.
		["services/reviews.service.ts", `import { loadConfig } from "../config/env";`, "configOf(this)"],
		["services/reviews.service.ts", "../config/env", "configOf(this)"],
		["services/checkout/model.ts", `import { loadConfig } from "../../config/env";`, "configOf(this)"],
		["mixins/db/repository.ts", `import { loadConfig } from "../../config/env";`, "configOf(this)"],
		["config/middlewares/otel.ts", `import { loadConfig } from "../env";`, "configOf(this)"],
		["moleculer.config.ts", `import { loadConfig } from "./config/env";`, "configOf(this)"],
];

const ALLOWED: Array<[file: string, spec: string]> = [
		["services/reviews.service.ts", "./products/client"],
		["services/reviews.service.ts", "./common/paging"],
		["services/reviews.service.ts", "./reviews/model"],
		["services/reviews.service.ts", "../mixins/db.mixin"],
		["services/reviews.service.ts", `import { configOf, type Config } from "../config/env";`],
		["services/checkout/model.ts", "../cart/client"],
		["services/checkout/model.ts", "../../mixins/events/policy"],
		["services/common/money.ts", "./errors"],
		["mixins/db.mixin.ts", "../services/common/ids"],
		["config/middlewares/otel.ts", "../../services/common/call-chain"],
		["config/boot/broker.ts", "../../services/orders/model"],
		["config/boot/start.ts", `import { loadConfig } from "../env";`],
		["mixins/db.mixin.ts", `import { configOf } from "../config/env";`],
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

/** Moleculer internals, as the code once reached them, each in a file that must not. */
const INTERNAL_USES: Array<[file: string, source: string, what: string]> = [
	["services/inventory/client.ts", `export const f = (ctx: { broker: { registry: { actions: { isAvailable(a: string): boolean } } } }) => ctx.broker.registry.actions.isAvailable("a");`, "catalog"],
	["services/checkout.service.ts", `import type { ServiceBroker } from "moleculer";\nexport const f = (broker: ServiceBroker) => broker.registry.nodes.get("n");`, "catalog"],
	["config/boot/repl-commands.ts", `import type { ServiceBroker } from "moleculer";\nexport const f = (broker: ServiceBroker) => (broker as unknown as { CircuitBreakerStore: unknown }).CircuitBreakerStore;`, "CircuitBreakerStore"],
	["config/boot/repl-commands.ts", `export const f = (broker: Record<string, unknown>) => broker["CircuitBreakerStore"];`, "CircuitBreakerStore"],
	["config/middlewares/request-metrics.ts", `export const f = (m: { registeredHooks: unknown }) => m.registeredHooks;`, "registeredHooks"],
	["services/api/health.ts", `import type { ServiceBroker } from "moleculer";\nexport const f = (broker: ServiceBroker) => (broker as unknown as { transit?: { connected?: boolean } }).transit;`, "Casting the broker"],
	["config/middlewares/business-metrics/host-details.ts", `import type { MetricRegistry } from "moleculer";\nexport const f = (registry: MetricRegistry) => ((registry.getMetric("m") as unknown as { set: unknown }).set = () => null);`, "metric"],
	["mixins/events.mixin.ts", `export const f = (broker: { _restartService(s: unknown): void }) => broker._restartService(null);`, "underscore"],
];

/** Moleculer's public API anywhere, and its internals in their one file. */
const PUBLIC_USES: Array<[file: string, source: string]> = [
	["services/inventory/client.ts", `import type { Context } from "moleculer";\nexport const f = (ctx: Context) => ctx.broker.registry.getActionEndpoints("a")?.hasAvailable();`],
	["services/checkout.service.ts", `import type { ServiceBroker } from "moleculer";\nexport const f = (broker: ServiceBroker) => broker.registry.getNodeList({ onlyAvailable: true, withServices: false });`],
	["mixins/db/repository.ts", `export const f = (row: { _id: string }) => row._id;`],
	["config/middlewares/moleculer-internals.ts", `import type { ServiceBroker } from "moleculer";\nexport const f = (broker: ServiceBroker) => (broker as unknown as { CircuitBreakerStore: unknown }).CircuitBreakerStore;`],
];

describe("Moleculer's internals", () => {
	let refused: LintMessage[][] = [];
	let allowed: LintMessage[][] = [];

	beforeAll(() => {
		const results = lintAll([...INTERNAL_USES.map(([f, src]): [string, string] => [f, src]), ...PUBLIC_USES], "no-restricted-syntax");
		refused = results.slice(0, INTERNAL_USES.length);
		allowed = results.slice(INTERNAL_USES.length);
	}, 60_000);

	it.each(INTERNAL_USES.map((c, i) => [c[0], c[2], i] as const))("are refused in %s (%s)", (_file, what, i) => {
		expect(refused[i].length).toBeGreaterThan(0);
		expect(refused[i].map(m => m.message).join("\n")).toContain(what);
		expect(refused[i][0].message).toContain("moleculer-internals.ts");
	});

	it.each(PUBLIC_USES.map((c, i) => [c[0], i] as const))("leave Moleculer's public API and the one file alone (%s)", (_file, i) => {
		expect(allowed[i]).toEqual([]);
	});
});
