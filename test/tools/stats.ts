/**
 * Latency statistics and plain-text tables for the benchmark and the load generator. Pure code.
 */

/** Collects durations (ms) and answers percentiles. */
export class LatencyRecorder {
	private values: number[] = [];
	private sorted = true;

	/** Records one duration in milliseconds. */
	add(ms: number): void {
		this.values.push(ms);
		this.sorted = false;
	}

	get count(): number {
		return this.values.length;
	}

	/** The p-th percentile (0-100) by nearest rank; 0 when nothing was recorded. */
	percentile(p: number): number {
		if (this.values.length === 0) return 0;
		if (!this.sorted) {
			this.values.sort((a, b) => a - b);
			this.sorted = true;
		}
		const rank = Math.ceil((p / 100) * this.values.length);
		return this.values[Math.min(this.values.length, Math.max(1, rank)) - 1];
	}

	/** Forgets everything (after a warm-up). */
	reset(): void {
		this.values = [];
		this.sorted = true;
	}
}

/** Renders rows as a fixed-width table with a header line; numbers are right-aligned. */
export function renderTable(headers: string[], rows: Array<Array<string | number>>): string {
	const cells = rows.map(r => r.map(c => String(c)));
	const widths = headers.map((h, i) => Math.max(h.length, ...cells.map(r => (r[i] ?? "").length)));
	const numeric = (c: string) => /^[-+]?[\d.,]+(%| x)?$/.test(c);
	const line = (r: string[], body: boolean) =>
		r.map((c, i) => (body && numeric(c) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
	return [line(headers, false), widths.map(w => "-".repeat(w)).join("  "), ...cells.map(r => line(r, true))].join("\n");
}

/** A millisecond value with a sensible precision. */
export function ms(value: number): string {
	return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/** Megabytes from kilobytes. */
export function mb(kb: number): string {
	return (kb / 1024).toFixed(0);
}

/** `--name value` and `--flag` options of a command line. */
export function parseArgs(argv: string[]): Map<string, string> {
	const out = new Map<string, string>();
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (!a.startsWith("--")) continue;
		const eq = a.indexOf("=");
		if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
		else if (i + 1 < argv.length && !argv[i + 1].startsWith("--")) out.set(a.slice(2), argv[++i]);
		else out.set(a.slice(2), "true");
	}
	return out;
}

/** A numeric option, or its default; refuses a value that is not a positive number. */
export function numberArg(args: Map<string, string>, name: string, def: number): number {
	const raw = args.get(name);
	if (raw === undefined) return def;
	const n = Number(raw);
	if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got "${raw}"`);
	return n;
}
