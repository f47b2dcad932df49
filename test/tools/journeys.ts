/**
 * The user journeys of the load generator, weighted as in Online Boutique's locustfile: browse 10, search 4,
 * view cart 3, add to cart 2, checkout 1. Each virtual user picks one at random, runs it, thinks, repeats.
 */
import { request, type Customer, type JsonResponse } from "./http-client";
import { LatencyRecorder } from "./stats";

export type TaskName = "browse" | "search" | "viewCart" | "addToCart" | "checkout";

export const TASK_WEIGHTS: Record<TaskName, number> = { browse: 10, search: 4, viewCart: 3, addToCart: 2, checkout: 1 };

const SEARCH_TERMS = ["laptop", "phone", "headphones", "camera", "usb-c", "wireless", "gaming", "monitor", "keyboard", "charger", "watch", "speaker"];

const ADDRESS = { street: "1 Load Street", city: "Generatorville", postal_code: "10001", country: "US" };

/** Picks a task by weight; `random` is a number in [0, 1). */
export function pickTask(random: number, weights: Record<TaskName, number> = TASK_WEIGHTS): TaskName {
	const entries = Object.entries(weights) as Array<[TaskName, number]>;
	const total = entries.reduce((s, [, w]) => s + w, 0);
	let r = random * total;
	for (const [name, w] of entries) {
		if (r < w) return name;
		r -= w;
	}
	return entries[entries.length - 1][0];
}

export interface TaskStats {
	count: number;
	/** 5xx answers and network errors. */
	errors: number;
	/** 4xx answers (bad luck, such as no stock, not faults). */
	clientErrors: number;
	latency: LatencyRecorder;
}

export interface OrderSeen {
	id: string;
	user: Customer;
	/** The status in the checkout's answer. */
	status: string;
	httpStatus: number;
}

/** What every virtual user reports into. */
export class LoadStats {
	readonly tasks = new Map<TaskName, TaskStats>();
	readonly orders: OrderSeen[] = [];
	readonly errorSamples = new Map<string, number>();
	requests = 0;
	errors = 0;
	clientErrors = 0;
	/** Checkouts that answered without an order (an error before the order existed, or no answer at all). */
	checkoutsWithoutOrder = 0;

	/** Counts one request of a task. */
	record(task: TaskName, res: JsonResponse | null, ms: number, error?: string): void {
		let t = this.tasks.get(task);
		if (!t) this.tasks.set(task, (t = { count: 0, errors: 0, clientErrors: 0, latency: new LatencyRecorder() }));
		t.count++;
		this.requests++;
		t.latency.add(ms);
		const status = res?.status ?? 0;
		if (!res || status >= 500) {
			t.errors++;
			this.errors++;
			const key = error ?? `${task} ${status} ${describeBody(res?.body)}`;
			this.errorSamples.set(key, (this.errorSamples.get(key) ?? 0) + 1);
		} else if (status >= 400) {
			t.clientErrors++;
			this.clientErrors++;
		}
	}

	/** Orders by the status their checkout answered with. */
	ordersByStatus(): Record<string, number> {
		const out: Record<string, number> = {};
		for (const o of this.orders) out[o.status] = (out[o.status] ?? 0) + 1;
		return out;
	}
}

function describeBody(body: unknown): string {
	const b = body as { type?: string; message?: string } | null | undefined;
	return b?.type ?? b?.message?.slice(0, 60) ?? "";
}

export interface UserContext {
	base: string;
	user: Customer;
	productIds: string[];
	headers: Record<string, string>;
	stats: LoadStats;
	random: () => number;
}

/** Sends one request for a task and records it; network errors count as errors and resolve to null. */
async function send<T = Record<string, unknown>>(
	u: UserContext,
	task: TaskName,
	method: string,
	path: string,
	body?: unknown,
	auth = true,
): Promise<JsonResponse<T> | null> {
	const started = performance.now();
	try {
		const res = await request<T>(u.base, method, path, { body, token: auth ? u.user.token : undefined, headers: u.headers, timeoutMs: 60_000 });
		u.stats.record(task, res as JsonResponse, res.ms);
		return res;
	} catch (err) {
		u.stats.record(task, null, performance.now() - started, `${task} ${(err as Error).message}`);
		return null;
	}
}

function pick<T>(u: UserContext, items: T[]): T {
	return items[Math.floor(u.random() * items.length)];
}

/** Runs one journey. */
export async function runTask(u: UserContext, task: TaskName): Promise<void> {
	switch (task) {
		case "browse": {
			await send(u, task, "GET", `/api/v1/products?page=${1 + Math.floor(u.random() * 3)}&page_size=12`, undefined, false);
			await send(u, task, "GET", `/api/v1/products/${encodeURIComponent(pick(u, u.productIds))}`, undefined, false);
			return;
		}
		case "search":
			await send(u, task, "GET", `/api/v1/search?q=${encodeURIComponent(pick(u, SEARCH_TERMS))}`, undefined, false);
			return;
		case "viewCart":
			await send(u, task, "GET", "/api/v1/cart");
			return;
		case "addToCart": {
			const id = pick(u, u.productIds);
			await send(u, task, "GET", `/api/v1/products/${encodeURIComponent(id)}`, undefined, false);
			await send(u, task, "POST", "/api/v1/cart/add", { product_id: id, quantity: 1 + Math.floor(u.random() * 3) });
			return;
		}
		case "checkout": {
			await send(u, task, "POST", "/api/v1/cart/add", { product_id: pick(u, u.productIds), quantity: 1 });
			const res = await send<{ order?: { id: string; status: string } }>(u, task, "POST", "/api/v1/checkout", {
				shipping_address: ADDRESS,
				payment_method: "card-456",
			});
			if (res?.body?.order?.id) u.stats.orders.push({ id: res.body.order.id, user: u.user, status: res.body.order.status, httpStatus: res.status });
			else u.stats.checkoutsWithoutOrder++;
			return;
		}
	}
}

/** One virtual user: pick, run, think, until the deadline. */
export async function virtualUser(u: UserContext, deadline: number, thinkMs: [number, number]): Promise<void> {
	while (Date.now() < deadline) {
		await runTask(u, pickTask(u.random()));
		const think = thinkMs[0] + u.random() * (thinkMs[1] - thinkMs[0]);
		await new Promise(r => setTimeout(r, Math.max(0, Math.min(think, deadline - Date.now()))));
	}
}
