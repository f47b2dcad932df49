/**
 * Broker options for every ShopFlow node, built from the configuration that config/boot/ parsed once. Each setting
 * is documented where it is set. Importing this file reads nothing: there is no default export for moleculer-runner
 * (ShopFlow starts with config/boot/start.ts).
 */
import { Validators, type BrokerOptions } from "moleculer";
import { uuid } from "./services/common/ids";
import type { Config } from "./config/env";
import { resilience } from "./config/resilience";
import { GatewayPrometheusReporter } from "./config/boot/metrics-reporter";
import { brokerMiddlewares } from "./config/middlewares";
import { replOptions } from "./config/boot/repl-commands";
import { natsConnectOptions } from "./config/nats-options";
import { serviceStopTimeoutMs } from "./config/boot/shutdown";

/** ioredis options from a redis:// URL (the cacher takes options, not a URL). */
export function redisOptions(url: string): Record<string, unknown> {
	const u = new URL(url);
	return {
		host: u.hostname,
		port: Number(u.port || 6379),
		username: u.username ? decodeURIComponent(u.username) : undefined,
		password: u.password ? decodeURIComponent(u.password) : undefined,
		db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
		tls: u.protocol === "rediss:" ? {} : undefined,
	};
}

/** Builds the broker options for a configuration; tests pass overrides such as a node id. */
export function createBrokerOptions(config: Config, overrides: Partial<BrokerOptions> = {}): BrokerOptions {
	return {
		namespace: config.namespace,
		nodeID: config.nodeId,

		// No transporter in embedded mode: every service lives in this one broker. NATS (object form) otherwise.
		transporter: config.natsUrl ? { type: "NATS", options: natsConnectOptions(config.natsUrl, config) } : null,

		// Action caches: Redis when configured so that every node shares (and invalidates) one cache.
		cacher: config.redisUrl
			? { type: "Redis", options: { prefix: `${config.namespace}-cache`, ttl: 300, redis: redisOptions(config.redisUrl) } }
			: { type: "Memory", options: { ttl: 300, maxParamsLength: 100 } },

		// JSON keeps packets readable with `nats sub`; the payloads are small.
		serializer: "JSON",

		// Pretty in development, one JSON object per line in production (for log shippers).
		logger: {
			type: "Console",
			options: {
				level: config.logLevel,
				formatter: config.isProduction ? "json" : "short",
				colors: !config.isProduction && process.stdout.isTTY === true,
				moduleColors: false,
				autoPadding: false,
			},
		},
		logLevel: config.logLevel,

		// How long a caller waits for one action (REQUEST_TIMEOUT_MS); checkout.start and orders.create set their own,
		// longer ones, and a nested call never gets more than its caller has left (Moleculer's distributed timeout).
		requestTimeout: config.requestTimeoutMs,
		// Broker-wide resilience defaults; see config/resilience.ts for each value.
		retryPolicy: resilience.retryPolicy,
		circuitBreaker: resilience.circuitBreaker,
		bulkhead: resilience.bulkhead,

		// Node health heartbeat: a node killed without a goodbye is dropped from the registry after 6 to 12 s
		// (requests in flight to it time out and are retried on a replica).
		heartbeatInterval: 2,
		heartbeatTimeout: 6,

		// Balance calls across replicas; prefer a local endpoint when this node has one.
		registry: { strategy: "RoundRobin", preferLocal: true },

		// fastest-validator checks every action's `params` schema. Its own enum message prints the allowed values
		// where the value sent belongs ("value 'PENDING, PAID' does not match"): say what was sent and what may be.
		validator: new Validators.Fastest({ messages: { enumValue: "The '{field}' field must be one of {expected}; '{actual}' is not." } }),

		// Prometheus metrics, served by the gateway's GET /metrics and, with METRICS_PORT, by every node on its own port.
		metrics: { enabled: true, reporter: [new GatewayPrometheusReporter({ port: config.metricsPort }) as unknown as "Prometheus"] },

		// Moleculer's own tracer is off: the call-chain and OpenTelemetry middlewares (config/middlewares/index.ts) record
		// every call, and a second tracer with no exporter only cost CPU. Params and meta never go on spans (they
		// hold passwords and tokens) if it is switched on.
		tracing: {
			enabled: false,
			exporter: [],
			stackTrace: false,
			tags: { action: { params: false, meta: false }, event: { params: false, meta: false } },
		},

		// ShopFlow's middlewares, then Moleculer's own, listed by config/middlewares/index.ts (request metrics in the
		// place of Moleculer's Metrics middleware), so Moleculer does not add its own again.
		middlewares: brokerMiddlewares(config),
		internalMiddlewares: false,

		// Operator commands of `npm run repl` (saga log, orders by status, dead letters, checkout, breakers).
		replOptions,

		// Context, request and span ids as flat strings (services/common/ids.ts says why: Moleculer's own are string trees).
		uidGenerator: () => uuid(),

		// A stopping service first lets its calls in progress finish, for a share of SHUTDOWN_TIMEOUT_MS
		// (config/boot/shutdown.ts, which also orders the stop).
		tracking: { enabled: true, shutdownTimeout: serviceStopTimeoutMs(config) },
		// Signals are config/boot/start.ts's: Moleculer's own handlers would run a second broker.stop() beside its
		// graceful stop (every service's `stopped` twice, at once), and stop a test runner's brokers on its signals.
		skipProcessEventRegistration: true,

		...overrides,
	};
}
