/**
 * The table printed for each chaos scenario: orders by final status, checkout latency percentiles, HTTP statuses,
 * injected faults, retries, compensations, breaker openings, dead letters and invariant violations.
 */
import type { ServiceBroker } from "moleculer";
import { LatencyRecorder, ms, renderTable } from "../tools/stats";
import type { LoadResult, RequestOutcome } from "./load";
import type { Order } from "./invariants";
import type { Scenario } from "./scenarios";

export interface ScenarioReport {
	scenario: Scenario;
	orders: Order[];
	load: LoadResult;
	quiescenceMs: number;
	injectedErrors: number;
	injectedDelays: number;
	retries: number;
	compensations: number;
	breakerOpenings: number;
	deadLetters: number;
	failedDeliveries: number;
	/** Orders rebuilt from their event streams, and the fields that differed (orders.rebuild). */
	rebuilt: { checked: number; differences: number };
	violations: string[];
}

/** Sum of a metric's values, optionally only those whose labels match. */
export function metricSum(broker: ServiceBroker, name: string, match: Record<string, string> = {}): number {
	const metric = broker.metrics.getMetric(name) as unknown as { snapshot(): Array<{ value: number; labels: Record<string, unknown> }> } | null;
	if (!metric) return 0;
	return metric
		.snapshot()
		.filter(v => Object.entries(match).every(([k, want]) => String(v.labels[k]) === want))
		.reduce((n, v) => n + (Number(v.value) || 0), 0);
}

function latency(rs: RequestOutcome[]): LatencyRecorder {
	const rec = new LatencyRecorder();
	for (const r of rs) rec.add(r.ms);
	return rec;
}

function countBy<T>(items: T[], key: (t: T) => string): string {
	const m = new Map<string, number>();
	for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
	return [...m.entries()].sort().map(([k, n]) => `${k} ${n}`).join(", ") || "none";
}

/** The plain-text report of one scenario. */
export function renderScenario(r: ScenarioReport): string {
	const lat = latency(r.load.checkouts);
	const rows: Array<[string, string | number]> = [
		["behavior", r.scenario.checkoutBehavior || (r.scenario.searchBehavior ? "(checkouts: none)" : "none")],
		["checkouts", `${r.load.checkouts.length} in ${r.load.seconds.toFixed(1)} s`],
		["HTTP statuses", countBy(r.load.checkouts, c => String(c.status))],
		["orders by final status", countBy(r.orders, o => o.status)],
		["failure reasons", countBy(r.orders.filter(o => o.failure_reason), o => String(o.failure_reason))],
		["checkout p50 / p95 / p99", `${ms(lat.percentile(50))} / ${ms(lat.percentile(95))} / ${ms(lat.percentile(99))} ms`],
	];
	if (r.scenario.searchBehavior) {
		const s = latency(r.load.searches);
		rows.push(["search behavior", r.scenario.searchBehavior]);
		rows.push(["searches", `${r.load.searches.length}: ${countBy(r.load.searches, x => String(x.status))}`]);
		rows.push(["search p50 / p95", `${ms(s.percentile(50))} / ${ms(s.percentile(95))} ms`]);
	}
	rows.push(
		["injected faults", `${r.injectedErrors} errors, ${r.injectedDelays} delays`],
		["retries (Moleculer)", r.retries],
		["saga compensations", r.compensations],
		["breaker openings", r.breakerOpenings],
		["event deliveries failed / dead letters", `${r.failedDeliveries} / ${r.deadLetters}`],
		["quiescence after the load", `${(r.quiescenceMs / 1000).toFixed(1)} s`],
		["orders rebuilt from their streams", `${r.rebuilt.checked}, ${r.rebuilt.differences} differences`],
		["invariant violations", r.violations.length],
	);
	const head = `== Scenario ${r.scenario.id}: ${r.scenario.name} ==\n   expect: ${r.scenario.expect}`;
	const body = renderTable(["", ""], rows.map(([k, v]) => [k, String(v)]));
	const issues = r.violations.slice(0, 10).map(v => `   ! ${v}`);
	if (r.violations.length > 10) issues.push(`   ! ... and ${r.violations.length - 10} more`);
	return [head, body, ...issues].join("\n");
}

/** One summary line per scenario. */
export function renderSummary(reports: ScenarioReport[]): string {
	return renderTable(
		["scenario", "checkouts", "delivered", "failed", "p95 ms", "faults", "retries", "violations"],
		reports.map(r => [
			`${r.scenario.id} ${r.scenario.name}`,
			r.load.checkouts.length,
			r.orders.filter(o => o.status === "DELIVERED").length,
			r.orders.filter(o => o.status === "FAILED").length,
			ms(latency(r.load.checkouts).percentile(95)),
			r.injectedErrors + r.injectedDelays,
			r.retries,
			r.violations.length,
		]),
	);
}
