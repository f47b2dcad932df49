/**
 * Strict command-line options for the tools: every flag is declared with its kind, default and help line;
 * `--help` prints the usage, and an unknown flag, a missing value or a bad number stops the tool with exit 2.
 */

export type OptionSpec =
	| { kind: "number"; default: number; help: string; min?: number; max?: number; integer?: boolean }
	| { kind: "flag"; help: string }
	| { kind: "string"; default: string; help: string; check?: (value: string) => string | undefined };

export type Parsed<S extends Record<string, OptionSpec>> = {
	[K in keyof S]: S[K] extends { kind: "number" } ? number : S[K] extends { kind: "flag" } ? boolean : string;
};

export class UsageError extends Error {}

/** The usage text of a tool. */
export function usage(tool: string, summary: string, spec: Record<string, OptionSpec>): string {
	const lines = Object.entries(spec).map(([name, s]) => {
		const value = s.kind === "flag" ? "" : ` <${s.kind}>`;
		const def = s.kind === "flag" || s.default === "" ? "" : ` (default ${String(s.default)})`;
		return `  --${name}${value}`.padEnd(28) + `${s.help}${def}`;
	});
	return `${tool}: ${summary}\n\nOptions:\n${lines.join("\n")}\n  --help                    this text\n`;
}

/** Parses argv against the spec; throws UsageError for anything it does not know or cannot read. */
export function parseStrict<S extends Record<string, OptionSpec>>(argv: string[], spec: S): Parsed<S> | "help" {
	const out: Record<string, number | boolean | string> = {};
	for (const [name, s] of Object.entries(spec)) out[name] = s.kind === "flag" ? false : s.default;
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		if (arg === "--help" || arg === "-h") return "help";
		if (!arg.startsWith("--")) throw new UsageError(`unexpected argument "${arg}"`);
		const eq = arg.indexOf("=");
		const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
		const s = Object.prototype.hasOwnProperty.call(spec, name) ? spec[name] : undefined;
		if (!s) throw new UsageError(`unknown option --${name}`);
		if (s.kind === "flag") {
			if (eq > 0) throw new UsageError(`--${name} takes no value`);
			out[name] = true;
			continue;
		}
		const raw = eq > 0 ? arg.slice(eq + 1) : argv[++i];
		if (raw === undefined || (eq < 0 && raw.startsWith("--"))) throw new UsageError(`--${name} needs a value`);
		if (s.kind === "string") {
			const problem = s.check?.(raw);
			if (problem) throw new UsageError(`--${name} ${problem}, got "${raw}"`);
			out[name] = raw;
		} else out[name] = readNumber(name, raw, s);
	}
	return out as Parsed<S>;
}

/** A number option's value; the message names the bounds (and "whole" when only integers are taken). */
function readNumber(name: string, raw: string, s: { min?: number; max?: number; integer?: boolean }): number {
	const n = Number(raw);
	const min = s.min ?? 0;
	const ok = raw.trim() !== "" && Number.isFinite(n) && n >= min && (s.max === undefined || n <= s.max) && (!s.integer || Number.isInteger(n));
	if (ok) return n;
	const range = s.max === undefined ? `of at least ${min}` : `from ${min} to ${s.max}`;
	throw new UsageError(`--${name} must be a ${s.integer ? "whole " : ""}number ${range}, got "${raw}"`);
}

/** parseStrict for a tool's main: prints the usage for --help (exit 0) or the error and usage (exit 2). */
export function parseToolArgs<S extends Record<string, OptionSpec>>(tool: string, summary: string, spec: S, argv = process.argv.slice(2)): Parsed<S> {
	return parseToolArgsWith(tool, summary, spec, a => parseStrict(a, spec), argv);
}

/** parseToolArgs with the tool's own parser (parseStrict plus rules between options). */
export function parseToolArgsWith<T>(tool: string, summary: string, spec: Record<string, OptionSpec>, parse: (argv: string[]) => T | "help", argv = process.argv.slice(2)): T {
	try {
		const parsed = parse(argv);
		if (parsed !== "help") return parsed;
		process.stdout.write(usage(tool, summary, spec));
		process.exit(0);
	} catch (err) {
		if (!(err instanceof UsageError)) throw err;
		process.stderr.write(`${tool}: ${err.message}\n\n${usage(tool, summary, spec)}`);
		process.exit(2);
	}
}
