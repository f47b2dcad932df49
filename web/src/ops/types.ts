// What the gateway's console routes answer (services/api/ops-*.ts), as the console reads it.

export interface SeriesPoint {
	t: number;
	orders: number;
	failed: Record<string, number>;
	p95_ms: number | null;
	checkouts: number;
}

export interface Breaker {
	node: string;
	target: string;
	kind: "moleculer" | "payment-gateway";
	state: "closed" | "half-open" | "open";
	failures?: number;
}

export interface RecentCheckout {
	order_id: string;
	trace_id: string | null;
	status: string;
	failure_reason: string | null;
	code: number;
	duration: number;
	at: string;
	compensated: boolean;
	run_id?: string;
}

export interface Snapshot {
	at: string;
	nodes: Array<{ id: string; services: string[] }>;
	unreachable: string[];
	orders_created: number;
	compensations: number;
	refunds: number;
	failed_total_by_reason: Record<string, number>;
	breakers: Breaker[];
	dead_letters: { total: number; by_service: Record<string, number> };
	outbox: { total: number; by_service: Record<string, number> };
	sagas: {
		by_status: Record<string, number>;
		failed_by_reason: Record<string, number>;
		running: number;
		compensating: number;
		active: Array<{ order_id: string; status: string; total: number; updated_at: string }>;
	};
	series: SeriesPoint[];
	checkouts: RecentCheckout[];
	consoles: number;
}

export interface Scenario {
	id: number;
	name: string;
	checkoutBehavior: string;
	searchBehavior?: string;
	expect: string;
}

export interface ChaosOutcome {
	n: number;
	order_id: string | null;
	status: string;
	failure_reason: string | null;
	code: number;
	duration: number;
	trace_id: string | null;
	compensated: boolean;
	error: string | null;
}

export interface InvariantResult {
	name: string;
	status: "pending" | "holds" | "violated";
	violations: string[];
}

export interface ChaosRun {
	id: string;
	scenario: Scenario;
	checkouts: number;
	concurrency: number;
	status: "running" | "settling" | "checking" | "done" | "failed";
	started_at: string;
	finished_at: string | null;
	outcomes: ChaosOutcome[];
	searches: { total: number; failed: number; p95_ms: number | null };
	invariants: InvariantResult[];
	error: string | null;
}

export interface ScenarioList {
	enabled: boolean;
	max_checkouts: number;
	max_concurrency: number;
	rows: Scenario[];
	current: ChaosRun | null;
}

export interface CallRecord {
	name: string;
	action: string;
	code: number;
	duration: number;
	node: string;
	fault?: string;
	started_at?: number;
	parent_id?: string | null;
	span_id?: string;
	kind?: "action" | "event";
	caller?: string | null;
	consumer?: string;
	error_type?: string;
}

export interface Trace {
	trace_id: string;
	duration: number;
	calls: CallRecord[];
}

export interface SagaStep {
	name: string;
	status: string;
	attempts: number;
	compensation_attempts: number;
	duration: number;
	compensation_duration: number;
	error?: { type: string; message: string };
}

export interface SagaLog {
	id: string;
	status: string;
	order_id: string;
	order_status: string;
	failed_step: string | null;
	steps: SagaStep[];
	error: { type: string; message: string } | null;
	created_at: string;
	finished_at: string | null;
	lease_owner: string | null;
}

export interface DeadLetter {
	id: string;
	service: string;
	consumer: string;
	node_id: string;
	event_id: string;
	event_name: string;
	source: string;
	error: string;
	attempts: number;
	status: "dead" | "redriven";
	failed_at: string;
}
