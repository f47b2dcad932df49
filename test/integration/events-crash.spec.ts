/**
 * Embedded events survive a crash (issue 12, point 3): an embedded broker (no transporter) on NeDB files stages
 * one event per document and a slow consumer takes them; the process is SIGKILLed mid-stream, started again on
 * the same files, and every event that was stored must reach the consumer (none lost), with no staged event left
 * and no claim left "processing" by the dead process. The child is test/integration/fixtures/events-crash-child.cjs.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

jest.setTimeout(120_000);

const CHILD = path.join(__dirname, "fixtures", "events-crash-child.cjs");
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

interface Report {
	produced: number;
	consumed: number;
	missing: number;
	staged: number;
	stuck: number;
}

function run(env: Record<string, string>): { output: () => string; exit: Promise<number | null>; kill(): void } {
	const out: string[] = [];
	const proc = spawn(process.execPath, [CHILD], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
	proc.stdout.on("data", (d: Buffer) => out.push(d.toString()));
	proc.stderr.on("data", (d: Buffer) => out.push(d.toString()));
	return { output: () => out.join(""), exit: new Promise(r => proc.once("exit", code => r(code))), kill: () => proc.kill("SIGKILL") };
}

describe("embedded events across a crash", () => {
	it("delivers every stored event once the shop restarts after a SIGKILL, leaving nothing staged or claimed", async () => {
		const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-events-crash-"));
		const env = { DATA_DIR: dataDir, NAMESPACE: `t-evcrash-${Date.now()}` };
		try {
			for (let round = 0; round < 2; round++) {
				const producer = run({ ...env, PRODUCE: "1" });
				const end = Date.now() + 20_000;
				while (!producer.output().includes("producing") && Date.now() < end) await sleep(50);
				await sleep(800 + Math.floor(Math.random() * 400));
				producer.kill();
				await producer.exit;
			}
			const reporter = run({ ...env, REPORT: "1" });
			expect(await reporter.exit).toBe(0);
			const line = reporter.output().split("\n").find(l => l.startsWith("REPORT ")) ?? "REPORT null";
			const report = JSON.parse(line.slice(7)) as Report;
			expect(report.produced).toBeGreaterThan(50);
			expect(report).toMatchObject({ missing: 0, staged: 0, stuck: 0, consumed: report.produced });
		} finally {
			fs.rmSync(dataDir, { recursive: true, force: true });
		}
	});
});
