import { spawnSync } from "node:child_process";
import path from "node:path";

const START = path.resolve(__dirname, "..", "..", "dist", "config", "boot", "start.js");
/** The development secret that the source code and README publish (config/env.ts). */
const DEV_JWT_SECRET = "shopflow-development-secret-do-not-use-in-production";

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
});
