/**
 * What the operations console reads from the cluster on each tick, through Moleculer's public surface only:
 * every node's ShopFlow metrics (`$node.metrics`: orders, failures by reason, compensations, Moleculer's circuit
 * breakers per caller node and target, dead letters and outbox backlog per service), the orders by status
 * (`orders.stats`, and `orders.find` for the sagas still running), and each payments node's gateway breaker.
 */
import type { ServiceBroker } from "moleculer";
import { METRICS } from "../common/metrics";

interface MetricValue {
	labels: Record<string, string>;
	value: number;
}
interface MetricObject {
	name: string;
	values: MetricValue[];
}

export interface BreakerView {
	/** The node whose calls the breaker guards (the caller). */
	node: string;
	/** What it guards: an action on a node, or the external payment gateway. */
	target: string;
	kind: "moleculer" | "payment-gateway";
	state: "closed" | "half-open" | "open";
	/** Failures counted in the current window, when known. */
	failures?: number;
}

export interface ActiveSaga {
	order_id: string;
	status: string;
	total: number;
	updated_at: string;
}

export interface ClusterReading {
	nodes: Array<{ id: string; services: string[] }>;
	/** Nodes or services that did not answer this time. */
	unreachable: string[];
	orders_created: number;
	compensations: number;
	refunds: number;
	failed_total_by_reason: Record<string, number>;
	breakers: BreakerView[];
	dead_letters: { total: number; by_service: Record<string, number> };
	outbox: { total: number; by_service: Record<string, number> };
	sagas: {
		by_status: Record<string, number>;
		failed_by_reason: Record<string, number>;
		running: number;
		compensating: number;
		active: ActiveSaga[];
	};
}

const BREAKER_STATE_NAMES: Record<number, BreakerView["state"]> = { 0: "closed", 1: "half-open", 2: "open" };
const RUNNING = ["PENDING", "PAID", "STOCK_RESERVED"];
const CALL = { timeout: 2000, retries: 0 } as const;

/** The ShopFlow metrics of every node (their values summed or kept per node by the caller). */
async function nodeMetrics(broker: ServiceBroker, nodes: string[], unreachable: string[]): Promise<Map<string, MetricObject[]>> {
	const out = new Map<string, MetricObject[]>();
	await Promise.all(
		nodes.map(async nodeID => {
			try {
				out.set(nodeID, (await broker.call("$node.metrics", { includes: ["shopflow.**"] }, { ...CALL, nodeID })) as MetricObject[]);
			} catch {
				unreachable.push(nodeID);
			}
		}),
	);
	return out;
}

function valuesOf(list: MetricObject[] | undefined, name: string): MetricValue[] {
	return list?.find(m => m.name === name)?.values ?? [];
}

/** Reads the cluster once. */
export async function readCluster(broker: ServiceBroker): Promise<ClusterReading> {
	const nodeList = broker.registry.getNodeList({ onlyAvailable: true, withServices: true }) as unknown as Array<{ id: string; services?: Array<{ name: string }> }>;
	const nodes = nodeList.map(n => ({ id: n.id, services: (n.services ?? []).map(s => s.name).filter(s => !s.startsWith("$")) }));
	const unreachable: string[] = [];
	const metrics = await nodeMetrics(
		broker,
		nodes.map(n => n.id),
		unreachable,
	);

	const r: ClusterReading = {
		nodes,
		unreachable,
		orders_created: 0,
		compensations: 0,
		refunds: 0,
		failed_total_by_reason: {},
		breakers: [],
		dead_letters: { total: 0, by_service: {} },
		outbox: { total: 0, by_service: {} },
		sagas: { by_status: {}, failed_by_reason: {}, running: 0, compensating: 0, active: [] },
	};
	for (const [node, list] of metrics) {
		for (const v of valuesOf(list, METRICS.ORDERS_CREATED)) r.orders_created += v.value;
		for (const v of valuesOf(list, METRICS.COMPENSATIONS)) r.compensations += v.value;
		for (const v of valuesOf(list, METRICS.REFUNDS)) r.refunds += v.value;
		for (const v of valuesOf(list, METRICS.ORDERS_FAILED)) {
			const reason = v.labels.reason ?? "UNKNOWN";
			r.failed_total_by_reason[reason] = (r.failed_total_by_reason[reason] ?? 0) + v.value;
		}
		for (const v of valuesOf(list, METRICS.BREAKER_STATE))
			r.breakers.push({ node, target: `${v.labels.action ?? "?"} on ${v.labels.target_node ?? "?"}`, kind: "moleculer", state: BREAKER_STATE_NAMES[v.value] ?? "closed" });
		// Replicas sharing a store report the same numbers: the largest per service counts.
		for (const [name, into] of [
			[METRICS.DEAD_LETTERS, r.dead_letters],
			[METRICS.PENDING_OUTBOX, r.outbox],
		] as const)
			for (const v of valuesOf(list, name)) {
				const svc = v.labels.service ?? "?";
				into.by_service[svc] = Math.max(into.by_service[svc] ?? 0, v.value);
			}
	}
	r.dead_letters.total = Object.values(r.dead_letters.by_service).reduce((a, b) => a + b, 0);
	r.outbox.total = Object.values(r.outbox.by_service).reduce((a, b) => a + b, 0);

	await Promise.all([readSagas(broker, r), readPaymentBreakers(broker, nodes, r)]);
	return r;
}

/** Orders by status and the sagas still running (oldest first: a stuck one shows at the top). */
async function readSagas(broker: ServiceBroker, r: ClusterReading): Promise<void> {
	// No orders node now: said once per snapshot, without a call that Moleculer would log as a warning every tick.
	if (broker.registry.getActionEndpoints("orders.stats")?.hasAvailable() !== true) {
		r.unreachable.push("orders");
		return;
	}
	try {
		const stats = (await broker.call("orders.stats", {}, CALL)) as { by_status: Record<string, number>; by_failure_reason: Record<string, number> };
		r.sagas.by_status = stats.by_status;
		r.sagas.failed_by_reason = stats.by_failure_reason;
		r.sagas.running = RUNNING.reduce((n, s) => n + (stats.by_status[s] ?? 0), 0);
		r.sagas.compensating = stats.by_status.COMPENSATING ?? 0;
		const busy = [...RUNNING, "COMPENSATING"].filter(s => (stats.by_status[s] ?? 0) > 0);
		const lists = await Promise.all(busy.map(status => broker.call("orders.find", { status, limit: 10 }, CALL) as Promise<{ rows: Array<ActiveSaga & { id: string }> }>));
		r.sagas.active = lists
			.flatMap(l => l.rows)
			.map(o => ({ order_id: o.id, status: o.status, total: o.total, updated_at: o.updated_at }))
			.slice(0, 20);
	} catch {
		r.unreachable.push("orders");
	}
}

/** The payment gateway's breaker on every payments node. */
async function readPaymentBreakers(broker: ServiceBroker, nodes: ClusterReading["nodes"], r: ClusterReading): Promise<void> {
	await Promise.all(
		nodes
			.filter(n => n.services.includes("payments"))
			.map(async n => {
				try {
					const s = (await broker.call("payments.breakerState", {}, { ...CALL, nodeID: n.id })) as { state: string; stats: { failures: number } };
					const state = s.state === "OPEN" ? "open" : s.state === "HALF_OPEN" ? "half-open" : "closed";
					r.breakers.push({ node: n.id, target: "payment gateway", kind: "payment-gateway", state, failures: s.stats.failures });
				} catch {
					r.unreachable.push(`payments@${n.id}`);
				}
			}),
	);
}
