/**
 * Every setting of ShopFlow, read once from the environment and validated. Only the composition root
 * (config/boot/) calls `loadConfig`; everything else is given the result (`configOf(service)` in a service or mixin).
 * Unset means the embedded choice: a user who installs nothing but Node runs the whole shop.
 */
import fs from "node:fs";
import path from "node:path";

export class ConfigError extends Error {
	constructor(public readonly variable: string, message: string) {
		super(`${variable}: ${message}`);
		this.name = "ConfigError";
	}
}

export type NodeEnv = "development" | "production" | "test";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace";

export interface Config {
	nodeEnv: NodeEnv;
	isProduction: boolean;
	isTest: boolean;
	namespace: string;
	nodeId: string | undefined;
	logLevel: LogLevel;
	/** Services this node runs (Moleculer names); all of them when SERVICES is unset. */
	services: string[] | null;
	port: number;
	natsUrl: string | null;
	/** How this node proves itself to NATS and checks the server (NATS_USER ... NATS_TLS_*); never logged. */
	natsAuth: NatsAuth;
	redisUrl: string | null;
	mongoUrl: string | null;
	/** Folder of the NeDB files, or null to keep every collection in memory (tests). */
	dataDir: string | null;
	jwtSecret: string;
	jwtSecretIsDefault: boolean;
	jwtExpiresInSeconds: number;
	adminEmail: string;
	adminPassword: string;
	adminPasswordIsDefault: boolean;
	requestTimeoutMs: number;
	rateLimitPerMinute: number;
	/** How long the gateway keeps an anonymous catalog answer (ms); 0 switches its response cache off. */
	gatewayCacheTtlMs: number;
	/** Most answers the gateway's response cache holds. */
	gatewayCacheMaxEntries: number;
	/** Most bytes of response bodies the gateway's response cache holds. */
	gatewayCacheMaxBytes: number;
	bodyLimit: string;
	/** CHAOS_ENABLED: whether behaviors (fault injection) are applied; on outside production by default. */
	behaviorEnabled: boolean;
	/** CHAOS_PUBLIC: in production with CHAOS_ENABLED, anyone may send a behavior (otherwise admins only). */
	behaviorPublic: boolean;
	/** Allowed browser origins; an empty list (production without CORS_ORIGINS) allows no foreign origin. */
	corsOrigins: string | string[];
	/** METRICS_TOKEN: when set, GET /metrics needs `Authorization: Bearer <token>`. */
	metricsToken: string | null;
	/** Login and password-change throttling (LOGIN_* settings). */
	loginThrottle: LoginThrottleSettings;
	/** Whether X-Forwarded-For is believed (only behind a proxy that sets it); otherwise the socket address counts. */
	trustProxy: boolean;
	seedDemoData: boolean;
	shippingDeliveryDelayMs: number;
	lowStockThreshold: number;
	/** How long the event layer and notifications keep their records (see RetentionSettings). */
	retention: RetentionSettings;
	/** How far V8 lets the heap grow past the live data before the next full collection, percent; 0 leaves V8's own. */
	heapGrowingPercent: number;
	/** CONNECT_TIMEOUT_MS: how long the start waits for NATS and Redis to answer before it stops with their names. */
	connectTimeoutMs: number;
	/** METRICS_PORT: the port of this node's own Prometheus endpoint (GET /metrics); null for none (the gateway's only). */
	metricsPort: number | null;
	/** WEB_DIR: the built storefront and console (`npm run build` writes dist/web) that the gateway serves at / and /ops. */
	webDir: string;
	/** SHUTDOWN_TIMEOUT_MS: the longest a graceful stop (SIGTERM) may take before the process exits anyway (config/boot/shutdown.ts). */
	shutdownTimeoutMs: number;
	/**
	 * AUDIT_REQUIRED: an audited write (an action with `audit`) is refused with 503 AUDIT_UNAVAILABLE when its audit
	 * intent cannot be stored. On by default; off by default in tests, where an audited write runs unaudited while no
	 * audit service is registered (suites that start a few services).
	 */
	auditRequired: boolean;
	/**
	 * EVENTS_SIGNING_KEY, then EVENTS_VERIFY_KEYS: the HMAC keys of signed events (order.*, payment.*). The first signs,
	 * any of them is accepted (key rotation, docs/events.md). Required in production; a published development key otherwise.
	 */
	eventsSigningKeys: string[];
	/** Whether the signing key is the published development one (outside production only). */
	eventsSigningKeyIsDefault: boolean;
}

/** NATS credentials and TLS files from the environment (config/boot/nats-options.ts turns them into `nats` options). */
export interface NatsAuth {
	/** NATS_USER and NATS_PASSWORD (or user:password in NATS_URL, which `nats` reads itself). */
	user: string | null;
	password: string | null;
	/** NATS_TOKEN: a token the server requires. */
	token: string | null;
	/** NATS_CREDS_FILE: a decentralized-auth credentials file (JWT and NKey seed). */
	credsFile: string | null;
	/** TLS: on with a tls:// NATS_URL or any NATS_TLS_* file; the CA checks the server, cert and key prove this node. */
	tls: { caFile: string | null; certFile: string | null; keyFile: string | null } | null;
}

/** NATS_* credentials and TLS files: one way to log in at most, files that exist, a key with its certificate. */
function natsAuthFrom(env: Env, natsUrl: string | null): NatsAuth {
	const file = (name: string): string | null => {
		const raw = str(env, name);
		if (raw === undefined) return null;
		const full = path.resolve(raw);
		if (!fs.existsSync(full)) throw new ConfigError(name, `names a file that does not exist: ${full}`);
		return full;
	};
	const user = str(env, "NATS_USER") ?? null;
	const password = str(env, "NATS_PASSWORD") ?? null;
	const token = str(env, "NATS_TOKEN") ?? null;
	const credsFile = file("NATS_CREDS_FILE");
	if (password && !user) throw new ConfigError("NATS_USER", "is required with NATS_PASSWORD");
	if (user && !password) throw new ConfigError("NATS_PASSWORD", "is required with NATS_USER");
	const ways = [user ? "NATS_USER" : null, token ? "NATS_TOKEN" : null, credsFile ? "NATS_CREDS_FILE" : null].filter(Boolean);
	if (ways.length > 1) throw new ConfigError(ways[1] as string, `give one way to log in to NATS, not ${ways.join(" and ")}`);
	const caFile = file("NATS_TLS_CA_FILE");
	const certFile = file("NATS_TLS_CERT_FILE");
	const keyFile = file("NATS_TLS_KEY_FILE");
	if (Boolean(certFile) !== Boolean(keyFile)) throw new ConfigError(certFile ? "NATS_TLS_KEY_FILE" : "NATS_TLS_CERT_FILE", "is required with the other (a client certificate needs its key)");
	const tlsOn = natsUrl?.startsWith("tls:") || caFile || certFile;
	if ((ways.length > 0 || tlsOn) && !natsUrl) throw new ConfigError("NATS_URL", "is required with NATS credentials or NATS_TLS_* files");
	return { user, password, token, credsFile, tls: tlsOn ? { caFile, certFile, keyFile } : null };
}

const DEV_JWT_SECRET = "shopflow-development-secret-do-not-use-in-production";
const DEV_ADMIN_PASSWORD = "admin-password";
const DEV_EVENTS_SIGNING_KEY = "shopflow-development-events-key-do-not-use-in-production";
const EXAMPLE_EVENTS_SIGNING_KEY = "replace-with-another-32-or-more-random-characters";
/** The placeholders .env.example ships (README: `cp .env.example .env`): as public as the development values. */
const EXAMPLE_JWT_SECRET = "replace-with-at-least-32-random-characters";
const EXAMPLE_ADMIN_PASSWORD = "replace-with-a-long-admin-password";
/** Whether a value is one of the published ones, in any letter case (`ADMIN-PASSWORD` is as guessable). */
const isPublished = (value: string | undefined, published: string): boolean => value?.toLowerCase() === published;

type Env = Record<string, string | undefined>;

function str(env: Env, name: string): string | undefined {
	const v = env[name];
	return v === undefined || v.trim() === "" ? undefined : v.trim();
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
	const raw = str(env, name);
	if (raw === undefined) return def;
	if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
	const n = Number(raw);
	if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
	return n;
}

function bool(env: Env, name: string, def: boolean): boolean {
	const raw = str(env, name);
	if (raw === undefined) return def;
	if (/^(1|true|yes|on)$/i.test(raw)) return true;
	if (/^(0|false|no|off)$/i.test(raw)) return false;
	throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function url(env: Env, name: string, protocols: string[]): string | null {
	const raw = str(env, name);
	if (raw === undefined) return null;
	let parsed: URL;
	try {
		parsed = new URL(raw);
	} catch {
		throw new ConfigError(name, `is not a valid URL (expected ${protocols.map(p => `${p}//...`).join(" or ")})`);
	}
	if (!protocols.includes(parsed.protocol))
		throw new ConfigError(name, `must use ${protocols.join(" or ")}, got "${parsed.protocol}"`);
	return raw;
}

// ---- Retention of event bookkeeping and notifications (issue 6) ----

/** How long bookkeeping records are kept, so that memory and stores stay flat under sustained load. */
export interface RetentionSettings {
	/** EVENTS_OUTBOX_RETENTION_MS: sent outbox rows are removed this long after they were sent (pending rows never). */
	outboxRetentionMs: number;
	/** EVENTS_DEDUPE_WINDOW_MS: processed event ids are kept this long after their claim; a duplicate inside it is skipped. */
	dedupeWindowMs: number;
	/** EVENTS_PRUNE_INTERVAL_MS: how often each service prunes its outbox and processed ids (bounded batches). */
	pruneIntervalMs: number;
	/** NOTIFICATIONS_KEEP_PER_USER: each user's newest notifications kept (the admins' notices count as one user). */
	notificationsPerUser: number;
	/** NOTIFICATIONS_RETENTION_DAYS: notifications whose event is older than this are removed. */
	notificationsMaxAgeMs: number;
	/** NOTIFICATIONS_CHANNEL_CACHE_MS: how long notifications trust a user's channel without asking users (0: always ask). */
	channelCacheMs: number;
	/** IDEMPOTENCY_KEY_TTL_HOURS: how long checkout keeps the answer to an Idempotency-Key; a later repeat is a new checkout. */
	idempotencyKeyTtlMs: number;
}

const MINUTE_MS = 60_000;

/** A consumer's claim on an event older than this is taken over: its holder crashed or stopped mid-handler. */
export const CLAIM_STALE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/**
 * The dedupe window must outlast every redelivery of an event a consumer already handled:
 * - in-process bus: a retry follows its attempt within maxDelayMs (10 s), a delivery that found the event busy
 *   retries every baseDelayMs until the holder finishes or its claim is taken over (CLAIM_STALE_MS, 60 s), and the
 *   relay re-sends a pending row or the staged sweep re-publishes an event seconds after the first send;
 * - JetStream: an unacked delivery comes back after ack_wait (30 s), over and over (max_deliver is unlimited), and
 *   to a consumer that was away when it reconnects; the stream keeps events 7 days, and an outbox row re-relayed
 *   after a restart is only dropped by the server within its 2-minute duplicate window.
 * With a durable store (NeDB files, MongoDB) claims survive restarts, so the window is the stream's 7 days. With
 * DATA_DIR=memory and no MONGO_URL a restart forgets every claim anyway, so only redeliveries to a running process
 * matter: 2 minutes covers the slowest of them (a takeover after 60 s plus a 10 s retry delay) with room to spare,
 * and at the benchmark's ~1,000 claims/s holds about 120k ids instead of growing without end.
 */
function loadRetention(env: Env, durableStore: boolean): RetentionSettings {
	const minWindow = 2 * CLAIM_STALE_MS;
	return {
		outboxRetentionMs: int(env, "EVENTS_OUTBOX_RETENTION_MS", 10_000, 0, 7 * DAY_MS),
		dedupeWindowMs: int(env, "EVENTS_DEDUPE_WINDOW_MS", durableStore ? 7 * DAY_MS : minWindow, minWindow, 90 * DAY_MS),
		pruneIntervalMs: int(env, "EVENTS_PRUNE_INTERVAL_MS", 1000, 10, 10 * MINUTE_MS),
		notificationsPerUser: int(env, "NOTIFICATIONS_KEEP_PER_USER", 100, 1, 1_000_000),
		notificationsMaxAgeMs: int(env, "NOTIFICATIONS_RETENTION_DAYS", 90, 1, 3650) * DAY_MS,
		channelCacheMs: int(env, "NOTIFICATIONS_CHANNEL_CACHE_MS", 30_000, 0, 60 * MINUTE_MS),
		idempotencyKeyTtlMs: int(env, "IDEMPOTENCY_KEY_TTL_HOURS", 24, 1, 24 * 365) * 3_600_000,
	};
}

// ---- end of retention settings ----

/** How failed logins and password changes are throttled, per account and per client address. */
export interface LoginThrottleSettings {
	/** LOGIN_MAX_FAILURES: failures of one account (within the window) before it is locked. */
	maxFailuresPerAccount: number;
	/** LOGIN_MAX_FAILURES_PER_ADDRESS: failures from one client address (within the window) before it is locked. */
	maxFailuresPerAddress: number;
	/** LOGIN_LOCK_SECONDS: the first lock; every further failure doubles it, up to the window. */
	lockMs: number;
	/** LOGIN_FAILURE_WINDOW_SECONDS: failures are counted this long from the first one; also the longest lock. */
	windowMs: number;
}

function loadLoginThrottle(env: Env): LoginThrottleSettings {
	const windowSeconds = int(env, "LOGIN_FAILURE_WINDOW_SECONDS", 900, 1, 86_400);
	return {
		maxFailuresPerAccount: int(env, "LOGIN_MAX_FAILURES", 5, 1, 1000),
		maxFailuresPerAddress: int(env, "LOGIN_MAX_FAILURES_PER_ADDRESS", 20, 1, 100_000),
		lockMs: int(env, "LOGIN_LOCK_SECONDS", 30, 1, windowSeconds) * 1000,
		windowMs: windowSeconds * 1000,
	};
}

/**
 * The event signing keys: EVENTS_SIGNING_KEY signs (required in production, at least 32 characters, not the
 * development key), EVENTS_VERIFY_KEYS (comma-separated) are accepted besides it while a rotation is under way.
 */
function loadEventKeys(env: Env, isProduction: boolean): { keys: string[]; isDefault: boolean } {
	const signing = str(env, "EVENTS_SIGNING_KEY");
	if (isProduction && !signing)
		throw new ConfigError("EVENTS_SIGNING_KEY", "is required when NODE_ENV=production (at least 32 characters; it signs order and payment events)");
	if (isProduction && signing && signing.length < 32) throw new ConfigError("EVENTS_SIGNING_KEY", "must be at least 32 characters long in production");
	if (isProduction && isPublished(signing, DEV_EVENTS_SIGNING_KEY))
		throw new ConfigError("EVENTS_SIGNING_KEY", "is the published development key; set a key of your own in production");
	if (isProduction && isPublished(signing, EXAMPLE_EVENTS_SIGNING_KEY))
		throw new ConfigError("EVENTS_SIGNING_KEY", "is the .env.example placeholder; set a key of your own in production");
	const verify = (str(env, "EVENTS_VERIFY_KEYS") ?? "").split(",").map(k => k.trim()).filter(Boolean);
	if (isProduction && verify.some(k => k.length < 32 || isPublished(k, DEV_EVENTS_SIGNING_KEY)))
		throw new ConfigError("EVENTS_VERIFY_KEYS", "holds a key shorter than 32 characters or the development key");
	const first = signing ?? DEV_EVENTS_SIGNING_KEY;
	return { keys: [first, ...verify.filter(k => k !== first)], isDefault: !signing };
}

/** Parses and validates the environment; throws a ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): Config {
	const nodeEnvRaw = str(env, "NODE_ENV") ?? "development";
	if (!["development", "production", "test"].includes(nodeEnvRaw))
		throw new ConfigError("NODE_ENV", `must be development, production or test, got "${nodeEnvRaw}"`);
	const nodeEnv = nodeEnvRaw as NodeEnv;
	const isProduction = nodeEnv === "production";
	const isTest = nodeEnv === "test";

	const logLevel = (str(env, "LOG_LEVEL") ?? (isTest ? "warn" : "info")) as LogLevel;
	if (!["fatal", "error", "warn", "info", "debug", "trace"].includes(logLevel))
		throw new ConfigError("LOG_LEVEL", `must be one of fatal, error, warn, info, debug, trace, got "${logLevel}"`);

	const servicesRaw = str(env, "SERVICES");
	// SERVICES=none: a node that runs nothing, e.g. a REPL that joins a cluster only to call it.
	const services = servicesRaw?.toLowerCase() === "none" ? [] : servicesRaw ? servicesRaw.split(",").map(s => s.trim()).filter(Boolean) : null;

	const jwtSecretRaw = str(env, "JWT_SECRET");
	if (isProduction && !jwtSecretRaw)
		throw new ConfigError("JWT_SECRET", "is required when NODE_ENV=production (at least 32 characters)");
	if (jwtSecretRaw && jwtSecretRaw.length < 32 && isProduction)
		throw new ConfigError("JWT_SECRET", "must be at least 32 characters long in production");
	if (isProduction && isPublished(jwtSecretRaw, DEV_JWT_SECRET))
		throw new ConfigError("JWT_SECRET", "is the published development secret; set a secret of your own in production");
	if (isProduction && isPublished(jwtSecretRaw, EXAMPLE_JWT_SECRET))
		throw new ConfigError("JWT_SECRET", "is the .env.example placeholder; set a secret of your own in production");

	const adminPasswordRaw = str(env, "ADMIN_PASSWORD");
	if (isProduction && !adminPasswordRaw)
		throw new ConfigError("ADMIN_PASSWORD", "is required when NODE_ENV=production");
	if (adminPasswordRaw && adminPasswordRaw.length < 8)
		throw new ConfigError("ADMIN_PASSWORD", "must be at least 8 characters long");
	if (isProduction && isPublished(adminPasswordRaw, DEV_ADMIN_PASSWORD))
		throw new ConfigError("ADMIN_PASSWORD", `is the documented default "${DEV_ADMIN_PASSWORD}"; choose another in production`);
	if (isProduction && isPublished(adminPasswordRaw, EXAMPLE_ADMIN_PASSWORD))
		throw new ConfigError("ADMIN_PASSWORD", "is the .env.example placeholder; choose another in production");

	const eventKeys = loadEventKeys(env, isProduction);

	const adminEmail = (str(env, "ADMIN_EMAIL") ?? "admin@shopflow.local").toLowerCase();
	if (!/^[^\s@]+@[^\s@]+$/.test(adminEmail)) throw new ConfigError("ADMIN_EMAIL", `is not an email address: "${adminEmail}"`);

	const dataDirRaw = str(env, "DATA_DIR");
	const dataDir = dataDirRaw === "memory" || (isTest && !dataDirRaw) ? null : path.resolve(dataDirRaw ?? "./data");

	const bodyLimit = str(env, "BODY_LIMIT") ?? "100kb";
	if (!/^\d+(b|kb|mb)$/i.test(bodyLimit)) throw new ConfigError("BODY_LIMIT", `must look like 100kb or 1mb, got "${bodyLimit}"`);

	// Production allows no foreign origin until CORS_ORIGINS names them; development stays open.
	const cors = str(env, "CORS_ORIGINS") ?? (isProduction ? "" : "*");
	const mongoUrl = url(env, "MONGO_URL", ["mongodb:", "mongodb+srv:"]);
	const natsUrl = url(env, "NATS_URL", ["nats:", "tls:"]);

	return {
		nodeEnv,
		isProduction,
		isTest,
		namespace: str(env, "NAMESPACE") ?? "shopflow",
		nodeId: str(env, "NODE_ID"),
		logLevel,
		services,
		port: int(env, "PORT", 8080, 0, 65535),
		natsUrl,
		natsAuth: natsAuthFrom(env, natsUrl),
		redisUrl: url(env, "REDIS_URL", ["redis:", "rediss:"]),
		mongoUrl,
		dataDir,
		jwtSecret: jwtSecretRaw ?? DEV_JWT_SECRET,
		jwtSecretIsDefault: !jwtSecretRaw,
		jwtExpiresInSeconds: int(env, "JWT_EXPIRES_IN", 24 * 3600, 60, 90 * 24 * 3600),
		adminEmail,
		adminPassword: adminPasswordRaw ?? DEV_ADMIN_PASSWORD,
		adminPasswordIsDefault: !adminPasswordRaw,
		requestTimeoutMs: int(env, "REQUEST_TIMEOUT_MS", 10_000, 100, 600_000),
		rateLimitPerMinute: int(env, "RATE_LIMIT_PER_MINUTE", 6000, 1, 10_000_000),
		gatewayCacheTtlMs: int(env, "GATEWAY_CACHE_TTL_MS", 1000, 0, 60_000),
		gatewayCacheMaxEntries: int(env, "GATEWAY_CACHE_MAX_ENTRIES", 1000, 1, 1_000_000),
		gatewayCacheMaxBytes: int(env, "GATEWAY_CACHE_MAX_KB", 16 * 1024, 16, 4 * 1024 * 1024) * 1024,
		bodyLimit,
		behaviorEnabled: isProduction ? bool(env, "CHAOS_ENABLED", false) : bool(env, "CHAOS_ENABLED", true),
		behaviorPublic: bool(env, "CHAOS_PUBLIC", false),
		corsOrigins: cors === "*" ? "*" : cors.split(",").map(s => s.trim()).filter(Boolean),
		metricsToken: str(env, "METRICS_TOKEN") ?? null,
		loginThrottle: loadLoginThrottle(env),
		trustProxy: bool(env, "TRUST_PROXY", false),
		seedDemoData: bool(env, "SEED_DEMO_DATA", !isTest),
		shippingDeliveryDelayMs: int(env, "DELIVERY_DELAY_MS", 0, 0, 7 * 24 * 3600 * 1000),
		lowStockThreshold: int(env, "LOW_STOCK_THRESHOLD", 5, 0, 1_000_000),
		retention: loadRetention(env, !!mongoUrl || dataDir !== null),
		heapGrowingPercent: int(env, "HEAP_GROWING_PERCENT", 20, 0, 400),
		connectTimeoutMs: int(env, "CONNECT_TIMEOUT_MS", 15_000, 100, 600_000),
		metricsPort: str(env, "METRICS_PORT") === undefined ? null : int(env, "METRICS_PORT", 0, 0, 65535),
		shutdownTimeoutMs: int(env, "SHUTDOWN_TIMEOUT_MS", 20_000, 2_000, 600_000),
		webDir: path.resolve(str(env, "WEB_DIR") ?? "dist/web"),
		auditRequired: bool(env, "AUDIT_REQUIRED", !isTest),
		eventsSigningKeys: eventKeys.keys,
		eventsSigningKeyIsDefault: eventKeys.isDefault,
	};
}

/** The service setting that carries the configuration (config/middlewares/service-config.ts puts it on every service). */
export const CONFIG_SETTING = "$config";

/**
 * The configuration of the broker a service runs on: parsed once at boot (config/boot/start.ts) and given to
 * every service as `settings.$config`, which Moleculer keeps out of the service's published settings.
 */
export function configOf(service: { name: string; settings: object }): Config {
	const config = (service.settings as { [CONFIG_SETTING]?: Config })[CONFIG_SETTING];
	if (!config) throw new Error(`service '${service.name}' has no configuration: create it on a broker built by createBrokerOptions(config)`);
	return config;
}
