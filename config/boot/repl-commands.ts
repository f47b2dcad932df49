/**
 * Operator commands for moleculer-repl (`npm run repl`), each documented in `help`:
 * saga, orders, rebuild, deadletters, redrive, checkout, breakers, trace, behavior, settings, flags, shops, shop.
 * Wire them with `replOptions` (BrokerOptions.replOptions) below.
 */
import type { ReplOptions, ServiceBroker } from "moleculer";
import { BehaviorParseError, formatBehavior, parseBehavior, type Behavior } from "../../services/common/behavior";
import { collectCallChain } from "../../services/common/call-chain";
import { deadLetterInstances, mergeDeadLetters } from "../../mixins/events/dead-letters";
import type { DeadLetter } from "../../mixins/events.mixin";
import { serviceOfDeadLetter } from "../../mixins/events/policy";
import type { Flags, Settings } from "../../services/settings/client";
import type { ApiShop } from "../../services/shops/client";
import { circuitBreakerStates } from "../middlewares/moleculer-internals";

type Row = Array<string | number>;
interface Helpers {
	table(rows: Row[], opts?: unknown): string;
}
interface Args {
	options: Record<string, unknown>;
	[positional: string]: unknown;
}

export interface ReplCommand {
	command: string;
	description: string;
	alias?: string[];
	options?: Array<{ option: string; description: string }>;
	action(broker: ServiceBroker, args: Args, helpers: Helpers): Promise<void>;
}

const print = (text: string): void => {
	process.stdout.write(`${text}\n`);
};

function printTable(helpers: Helpers, header: string[], rows: Row[]): void {
	if (rows.length === 0) print("(none)");
	else print(helpers.table([header, ...rows]));
}

/** Runs a command body and prints an error instead of throwing into the REPL. */
async function guarded(fn: () => Promise<void>): Promise<void> {
	try {
		await fn();
	} catch (err) {
		const e = err as { name?: string; message?: string; code?: number; data?: unknown };
		// A validation error names its fields in its data.
		const fields = Array.isArray(e.data) ? e.data.map(d => (d as { message?: string }).message).filter(Boolean) : [];
		print(`>> ${e.name ?? "Error"}${e.code ? ` (${e.code})` : ""}: ${e.message ?? String(err)}${fields.length ? ` ${fields.join(" ")}` : ""}`);
	}
}

function behaviorOption(raw: unknown): Behavior | undefined {
	if (typeof raw !== "string" || raw.trim() === "") return undefined;
	return parseBehavior(raw);
}

interface Order {
	id: string;
	user_id: string;
	status: string;
	failure_reason: string | null;
	total: number;
	currency: string;
	created_at: string;
}

/** The REPL's caller: the operator at the console is an admin (shops shows every status to admins alone). */
const OPERATOR = { user: { id: "repl", email: "repl@localhost", name: "REPL operator", role: "admin" as const } };

const shopRow = (s: ApiShop): Row => [s.id, s.name, s.status, s.owner_id ?? "(house)", s.product_count, s.rating_count ? s.rating_average.toFixed(1) : "", s.created_at];
const SHOP_HEADER = ["id", "name", "status", "owner", "products", "rating", "created"];

export const replCommands: ReplCommand[] = [
	{
		command: "saga <orderId>",
		description: "Show an order's saga log (steps, compensations, lease owner): orders.sagaLog",
		async action(broker, args) {
			await guarded(async () => print(JSON.stringify(await broker.call("orders.sagaLog", { id: String(args.orderId) }), null, 2)));
		},
	},
	{
		command: "rebuild [orderId]",
		description: "Rebuild an order (or every order) from its event stream and list the fields that differ: orders.rebuild",
		async action(broker, args, helpers) {
			await guarded(async () => {
				const id = typeof args.orderId === "string" || typeof args.orderId === "number" ? String(args.orderId) : undefined;
				type Report = { checked: number; differences: Array<{ order_id: string; field: string; stored: unknown; rebuilt: unknown }>; without_stream: number };
				const r = (await broker.call("orders.rebuild", id ? { id } : {}, { meta: OPERATOR })) as Report;
				if (r.differences.length > 0)
					printTable(helpers, ["order", "field", "stored", "rebuilt"], r.differences.map(d => [d.order_id, d.field, JSON.stringify(d.stored), JSON.stringify(d.rebuilt)]));
				print(`${r.checked} order(s) checked: ${r.differences.length} difference(s)${r.without_stream ? `, ${r.without_stream} without a stream (stored before streams)` : ""}`);
			});
		},
	},
	{
		command: "orders [status]",
		description: "List orders, optionally by status (PENDING, PAID, STOCK_RESERVED, SHIPPED, DELIVERED, COMPENSATING, FAILED, CANCELLED)",
		options: [{ option: "-l, --limit <n>", description: "at most n orders (default 50)" }],
		async action(broker, args, helpers) {
			await guarded(async () => {
				const status = typeof args.status === "string" ? args.status.toUpperCase() : undefined;
				const limit = Number(args.options.limit ?? 50);
				const { rows } = (await broker.call("orders.find", { ...(status ? { status } : {}), limit })) as { rows: Order[] };
				printTable(
					helpers,
					["id", "user", "status", "reason", "total", "created"],
					rows.map(o => [o.id, o.user_id, o.status, o.failure_reason ?? "", `${o.total} ${o.currency}`, o.created_at]),
				);
				print(`${rows.length} order(s)`);
			});
		},
	},
	{
		command: "deadletters",
		description: "List dead-lettered events of every service on every node (newest first)",
		options: [
			{ option: "-s, --service <name>", description: "only this consuming service" },
			{ option: "--all", description: "include redriven ones" },
		],
		async action(broker, args, helpers) {
			await guarded(async () => {
				const only = typeof args.options.service === "string" ? args.options.service : undefined;
				const lists = await Promise.all(
					deadLetterInstances(broker, only).map(async inst => {
						const res = (await broker.call(
							`${inst.service}.deadLetters`,
							{ status: args.options.all ? "all" : "dead", limit: 500 },
							{ nodeID: inst.nodeID, retries: 0 },
						)) as { rows: DeadLetter[] };
						return res.rows;
					}),
				);
				const { rows, total } = mergeDeadLetters(lists, 1, 200);
				printTable(
					helpers,
					["id", "event", "consumer", "status", "attempts", "failed at", "error"],
					rows.map(d => [d.id, d.event_name, d.consumer, d.status, d.attempts, d.failed_at, d.error.slice(0, 60)]),
				);
				print(`${total} dead letter(s)`);
			});
		},
	},
	{
		command: "redrive <id>",
		description: "Deliver one dead letter to its consumer again (its id from `deadletters`)",
		async action(broker, args) {
			await guarded(async () => {
				const id = String(args.id);
				const service = serviceOfDeadLetter(id);
				const inst = service ? deadLetterInstances(broker, service)[0] : undefined;
				if (!inst) throw new Error(`no running service holds dead letter ${id}`);
				print(JSON.stringify(await broker.call(`${inst.service}.redriveDeadLetter`, { id }, { nodeID: inst.nodeID, retries: 0 }), null, 2));
			});
		},
	},
	{
		command: "checkout <userId>",
		description: "Run a checkout for a user (their cart, or --product), with an optional behavior string",
		options: [
			{ option: "-b, --behavior <behavior>", description: "e.g. payment:error=503:0.5 or inventory:latency=500-1000ms" },
			{ option: "-p, --product <id>", description: "add this product to the user's cart first" },
			{ option: "-q, --quantity <n>", description: "quantity of --product (default 1)" },
			{ option: "--payment <token>", description: "payment method id or token (default card-456)" },
			{ option: "--address <street>", description: "shipping address street line (default '1 Main St')" },
		],
		async action(broker, args, helpers) {
			await guarded(async () => {
				const behavior = behaviorOption(args.options.behavior);
				const user = (await broker.call("users.get", { id: String(args.userId) })) as { id: string; email: string; name: string; role: string };
				const meta = { user: { id: user.id, email: user.email, name: user.name, role: user.role }, headers: {}, ...(behavior ? { behavior } : {}) };
				if (typeof args.options.product === "string")
					await broker.call("cart.add", { product_id: args.options.product, quantity: Number(args.options.quantity ?? 1) }, { meta });
				const res = (await broker.call(
					"checkout.start",
					{ payment_method: String(args.options.payment ?? "card-456"), shipping_address: String(args.options.address ?? "1 Main St") },
					{ meta },
				)) as { order: Order; trace_id: string; duration: number; saga: { steps: Array<{ name: string; status: string; duration: number }> }; upstream_calls: Array<{ name: string; action: string; code: number; duration: number }> };
				print(`order ${res.order.id}: ${res.order.status}${res.order.failure_reason ? ` (${res.order.failure_reason})` : ""}, ${res.duration} ms, trace ${res.trace_id}`);
				if (behavior) print(`behavior: ${formatBehavior(behavior)}`);
				printTable(helpers, ["step", "status", "ms"], res.saga.steps.map(s => [s.name, s.status, s.duration]));
				printTable(helpers, ["service", "action", "code", "ms"], res.upstream_calls.map(c => [c.name, c.action, c.code, c.duration]));
			});
		},
	},
	{
		command: "breakers",
		description: "Show circuit breaker states: the payment gateway's (payments.breakerState) and Moleculer's per endpoint on this node",
		async action(broker, _args, helpers) {
			await guarded(async () => {
				try {
					const snap = (await broker.call("payments.breakerState", {}, { retries: 0 })) as { name: string; state: string; stats: Record<string, number> };
					print(`payment gateway breaker: ${snap.state} ${JSON.stringify(snap.stats)}`);
				} catch (err) {
					print(`payment gateway breaker: unknown (${(err as Error).message})`);
				}
				const rows = circuitBreakerStates(broker).map(b => [b.endpoint, b.state, b.failures, b.count]);
				printTable(helpers, ["endpoint (node:action)", "state", "failures", "calls"], rows);
			});
		},
	},
	{
		command: "trace <traceId>",
		description: "Show the call chain of a recent request across all nodes (its X-Trace-Id)",
		async action(broker, args, helpers) {
			await guarded(async () => {
				const calls = await collectCallChain(broker, String(args.traceId));
				printTable(
					helpers,
					["service", "action", "code", "ms", "node", "fault"],
					calls.map(c => [c.consumer ? `${c.name} → ${c.consumer}` : c.name, c.action, c.code, c.duration, c.node, c.fault ?? ""]),
				);
			});
		},
	},
	{
		command: "settings [path] [value]",
		description: "Show the shop's settings, or set one by its path (settings shipping.flat_fee 4.99, settings tax.rates.DE 19)",
		async action(broker, args) {
			await guarded(async () => {
				if (typeof args.path !== "string") {
					print(JSON.stringify(await broker.call("settings.get"), null, 2));
					return;
				}
				if (args.value === undefined) throw new Error("give a value: settings <path> <value>");
				const current = (await broker.call("settings.get")) as Settings;
				const patch = settingPatch(current, args.path, args.value);
				print(JSON.stringify(await broker.call("settings.update", patch), null, 2));
			});
		},
	},
	{
		command: "flags [name] [state]",
		description: "Show the feature flags, or switch one: flags checkout off (checkout off is the maintenance switch)",
		async action(broker, args, helpers) {
			await guarded(async () => {
				let flags: Flags;
				if (typeof args.name === "string") {
					const state = String(args.state ?? "").toLowerCase();
					if (!["on", "off", "true", "false"].includes(state)) throw new Error("give a state: flags <name> on|off");
					flags = (await broker.call("settings.setFlag", { name: args.name, enabled: state === "on" || state === "true" })) as Flags;
				} else flags = (await broker.call("settings.flags")) as Flags;
				printTable(helpers, ["feature", "state"], Object.entries(flags).map(([name, on]) => [name, on ? "on" : "off"]));
			});
		},
	},
	{
		command: "shops [status]",
		description: "List the shops with their status, optionally only PENDING, ACTIVE or SUSPENDED ones",
		options: [{ option: "-l, --limit <n>", description: "at most n shops (default 100)" }],
		async action(broker, args, helpers) {
			await guarded(async () => {
				const status = typeof args.status === "string" ? args.status.toUpperCase() : undefined;
				const page_size = Math.min(Number(args.options.limit ?? 100), 100);
				const res = (await broker.call("shops.list", { ...(status ? { status } : {}), page_size }, { meta: OPERATOR })) as { rows: ApiShop[]; total: number };
				printTable(helpers, SHOP_HEADER, res.rows.map(shopRow));
				print(`${res.total} shop(s)`);
			});
		},
	},
	{
		command: "shop <id> [action]",
		description: "Show one shop, or approve or suspend it: shop <id> approve | shop <id> suspend",
		async action(broker, args, helpers) {
			await guarded(async () => {
				const action = typeof args.action === "string" ? args.action.toLowerCase() : "show";
				if (!["show", "approve", "suspend"].includes(action)) throw new Error(`unknown action '${action}': shop <id> [approve|suspend]`);
				const name = action === "show" ? "shops.get" : `shops.${action}`;
				const shop = (await broker.call(name, { id: String(args.id) }, { meta: OPERATOR })) as ApiShop;
				printTable(helpers, SHOP_HEADER, [shopRow(shop)]);
				if (shop.description) print(shop.description);
			});
		},
	},
	{
		command: "behavior <behavior>",
		description: "Parse a behavior string and show its rules per target (nothing is applied)",
		async action(_broker, args) {
			try {
				print(JSON.stringify(parseBehavior(String(args.behavior)), null, 2));
			} catch (err) {
				print(`>> ${err instanceof BehaviorParseError ? err.message : String(err)}`);
			}
		},
	},
];

/**
 * The change `settings <path> <value>` sends: the whole top-level section with one field set (so that setting one
 * tax rate keeps the others). The value is read as JSON when it is JSON (4.99, null, true), else as text.
 */
export function settingPatch(current: Settings, path: string, raw: unknown): Record<string, unknown> {
	const keys = path.split(".");
	if (keys.some(k => k === "" || k === "__proto__" || k === "constructor" || k === "prototype")) throw new Error(`not a settings path: ${path}`);
	let value: unknown = raw;
	if (typeof raw === "string") {
		try {
			value = JSON.parse(raw);
		} catch {
			value = raw;
		}
	}
	const top = keys[0];
	if (!Object.hasOwn(current, top)) throw new Error(`unknown setting '${top}' (known: ${Object.keys(current).join(", ")})`);
	if (keys.length === 1) return { [top]: value };
	const section = structuredClone((current as unknown as Record<string, unknown>)[top]) as Record<string, unknown>;
	let node = section;
	for (const k of keys.slice(1, -1)) {
		if (typeof node[k] !== "object" || node[k] === null) node[k] = {};
		node = node[k] as Record<string, unknown>;
	}
	node[keys[keys.length - 1]] = value;
	return { [top]: section };
}

/**
 * The REPL options for BrokerOptions.replOptions. moleculer's typings declare a command's args as string[];
 * moleculer-repl actually passes the parsed object typed as Args above.
 */
export const replOptions: ReplOptions = {
	delimiter: "shopflow $",
	customCommands: replCommands as unknown as NonNullable<ReplOptions["customCommands"]>,
};
