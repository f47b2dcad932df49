/**
 * deploy/k8s/base, rendered offline as `kustomize build` would (no cluster, no kubectl): every object valid against
 * the Kubernetes schemas (kubernetes-models' validators, generated from Kubernetes' OpenAPI), a Deployment per role
 * running every service once, env naming only variables config/env.ts reads, probes on the routes and ports each role
 * serves, and a grace period that covers the broker's own stop.
 */
import path from "node:path";
import { ConfigMap, Secret, Service } from "kubernetes-models/v1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigError, loadConfig } from "../../../config/env";
import { selectServices } from "../../../config/boot/broker";
import { createBrokerOptions } from "../../../moleculer.config";
import { SERVICE_NAMES } from "../../../services/common/names";
import { containersOf, podTemplate, renderKustomization, type Container, type K8sObject } from "../../helpers/kustomize";

const root = path.resolve(__dirname, "..", "..", "..");
const objects = renderKustomization(path.join(root, "deploy", "k8s", "base"));
const ofKind = (kind: string) => objects.filter(o => o.kind === kind);
const named = (kind: string, name: string): K8sObject => {
	const o = objects.find(x => x.kind === kind && x.metadata.name === name);
	if (!o) throw new Error(`no ${kind} ${name}`);
	return o;
};

/** The schema of each apiVersion/kind the base may use; anything else fails the test instead of going unchecked. */
const SCHEMAS: Record<string, new (data: never) => { validate(): void }> = {
	"v1/ConfigMap": ConfigMap,
	"v1/Secret": Secret,
	"v1/Service": Service,
	"apps/v1/Deployment": Deployment,
	"apps/v1/StatefulSet": StatefulSet,
	"autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
	"policy/v1/PodDisruptionBudget": PodDisruptionBudget,
};

/** The schema errors of an object, or "no schema" when its apiVersion/kind is not one Kubernetes serves. */
function schemaErrors(o: K8sObject): string | null {
	const Model = SCHEMAS[`${o.apiVersion}/${o.kind}`];
	if (!Model) return `no schema for ${o.apiVersion} ${o.kind}`;
	try {
		new Model(o as never).validate();
		return null;
	} catch (err) {
		return (err as Error).message;
	}
}

const ROLES = ["gateway", "accounts", "catalog", "shopping", "orders", "payments"];
const deployments = ofKind("Deployment");
const shopContainer = (d: K8sObject): Container => containersOf(d).find(c => c.name === "shopflow") as Container;

/** The variables a container sees: its envFrom ConfigMaps and Secrets, then its env (a fieldRef reads as the pod's name). */
function effectiveEnv(c: Container, podName = "pod-0"): Record<string, string> {
	const env: Record<string, string> = {};
	for (const from of c.envFrom ?? []) {
		if (from.configMapRef) Object.assign(env, (named("ConfigMap", from.configMapRef.name).data ?? {}) as Record<string, string>);
		if (from.secretRef) Object.assign(env, (named("Secret", from.secretRef.name).stringData ?? {}) as Record<string, string>);
	}
	for (const e of c.env ?? []) env[e.name] = e.value ?? podName;
	return env;
}

/** Every variable loadConfig reads, found by handing it an environment that records each name asked for. */
function variablesConfigReads(): Set<string> {
	const names = new Set<string>();
	const recording = (base: Record<string, string>) =>
		new Proxy(base, {
			get(target, key) {
				if (typeof key === "string") names.add(key);
				return target[key as string];
			},
		});
	loadConfig(recording({}));
	loadConfig(recording({ NODE_ENV: "production", JWT_SECRET: "x".repeat(40), ADMIN_PASSWORD: "a-long-admin-password", EVENTS_SIGNING_KEY: "y".repeat(40), METRICS_PORT: "9100" }));
	return names;
}

const withRealSecrets = (env: Record<string, string>) => ({ ...env, JWT_SECRET: "an-operator-chosen-secret-of-40-characters!", ADMIN_PASSWORD: "an-operator-chosen-admin-password", EVENTS_SIGNING_KEY: "an-operator-chosen-events-key-of-40-characters" });

describe("deploy/k8s/base", () => {
	it("renders objects that each validate against the Kubernetes schemas", () => {
		expect(objects.length).toBeGreaterThan(20);
		const errors = objects.map(o => ({ object: `${o.kind}/${o.metadata.name}`, error: schemaErrors(o) })).filter(e => e.error);
		expect(errors).toEqual([]);
		const keys = objects.map(o => `${o.kind}/${o.metadata.name}`);
		expect(new Set(keys).size).toBe(keys.length);
	});

	it("finds a schema error when there is one", () => {
		const broken = structuredClone(named("Deployment", "gateway"));
		(podTemplate(broken)?.spec.containers[0] as unknown as { ports: unknown[] }).ports = [{ containerPort: "eighty" }];
		expect(schemaErrors(broken)).toMatch(/containerPort must be integer/);
		expect(schemaErrors({ ...named("Deployment", "gateway"), apiVersion: "extensions/v1beta1" })).toMatch(/no schema/);
	});

	it("runs one Deployment per role, and every service in exactly one role", () => {
		expect(deployments.map(d => d.metadata.name).sort()).toEqual([...ROLES].sort());
		const runs = deployments.flatMap(d => selectServices(loadConfig(withRealSecrets(effectiveEnv(shopContainer(d)))).services));
		expect([...runs].sort()).toEqual([...SERVICE_NAMES].sort());
	});

	it("names in every Deployment's env only variables config/env.ts reads", () => {
		const known = variablesConfigReads();
		expect([...known]).toEqual(expect.arrayContaining(["SERVICES", "NATS_URL", "METRICS_PORT", "JWT_SECRET"]));
		for (const d of deployments) {
			const unknown = Object.keys(effectiveEnv(shopContainer(d))).filter(name => !known.has(name));
			expect({ deployment: d.metadata.name, unknown }).toEqual({ deployment: d.metadata.name, unknown: [] });
		}
	});

	it("stops a node in production on the Secret's placeholders, and starts it once they are replaced", () => {
		const gateway = effectiveEnv(shopContainer(named("Deployment", "gateway")));
		expect(() => loadConfig(gateway)).toThrow(ConfigError);
		expect(() => loadConfig(gateway)).toThrow(/^JWT_SECRET: /);
		for (const d of deployments) {
			const config = loadConfig(withRealSecrets(effectiveEnv(shopContainer(d), `${d.metadata.name}-7d9f-x2`)));
			expect({ role: d.metadata.name, production: config.isProduction, metrics: config.metricsPort, node: config.nodeId }).toEqual({
				role: d.metadata.name,
				production: true,
				metrics: 9100,
				node: `${d.metadata.name}-7d9f-x2`,
			});
		}
	});

	it("probes readiness on /health/ready and liveness on /health/live, on the port where the role serves them", () => {
		for (const d of deployments) {
			const c = shopContainer(d);
			const config = loadConfig(withRealSecrets(effectiveEnv(c)));
			const gateway = selectServices(config.services).includes("api");
			const ports = Object.fromEntries((c.ports as Array<{ name: string; containerPort: number }>).map(p => [p.name, p.containerPort]));
			const probe = (kind: string) => {
				const p = (c[kind] as { httpGet: { path: string; port: string } }).httpGet;
				return { path: p.path, port: ports[p.port] };
			};
			// The gateway answers on PORT (services/api.service.ts); every other node on METRICS_PORT (config/boot/metrics-reporter.ts).
			const port = gateway ? config.port : config.metricsPort;
			expect({ role: d.metadata.name, ready: probe("readinessProbe"), live: probe("livenessProbe"), start: probe("startupProbe") }).toEqual({
				role: d.metadata.name,
				ready: { path: "/health/ready", port },
				live: { path: "/health/live", port },
				start: { path: "/health/live", port },
			});
		}
	});

	it("gives every container resource requests and limits", () => {
		for (const o of [...deployments, ...ofKind("StatefulSet")])
			for (const c of containersOf(o)) {
				const r = c.resources as { requests?: Record<string, string>; limits?: Record<string, string> } | undefined;
				expect({ object: o.metadata.name, requests: Object.keys(r?.requests ?? {}).sort(), limits: Object.keys(r?.limits ?? {}).sort() }).toEqual({
					object: o.metadata.name,
					requests: ["cpu", "memory"],
					limits: ["cpu", "memory"],
				});
			}
	});

	it("waits out preStop and the broker's stop before Kubernetes kills a pod", () => {
		const config = loadConfig(withRealSecrets(effectiveEnv(shopContainer(named("Deployment", "gateway")))));
		// A node's whole graceful stop is bounded by SHUTDOWN_TIMEOUT_MS (config/boot/start.ts exits 1 when it is over);
		// Moleculer's per-service wait is a share of it.
		const shutdownMs = config.shutdownTimeoutMs;
		expect(shutdownMs).toBe(20_000);
		expect(createBrokerOptions(config).tracking?.shutdownTimeout).toBeLessThan(shutdownMs);
		for (const d of deployments) {
			const spec = podTemplate(d)?.spec as unknown as { terminationGracePeriodSeconds: number };
			const preStop = (shopContainer(d).lifecycle as { preStop: { exec: { command: string[] } } }).preStop.exec.command;
			expect(preStop[0]).toBe("sleep");
			const needed = Number(preStop[1]) + shutdownMs / 1000;
			expect({ role: d.metadata.name, enough: spec.terminationGracePeriodSeconds >= needed + 5 }).toEqual({ role: d.metadata.name, enough: true });
		}
	});

	it("autoscales the gateway and the stateless services, and budgets one disruption per role", () => {
		const hpas = ofKind("HorizontalPodAutoscaler");
		expect(hpas.map(h => (h.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name).sort()).toEqual(["gateway", "shopping"]);
		const stateless = new Set(["api", "cart", "checkout", "search"]);
		for (const h of hpas) {
			const d = named("Deployment", (h.spec as { scaleTargetRef: { name: string } }).scaleTargetRef.name);
			const services = selectServices(loadConfig(withRealSecrets(effectiveEnv(shopContainer(d)))).services);
			expect(services.filter(s => !stateless.has(s))).toEqual([]);
			expect((h.spec as { minReplicas: number }).minReplicas).toBeGreaterThanOrEqual(2);
			// The autoscaler owns the count: a Deployment's own replicas would reset it on every apply.
			expect({ deployment: d.metadata.name, replicas: (d.spec as { replicas?: number }).replicas }).toEqual({ deployment: d.metadata.name, replicas: undefined });
		}
		const budgets = ofKind("PodDisruptionBudget");
		expect(budgets.map(b => b.metadata.name).sort()).toEqual([...ROLES].sort());
		for (const b of budgets) {
			const selector = (b.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
			const matched = deployments.filter(d => Object.entries(selector).every(([k, v]) => podTemplate(d)?.metadata?.labels?.[k] === v));
			expect({ budget: b.metadata.name, matched: matched.map(d => d.metadata.name) }).toEqual({ budget: b.metadata.name, matched: [b.metadata.name] });
		}
	});

	it("selects each workload's own pods, and points every Service at pods that exist", () => {
		for (const o of [...deployments, ...ofKind("StatefulSet")]) {
			const selector = (o.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
			expect(podTemplate(o)?.metadata?.labels).toEqual(expect.objectContaining(selector));
		}
		const pods = [...deployments, ...ofKind("StatefulSet")].map(o => podTemplate(o)?.metadata?.labels ?? {});
		for (const s of ofKind("Service")) {
			const selector = (s.spec as { selector: Record<string, string> }).selector;
			expect({ service: s.metadata.name, pods: pods.filter(l => Object.entries(selector).every(([k, v]) => l[k] === v)).length > 0 }).toEqual({
				service: s.metadata.name,
				pods: true,
			});
		}
	});

	it("runs NATS with JetStream, Redis and MongoDB as StatefulSets at the addresses the ConfigMap gives", () => {
		expect(ofKind("StatefulSet").map(s => s.metadata.name).sort()).toEqual(["mongo", "nats", "redis"]);
		expect(containersOf(named("StatefulSet", "nats"))[0].args).toEqual(expect.arrayContaining(["-js", "-sd"]));
		const data = named("ConfigMap", "shopflow-config").data as Record<string, string>;
		for (const variable of ["NATS_URL", "REDIS_URL", "MONGO_URL"]) {
			const url = new URL(data[variable]);
			const service = named("Service", url.hostname);
			const ports = (service.spec as { ports: Array<{ port: number }> }).ports.map(p => p.port);
			expect({ variable, ports }).toEqual({ variable, ports: expect.arrayContaining([Number(url.port)]) });
		}
	});
});
