import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

const START = path.resolve(__dirname, "..", "..", "dist", "config", "boot", "start.js");
/** The development secret that the source code and README publish (config/env.ts). */
const DEV_JWT_SECRET = "shopflow-development-secret-do-not-use-in-production";
/** The placeholders a `cp .env.example .env` leaves in place (read from the file, so they stay in step). */
const EXAMPLE = Object.fromEntries(
	readFileSync(path.resolve(__dirname, "..", "..", ".env.example"), "utf8")
		.split("\n")
		.filter(l => /^[A-Z_]+=/.test(l))
		.map(l => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).trim()]),
) as Record<string, string>;

/** Runs the compiled `npm start` with the given environment (nothing ambient); it must stop on its own. */
function start(env: Record<string, string>): { status: number | null; lines: string[] } {
	const res = spawnSync(process.execPath, [START], {
		env: { PATH: process.env.PATH ?? "", NODE_ENV: "production", DATA_DIR: "memory", PORT: "0", ...env },
		encoding: "utf8",
		timeout: 20_000,
	});
	return { status: res.status, lines: `${res.stdout}${res.stderr}`.split("\n").filter(l => l.trim() !== "") };
}

describe("starting in production", () => {
	it("refuses the development JWT secret with one line naming JWT_SECRET", () => {
		const { status, lines } = start({ JWT_SECRET: DEV_JWT_SECRET, ADMIN_PASSWORD: "a-strong-admin-pass" });
		expect(status).toBe(1);
		expect(lines).toHaveLength(1);
		expect(lines[0]).toMatch(/^ShopFlow cannot start: JWT_SECRET: /);
		expect(lines[0]).not.toContain(DEV_JWT_SECRET);
	});

	it("refuses the documented default admin password with one line naming ADMIN_PASSWORD", () => {
		const { status, lines } = start({ JWT_SECRET: "a-production-secret-of-at-least-32-chars", ADMIN_PASSWORD: "admin-password" });
		expect(status).toBe(1);
		expect(lines).toHaveLength(1);
		expect(lines[0]).toMatch(/^ShopFlow cannot start: ADMIN_PASSWORD: /);
	});

	it("refuses to start without EVENTS_SIGNING_KEY with one line naming it, before anything runs", () => {
		const { status, lines } = start({ JWT_SECRET: "a-production-secret-of-at-least-32-chars", ADMIN_PASSWORD: "a-strong-admin-pass" });
		expect(status).toBe(1);
		expect(lines).toHaveLength(1);
		expect(lines[0]).toMatch(/^ShopFlow cannot start: EVENTS_SIGNING_KEY: is required when NODE_ENV=production/);
	});

	it.each([
		["JWT_SECRET", { JWT_SECRET: EXAMPLE.JWT_SECRET, ADMIN_PASSWORD: "a-strong-admin-pass" }],
		["ADMIN_PASSWORD", { JWT_SECRET: "a-production-secret-of-at-least-32-chars", ADMIN_PASSWORD: EXAMPLE.ADMIN_PASSWORD }],
		["ADMIN_PASSWORD", { JWT_SECRET: "a-production-secret-of-at-least-32-chars", ADMIN_PASSWORD: "ADMIN-PASSWORD" }],
		["EVENTS_SIGNING_KEY", { JWT_SECRET: "a-production-secret-of-at-least-32-chars", ADMIN_PASSWORD: "a-strong-admin-pass", EVENTS_SIGNING_KEY: EXAMPLE.EVENTS_SIGNING_KEY }],
	])("refuses a published value (.env.example placeholder, or the default in capitals) with one line naming %s", (name, env) => {
		const { status, lines } = start(env);
		expect(status).toBe(1);
		expect(lines).toHaveLength(1);
		expect(lines[0]).toMatch(new RegExp(`^ShopFlow cannot start: ${name}: `));
	});
});
