/**
 * `npm run bench:compare -- --base <commit>`: the embedded checkout of an older commit and of this tree, measured
 * in turns on the same machine (one round of each, `--rounds` times), with the medians of orders/s, p95 and CPU ms
 * per order. Turns and medians are what make a comparison hold on a machine shared with other work, where one run
 * of the same commit moves by ±30%. The base is checked out with `git worktree` into a temporary folder, shares
 * this tree's node_modules and is built there; each round runs in a child process that loads that tree's own
 * tools (its shop entry point and load driver), so the two sides differ only by their code.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseToolArgs } from "./args";
import { TOOL_OPTIONS } from "./tool-options";

interface Round {
	rps: number;
	p95: number;
	cpuMsPerOrder: number;
	errors: number;
}


const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** One round with the tools of `dist` (a child process runs this): prints one JSON line. */
async function runRound(dist: string, port: number, durationSec: number, warmupSec: number, users: number): Promise<void> {
	/* eslint-disable @typescript-eslint/no-require-imports -- the tools of another build, chosen at run time */
	const processes = require(path.join(dist, "test", "tools", "processes.js")) as typeof import("./processes");
	const runners = require(path.join(dist, "test", "tools", "bench-runners.js")) as typeof import("./bench-runners");
	/* eslint-enable @typescript-eslint/no-require-imports */
	const shop = await processes.startEmbeddedShop(port, { quiet: true });
	try {
		const prepared = await runners.prepareShop([shop.url], users);
		const pid = shop.child.pid;
		const r = await runners.runCheckoutLoop({ urls: [shop.url], customers: prepared.customers, productIds: prepared.productIds, durationSec, warmupSec, cpuMs: () => processes.readCpuMs(pid) });
		const round: Round = { rps: r.rps, p95: r.p95, cpuMsPerOrder: r.cpuMsPerRequest ?? NaN, errors: r.non2xx + r.socketErrors };
		process.stdout.write(`${JSON.stringify(round)}\n`);
	} finally {
		await shop.stop();
	}
}

/** Runs one round in a child process with the tools of `dist`. */
function round(dist: string, opts: { port: number; duration: number; warmup: number; users: number }): Promise<Round> {
	const args = [__filename, "--run-in", dist, "--port", String(opts.port), "--duration", String(opts.duration), "--warmup", String(opts.warmup), "--users", String(opts.users)];
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, args, { cwd: path.dirname(dist), stdio: ["ignore", "pipe", "inherit"] });
		let out = "";
		child.stdout.on("data", (c: Buffer) => (out += c.toString()));
		child.on("exit", code => {
			const line = out.trim().split("\n").pop() ?? "";
			if (code === 0 && line.startsWith("{")) resolve(JSON.parse(line) as Round);
			else reject(new Error(`round in ${dist} failed (exit ${code}): ${out.slice(-500)}`));
		});
	});
}

/** A worktree of `commit` in a temporary folder, built, sharing this tree's node_modules. */
function buildBase(root: string, commit: string): { dist: string; remove(): void } {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shopflow-bench-base-"));
	execFileSync("git", ["-C", root, "worktree", "add", "--detach", "--force", dir, commit], { stdio: "ignore" });
	fs.symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
	const tsc = path.join(root, "node_modules", ".bin", "tsc");
	for (const project of ["tsconfig.build.json", "tsconfig.tools.json"])
		if (fs.existsSync(path.join(dir, project))) execFileSync(tsc, ["-p", project], { cwd: dir, stdio: "inherit" });
	return { dist: path.join(dir, "dist"), remove: () => execFileSync("git", ["-C", root, "worktree", "remove", "--force", dir], { stdio: "ignore" }) };
}

async function main(): Promise<void> {
	const opts = parseToolArgs("bench-compare", TOOL_OPTIONS["bench-compare"].summary, TOOL_OPTIONS["bench-compare"].spec);
	if (opts["run-in"]) return runRound(opts["run-in"], opts.port, opts.duration, opts.warmup, opts.users);
	const root = path.resolve(__dirname, "..", "..", "..");
	const head = execFileSync("git", ["-C", root, "rev-parse", "--short", "HEAD"]).toString().trim();
	process.stderr.write(`building ${opts.base} in a temporary worktree\n`);
	const base = buildBase(root, opts.base);
	const sides: Array<[string, string, Round[]]> = [
		[opts.base, base.dist, []],
		[`${head} (this tree)`, path.join(root, "dist"), []],
	];
	try {
		for (let i = 1; i <= opts.rounds; i++)
			for (const [name, dist, rounds] of sides) {
				const r = await round(dist, opts);
				rounds.push(r);
				process.stderr.write(`round ${i} ${name}: ${r.rps.toFixed(0)} orders/s, p95 ${r.p95.toFixed(0)} ms, ${r.cpuMsPerOrder.toFixed(2)} CPU ms/order, ${r.errors} errors\n`);
			}
	} finally {
		base.remove();
	}
	console.log(`embedded checkout, ${opts.users} users, ${opts.rounds} rounds of ${opts.duration} s in turns; Node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), load ${os.loadavg().map(l => l.toFixed(1)).join(" ")}`);
	console.log("commit                      orders/s  p95 ms  CPU ms/order   (medians; each round)");
	for (const [name, , rounds] of sides)
		console.log(
			`${name.padEnd(28)}${median(rounds.map(r => r.rps)).toFixed(0).padStart(8)}${median(rounds.map(r => r.p95)).toFixed(0).padStart(8)}${median(rounds.map(r => r.cpuMsPerOrder)).toFixed(2).padStart(14)}   ${rounds.map(r => r.cpuMsPerOrder.toFixed(2)).join(", ")}`,
		);
	const [b, h] = sides.map(([, , rounds]) => median(rounds.map(r => r.cpuMsPerOrder)));
	console.log(`CPU per order: ${h > b ? "+" : ""}${((100 * (h - b)) / b).toFixed(1)}% against ${opts.base} (target: at most +10%)`);
}

main().catch(err => {
	console.error(`bench:compare failed: ${err instanceof Error ? err.message : String(err)}`);
	process.exit(1);
});
