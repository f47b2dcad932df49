/**
 * The eight seed scenarios of issue 5, each a behavior string applied to every checkout of a chaos run
 * (scenario 7 applies it to searches that run beside unaffected checkouts). One catalogue for the command-line
 * chaos run (`npm run chaos`, test/chaos/) and the operations console's playground (services/api/ops/).
 */
export interface Scenario {
	id: number;
	name: string;
	/** Applied to each checkout (`?behavior=`). */
	checkoutBehavior: string;
	/** When set, searches with this behavior run beside the checkouts. */
	searchBehavior?: string;
	/** What to look at in the outcome. */
	expect: string;
}

export const SCENARIOS: readonly Scenario[] = [
	{ id: 1, name: "baseline", checkoutBehavior: "", expect: "every order DELIVERED, no faults, no 5xx" },
	{
		id: 2,
		name: "payment gateway failure",
		checkoutBehavior: "payment:error=503:0.5",
		expect:
			"half the payment attempts fail and are retried; under load the breaker on payments.charge opens and checkouts fail fast; FAILED orders are PAYMENT_ERROR with nothing charged or reserved",
	},
	{
		id: 3,
		name: "slow inventory",
		checkoutBehavior: "inventory:latency=500-1000ms",
		expect: "every order succeeds; checkout p50 grows by 0.5-1 s",
	},
	{
		id: 4,
		name: "cascading failures",
		checkoutBehavior: "payment:error=0.2,latency=100-300ms,inventory:error=0.15,shipping:latency=200-500ms",
		expect: "some payment and inventory failures, compensations refund and release; money and stock balance",
	},
	{
		id: 5,
		name: "high load",
		checkoutBehavior: "order-management:latency=100-200ms,payment:latency=150-300ms,inventory:latency=80-150ms",
		expect: "no failures, only slower checkouts (330-650 ms added)",
	},
	{
		id: 6,
		name: "event bus failure",
		checkoutBehavior: "message-bus:error=0.3,latency=50-200ms",
		expect: "checkouts unaffected; event deliveries fail 30% and are retried; any event that exhausts its retries is dead-lettered",
	},
	{
		id: 7,
		name: "search degradation",
		checkoutBehavior: "",
		searchBehavior: "search:latency=1s-3s,error=0.1",
		expect: "searches take 1-3 s; their injected 500s (10%) are retried by the gateway's call; checkouts beside them are unaffected",
	},
	{
		id: 8,
		name: "complete system chaos",
		checkoutBehavior: "latency=20-100ms,error=0.05,payment:error=0.1,inventory:latency=100-500ms,message-bus:error=0.15",
		expect: "a mix of successes, failures and slow responses; every invariant still holds",
	},
];

/** The scenario with this id, or undefined. */
export function scenarioById(id: number): Scenario | undefined {
	return SCENARIOS.find(s => s.id === id);
}
