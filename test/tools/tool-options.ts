/**
 * The command lines of `npm run bench`, `loadgen`, `chaos`, `cluster` and `soak`, read strictly by args.ts:
 * `--help` prints the usage (exit 0); an unknown option, a missing value or a bad one prints the usage (exit 2).
 * Every tool takes `--port` (where it starts its shop or gateways) and honours NAMESPACE from the environment.
 * test/unit/tools/tool-args.spec.ts runs each built tool with `--help` and with a bad option.
 */
import type { OptionSpec } from "./args";
import { SCENARIOS } from "../chaos/scenarios";

export interface ToolDefinition {
	summary: string;
	spec: Record<string, OptionSpec>;
}

/** A TCP port option. */
const port = (def: number, help: string, min = 1): Extract<OptionSpec, { kind: "number" }> => ({ kind: "number", default: def, min, max: 65535, integer: true, help });

/** "NAMESPACE ..." lines appended to a tool's summary (the usage prints the summary above the options). */
const environment = (...lines: string[]) => `\n\nEnvironment:\n${lines.map(l => `  ${l}`).join("\n")}`;

/** `--think 100-1000`: a range of milliseconds. */
export function parseThink(value: string): [number, number] | null {
	const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(value);
	if (!m || Number(m[1]) > Number(m[2])) return null;
	return [Number(m[1]), Number(m[2])];
}

/** `--url a,b`: gateway base URLs without a trailing slash or /api/v1. */
export function parseUrls(value: string): string[] {
	return value
		.split(",")
		.map(u => u.trim().replace(/\/+$/, "").replace(/\/api\/v1$/, ""))
		.filter(Boolean);
}

/** `--scenario 2,4`: scenario ids of test/chaos/scenarios.ts; empty for all of them. */
export function parseScenarios(value: string): number[] {
	return value === "" ? [] : value.split(",").map(s => Number(s.trim()));
}

const knownScenario = (id: number) => SCENARIOS.some(s => s.id === id);

export const TOOL_OPTIONS = {
	bench: {
		summary:
			"measures ShopFlow on this machine: the ceiling (a bare moleculer-web route), embedded mode and the local cluster over NATS" +
			environment("NAMESPACE  prefix of the cluster run's namespace (default bench); the embedded shop inherits it", "NATS_URL, REDIS_URL  of the cluster run"),
		spec: {
			duration: { kind: "number", default: 10, min: 1, help: "seconds measured per route" },
			warmup: { kind: "number", default: 5, help: "seconds of warm-up per route" },
			connections: { kind: "number", default: 32, min: 1, integer: true, help: "autocannon connections" },
			users: { kind: "number", default: 32, min: 1, integer: true, help: "virtual users for checkout" },
			only: { kind: "string", default: "", help: "embedded or cluster (default both)", check: v => (v === "embedded" || v === "cluster" ? undefined : "must be embedded or cluster") },
			port: port(18080, "embedded shop; cluster from port+10, ceiling port+90 (next free)"),
			soak: { kind: "number", default: 0, help: "instead of the tables, a soak of this many seconds on the embedded shop (0: none)" },
			verbose: { kind: "flag", help: "print the nodes' logs" },
		},
	},
	"bench-compare": {
		summary:
			"the embedded checkout of an older commit (--base) and of this tree, measured in turns, with the medians" +
			environment("NAMESPACE  inherited by both shops (each runs alone, in process)"),
		spec: {
			base: { kind: "string", default: "72b3813", help: "the commit to compare with (before issue 12's exactly-once work)" },
			rounds: { kind: "number", default: 3, min: 1, integer: true, help: "rounds; each measures the base, then this tree" },
			duration: { kind: "number", default: 8, min: 1, help: "seconds measured per round" },
			warmup: { kind: "number", default: 3, help: "seconds of warm-up per round" },
			users: { kind: "number", default: 32, min: 1, integer: true, help: "virtual users (cart/add then checkout in a loop)" },
			port: port(18620, "the shop under test"),
			"run-in": { kind: "string", default: "", help: "(internal) measure one round with the tools of this dist/ folder" },
		},
	},
	loadgen: {
		summary:
			"virtual users running weighted shopping journeys, then the invariants (exit 1 on any violation)" +
			environment("NAMESPACE  inherited by the embedded shop it starts", "LOADGEN_SEED  seed of the journeys (default: the clock)"),
		spec: {
			users: { kind: "number", default: 20, min: 1, integer: true, help: "virtual users" },
			duration: { kind: "number", default: 60, min: 1, help: "seconds of load" },
			behavior: { kind: "string", default: "", help: 'fault injection sent with every request, e.g. "payment:error=0.1"' },
			url: {
				kind: "string",
				default: "",
				help: "gateways to load, comma-separated (default: an embedded shop of its own)",
				check: v => (parseUrls(v).length > 0 && parseUrls(v).every(u => /^https?:\/\/[^/]+$/.test(u)) ? undefined : "must be http(s)://host:port[,...]"),
			},
			think: { kind: "string", default: "100-1000", help: "milliseconds between a user's tasks, min-max", check: v => (parseThink(v) ? undefined : "must look like 100-1000 (milliseconds)") },
			stock: { kind: "number", default: 2000, integer: true, help: "units each product is stocked up to first (0: leave the stock alone)" },
			settle: { kind: "number", default: 60, min: 1, help: "seconds to wait for the orders to settle" },
			port: port(18200, "port of the embedded shop started without --url (the next free one from here)"),
		},
	},
	chaos: {
		summary:
			"the eight seed scenarios against a fresh embedded shop each, with their invariants (exit 1 on any violation)" +
			environment("NAMESPACE  prefix of each scenario's namespace (default chaos)"),
		spec: {
			checkouts: { kind: "number", default: 250, min: 1, integer: true, help: "checkouts per scenario" },
			concurrency: { kind: "number", default: 20, min: 1, integer: true, help: "checkouts in flight" },
			scenario: {
				kind: "string",
				default: "",
				help: `scenarios to run, e.g. 2,4 (default all ${SCENARIOS.length})`,
				check: v => (parseScenarios(v).every(id => Number.isInteger(id) && knownScenario(id)) ? undefined : `must list scenario ids 1-${SCENARIOS.length}, comma-separated`),
			},
			"quiet-timeout": { kind: "number", default: 90, min: 1, help: "seconds to wait for each scenario's quiescence" },
			port: port(0, "port of each scenario's gateway (0: any free port)", 0),
		},
	},
	cluster: {
		summary:
			"a local ShopFlow cluster of separate processes over NATS with Redis; Ctrl-C stops them all" +
			environment("NAMESPACE  the cluster's namespace (default shopflow-cluster)", "NATS_URL, REDIS_URL  (default the local ones)", "PORT  the default of --port"),
		spec: {
			port: port(Number(process.env.PORT ?? 8080) || 8080, "first gateway's port; the second gateway takes the next one"),
			"metrics-port": port(9180, "first node's METRICS_PORT (GET /metrics, GET /health); node i takes this + i (0: none)", 0),
		},
	},
	soak: {
		summary:
			"a long load on the embedded shop (checkouts and catalog reads) with its RSS sampled; the same as bench --soak" +
			environment("NAMESPACE  inherited by the embedded shop"),
		spec: {
			seconds: { kind: "number", default: 300, min: 1, help: "length of the soak" },
			users: { kind: "number", default: 32, min: 1, integer: true, help: "checkout users" },
			port: port(18080, "embedded shop's port (the next free one from here)"),
			verbose: { kind: "flag", help: "print the shop's logs" },
		},
	},
} satisfies Record<string, ToolDefinition>;

export type ToolName = keyof typeof TOOL_OPTIONS;
