import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseStrict, usage, UsageError, type OptionSpec } from "../../tools/args";
import { parseScenarios, parseThink, parseUrls, TOOL_OPTIONS, type ToolName } from "../../tools/tool-options";

/**
 * The tools' command lines (issue 19 point 16): each built tool answers `--help` with its usage (exit 0) and
 * refuses an unknown option or a bad value with the usage (exit 2) before it starts anything. A tool that went
 * back to loose parsing would start its shop instead and fail these tests on the exit code or the timeout.
 */
const root = path.resolve(__dirname, "../../..");
const TOOLS = Object.keys(TOOL_OPTIONS) as ToolName[];

function run(tool: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
	const script = path.join(root, "dist", "test", "tools", `${tool}.js`);
	if (!fs.existsSync(script)) throw new Error(`${script} is missing: the global setup builds dist/`);
	return new Promise(resolve => {
		execFile(process.execPath, [script, ...args], { cwd: root, timeout: 20_000, env: { ...process.env, NAMESPACE: "htl-tool-args" } }, (err, stdout, stderr) => {
			const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
			resolve({ code, stdout, stderr });
		});
	});
}

describe("the tools' command lines, built", () => {
	it.each(TOOLS)("%s --help prints its usage with --port and NAMESPACE, and exits 0", async tool => {
		const out = await run(tool, ["--help"]);
		expect({ code: out.code, stderr: out.stderr }).toEqual({ code: 0, stderr: "" });
		expect(out.stdout).toContain(`${tool}: `);
		expect(out.stdout).toContain("--port <number>");
		expect(out.stdout).toContain("NAMESPACE");
		expect(out.stdout).toBe(usage(tool, TOOL_OPTIONS[tool].summary, TOOL_OPTIONS[tool].spec));
	});

	it.each(TOOLS)("%s refuses an unknown option with the usage and exit 2", async tool => {
		const out = await run(tool, ["--no-such-option"]);
		expect(out.code).toBe(2);
		expect(out.stdout).toBe("");
		expect(out.stderr).toContain(`${tool}: unknown option --no-such-option`);
		expect(out.stderr).toContain("Options:\n");
	});

	it.each(TOOLS)("%s refuses a port that is not a number, and a missing value, with exit 2", async tool => {
		const bad = await run(tool, ["--port", "eighty"]);
		expect(bad.code).toBe(2);
		expect(bad.stderr).toContain('--port must be a whole number from');
		const missing = await run(tool, ["--port"]);
		expect(missing.code).toBe(2);
		expect(missing.stderr).toContain("--port needs a value");
	});
});

describe("the tools' options", () => {
	const defaults = (tool: ToolName) => parseStrict([], TOOL_OPTIONS[tool].spec);

	it("keep the names and defaults they had before strict parsing (README, docs/benchmarks.md)", () => {
		expect(defaults("bench")).toEqual({ duration: 10, warmup: 5, connections: 32, users: 32, only: "", port: 18080, soak: 0, verbose: false });
		expect(defaults("loadgen")).toEqual({ users: 20, duration: 60, behavior: "", url: "", think: "100-1000", stock: 2000, settle: 60, port: 18200 });
		expect(defaults("chaos")).toEqual({ checkouts: 250, concurrency: 20, scenario: "", "quiet-timeout": 90, port: 0 });
		expect(defaults("soak")).toEqual({ seconds: 300, users: 32, port: 18080, verbose: false });
		expect(parseStrict([], TOOL_OPTIONS.cluster.spec)).toMatchObject({ "metrics-port": 9180 });
	});

	it("read the documented command lines", () => {
		expect(parseStrict(["--only", "embedded", "--duration", "8", "--warmup", "3"], TOOL_OPTIONS.bench.spec)).toMatchObject({ only: "embedded", duration: 8, warmup: 3 });
		expect(parseStrict(["--soak", "300", "--verbose"], TOOL_OPTIONS.bench.spec)).toMatchObject({ soak: 300, verbose: true });
		const load = parseStrict(["--url", "http://127.0.0.1:8080,http://127.0.0.1:8081/api/v1/", "--behavior=payment:error=0.2,inventory:latency=100-500ms", "--stock", "0"], TOOL_OPTIONS.loadgen.spec);
		expect(load).toMatchObject({ behavior: "payment:error=0.2,inventory:latency=100-500ms", stock: 0 });
		expect(load !== "help" && parseUrls(load.url)).toEqual(["http://127.0.0.1:8080", "http://127.0.0.1:8081"]);
		expect(parseThink("100-1000")).toEqual([100, 1000]);
		const chaos = parseStrict(["--scenario", "8", "--checkouts", "500"], TOOL_OPTIONS.chaos.spec);
		expect(chaos !== "help" && parseScenarios(chaos.scenario)).toEqual([8]);
		expect(parseStrict(["--port", "19200", "--metrics-port", "0"], TOOL_OPTIONS.cluster.spec)).toEqual({ port: 19200, "metrics-port": 0 });
	});

	it("refuse values the tools cannot use, naming the option", () => {
		const refused = (tool: ToolName, argv: string[]) => () => parseStrict(argv, TOOL_OPTIONS[tool].spec);
		expect(refused("bench", ["--only", "both"])).toThrow("--only must be embedded or cluster");
		expect(refused("bench", ["--users", "1.5"])).toThrow("--users must be a whole number of at least 1");
		expect(refused("loadgen", ["--think", "1000-100"])).toThrow("--think must look like 100-1000");
		expect(refused("loadgen", ["--url", "127.0.0.1:8080"])).toThrow("--url must be http(s)://host:port");
		expect(refused("chaos", ["--scenario", "2,9"])).toThrow("--scenario must list scenario ids 1-8");
		expect(refused("cluster", ["--metrics-port", "65536"])).toThrow("--metrics-port must be a whole number from 0 to 65535");
		expect(refused("soak", ["--seconds", "0"])).toThrow(UsageError);
	});
});

describe("parseStrict's bounds and checks", () => {
	const spec = {
		n: { kind: "number", default: 1, min: 1, max: 10, integer: true, help: "n" },
		s: { kind: "string", default: "", help: "s", check: (v: string) => (v === "ok" ? undefined : "must be ok") },
	} satisfies Record<string, OptionSpec>;

	it("takes a number within its bounds and a string its check accepts", () => {
		expect(parseStrict(["--n=10", "--s", "ok"], spec)).toEqual({ n: 10, s: "ok" });
	});

	it("refuses a number out of bounds or not whole, and a string its check refuses", () => {
		expect(() => parseStrict(["--n", "11"], spec)).toThrow('--n must be a whole number from 1 to 10, got "11"');
		expect(() => parseStrict(["--n", "2.5"], spec)).toThrow("whole number");
		expect(() => parseStrict(["--s", "no"], spec)).toThrow('--s must be ok, got "no"');
	});

	it("leaves an empty default out of the usage", () => {
		expect(usage("t", "test", spec)).toContain("  --s <string>              s\n");
	});
});
