import type { IncomingMessage } from "node:http";
import { checkBehaviorCaller, checkMetricsToken, corsSettings } from "../../../../services/api/security";
import { testConfig } from "../../../helpers/shop";

const customer = { id: "u1", email: "c@example.com", name: "C", role: "customer" as const };
const admin = { ...customer, role: "admin" as const };

describe("checkBehaviorCaller", () => {
	const staging = { isProduction: true, behaviorPublic: false };

	it("asks for an admin's token for a behavior in production", () => {
		expect(() => checkBehaviorCaller(true, null, staging)).toThrow(expect.objectContaining({ code: 401, type: "BEHAVIOR_NEEDS_ADMIN" }));
		expect(() => checkBehaviorCaller(true, customer, staging)).toThrow(expect.objectContaining({ code: 403, type: "BEHAVIOR_NEEDS_ADMIN" }));
		expect(() => checkBehaviorCaller(true, admin, staging)).not.toThrow();
		expect(() => checkBehaviorCaller(false, null, staging)).not.toThrow();
	});

	it("lets anyone send a behavior with CHAOS_PUBLIC=true and outside production", () => {
		expect(() => checkBehaviorCaller(true, null, { isProduction: true, behaviorPublic: true })).not.toThrow();
		expect(() => checkBehaviorCaller(true, null, { isProduction: false, behaviorPublic: false })).not.toThrow();
	});
});

describe("corsSettings", () => {
	it("allows no foreign origin in production until CORS_ORIGINS is set, and any in development", () => {
		const production = { NODE_ENV: "production", JWT_SECRET: "s".repeat(40), ADMIN_PASSWORD: "a-strong-admin-pass", EVENTS_SIGNING_KEY: "e".repeat(40) };
		expect(corsSettings(testConfig(production))).toBeUndefined();
		expect(corsSettings(testConfig({ ...production, CORS_ORIGINS: "https://shop.example" }))).toMatchObject({ origin: ["https://shop.example"] });
		expect(corsSettings(testConfig({ NODE_ENV: "development" }))).toMatchObject({ origin: "*" });
	});
});

describe("checkMetricsToken", () => {
	const req = (authorization?: string) => ({ headers: authorization ? { authorization } : {} }) as IncomingMessage;

	it("asks for the token when METRICS_TOKEN is set and nothing otherwise", () => {
		expect(() => checkMetricsToken(req(), "m".repeat(24))).toThrow(expect.objectContaining({ code: 401 }));
		expect(() => checkMetricsToken(req("Bearer wrong"), "m".repeat(24))).toThrow(expect.objectContaining({ code: 401 }));
		expect(() => checkMetricsToken(req(`Bearer ${"m".repeat(24)}`), "m".repeat(24))).not.toThrow();
		expect(() => checkMetricsToken(req(), null)).not.toThrow();
	});
});
