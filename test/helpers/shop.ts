/**
 * Starts ShopFlow brokers for tests: real services, real moleculer-web on a free port, memory stores unless
 * the test asks for NATS or Redis.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import type { ServiceBroker } from "moleculer";
import { loadConfig, type Config } from "../../config/env";
import { createShopBroker } from "../../config/boot/broker";
import type { ServiceName } from "../../services/common/names";

export const NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
export const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export interface Shop {
	broker: ServiceBroker;
	config: Config;
	/** Base URL of the gateway (when `api` runs on this broker), e.g. http://127.0.0.1:12345 */
	url: string;
	stop(): Promise<void>;
}

/** A configuration for tests: NODE_ENV=test plus the given variables. */
export function testConfig(env: Record<string, string> = {}): Config {
	// The memory store whatever NODE_ENV a test asks for: a production-mode test once wrote its admin (with its own
	// password) into the checkout's ./data, and the README's `npm start` then refused the documented one.
	return loadConfig({ NODE_ENV: "test", PORT: "0", LOG_LEVEL: "warn", DATA_DIR: "memory", ...env });
}

/** Creates and starts a broker with the given services. */
export async function startShop(services: ServiceName[], env: Record<string, string> = {}, nodeId?: string): Promise<Shop> {
	const config = testConfig(env);
	const broker = createShopBroker({ config, services, broker: nodeId ? { nodeID: nodeId } : {} });
	await broker.start();
	let url = "";
	if (services.includes("api")) {
		const api = broker.getLocalService("api") as unknown as { server: Server };
		const port = (api.server.address() as AddressInfo).port;
		url = `http://127.0.0.1:${port}`;
	}
	return { broker, config, url, stop: () => broker.stop() };
}

export interface HttpResult<T = Record<string, unknown>> {
	status: number;
	body: T;
	headers: Headers;
}

/** One HTTP request with a JSON body; the response body is parsed as JSON when it is JSON. */
export async function http<T = Record<string, unknown>>(
	base: string,
	method: string,
	path: string,
	opts: { body?: unknown; token?: string; headers?: Record<string, string>; raw?: string } = {},
): Promise<HttpResult<T>> {
	const headers: Record<string, string> = { ...opts.headers };
	if (opts.body !== undefined || opts.raw !== undefined) headers["content-type"] = "application/json";
	if (opts.token) headers.authorization = `Bearer ${opts.token}`;
	const res = await fetch(base + path, {
		method,
		headers,
		body: opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
	});
	const text = await res.text();
	let body: unknown = text;
	try {
		body = text ? JSON.parse(text) : null;
	} catch {
		/* not JSON */
	}
	return { status: res.status, body: body as T, headers: res.headers };
}

/** Registers a customer and returns its token and id. */
export async function registerCustomer(base: string, email = `u${Math.random().toString(36).slice(2)}@example.com`): Promise<{ token: string; id: string; email: string }> {
	const res = await http<{ token: string; user: { id: string } }>(base, "POST", "/api/v1/users/register", {
		body: { email, password: "correct-horse-battery", name: "Test Customer" },
	});
	if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
	return { token: res.body.token, id: res.body.user.id, email };
}

/** Logs in as the admin that the users service creates at start. */
export async function loginAdmin(base: string, config: Config): Promise<string> {
	const res = await http<{ token: string }>(base, "POST", "/api/v1/users/login", {
		body: { email: config.adminEmail, password: config.adminPassword },
	});
	if (res.status !== 200) throw new Error(`admin login failed: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body.token;
}
