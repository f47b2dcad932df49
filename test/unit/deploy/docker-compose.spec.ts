/**
 * docker-compose.yml, .env.example and the Dockerfile's health check, read as data (there is no Docker engine in
 * the test environment): only the gateway is published, every container has a health check that fits its role, and
 * every variable the compose file asks for is in .env.example; production refuses its secrets' placeholders, and
 * accepts the file once an operator has replaced them.
 */
import fs from "node:fs";
import path from "node:path";
import { loadConfig } from "../../../config/env";
import { healthUrl } from "../../../config/boot/healthcheck";
import { selectServices } from "../../../config/boot/broker";

// js-yaml is in the lockfile (a dev dependency of ESLint); it reads YAML 1.2 with merge keys, as Compose does.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml = require("js-yaml") as { load(text: string): unknown };

const root = path.resolve(__dirname, "..", "..", "..");
const composeText = fs.readFileSync(path.join(root, "docker-compose.yml"), "utf8");
const envExample = fs.readFileSync(path.join(root, ".env.example"), "utf8");

interface ComposeService {
	image?: string;
	build?: unknown;
	profiles?: string[];
	volumes?: string[];
	ports?: string[];
	environment?: Record<string, string>;
	healthcheck?: { test: string[] };
	depends_on?: Record<string, { condition: string }>;
}
const compose = yaml.load(composeText) as { services: Record<string, ComposeService> };
const services = Object.entries(compose.services);
const shopNodes = services.filter(([, s]) => s.image === "shopflow:latest");
const infrastructure = ["nats", "redis", "mongo"];

/** The variables of .env.example (name → placeholder). */
const example = new Map(
	envExample
		.split("\n")
		.filter(l => /^[A-Z_][A-Z0-9_]*=/.test(l))
		.map(l => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const),
);

/** .env.example after `cp .env.example .env` and replacing the placeholders of the secrets, as the docs ask. */
function filledExample(): Map<string, string> {
	return new Map([...example, ["JWT_SECRET", "an-operator-chosen-secret-of-40-characters!"], ["ADMIN_PASSWORD", "an-operator-chosen-admin-password"], ["EVENTS_SIGNING_KEY", "an-operator-chosen-events-key-of-40-characters"]]);
}

/** Compose's interpolation of ${VAR}, ${VAR:-default} and ${VAR:?message} from the given variables. */
function interpolate(value: string, vars: Map<string, string>): string {
	return value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?::([-?])([^}]*))?\}/g, (_all, name: string, op?: string, arg?: string) => {
		const v = vars.get(name);
		if (v !== undefined && v !== "") return v;
		if (op === "?") throw new Error(`${name} is required: ${arg}`);
		return op === "-" ? (arg ?? "") : "";
	});
}

/** The variables docker-compose.yml reads from the environment or .env. */
const referenced = new Set([...composeText.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map(m => m[1]));

describe("docker-compose.yml", () => {
	it("publishes only the gateway on the host, never NATS, Redis, MongoDB or a metrics port", () => {
		const published = services.filter(([, s]) => s.ports?.length && !s.profiles?.length).map(([name]) => name);
		expect(published).toEqual(["gateway"]);
		expect(compose.services.gateway.ports).toEqual(["${GATEWAY_PORT:-8080}:8080"]);
		for (const name of infrastructure) expect(compose.services[name]).toBeDefined();
	});

	it("runs Prometheus and Grafana only in the observability profile, on the host's loopback interface", () => {
		const optional = services.filter(([, s]) => s.profiles?.length);
		expect(optional.map(([name, s]) => [name, s.profiles])).toEqual([
			["prometheus", ["observability"]],
			["grafana", ["observability"]],
		]);
		for (const [, s] of optional) for (const port of s.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
		// The files they mount are the ones deploy/ holds (test/integration/observability.spec.ts checks their contents).
		const mounts = optional.flatMap(([, s]) => s.volumes ?? []).filter(v => v.startsWith("./")).map(v => v.slice(2, v.indexOf(":")));
		for (const m of mounts) expect({ mount: m, exists: fs.existsSync(path.join(root, m)) }).toEqual({ mount: m, exists: true });
		expect(mounts).toEqual(expect.arrayContaining(["deploy/prometheus", "deploy/grafana/provisioning", "deploy/grafana/dashboards"]));
	});

	it("gives every container a health check", () => {
		const without = services.filter(([, s]) => !(s.healthcheck?.test && s.healthcheck.test.length > 1)).map(([name]) => name);
		expect(without).toEqual([]);
	});

	it("checks NATS's JetStream, Redis's PING and MongoDB's ping, and starts the shop once they pass", () => {
		expect(compose.services.nats.healthcheck?.test.join(" ")).toContain("/healthz?js-enabled-only=true");
		expect(compose.services.redis.healthcheck?.test).toEqual(["CMD", "redis-cli", "ping"]);
		expect(compose.services.mongo.healthcheck?.test.join(" ")).toContain("ping: 1");
		for (const [name, s] of shopNodes)
			expect({ name, depends_on: s.depends_on }).toEqual({
				name,
				depends_on: Object.fromEntries(infrastructure.map(i => [i, { condition: "service_healthy" }])),
			});
	});

	it("checks the gateway's readiness and every other node's own health port, as the image's health check does", () => {
		const vars = filledExample();
		for (const [name, s] of shopNodes) {
			const env = Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), vars)]));
			const config = loadConfig(env);
			const url = healthUrl(config);
			expect({ name, url }).toEqual({ name, url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\//) });
			// The compose check asks the very URL that config/boot/healthcheck.ts (the Dockerfile's HEALTHCHECK) would.
			expect({ name, check: s.healthcheck?.test.join(" ") }).toEqual({ name, check: expect.stringContaining(`fetch('${url}')`) });
			const gateway = selectServices(config.services).includes("api");
			expect({ name, url }).toEqual({ name, url: gateway ? "http://127.0.0.1:8080/health/ready" : "http://127.0.0.1:9100/health" });
		}
		expect(shopNodes.map(([name]) => name)).toContain("gateway");
		expect(shopNodes.length).toBeGreaterThanOrEqual(5);
	});

	it("refuses .env.example's secret placeholders in production, naming the variable (audit D4)", () => {
		const env = Object.fromEntries(
			Object.entries(compose.services.gateway.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), new Map(example))]),
		);
		expect(() => loadConfig(env)).toThrow(/^JWT_SECRET: /);
		expect(() => loadConfig({ ...env, JWT_SECRET: "an-operator-chosen-secret-of-40-characters!" })).toThrow(/^ADMIN_PASSWORD: /);
		expect(() => loadConfig({ ...env, JWT_SECRET: "an-operator-chosen-secret-of-40-characters!", ADMIN_PASSWORD: "an-operator-chosen-admin-password" })).toThrow(
			/^EVENTS_SIGNING_KEY: /,
		);
	});

	it("gives every node a valid production configuration from .env.example once its secrets are replaced", () => {
		const vars = filledExample();
		for (const [name, s] of shopNodes) {
			const env = Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v), vars)]));
			const config = loadConfig(env);
			expect({ name, production: config.isProduction, nats: config.natsUrl, metrics: config.metricsPort }).toEqual({
				name,
				production: true,
				nats: "nats://nats:4222",
				metrics: 9100,
			});
			expect(selectServices(config.services).length).toBeGreaterThan(0);
		}
	});

	it("refuses to start without JWT_SECRET and ADMIN_PASSWORD instead of running with defaults", () => {
		expect(() => interpolate(compose.services.gateway.environment?.JWT_SECRET ?? "", new Map())).toThrow(/JWT_SECRET is required/);
		expect(() => interpolate(compose.services.gateway.environment?.ADMIN_PASSWORD ?? "", new Map())).toThrow(/ADMIN_PASSWORD is required/);
	});
});

describe(".env.example", () => {
	it("lists every variable docker-compose.yml reads, and nothing it does not", () => {
		expect([...example.keys()].sort()).toEqual([...referenced].sort());
	});

	it("holds placeholders, not the development defaults", () => {
		expect(example.get("JWT_SECRET")).toMatch(/^replace-/);
		expect(example.get("JWT_SECRET")?.length).toBeGreaterThanOrEqual(32);
		expect(example.get("ADMIN_PASSWORD")).toMatch(/^replace-/);
		expect(example.get("ADMIN_PASSWORD")).not.toBe("admin-password");
		expect(example.get("CHAOS_ENABLED")).toBe("false");
	});
});

describe("the Dockerfile", () => {
	it("runs the role-aware health check", () => {
		const dockerfile = fs.readFileSync(path.join(root, "Dockerfile"), "utf8");
		expect(dockerfile).toMatch(/HEALTHCHECK [^\n]*\\\n\s+CMD \["node", "dist\/config\/boot\/healthcheck\.js"\]/);
	});

	it("builds the production code only: no tests or tools in the image", () => {
		const dockerfile = fs.readFileSync(path.join(root, "Dockerfile"), "utf8");
		const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].map(m => m[1]);
		expect(copied.join("\n")).not.toMatch(/\btest\b/);
		expect(dockerfile).toMatch(/tsc -p tsconfig\.build\.json/);
		const build = JSON.parse(fs.readFileSync(path.join(root, "tsconfig.build.json"), "utf8")) as { include: string[] };
		expect(build.include.filter(p => p.startsWith("test"))).toEqual([]);
	});
});
