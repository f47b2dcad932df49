/**
 * The chaos run (`npm run chaos`): for each of the eight seed scenarios of issue 5, a fresh embedded shop, a few
 * hundred checkouts through the gateway with the scenario's behavior, quiescence, the invariants, and a table.
 *
 *   node dist/test/tools/chaos.js [--checkouts 250] [--concurrency 20] [--scenario 2,4] [--quiet-timeout 90]
 *                                 [--port 0] [--help]
 *
 * The options are in test/tools/tool-options.ts; NAMESPACE prefixes each scenario's namespace.
 * Exits 1 when any invariant is violated.
 */
import { INJECTED_FAULTS_METRIC } from "../../config/middlewares/behavior";
import { METRICS } from "../../services/common/metrics";
import { parseToolArgs } from "../tools/args";
import { parseScenarios, TOOL_OPTIONS } from "../tools/tool-options";
import { allOrders, checkInvariants, stockSnapshot, waitForQuiescence } from "./invariants";
import { runLoad } from "./load";
import { metricSum, renderScenario, renderSummary, type ScenarioReport } from "./report";
import { SCENARIOS, type Scenario } from "./scenarios";
import { startChaosShop } from "./shop";

export interface ChaosOptions {
	checkouts: number;
	concurrency: number;
	quiescenceTimeoutMs: number;
	/** The gateway's port (0 or absent: any free port). */
	port?: number;
	/** Prefix of each scenario's namespace. */
	namespace?: string;
	progress?: (line: string, final: boolean) => void;
}

/** Runs one scenario on a fresh shop and answers its report. */
export async function runScenario(scenario: Scenario, opts: ChaosOptions): Promise<ScenarioReport> {
	const shop = await startChaosShop({ port: opts.port, namespace: opts.namespace });
	try {
		const before = await stockSnapshot(shop);
		const load = await runLoad(shop, scenario, { checkouts: opts.checkouts, concurrency: opts.concurrency, progress: opts.progress });
		const quiescenceMs = await waitForQuiescence(shop, opts.quiescenceTimeoutMs);
		const violations = await checkInvariants(shop, before, load);
		const orders = await allOrders(shop);
		const rebuild = (await shop.broker.call("orders.rebuild", {})) as { checked: number; differences: unknown[] };
		let deadLetters = 0;
		for (const svc of shop.broker.services)
			if (svc.actions && typeof (svc.actions as Record<string, unknown>).eventStats === "function")
				deadLetters += ((await shop.broker.call(`${svc.name}.eventStats`)) as { dead_letters: number }).dead_letters;
		return {
			scenario,
			orders,
			load,
			quiescenceMs,
			injectedErrors: metricSum(shop.broker, INJECTED_FAULTS_METRIC, { fault: "error" }),
			injectedDelays: metricSum(shop.broker, INJECTED_FAULTS_METRIC, { fault: "latency" }),
			retries: metricSum(shop.broker, "moleculer.request.retry.attempts.total"),
			compensations: metricSum(shop.broker, METRICS.COMPENSATIONS),
			breakerOpenings: shop.observer.breakerOpenings,
			deadLetters,
			failedDeliveries: shop.observer.failedDeliveries,
			rebuilt: { checked: rebuild.checked, differences: rebuild.differences.length },
			violations,
		};
	} finally {
		await shop.stop();
	}
}

function progressPrinter(): (line: string, final: boolean) => void {
	let last = 0;
	return (line, final) => {
		if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K${final ? "\n" : ""}`);
		else if (final || Date.now() - last > 5000) {
			last = Date.now();
			process.stderr.write(`${line}\n`);
		}
	};
}

/** The command line: runs the chosen scenarios and prints their tables; exit code 1 on any violation. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
	const args = parseToolArgs("chaos", TOOL_OPTIONS.chaos.summary, TOOL_OPTIONS.chaos.spec, argv);
	const only = parseScenarios(args.scenario);
	const opts: ChaosOptions = {
		checkouts: args.checkouts,
		concurrency: args.concurrency,
		quiescenceTimeoutMs: args["quiet-timeout"] * 1000,
		port: args.port,
		namespace: process.env.NAMESPACE || undefined,
		progress: progressPrinter(),
	};
	const reports: ScenarioReport[] = [];
	for (const scenario of SCENARIOS.filter(s => only.length === 0 || only.includes(s.id))) {
		const report = await runScenario(scenario, opts);
		reports.push(report);
		process.stdout.write(`\n${renderScenario(report)}\n`);
	}
	process.stdout.write(`\n== Summary ==\n${renderSummary(reports)}\n`);
	const violations = reports.reduce((n, r) => n + r.violations.length, 0);
	process.stdout.write(violations === 0 ? "\nNo invariant violations.\n" : `\n${violations} invariant violation(s).\n`);
	return violations === 0 ? 0 : 1;
}
